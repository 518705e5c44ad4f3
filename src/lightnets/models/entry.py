"""What the registry knows about one named variant, in a module of its own so that the
registry and its torchvision helpers both use it without importing each other."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from torch import nn


@dataclass(frozen=True)
class ModelEntry:
    """What the registry knows about one named variant."""

    name: str
    builder: Callable[..., nn.Module]
    paper: str
    family: str
    task: str = "image"
    torchvision: str | None = None
    aliases: tuple[str, ...] = ()
    kwargs: Mapping[str, Any] = field(default_factory=dict)
