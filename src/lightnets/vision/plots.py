"""Figures of a training run and of an experiment, rendered in memory and written atomically."""

from __future__ import annotations

import io
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from ..runs import atomic_write_bytes


def _pyplot() -> Any:
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError as err:  # pragma: no cover - matplotlib is in the hsi extra
        raise ImportError('plots need matplotlib: pip install "lightnets[hsi]"') from err
    return plt


def _save(fig: Any, path: str | os.PathLike) -> Path:
    plt = _pyplot()
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=120, bbox_inches="tight")
    plt.close(fig)
    return atomic_write_bytes(path, buffer.getvalue())


def plot_curves(
    history: Sequence[Mapping[str, Any]], path: str | os.PathLike, *, split: str, title: str = ""
) -> Path:
    """Loss (training and ``split``) and accuracy per epoch, side by side, as a PNG."""
    plt = _pyplot()
    epochs = [row["epoch"] for row in history]
    fig, (left, right) = plt.subplots(1, 2, figsize=(10, 3.8))
    left.plot(epochs, [r["train_loss"] for r in history], "o-", ms=3, label="training")
    left.plot(epochs, [r[f"{split}_loss"] for r in history], "o-", ms=3, label=split)
    left.set_xlabel("epoch")
    left.set_ylabel("cross-entropy")
    left.set_title("loss")
    right.plot(
        epochs, [100 * r["train_top1"] for r in history], "o-", ms=3, label="training (augmented)"
    )
    right.plot(
        epochs, [100 * r[f"{split}_top1"] for r in history], "o-", ms=3, label=f"{split} top-1"
    )
    right.set_xlabel("epoch")
    right.set_ylabel("accuracy (%)")
    right.set_title("accuracy")
    for ax in (left, right):
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    return _save(fig, path)


def plot_attention(
    rows: Sequence[Mapping[str, Any]], path: str | os.PathLike, *, title: str = ""
) -> Path:
    """Per-variant accuracy (each run a dot, mean ± std a bar) and seconds per epoch."""
    plt = _pyplot()
    names = [r["variant"] for r in rows]
    fig, (left, right) = plt.subplots(1, 2, figsize=(10, 3.8))
    x = range(len(rows))
    means = [100 * r["top1_mean"] for r in rows]
    stds = [100 * r["top1_std"] for r in rows]
    left.bar(x, means, yerr=stds, capsize=6, color="#9ecae1", edgecolor="black", width=0.6)
    for i, r in enumerate(rows):
        runs = [100 * a for a in r["top1_runs"]]
        left.plot([i + 0.12] * len(runs), runs, "o", color="black", ms=4)
    low = min(min(100 * a for a in r["top1_runs"]) for r in rows)
    left.set_ylim(max(0.0, low - 2), 100)
    left.set_xticks(list(x), names)
    left.set_ylabel("test top-1 (%)")
    left.set_title("accuracy: runs (dots), mean ± std (bars)")
    right.bar(
        x, [r["epoch_seconds_mean"] for r in rows], color="#fdae6b", edgecolor="black", width=0.6
    )
    right.set_xticks(list(x), names)
    right.set_ylabel("seconds per training epoch")
    right.set_title("training cost")
    for ax in (left, right):
        ax.grid(axis="y", alpha=0.3)
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    return _save(fig, path)
