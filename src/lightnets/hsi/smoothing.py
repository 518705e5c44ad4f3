"""Spatial smoothing of a classified scene: class scores summed over a square window.

A scene's classes come in fields, so most of a pixel's neighbours share its class. Summing each
class's score over a ``size``×``size`` window and keeping the largest removes isolated errors
inside a field: with a network's probabilities it averages the evidence of the neighbours, with
one vote per pixel (the SVM's labels) it is a majority filter. It reads no label, only the
classifier's output on the scene, so it can follow any split without leaking test pixels.
"""

from __future__ import annotations

import numpy as np
from scipy.ndimage import uniform_filter

from .._checks import bad_value


def check_size(size: int, name: str = "size") -> int:
    """``size`` as an int when it is a window side (odd, >= 1); else an error naming ``name``."""
    if (
        isinstance(size, bool)
        or not isinstance(size, (int, np.integer))
        or size < 1
        or size % 2 == 0
    ):
        raise bad_value(name, "an odd integer >= 1 (the window's side)", size)
    return int(size)


def smooth_scores(scores: np.ndarray, size: int) -> np.ndarray:
    """The H×W×K ``scores`` averaged over the ``size``×``size`` window of each pixel (the
    scene's edge mirrored), float64."""
    size = check_size(size)
    scores = np.asarray(scores)
    if scores.ndim != 3:
        raise bad_value("scores", "an H×W×K array", f"shape {scores.shape}")
    return uniform_filter(scores.astype(np.float64), size=(size, size, 1), mode="reflect")


def smoothed_labels(scores: np.ndarray, size: int) -> np.ndarray:
    """Labels 1..K (H×W, int64) of the largest window-averaged score (first class on ties)."""
    return smooth_scores(scores, size).argmax(2).astype(np.int64) + 1


def check_labels(labels: np.ndarray, n_classes: int) -> np.ndarray:
    """``labels`` as an array when it is an H×W map of labels 1..``n_classes``."""
    labels = np.asarray(labels)
    if labels.ndim != 2:
        raise bad_value("labels", "an H×W map", f"shape {labels.shape}")
    if labels.size and (labels.min() < 1 or labels.max() > n_classes):
        raise bad_value(
            "labels", f"labels 1..{n_classes}", f"labels {labels.min()}..{labels.max()}"
        )
    return labels


def votes(labels: np.ndarray, n_classes: int) -> np.ndarray:
    """One vote per pixel: the H×W×K one-hot (float64) of the map ``labels`` (1..``n_classes``),
    scores that :func:`smooth_scores` sums like probabilities."""
    labels = check_labels(labels, n_classes)
    one_hot = np.zeros((*labels.shape, n_classes), dtype=np.float64)
    np.put_along_axis(one_hot, (labels - 1)[..., None].astype(np.intp), 1.0, axis=2)
    return one_hot


def majority_filter(labels: np.ndarray, size: int, n_classes: int) -> np.ndarray:
    """Each pixel of the H×W map ``labels`` (1..``n_classes``) replaced by the most frequent
    label of its ``size``×``size`` window (edges mirrored; the smallest label on ties)."""
    size = check_size(size)
    # counts are whole numbers; rounding removes the filter's float error so ties stay ties
    counts = np.rint(smooth_scores(votes(labels, n_classes), size) * size * size)
    return counts.argmax(2).astype(np.int64) + 1
