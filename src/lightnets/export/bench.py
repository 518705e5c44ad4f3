"""Deployment latency of the torchvision twins: every way to run them, in one interleaved run.

For each registered network that torchvision also builds, torchvision's model (random
initialisation) and the lightnets twin carrying the same weights (loaded with
:func:`~lightnets.models.load_torchvision_state_dict`; the outputs are checked equal) are
timed together with the deployment paths of the twin, one interleaved run
(:func:`~lightnets.profiling.latency.measure_interleaved`) per batch size:

* ``torchvision eager`` — the baseline every ratio is against;
* ``lightnets eager`` — the same network as written here, NCHW;
* ``lightnets channels_last+fold`` — BatchNorm folded into the convs, NHWC tensors;
* ``torch.compile`` — the folded NHWC network compiled by Inductor (``n/a`` with the
  reason when compilation fails here, e.g. without a C++ compiler);
* ``ORT fp32`` — the ONNX export (checked against PyTorch) in ONNX Runtime;
* ``ORT int8`` — that graph quantized by :func:`~lightnets.export.quantize.quantize_onnx`,
  calibrated on random normal images: the timing is representative, its accuracy is not
  (``benchmarks/int8_digits.py`` measures INT8 accuracy on real data).

ONNX Runtime gets the same number of threads as PyTorch; its pool threads spin while a run
lasts and stop spinning when it returns, so that it takes no CPU time from whatever runs
next. Each network is measured in a fresh process (``isolate=True``): the allocator state
that one network leaves behind changes the next one's eager time (MobileNetV3-Large at batch
32 after MobileNetV2: torchvision's time fell by a sixth, the twin's did not), and the
twins should meet the same history, which is none. A machine that is busy with other work
gives meaningless ratios, so :func:`run_bench` refuses to run (and to report) while the
1-minute load average per logical core exceeds ``max_load``.
"""

from __future__ import annotations

import math
import multiprocessing
import os
import tempfile
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from .._checks import bad_value, check_int
from ..profiling.latency import LatencyResult, measure_interleaved

PATHS = (
    "torchvision eager",
    "lightnets eager",
    "lightnets channels_last+fold",
    "torch.compile",
    "ORT fp32",
    "ORT int8",
)
BASELINE = PATHS[0]
DEFAULT_MAX_LOAD = 0.25  # 1-minute load average per logical core
CALIBRATION_IMAGES = 16
BOOTSTRAP = 2000  # resamples of the rounds behind a ratio's interval


class MachineBusyError(RuntimeError):
    """The machine is too busy for latency figures to mean anything."""


@dataclass(frozen=True)
class BenchRow:
    """One network at one batch size: a timing or the reason it is missing, per path."""

    model: str
    torchvision: str
    batch: int
    results: dict[str, LatencyResult]
    missing: dict[str, str]
    max_abs_diff: float

    def ratio(self, path: str) -> float | None:
        """Median time of ``path`` divided by torchvision eager's (below 1: faster)."""
        if path not in self.results:
            return None
        return self.results[path].median_ms / self.results[BASELINE].median_ms

    def ratio_interval(self, path: str, level: float = 0.95) -> tuple[float, float] | None:
        """A bootstrap interval of :meth:`ratio` at ``level``: the rounds are resampled
        together (round *i* of every path met the same load), :data:`BOOTSTRAP` times, with
        a fixed seed so that the same timings give the same interval."""
        if path not in self.results:
            return None
        ours = np.asarray(self.results[path].times_ms)
        base = np.asarray(self.results[BASELINE].times_ms)
        n = min(len(ours), len(base))
        rounds = np.random.default_rng(0).integers(0, n, size=(BOOTSTRAP, n))
        ratios = np.median(ours[:n][rounds], axis=1) / np.median(base[:n][rounds], axis=1)
        lo, hi = np.quantile(ratios, [(1 - level) / 2, (1 + level) / 2])
        return float(lo), float(hi)


@dataclass
class BenchReport:
    """All rows, and the conditions they were measured under."""

    rows: list[BenchRow]
    input_size: int
    threads: int
    repeats: int
    warmup: int
    calibration_images: int
    load_before: float | None
    load_after: float | None
    own_load: float
    cores: int
    max_load: float
    forced: bool
    environment: dict[str, Any] = field(default_factory=dict)
    isolated: bool = False  # each network timed in a fresh process


def twin_models(pattern: str = "*") -> list[str]:
    """Registered networks matching ``pattern`` (comma-separated patterns: any of them) that
    torchvision also builds, in the order of the patterns."""
    from ..models import get_entry, list_models

    names: list[str] = []
    for part in (p.strip() for p in pattern.split(",")):
        names += [n for n in list_models(part or "*", task="image")
                  if get_entry(n).torchvision and n not in names]
    if not names:
        raise bad_value("pattern", "a pattern matching a model with a torchvision twin "
                        "(e.g. 'mobilenet*', see `lightnets models`)", pattern)
    return names


def load_average() -> float | None:
    """The 1-minute load average, or None where the OS does not report one."""
    try:
        return os.getloadavg()[0]
    except (AttributeError, OSError):
        return None


def check_load(load: float | None, cores: int, max_load: float, when: str) -> None:
    """Raise :class:`MachineBusyError` when ``load`` per core exceeds ``max_load``."""
    if load is not None and load / cores > max_load:
        raise MachineBusyError(
            f"load average {when} is {load:.2f} on {cores} logical cores "
            f"({load / cores:.2f} per core, limit --max-load {max_load:g}): the machine is "
            "busy with other work, so latencies and ratios would not mean anything. Rerun "
            "when it is idle, or pass --force to report anyway with the load noted."
        )


def _twins(name: str) -> tuple[nn.Module, nn.Module, str, float]:
    """torchvision's network, the lightnets twin with its weights, its name, max |Δ| output."""
    from torchvision.models import get_model

    from ..models import create_model, get_entry, load_torchvision_state_dict

    tv_name = get_entry(name).torchvision
    tv = get_model(tv_name, weights=None).eval()
    ours = create_model(name).eval()
    load_torchvision_state_dict(ours, tv.state_dict())
    x = torch.randn(2, 3, 64, 64, generator=torch.Generator().manual_seed(0))
    with torch.inference_mode():
        diff = float((tv(x) - ours(x)).abs().max())
    return tv, ours, tv_name, diff


def _compiled(model: nn.Module, example: torch.Tensor) -> nn.Module:
    """``torch.compile(model)``, compiled now (the first call) rather than while timed."""
    compiled = torch.compile(model, dynamic=False)
    with torch.inference_mode():
        compiled(example)
    return compiled


def _reason(err: BaseException) -> str:
    text = str(err).strip().splitlines()
    return f"{type(err).__name__}: {text[0][:120] if text else ''}".rstrip(": ")


def _ort_paths(ours: nn.Module, shape: tuple[int, ...], threads: int, calibration: int,
               tmp: Path) -> tuple[dict[str, nn.Module], dict[str, str]]:
    """ONNX Runtime fp32 and INT8 modules of ``ours`` (or why they are missing)."""
    from .onnx import export_onnx
    from .quantize import quantize_onnx
    from .runtime import OrtModule, ort_session

    modules: dict[str, nn.Module] = {}
    missing: dict[str, str] = {}
    try:
        fp32 = export_onnx(ours, tmp / "fp32.onnx", input_size=shape, dynamic_batch=True).path
        modules["ORT fp32"] = OrtModule(ort_session(fp32, threads=threads))
    except Exception as err:  # report the path as missing, keep the others
        return modules, {"ORT fp32": _reason(err), "ORT int8": "no fp32 graph"}
    try:
        rng = np.random.default_rng(0)
        images = rng.standard_normal((calibration, *shape)).astype(np.float32)
        int8 = quantize_onnx(fp32, tmp / "int8.onnx", images).path
        modules["ORT int8"] = OrtModule(ort_session(int8, threads=threads))
    except Exception as err:
        missing["ORT int8"] = _reason(err)
    return modules, missing


def bench_model(
    name: str,
    batches: Sequence[int],
    *,
    input_size: int,
    threads: int,
    repeats: int,
    warmup: int,
    try_compile: bool,
    calibration: int,
) -> list[BenchRow]:
    """One :class:`BenchRow` per batch size for the registered network ``name``."""
    from .fuse import fuse_conv_bn, to_channels_last

    tv, ours, tv_name, diff = _twins(name)
    folded = to_channels_last(fuse_conv_bn(ours))
    shape = (3, input_size, input_size)
    rows = []
    with tempfile.TemporaryDirectory(prefix="lightnets-bench-") as tmp:
        ort_modules, ort_missing = _ort_paths(ours, shape, threads, calibration, Path(tmp))
        for batch in batches:
            x = torch.randn(batch, *shape, generator=torch.Generator().manual_seed(batch))
            x_cl = x.contiguous(memory_format=torch.channels_last)
            candidates = {
                "torchvision eager": (tv, x),
                "lightnets eager": (ours, x),
                "lightnets channels_last+fold": (folded, x_cl),
            }
            missing = dict(ort_missing)
            if not try_compile:
                missing["torch.compile"] = "not requested (--no-compile)"
            else:
                try:
                    candidates["torch.compile"] = (_compiled(folded, x_cl), x_cl)
                except Exception as err:  # Inductor needs a working compiler toolchain
                    missing["torch.compile"] = _reason(err)
            candidates.update({path: (m, x) for path, m in ort_modules.items()})
            results = measure_interleaved(
                candidates, warmup=warmup, repeats=repeats, threads=threads
            )
            rows.append(BenchRow(name, tv_name, batch, results, missing, diff))
    return rows


def _in_fresh_process(name: str, batches: Sequence[int], options: dict[str, Any]
                      ) -> list[BenchRow]:
    """:func:`bench_model` in a new interpreter (spawned, so nothing is inherited)."""
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=1, mp_context=context) as pool:
        return pool.submit(_bench_in_child, name, list(batches), options).result()


def _bench_in_child(name: str, batches: list[int], options: dict[str, Any]) -> list[BenchRow]:
    """The child's entry point: its own module's :func:`bench_model`, looked up there."""
    return bench_model(name, batches, **options)


def run_bench(
    pattern: str = "*",
    batches: Sequence[int] = (1, 32),
    *,
    input_size: int = 224,
    threads: int | None = None,
    repeats: int = 30,
    warmup: int = 5,
    try_compile: bool = True,
    calibration: int = CALIBRATION_IMAGES,
    max_load: float = DEFAULT_MAX_LOAD,
    force: bool = False,
    isolate: bool = True,
    log: Callable[[str], None] | None = None,
) -> BenchReport:
    """Time every path (module docstring) for the twins matching ``pattern``, each network
    in a fresh process unless ``isolate`` is False.

    Raises :class:`MachineBusyError` before measuring when the machine is busy, and afterwards when
    the load beyond this run's own threads rose above ``max_load`` per core meanwhile, unless
    ``force``.
    """
    batches = [check_int("batch", b, minimum=1) for b in batches]
    if not batches:
        raise bad_value("batch", "at least one batch size", batches)
    check_int("input_size", input_size, minimum=32)
    threads = torch.get_num_threads() if threads is None else check_int("threads", threads,
                                                                          minimum=1)
    check_int("calibration", calibration, minimum=1)
    if isinstance(max_load, bool) or not isinstance(max_load, (int, float)) or max_load < 0:
        raise bad_value("max_load", "a number >= 0 (load average per core)", max_load)
    names = twin_models(pattern)
    cores = os.cpu_count() or 1
    before = load_average()
    if not force:
        check_load(before, cores, max_load, "before the run")
    started = time.monotonic()
    rows: list[BenchRow] = []
    for name in names:
        if log is not None:
            log(f"timing {name} (batch {', '.join(map(str, batches))}) ...")
        options = {"input_size": input_size, "threads": threads, "repeats": repeats,
                   "warmup": warmup, "try_compile": try_compile, "calibration": calibration}
        rows += _in_fresh_process(name, batches, options) if isolate else bench_model(
            name, batches, **options)
    after = load_average()
    # This run's own busy threads raise the 1-minute average by threads·(1 − e^(−t/60)).
    own = threads * (1 - math.exp(-(time.monotonic() - started) / 60))
    if not force and after is not None:
        check_load(max(0.0, after - own), cores, max_load,
                   f"after the run, less this run's own share ({own:.2f}),")
    from ..runs import environment_info

    return BenchReport(rows, input_size, threads, repeats, warmup, calibration, before, after,
                       own, cores, float(max_load), force, environment_info(), isolate)
