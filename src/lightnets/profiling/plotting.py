"""Scatter plot of multiply-adds against measured latency, marker area by parameters."""

from __future__ import annotations

import io
import os
from collections.abc import Collection, Sequence
from pathlib import Path
from typing import Any

from .._checks import bad_value
from ..models import get_entry
from ..runs import atomic_write_bytes
from .report import ProfileResult


def _pyplot() -> Any:
    """``matplotlib.pyplot`` on the Agg backend (matplotlib is an optional dependency)."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError as err:
        raise ImportError(
            "plotting needs matplotlib: pip install 'lightnets[hsi]' or matplotlib"
        ) from err
    return plt


def _family(name: str) -> str:
    """The registry family of a model name (``"other"`` for modules outside the registry)."""
    try:
        return get_entry(name).family
    except ValueError:
        return "other"


def plot_macs_vs_latency(
    results: Sequence[ProfileResult],
    path: str | os.PathLike,
    *,
    title: str = "",
    annotate: Collection[str] | None = None,
) -> Path:
    """Write a PNG: x = MACs per sample (M), y = median latency (ms), area ∝ parameters.

    Every result needs a measured latency. Both axes are logarithmic, so equal distances are
    equal ratios: a model above the trend is slower than its MACs suggest. Points are named
    when their model is in ``annotate`` (default: all of them, up to 20 points; none beyond).
    """
    timed = [r for r in results if r.latency is not None]
    if not timed or len(timed) != len(results):
        raise bad_value("results", "profiles that all carry a measured latency", len(timed))
    if Path(path).suffix.lower() != ".png":
        raise bad_value("path", "a .png file name", str(path))
    plt = _pyplot()
    from matplotlib.ticker import FuncFormatter

    fig, ax = plt.subplots(figsize=(8, 5.5), dpi=120)
    macs = [r.macs / 1e6 for r in timed]
    lat = [r.latency.median_ms for r in timed]
    biggest = max(r.params for r in timed)
    sizes = [20 + 600 * r.params / biggest for r in timed]
    families = [_family(r.model) for r in timed]
    for family in dict.fromkeys(families):
        idx = [i for i, f in enumerate(families) if f == family]
        ax.scatter([macs[i] for i in idx], [lat[i] for i in idx], s=[sizes[i] for i in idx],
                   alpha=0.55, edgecolors="black", linewidths=0.5, label=family)
    if annotate is None:
        annotate = [r.model for r in timed] if len(timed) <= 20 else []
    for r, x, y in zip(timed, macs, lat, strict=True):
        if r.model in annotate:
            ax.annotate(r.model, (x, y), fontsize=7, xytext=(4, 3), textcoords="offset points")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("multiply-adds per sample (millions; convolutions and linear layers)")
    first = timed[0].latency
    ax.set_ylabel(f"median latency, ms (batch {first.batch_size}, {first.threads} thread(s))")
    ax.set_title(title or "MACs against measured latency (marker area ∝ parameters)")
    plain = FuncFormatter(lambda v, _: f"{v:g}")
    some = FuncFormatter(lambda v, _: f"{v:g}" if f"{v:g}"[0] in "25" else "")
    for axis in (ax.xaxis, ax.yaxis):
        axis.set_major_formatter(plain)
        axis.set_minor_formatter(some)
    ax.tick_params(which="minor", labelsize=7)
    ax.grid(True, which="both", alpha=0.3)
    if len(set(families)) > 1:
        ax.legend(fontsize=7, markerscale=0.4, loc="upper left")
    fig.tight_layout()
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png")
    plt.close(fig)
    return atomic_write_bytes(path, buffer.getvalue())
