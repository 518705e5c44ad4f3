"""A trained scene classifier saved as one file: network, spectral transform, class names.

``save_predictor`` writes what ``predict`` needs to classify a *new* cube: the network's
registry name, constructor arguments and weights, the fitted PCA/standardisation, and the
class names. ``load_predictor`` rebuilds it; ``Predictor.predict`` maps an H×W×B cube to an
H×W label map (1..K) with one scene-path pass.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from .._checks import bad_value
from ..models import create_model
from ..runs import load_torch, save_torch
from . import engine
from .preprocessing import SpectralTransform

FORMAT = "lightnets-hsi-predictor/1"


@dataclass
class Predictor:
    """Network + spectral transform + class names, ready to classify cubes."""

    model: nn.Module
    transform: SpectralTransform
    class_names: tuple[str, ...]
    model_name: str
    model_kwargs: dict[str, Any]

    def logits(self, cube: np.ndarray, *, device: str | None = None) -> torch.Tensor:
        """K×H×W logits for an H×W×B cube (same band count as at training)."""
        reduced = self.transform.transform(cube)
        return engine.predict_scene(self.model, reduced.transpose(2, 0, 1), device=device)

    def predict(self, cube: np.ndarray, *, device: str | None = None) -> np.ndarray:
        """H×W map of class labels 1..K (the ground-truth convention)."""
        return self.logits(cube, device=device).argmax(0).numpy().astype(np.int64) + 1


def save_predictor(
    path: str | os.PathLike,
    model: nn.Module,
    *,
    model_name: str,
    model_kwargs: Mapping[str, Any],
    transform: SpectralTransform,
    class_names: Sequence[str],
    extra: Mapping[str, Any] | None = None,
) -> Path:
    """Write the predictor file atomically."""
    state = {
        "format": FORMAT,
        "model_name": model_name,
        "model_kwargs": dict(model_kwargs),
        "state_dict": {k: v.detach().cpu() for k, v in model.state_dict().items()},
        "transform": {
            k: torch.from_numpy(v) if isinstance(v, np.ndarray) else v
            for k, v in transform.state_dict().items()
        },
        "class_names": list(class_names),
        **(extra or {}),
    }
    return save_torch(path, state)


def load_predictor(path: str | os.PathLike) -> Predictor:
    """Rebuild a :class:`Predictor` from a file written by :func:`save_predictor`."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"checkpoint: no such file {str(path)!r}")
    # weights_only=True: a crafted file runs nothing
    state = load_torch(path, "checkpoint", "a lightnets predictor file saved by torch.save")
    if state.get("format") != FORMAT:
        found = state.get("format") if isinstance(state, dict) else type(state).__name__
        raise bad_value("checkpoint", f"a predictor file of format {FORMAT!r}", found)
    model = create_model(state["model_name"], **state["model_kwargs"])
    model.load_state_dict(state["state_dict"])
    model.eval()
    transform = SpectralTransform.from_state_dict(state["transform"])
    return Predictor(
        model,
        transform,
        tuple(state["class_names"]),
        state["model_name"],
        dict(state["model_kwargs"]),
    )
