"""Why repeated test runs give different maps: dropout left on at prediction time.

HybridSN has dropout (p = 0.4) after its two hidden dense layers. In training mode every
forward pass draws new dropout masks, so predicting the same scene twice gives two different
maps; ``model.eval()`` turns dropout off and the prediction becomes a fixed function of the
input. (Unseeded shuffles and splits are the other source; lightnets seeds all of them.)
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from .._checks import check_int
from ..hsi import engine
from ..hsi.estimator import HSIClassifier


@dataclass(frozen=True)
class DropoutDemo:
    """Pixels whose class changed between repeated predictions, per mode."""

    pixels: int
    repeats: int
    changed_train_mode: int
    changed_eval_mode: int

    def summary(self) -> str:
        share = self.changed_train_mode / self.pixels
        return (
            f"{self.repeats} predictions of the same {self.pixels:,} pixels:\n"
            f"  train mode (dropout on) : {self.changed_train_mode:,} pixels ({share:.1%}) "
            f"change class between calls\n"
            f"  eval mode (dropout off) : {self.changed_eval_mode:,} pixels change class\n"
            "Evaluation must run under model.eval() (lightnets always does)."
        )


def _labels_with_dropout(clf: HSIClassifier, cube: np.ndarray, seed: int) -> np.ndarray:
    """A map predicted with the network left in training mode (what a forgotten eval() does)."""
    reduced = clf.transform_.transform(cube).transpose(2, 0, 1)
    model = clf.network_
    padded = engine.pad_cube(engine.as_cube(reduced, model), model.window)
    positions = engine.scene_positions(*reduced.shape[1:])
    model.train()
    torch.manual_seed(seed)
    try:
        with torch.no_grad():
            logits = torch.cat([
                engine.scene_logits(model, padded, p)
                for p in positions.split(4096)
            ])
    finally:
        model.eval()
    return logits.argmax(1).numpy()


def dropout_demonstration(clf: HSIClassifier, cube: np.ndarray, repeats: int = 3,
                          seed: int = 0) -> DropoutDemo:
    """Predict ``cube`` ``repeats`` times with the fitted network of ``clf`` in train mode and
    in eval mode; count the pixels that change class."""
    check_int("repeats", repeats, minimum=2)
    if clf.network_ is None:
        raise ValueError("checkpoint: expected a network's model.pt, got an SVM's (no dropout)")
    train_maps = [_labels_with_dropout(clf, cube, seed + i) for i in range(repeats)]
    eval_maps = [clf.predict(cube).ravel() for _ in range(repeats)]

    def changed(maps: list[np.ndarray]) -> int:
        stack = np.stack(maps)
        return int((stack != stack[0]).any(axis=0).sum())

    return DropoutDemo(int(train_maps[0].size), repeats, changed(train_maps), changed(eval_maps))
