"""Classification maps, map grids and confusion-matrix figures (matplotlib, ``hsi`` extra).

Label maps use the ground-truth convention: 0 = unlabelled / not predicted, classes 1..K.
Figures are rendered to memory and written atomically.
"""

from __future__ import annotations

import io
import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from .._checks import bad_value
from ..runs import atomic_write_bytes


def _pyplot():
    try:
        import matplotlib

        matplotlib.use("Agg", force=False)
        import matplotlib.pyplot as plt
    except ImportError as err:  # pragma: no cover - depends on the environment
        raise ImportError('maps need matplotlib: pip install "lightnets[hsi]"') from err
    return plt


def class_colors(num_classes: int) -> np.ndarray:
    """``num_classes + 1`` RGB colours in [0, 1]; index 0 (unlabelled) is black."""
    plt = _pyplot()
    cmap = plt.get_cmap("tab20")
    colors = [cmap(i % 20)[:3] for i in range(num_classes)]
    return np.array([(0.0, 0.0, 0.0), *colors])


def colorize(labels: np.ndarray, num_classes: int) -> np.ndarray:
    """H×W labels (0..K) → H×W×3 float image."""
    if labels.min() < 0 or labels.max() > num_classes:
        raise bad_value("labels", f"values in 0..{num_classes}", (labels.min(), labels.max()))
    return class_colors(num_classes)[labels]


def false_colour(cube: np.ndarray, bands: Sequence[int]) -> np.ndarray:
    """H×W×3 view of three bands, each stretched between its 2nd and 98th percentile."""
    if cube.ndim != 3:
        raise bad_value("cube", "an H×W×B array", cube.shape)
    if max(bands) >= cube.shape[2]:
        raise bad_value("bands", f"band indices below {cube.shape[2]}", tuple(bands))
    rgb = cube[:, :, list(bands)].astype(np.float64)
    low, high = np.percentile(rgb, [2, 98], axis=(0, 1))
    return np.clip((rgb - low) / np.maximum(high - low, 1e-12), 0, 1)


def _save_figure(fig, path: str | os.PathLike) -> Path:
    plt = _pyplot()
    buffer = io.BytesIO()
    fig.savefig(buffer, format=Path(path).suffix.lstrip(".") or "png", dpi=120, bbox_inches="tight")
    plt.close(fig)
    return atomic_write_bytes(path, buffer.getvalue())


def save_classification_map(
    path: str | os.PathLike,
    prediction: np.ndarray,
    gt: np.ndarray,
    class_names: Sequence[str],
    *,
    test_mask: np.ndarray | None = None,
    background: np.ndarray | None = None,
    title: str = "",
) -> Path:
    """False colour | ground truth | prediction | errors on test pixels, with a class legend.

    ``prediction`` and ``gt`` are H×W label maps (0 = none, 1..K). The error panel colours
    test pixels (``test_mask``, default: all labelled pixels) green when right, red when wrong.
    """
    if prediction.shape != gt.shape:
        raise bad_value(
            "prediction", f"a map of the ground truth's shape {gt.shape}", prediction.shape
        )
    k = len(class_names)
    scored = gt > 0 if test_mask is None else test_mask & (gt > 0)
    errors = np.full((*gt.shape, 3), 0.15)
    errors[scored & (prediction == gt)] = (0.2, 0.7, 0.2)
    errors[scored & (prediction != gt)] = (0.85, 0.1, 0.1)
    accuracy = float((prediction[scored] == gt[scored]).mean()) if scored.any() else float("nan")

    panels = [
        ("ground truth", colorize(gt, k)),
        ("prediction", colorize(prediction, k)),
        (f"test pixels: {accuracy:.2%} right", errors),
    ]
    if background is not None:
        panels.insert(0, ("false colour", background))
    plt = _pyplot()
    from matplotlib.patches import Patch

    fig, axes = plt.subplots(1, len(panels), figsize=(3.2 * len(panels) + 2.6, 3.8))
    for ax, (name, image) in zip(axes, panels, strict=True):
        ax.imshow(image, interpolation="nearest")
        ax.set_title(name, fontsize=9)
        ax.axis("off")
    colors = class_colors(k)
    handles = [Patch(color=colors[i + 1], label=f"{i + 1} {n}") for i, n in enumerate(class_names)]
    fig.legend(handles=handles, loc="center right", fontsize=7, frameon=False)
    fig.subplots_adjust(right=0.78)
    if title:
        fig.suptitle(title, fontsize=10)
    return _save_figure(fig, path)


def save_confusion_matrix(
    path: str | os.PathLike, matrix: np.ndarray, class_names: Sequence[str], title: str = ""
) -> Path:
    """Row-normalised confusion matrix (rows: true class) with the raw counts printed."""
    k = len(class_names)
    if matrix.shape != (k, k):
        raise bad_value("matrix", f"a {k}×{k} array", matrix.shape)
    rows = matrix.sum(axis=1, keepdims=True)
    normalised = np.divide(matrix, rows, out=np.zeros(matrix.shape, float), where=rows > 0)
    plt = _pyplot()
    size = 2.5 + 0.42 * k
    fig, ax = plt.subplots(figsize=(size, size))
    ax.imshow(normalised, cmap="Blues", vmin=0, vmax=1)
    for i in range(k):
        for j in range(k):
            if matrix[i, j]:
                color = "white" if normalised[i, j] > 0.5 else "black"
                ax.text(
                    j, i, str(int(matrix[i, j])), ha="center", va="center", fontsize=6, color=color
                )
    ax.set_xticks(range(k), [str(i + 1) for i in range(k)], fontsize=7)
    ax.set_yticks(range(k), [f"{n} {i + 1}" for i, n in enumerate(class_names)], fontsize=7)
    ax.set_xlabel("predicted class")
    ax.set_ylabel("true class")
    if title:
        ax.set_title(title, fontsize=9)
    return _save_figure(fig, path)


def save_label_image(path: str | os.PathLike, labels: np.ndarray, num_classes: int) -> Path:
    """A plain colour PNG of a label map (one pixel per scene pixel)."""
    plt = _pyplot()
    buffer = io.BytesIO()
    plt.imsave(buffer, colorize(labels, num_classes), format="png")
    return atomic_write_bytes(path, buffer.getvalue())


def save_map_grid(
    path: str | os.PathLike,
    gt: np.ndarray,
    class_names: Sequence[str],
    rows: Sequence[tuple[str, Sequence[tuple[str, np.ndarray | None]]]],
    *,
    title: str = "",
) -> Path:
    """Prediction maps side by side: one row per ``(name, panels)``, the ground truth first,
    then a panel per ``(label, map)`` (H×W labels 0..K; ``None`` leaves the panel blank), so
    several classifiers under several protocols can be compared at a glance."""
    if not rows or not all(panels for _, panels in rows):
        raise bad_value("rows", "one or more (name, panels) pairs with at least one panel", rows)
    k = len(class_names)
    columns = 1 + max(len(panels) for _, panels in rows)
    plt = _pyplot()
    from matplotlib.patches import Patch

    fig, axes = plt.subplots(
        len(rows), columns, figsize=(2.2 * columns + 2.4, 2.4 * len(rows)), squeeze=False
    )
    for (name, panels), line in zip(rows, axes, strict=True):
        for ax, (label, labels) in zip(line, [("ground truth", gt), *panels], strict=False):
            if labels is not None:
                ax.imshow(colorize(labels, k), interpolation="nearest")
            ax.set_title(label, fontsize=8)
        line[0].set_ylabel(name, fontsize=9)
        for ax in line:
            ax.set_xticks([])
            ax.set_yticks([])
            for spine in ax.spines.values():
                spine.set_visible(False)
    colors = class_colors(k)
    handles = [Patch(color=colors[i + 1], label=f"{i + 1} {n}") for i, n in enumerate(class_names)]
    fig.legend(handles=handles, loc="center right", fontsize=7, frameon=False)
    fig.subplots_adjust(right=1 - 2.2 / (2.2 * columns + 2.4))
    if title:
        fig.suptitle(title, fontsize=10)
    return _save_figure(fig, path)
