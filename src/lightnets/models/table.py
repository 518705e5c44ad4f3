"""The zoo at a glance: name, parameters and source paper of each registered variant."""

from __future__ import annotations

from dataclasses import dataclass

import torch

from .registry import create_model, get_entry, list_models


@dataclass(frozen=True)
class ModelRow:
    name: str
    family: str
    params: int
    paper: str
    torchvision: str | None


def count_parameters(model: torch.nn.Module) -> int:
    """Number of parameters (trainable and frozen), each tensor counted once."""
    return sum(p.numel() for p in model.parameters())


def model_table(pattern: str = "*") -> list[ModelRow]:
    """One row per registered variant matching ``pattern``, at its default configuration.

    Models are built on the ``meta`` device: shapes only, no memory, no initialisation cost.
    """
    rows = []
    for name in list_models(pattern):
        entry = get_entry(name)
        with torch.device("meta"):
            model = create_model(name)
        rows.append(
            ModelRow(name, entry.family, count_parameters(model), entry.paper, entry.torchvision)
        )
    return rows
