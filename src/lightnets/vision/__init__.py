"""Image classification with the zoo: data sets, training (one or many processes) and the
attention experiment (the dropout demonstration is :mod:`lightnets.demos.dropout_images`).

Names are imported on first use, so that importing the package does not load torchvision's
data modules.
"""

from __future__ import annotations

import importlib
from typing import Any

_EXPORTS = {
    "DATASETS": "datasets",
    "ImageData": "datasets",
    "load_dataset": "datasets",
    "TrainConfig": "trainer",
    "TrainResult": "trainer",
    "load_classifier": "trainer",
    "load_weights": "trainer",
    "train": "trainer",
    "attention_experiment": "experiments",
}
__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    if name not in _EXPORTS:
        raise AttributeError(f"module 'lightnets.vision' has no attribute {name!r}")
    value = getattr(importlib.import_module(f".{_EXPORTS[name]}", __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *_EXPORTS])
