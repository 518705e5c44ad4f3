"""Hyperspectral image classification: scenes, preprocessing, splits, the estimator, metrics.

The public API, at one boundary convention (cube H×W×B, ground truth H×W with 0 = unlabelled
and classes 1..K, masks H×W booleans)::

    from lightnets.hsi import HSIClassifier, load_scene, stratified_split

    scene = load_scene("indian_pines")
    split = stratified_split(scene.gt, 0.1, seed=0)
    clf = HSIClassifier("hybridsn").fit(scene, train_mask=split.train)
    print(clf.evaluate(scene, mask=split.test))

Names are imported on first use, so that ``import lightnets.hsi`` stays cheap.
"""

from __future__ import annotations

import importlib
from typing import Any

_EXPORTS = {
    "HSIClassifier": "estimator",
    "HSIEvaluation": "estimator",
    "ExperimentConfig": "config",
    "run_experiment": "experiment",
    "Scene": "scenes",
    "load_scene": "scenes",
    "list_scenes": "catalogue",
    "SpectralTransform": "preprocessing",
    "Split": "splits",
    "stratified_split": "splits",
    "fixed_count_split": "splits",
    "block_split": "splits",
    "region_split": "splits",
    "masks_split": "splits",
    "with_validation": "splits",
    "window_overlap": "splits",
    "spatial_folds": "folds",
    "read_cube": "readers",
    "read_ground_truth": "readers",
    "read_mask": "readers",
    "confusion_matrix": "metrics",
    "overall_accuracy": "metrics",
    "average_accuracy": "metrics",
    "per_class_accuracy": "metrics",
    "kappa": "metrics",
    "classification_metrics": "metrics",
    "majority_filter": "smoothing",
    "cluster_regions": "segments",
    "region_majority": "segments",
    "self_train": "selftrain",
    "pseudo_labels": "selftrain",
}
__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    if name not in _EXPORTS:
        raise AttributeError(f"module 'lightnets.hsi' has no attribute {name!r}")
    value = getattr(importlib.import_module(f".{_EXPORTS[name]}", __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *_EXPORTS])
