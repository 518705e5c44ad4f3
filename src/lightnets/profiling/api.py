"""``profile`` one network and ``compare`` many: the library calls behind the CLI commands."""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import torch
from torch import nn

from .._checks import bad_value
from ..models import list_models
from ..runs import environment_info
from .counting import count, count_parameters
from .latency import LatencyResult, measure_interleaved
from .report import ProfileResult, comparison_table
from .resolve import (
    check_accepts,
    check_batch_size,
    input_shape_of,
    registered_name,
    resolve_model,
)

InputSize = int | Sequence[int] | None


def _dtype_of(model: nn.Module) -> torch.dtype:
    for tensor in model.parameters():
        if tensor.is_floating_point():
            return tensor.dtype
    return torch.float32


def _counted(
    module: nn.Module, label: str, input_size: InputSize, batch_size: int
) -> ProfileResult:
    shape = input_shape_of(module, input_size)
    check_accepts(module, label, shape, input_size)
    try:
        counts = count(module, shape, batch_size)
    except RuntimeError as err:  # a module without check_input rejected the shape
        reason = str(err).strip().splitlines()[0]
        raise bad_value("input_size", f"a size {label} accepts ({reason})", input_size) from None
    return ProfileResult(
        model=label,
        input_shape=tuple(shape),
        batch_size=batch_size,
        params=count_parameters(module),
        trainable_params=count_parameters(module, trainable_only=True),
        macs=counts.macs,
        activation_bytes=counts.activation_bytes,
        peak_activation_bytes=counts.peak_activation_bytes,
        ops=counts.ops,
        dtype=str(_dtype_of(module)).removeprefix("torch."),
        elementwise=counts.elementwise,
        layers=counts.layers,
    )


def _example(module: nn.Module, result: ProfileResult) -> torch.Tensor:
    device = next((p.device for p in module.parameters()), torch.device("cpu"))
    shape = (result.batch_size, *result.input_shape)
    return torch.randn(shape, dtype=_dtype_of(module), device=device)


def profile(
    model: nn.Module | str,
    input_size: InputSize = None,
    batch_size: int = 1,
    *,
    latency: bool = False,
    warmup: int = 10,
    repeats: int = 50,
    threads: int | None = None,
    channels_last: bool = False,
    label: str | None = None,
    **model_kwargs: Any,
) -> ProfileResult:
    """Parameters, MACs (papers' convention, FLOPs = 2 × MACs), activation memory and a
    per-layer table of ``model`` — a registered name (built with ``model_kwargs``) or a module.

    ``input_size``: one sample's shape — ``None`` for the model's ``input_shape`` (3×224×224
    for the image classifiers, bands×window×window for HybridSN), an int ``s`` for ``C×s×s``,
    ``(H, W)`` for ``C×H×W`` (models with ``in_chans``), or a full sample shape. Counting
    happens on a ``meta`` copy (no memory, no compute).
    ``latency=True`` also times ``repeats`` forward passes of a random batch after ``warmup``
    untimed ones, in eval and inference mode, on ``threads`` threads (default: the current
    setting), optionally ``channels_last``; a module given here is timed where it lives.
    ``label`` names the model in the result (default: the registry name or the class name).
    """
    batch_size = check_batch_size(batch_size)
    module, default_label = resolve_model(model, model_kwargs, meta=not latency)
    label = default_label if label is None else label
    result = _counted(module, label, input_size, batch_size)
    if not latency:
        return result
    timed = measure_interleaved(
        {label: (module, _example(module, result))},
        warmup=warmup,
        repeats=repeats,
        threads=threads,
        channels_last=channels_last,
    )
    return _with_latency(result, timed[label])


def _with_latency(result: ProfileResult, latency: LatencyResult) -> ProfileResult:
    return dataclasses.replace(result, latency=latency)


@dataclass(frozen=True)
class Comparison:
    """Profiles of several models, the ones skipped (name → reason) and the machine."""

    results: tuple[ProfileResult, ...]
    skipped: dict[str, str] = field(default_factory=dict)
    environment: dict[str, Any] = field(default_factory=dict)

    def table(self, fmt: str = "md") -> str:
        """The comparison as Markdown (``md``), ``csv`` or ``json``."""
        return comparison_table(self.results, fmt, environment=self.environment)


def expand(patterns: Sequence[str], *, task: str | None = None) -> list[str]:
    """Registered names for names, aliases and shell patterns, in order, without repeats."""
    names: list[str] = []
    for pattern in patterns:
        if any(ch in pattern for ch in "*?["):
            matched = list_models(pattern, task=task)
            if not matched:
                raise bad_value("patterns", "patterns that match registered models", pattern)
        else:
            matched = [registered_name(pattern)]
        names += [n for n in matched if n not in names]
    return names


def compare(
    models: Sequence[str | nn.Module] = ("*",),
    input_size: InputSize = None,
    batch_size: int = 1,
    *,
    latency: bool = False,
    warmup: int = 5,
    repeats: int = 20,
    threads: int | None = None,
    channels_last: bool = False,
    skip_unfit: bool = False,
) -> Comparison:
    """Profile every model of ``models`` (names, aliases, shell patterns or modules).

    Latency, when requested, is measured in one interleaved run (see
    :func:`~lightnets.profiling.latency.measure_interleaved`), so the numbers compare under
    the same machine load. ``skip_unfit`` leaves out, with the reason, models that cannot take
    ``input_size`` (e.g. HybridSN at 224×224) instead of raising.
    """
    batch_size = check_batch_size(batch_size)
    load_before = os.getloadavg()[0] if hasattr(os, "getloadavg") else None
    items: list[str | nn.Module] = []
    for item in models:
        items += expand([item]) if isinstance(item, str) else [item]
    results: list[ProfileResult] = []
    modules: list[nn.Module] = []
    skipped: dict[str, str] = {}
    for item in items:
        module, label = resolve_model(item, {}, meta=not latency)
        try:
            results.append(_counted(module, label, input_size, batch_size))
        except ValueError as err:
            if not skip_unfit or not str(err).startswith("input_size"):
                raise
            skipped[label] = str(err)
            continue
        modules.append(module)
    if latency and results:
        candidates = {
            f"{i}:{r.model}": (m, _example(m, r))
            for i, (r, m) in enumerate(zip(results, modules, strict=True))
        }
        timed = measure_interleaved(
            candidates, warmup=warmup, repeats=repeats, threads=threads,
            channels_last=channels_last,
        )
        results = [_with_latency(r, timed[key]) for r, key in zip(results, candidates, strict=True)]
    environment = environment_info()
    if latency and results:
        environment["latency_threads"] = results[0].latency.threads
        environment["load_average_1min_before"] = load_before
    return Comparison(tuple(results), skipped, environment)

