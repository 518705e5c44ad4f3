"""Measured forward latency: warm-up, repeats, median and p90, in eval and inference mode.

On a shared machine the load changes while a comparison runs, so the comparisons here are
*interleaved*: every round times one forward of each candidate, in a rotated order, and the
statistics come from many rounds. A ratio of two medians then compares the candidates under
the same conditions instead of under whatever load each happened to meet alone.
"""

from __future__ import annotations

import contextlib
import gc
import itertools
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass

import numpy as np
import torch
from torch import Tensor, nn

from .._checks import check_int


@dataclass(frozen=True)
class LatencyResult:
    """Wall-clock times of single forward passes (one batch each), in milliseconds."""

    times_ms: tuple[float, ...]
    warmup: int
    threads: int
    batch_size: int
    channels_last: bool
    device: str = "cpu"

    @property
    def repeats(self) -> int:
        return len(self.times_ms)

    @property
    def median_ms(self) -> float:
        return float(np.median(self.times_ms))

    @property
    def p90_ms(self) -> float:
        return float(np.percentile(self.times_ms, 90))

    @property
    def min_ms(self) -> float:
        return min(self.times_ms)

    @property
    def per_sample_ms(self) -> float:
        """Median time divided by the batch size."""
        return self.median_ms / self.batch_size

    def to_dict(self) -> dict[str, object]:
        return {
            "median_ms": self.median_ms,
            "p90_ms": self.p90_ms,
            "min_ms": self.min_ms,
            "repeats": self.repeats,
            "warmup": self.warmup,
            "threads": self.threads,
            "batch_size": self.batch_size,
            "channels_last": self.channels_last,
            "device": self.device,
        }


@contextlib.contextmanager
def num_threads(threads: int | None) -> Iterator[int]:
    """Run the block with ``threads`` intra-op threads (``None``: the current setting)."""
    before = torch.get_num_threads()
    if threads is None:
        yield before
        return
    torch.set_num_threads(check_int("threads", threads, minimum=1))
    try:
        yield threads
    finally:
        torch.set_num_threads(before)


def _set_memory_format(model: nn.Module, memory_format: torch.memory_format) -> None:
    """Re-lay every 4-D weight and buffer (2-D conv kernels) in ``memory_format``, in place."""
    with torch.no_grad():
        for tensor in itertools.chain(model.parameters(), model.buffers()):
            if tensor.ndim == 4:
                tensor.data = tensor.data.contiguous(memory_format=memory_format)


def _synchronizer(example: Tensor) -> Callable[[], None]:
    """Wait for queued GPU work before reading the clock (a no-op on the CPU)."""
    if example.device.type == "cuda":
        return lambda: torch.cuda.synchronize(example.device)
    return lambda: None


def _prepare(model: nn.Module, example: Tensor, channels_last: bool) -> tuple[nn.Module, Tensor]:
    if channels_last:
        _set_memory_format(model, torch.channels_last)
        if example.ndim == 4:
            example = example.contiguous(memory_format=torch.channels_last)
    return model, example


def measure_interleaved(
    candidates: Mapping[str, tuple[nn.Module, Tensor]],
    *,
    warmup: int = 10,
    repeats: int = 50,
    threads: int | None = None,
    channels_last: bool = False,
) -> dict[str, LatencyResult]:
    """Time ``model(example)`` for every candidate, interleaved over ``repeats`` rounds.

    Each round runs every candidate once, starting one place further along the list than the
    round before, so no candidate always follows the same neighbour. Models run in eval mode
    under :func:`torch.inference_mode` (their training flag is restored afterwards);
    ``channels_last`` times NHWC inputs and weights (converted in place, then back).
    """
    check_int("warmup", warmup, minimum=0)
    check_int("repeats", repeats, minimum=1)
    if not candidates:
        raise ValueError("candidates: expected at least one (model, example) pair, got {}")
    names = list(candidates)
    prepared = {}
    modes = {}
    for name, (model, example) in candidates.items():
        modes[name] = model.training
        prepared[name] = _prepare(model.eval(), example, channels_last)
    times: dict[str, list[float]] = {name: [] for name in names}
    gc_was_enabled = gc.isenabled()
    try:
        with num_threads(threads) as used, torch.inference_mode():
            for model, example in prepared.values():
                for _ in range(warmup):
                    model(example)
            gc.collect()
            gc.disable()
            for r in range(repeats):
                shift = r % len(names)
                for name in names[shift:] + names[:shift]:
                    model, example = prepared[name]
                    sync = _synchronizer(example)
                    sync()
                    start = time.perf_counter()
                    model(example)
                    sync()
                    times[name].append((time.perf_counter() - start) * 1e3)
    finally:
        if gc_was_enabled:
            gc.enable()
        for name, (model, _) in candidates.items():
            model.train(modes[name])
            if channels_last:
                _set_memory_format(model, torch.contiguous_format)
    return {
        name: LatencyResult(
            times_ms=tuple(times[name]),
            warmup=warmup,
            threads=used,
            batch_size=candidates[name][1].shape[0] if candidates[name][1].ndim else 1,
            channels_last=channels_last,
            device=str(candidates[name][1].device),
        )
        for name in names
    }


def measure_latency(
    model: nn.Module,
    example: Tensor,
    *,
    warmup: int = 10,
    repeats: int = 50,
    threads: int | None = None,
    channels_last: bool = False,
) -> LatencyResult:
    """Time ``model(example)``: ``warmup`` untimed passes, then ``repeats`` timed ones."""
    results = measure_interleaved(
        {"model": (model, example)},
        warmup=warmup,
        repeats=repeats,
        threads=threads,
        channels_last=channels_last,
    )
    return results["model"]
