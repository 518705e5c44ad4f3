"""The profile result and its renderings: summary, per-layer table, comparison table."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from .._checks import check_choice
from .._table import format_table
from .counting import CONVENTION, LayerStats
from .latency import LatencyResult
from .memory import CATEGORIES

FORMATS = ("md", "csv", "json")


def human(value: float, unit: str = "") -> str:
    """``1_234_567`` → ``"1.23 M"``: three significant decimals, SI prefixes up to T."""
    for factor, prefix in ((1e12, "T"), (1e9, "G"), (1e6, "M"), (1e3, "K")):
        if abs(value) >= factor:
            return f"{value / factor:.2f} {prefix}{unit}"
    return f"{value:g} {unit}".rstrip()


def megabytes(nbytes: int) -> str:
    return f"{nbytes / 1e6:.2f} MB"


@dataclass(frozen=True)
class ProfileResult:
    """Parameters, MACs, activation memory, per-layer costs and (on request) latency.

    ``macs`` is per sample in the papers' convention (see :data:`CONVENTION`);
    ``activation_bytes`` (every tensor the forward creates) and ``peak_activation_bytes``
    (the most bytes alive at once, input included) are for the whole batch; ``elementwise``
    holds per-sample element operations that MACs leave out (``norm``, ``bias``, ``pooling``,
    ``elementwise``), which other counters add in their own ways; ``ops`` is the number of ATen
    operations (kernels) one forward pass runs.
    """

    model: str
    input_shape: tuple[int, ...]
    batch_size: int
    params: int
    trainable_params: int
    macs: int
    activation_bytes: int
    peak_activation_bytes: int
    ops: int
    dtype: str
    elementwise: dict[str, int]
    layers: tuple[LayerStats, ...]
    latency: LatencyResult | None = None

    @property
    def flops(self) -> int:
        """FLOPs per sample: 2 × MACs (one multiply and one add each)."""
        return 2 * self.macs

    @property
    def batch_macs(self) -> int:
        return self.macs * self.batch_size

    def summary(self) -> str:
        """A few lines for a person: totals, memory, latency and the counting convention."""
        shape = "×".join(str(s) for s in (self.batch_size, *self.input_shape))
        extra = ", ".join(f"{k} {human(self.elementwise.get(k, 0))}" for k in CATEGORIES)
        lines = [
            f"{self.model} · input {shape} (batch × sample)",
            f"parameters   {self.params:,} ({human(self.params)}), "
            f"trainable {self.trainable_params:,}",
            f"MACs         {self.macs:,} per sample ({human(self.macs)}); "
            f"FLOPs {human(self.flops)} = 2 × MACs",
            f"activations  {megabytes(self.activation_bytes)} written per forward, "
            f"peak {megabytes(self.peak_activation_bytes)} alive "
            f"({self.dtype}, batch {self.batch_size}); {self.ops} ATen ops",
            f"not in MACs  {extra} element operations per sample",
        ]
        if self.latency is not None:
            lat = self.latency
            layout = "channels_last" if lat.channels_last else "NCHW"
            lines.append(
                f"latency      {lat.median_ms:.2f} ms median, {lat.p90_ms:.2f} ms p90 "
                f"({lat.repeats} repeats after {lat.warmup} warm-up, {lat.threads} thread(s), "
                f"batch {lat.batch_size}, eval + inference mode, {layout}, {lat.device})"
            )
        lines.append(f"convention   {CONVENTION}")
        return "\n".join(lines)

    def layer_table(self, top: int | None = None) -> str:
        """Per-layer Markdown table in forward order (``top``: only the costliest ``top``)."""
        rows = list(self.layers)
        if top is not None:
            rows = sorted(rows, key=lambda r: r.macs, reverse=True)[:top]
        total = self.macs or 1
        body = [
            (
                r.name,
                r.type,
                "×".join(map(str, r.output_shape)) if r.output_shape else "-",
                f"{r.params:,}",
                f"{r.macs:,}",
                f"{100 * r.macs / total:.1f}%",
            )
            for r in rows
        ]
        return format_table(
            ["module", "type", "output shape", "params", "MACs", "share"], body, align="lllrrr"
        )

    def to_dict(self, *, layers: bool = False) -> dict[str, Any]:
        """Plain numbers for JSON/CSV (per-layer rows only when ``layers``)."""
        out: dict[str, Any] = {
            "model": self.model,
            "input_shape": list(self.input_shape),
            "batch_size": self.batch_size,
            "params": self.params,
            "trainable_params": self.trainable_params,
            "macs": self.macs,
            "flops": self.flops,
            "activation_bytes": self.activation_bytes,
            "peak_activation_bytes": self.peak_activation_bytes,
            "ops": self.ops,
            "dtype": self.dtype,
            "elementwise": dict(self.elementwise),
            "latency": None if self.latency is None else self.latency.to_dict(),
        }
        if layers:
            out["layers"] = [
                {
                    "name": r.name,
                    "type": r.type,
                    "output_shape": None if r.output_shape is None else list(r.output_shape),
                    "params": r.params,
                    "macs": r.macs,
                    "calls": r.calls,
                }
                for r in self.layers
            ]
        return out


_COLUMNS = ("model", "input", "params", "MACs", "FLOPs", "activations", "peak")


def comparison_table(
    results: Sequence[ProfileResult], fmt: str = "md", *, environment: dict[str, Any] | None = None
) -> str:
    """Many profiles side by side as Markdown, CSV or JSON (latency columns when measured)."""
    check_choice("fmt", fmt, FORMATS)
    timed = any(r.latency is not None for r in results)
    if fmt == "json":
        payload: dict[str, Any] = {"convention": CONVENTION, "models": []}
        if environment is not None:
            payload["environment"] = environment
        payload["models"] = [r.to_dict() for r in results]
        return json.dumps(payload, indent=2)
    if fmt == "csv":
        out = io.StringIO()
        fields = ["model", "input_shape", "batch_size", "params", "macs", "flops",
                  "activation_bytes", "peak_activation_bytes"]
        if timed:
            fields += ["latency_median_ms", "latency_p90_ms", "repeats", "threads"]
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(fields)
        for r in results:
            row: list[Any] = [r.model, "x".join(map(str, r.input_shape)), r.batch_size, r.params,
                              r.macs, r.flops, r.activation_bytes, r.peak_activation_bytes]
            if timed:
                lat = r.latency
                row += ["", "", "", ""] if lat is None else [
                    f"{lat.median_ms:.3f}", f"{lat.p90_ms:.3f}", lat.repeats, lat.threads]
            writer.writerow(row)
        return out.getvalue().rstrip("\n")
    headers = list(_COLUMNS)
    if timed:
        headers += ["median ms", "p90 ms"]
    body = []
    for r in results:
        row = [r.model, "×".join(map(str, r.input_shape)), f"{r.params / 1e6:.2f} M",
               f"{r.macs / 1e6:.2f} M", f"{r.flops / 1e9:.3f} G",
               megabytes(r.activation_bytes), megabytes(r.peak_activation_bytes)]
        if timed:
            lat = r.latency
            row += ["-", "-"] if lat is None else [f"{lat.median_ms:.2f}", f"{lat.p90_ms:.2f}"]
        body.append(row)
    return format_table(headers, body, align="llrrrrr" + "rr" * timed)
