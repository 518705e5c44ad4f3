"""Accuracy metrics of hyperspectral classification: OA, AA, Cohen's kappa, per-class accuracy.

All functions take 0-based class indices (``y_true``, ``y_pred``) and ``num_classes``; only
labelled pixels are ever scored — :func:`score_maps` drops gt == 0 before scoring a map.
Definitions follow the usual remote-sensing convention (e.g. Congalton, "A review of assessing
the accuracy of classifications of remotely sensed data", RSE 37, 1991): rows of the confusion
matrix are true classes, columns predicted ones.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from lightnets._checks import bad_value, check_int
from lightnets.hsi.readers import check_ground_truth, require


def confusion_matrix(y_true: Any, y_pred: Any, num_classes: int) -> np.ndarray:
    """K×K int64 counts: entry [i, j] is the number of class-i pixels predicted as class j."""
    t, p = _check_pair(y_true, y_pred, num_classes)
    flat = np.bincount(t * num_classes + p, minlength=num_classes * num_classes)
    return flat.reshape(num_classes, num_classes).astype(np.int64)


def overall_accuracy(y_true: Any, y_pred: Any, num_classes: int) -> float:
    """OA: the share of pixels predicted correctly."""
    return _oa(confusion_matrix(y_true, y_pred, num_classes))


def per_class_accuracy(y_true: Any, y_pred: Any, num_classes: int) -> np.ndarray:
    """Recall of each class (correct / true pixels of the class); NaN for absent classes."""
    return _per_class(confusion_matrix(y_true, y_pred, num_classes))


def average_accuracy(y_true: Any, y_pred: Any, num_classes: int) -> float:
    """AA: the mean per-class accuracy over the classes present in ``y_true``."""
    return _aa(confusion_matrix(y_true, y_pred, num_classes))


def kappa(y_true: Any, y_pred: Any, num_classes: int) -> float:
    """Cohen's kappa: agreement beyond chance, (p_o − p_e) / (1 − p_e).

    When chance agreement is already complete (p_e = 1, one class in both arrays), the
    prediction is necessarily perfect and kappa is 1.
    """
    return _kappa(confusion_matrix(y_true, y_pred, num_classes))


def classification_metrics(y_true: Any, y_pred: Any, num_classes: int) -> dict[str, Any]:
    """OA, AA and kappa (floats), per-class accuracy (list, NaN for absent) and confusion."""
    cm = confusion_matrix(y_true, y_pred, num_classes)
    return {
        "oa": _oa(cm),
        "aa": _aa(cm),
        "kappa": _kappa(cm),
        "per_class": _per_class(cm).tolist(),
        "confusion": cm,
        "n": int(cm.sum()),
    }


def score_maps(
    gt: np.ndarray,
    prediction: np.ndarray,
    *,
    num_classes: int | None = None,
    zero_based: bool = False,
    mask: np.ndarray | None = None,
) -> dict[str, Any]:
    """Score a prediction map against a ground-truth map (0 = unlabelled, classes 1..K).

    Only pixels with gt > 0 are scored (and, with ``mask``, only those inside it, e.g. the
    test pixels). ``prediction`` uses the same labels 1..K as ``gt`` unless ``zero_based``,
    in which case it holds 0-based class indices. ``num_classes`` defaults to gt's largest label.
    """
    gt = check_ground_truth(gt, name="gt")
    prediction = np.asarray(prediction)
    if prediction.shape != gt.shape:
        raise bad_value("prediction", f"the ground truth's shape {gt.shape}", prediction.shape)
    k = int(gt.max()) if num_classes is None else check_int("num_classes", num_classes, minimum=1)
    scored = gt > 0
    if mask is not None:
        mask = np.asarray(mask)
        if mask.dtype != bool or mask.shape != gt.shape:
            raise bad_value("mask", f"a boolean array of shape {gt.shape}", mask.shape)
        scored &= mask
    if not scored.any():
        raise bad_value("gt", "at least one labelled pixel to score", "none")
    y_true = gt[scored] - 1
    y_pred = prediction[scored] if zero_based else prediction[scored] - 1
    return classification_metrics(y_true, y_pred, k)


def summarize_runs(runs: Sequence[Mapping[str, Any]]) -> dict[str, dict[str, Any]]:
    """Mean and standard deviation of each numeric metric over several runs.

    Scalars give floats; equal-shape sequences/arrays (per-class accuracy) give arrays,
    element by element, ignoring NaN (a class absent from a run). The standard deviation is
    the sample one (ddof=1) when there are at least two runs, and 0 for a single run.
    Non-numeric entries (strings, None, dicts) are left out. Every run must have the same keys.
    """
    if not runs:
        raise bad_value("runs", "at least one dict of metrics", "an empty list")
    keys = list(runs[0].keys())
    for i, run in enumerate(runs):
        if set(run) != set(keys):
            raise bad_value(f"runs[{i}]", f"the keys of runs[0] {sorted(keys)}", sorted(run))
    summary: dict[str, dict[str, Any]] = {}
    n = len(runs)
    for key in keys:
        values = [run[key] for run in runs]
        if any(v is None or isinstance(v, (str, bytes, Mapping)) for v in values):
            continue
        try:
            stacked = np.asarray(values)
        except ValueError as exc:  # ragged: per-class lists of different lengths
            raise bad_value(key, "numbers or equal-shape arrays in every run", values) from exc
        if stacked.dtype.kind not in "biuf":
            continue
        stacked = stacked.astype(np.float64)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN columns stay NaN
            mean = np.nanmean(stacked, axis=0)
            std = np.nanstd(stacked, axis=0, ddof=1) if n > 1 else np.zeros_like(mean)
        if stacked.ndim == 1:
            summary[key] = {"mean": float(mean), "std": float(std), "n": n}
        else:
            summary[key] = {"mean": mean, "std": std, "n": n}
    return summary


# ---------------------------------------------------------------------------------------------


def _check_pair(y_true: Any, y_pred: Any, num_classes: int) -> tuple[np.ndarray, np.ndarray]:
    check_int("num_classes", num_classes, minimum=1)
    arrays = []
    for name, values in (("y_true", y_true), ("y_pred", y_pred)):
        array = np.asarray(values)
        whole_floats = np.issubdtype(array.dtype, np.floating) and np.array_equal(
            array, np.round(array)
        )
        if array.dtype == bool or not (np.issubdtype(array.dtype, np.integer) or whole_floats):
            raise bad_value(name, "integer class indices", f"dtype {array.dtype}")
        array = array.astype(np.int64).ravel()
        if array.size and (array.min() < 0 or array.max() >= num_classes):
            raise bad_value(
                name,
                f"class indices in 0..{num_classes - 1}",
                f"values in {array.min()}..{array.max()}",
            )
        arrays.append(array)
    if arrays[0].shape != arrays[1].shape:
        raise bad_value("y_pred", f"{arrays[0].size} values like y_true", arrays[1].size)
    if arrays[0].size == 0:
        raise bad_value("y_true", "at least one pixel", "none")
    return arrays[0], arrays[1]


def _oa(cm: np.ndarray) -> float:
    return float(np.trace(cm) / cm.sum())


def _per_class(cm: np.ndarray) -> np.ndarray:
    support = cm.sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(support > 0, np.diag(cm) / np.maximum(support, 1), np.nan)


def _aa(cm: np.ndarray) -> float:
    per_class = _per_class(cm)
    return float(np.mean(per_class[~np.isnan(per_class)]))


def _kappa(cm: np.ndarray) -> float:
    total = cm.sum()
    observed = np.trace(cm) / total
    expected = float((cm.sum(axis=0) * cm.sum(axis=1)).sum()) / float(total) ** 2
    if math.isclose(expected, 1.0):
        return 1.0
    return float((observed - expected) / (1.0 - expected))


def paired_comparison(a: Sequence[float], b: Sequence[float]) -> dict[str, float]:
    """How ``a`` differs from ``b`` when they are paired (the same folds or seeds): the mean
    difference, and the two-sided p-values of the paired t-test and of the exact Wilcoxon
    signed-rank test. With 5 pairs the Wilcoxon test cannot go below p = 0.0625, so only the
    t-test can call a difference at 5 %; both are given."""
    x, y = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    if x.shape != y.shape or x.ndim != 1 or x.size < 2:
        raise bad_value("a, b", "two paired sequences of at least 2 values", (x.shape, y.shape))
    stats = require("scipy.stats", "hsi")
    diff = x - y
    if np.allclose(diff, 0):
        return {"mean_difference": 0.0, "t_p": 1.0, "wilcoxon_p": 1.0, "pairs": int(x.size)}
    return {
        "mean_difference": float(diff.mean()),
        "t_p": float(stats.ttest_rel(x, y).pvalue),
        "wilcoxon_p": float(stats.wilcoxon(x, y, method="exact").pvalue),
        "pairs": int(x.size),
    }
