"""Load torchvision state dicts into lightnets models.

Our twins of torchvision networks register their parameters and buffers in the same order
as torchvision's (only the names differ, to read like the papers), so the state dict is
mapped by position; every pair must agree in tensor kind (weight, bias, running_mean, …) and
shape, else loading stops at the first disagreement with both names in the message.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import torch
from torch import nn

from .registry import ModelEntry


def map_torchvision_keys(model: nn.Module, state_dict: Mapping[str, torch.Tensor]) -> dict:
    """Return ``state_dict`` renamed to ``model``'s keys, checking kind and shape of each pair."""
    ours = model.state_dict()
    if len(ours) != len(state_dict):
        raise ValueError(
            f"state_dict: expected {len(ours)} tensors for {type(model).__name__}, "
            f"got {len(state_dict)}"
        )
    mapped = {}
    for (our_key, our_t), (tv_key, tv_t) in zip(ours.items(), state_dict.items(), strict=True):
        if our_key.rsplit(".", 1)[-1] != tv_key.rsplit(".", 1)[-1] or our_t.shape != tv_t.shape:
            raise ValueError(
                f"state_dict: expected {our_key} {tuple(our_t.shape)} at this position, "
                f"got {tv_key} {tuple(tv_t.shape)}"
            )
        mapped[our_key] = tv_t
    return mapped


def load_torchvision_state_dict(model: nn.Module, state_dict: Mapping[str, torch.Tensor]) -> None:
    """Load a torchvision state dict of the same architecture into ``model`` (in place)."""
    model.load_state_dict(map_torchvision_keys(model, state_dict))


def load_pretrained(entry: ModelEntry, args: dict[str, Any]) -> nn.Module:
    """Build ``entry`` with torchvision's published ImageNet weights."""
    if entry.torchvision is None:
        raise ValueError(
            f"pretrained: expected a model that torchvision publishes weights for, "
            f"got {entry.name!r} (no torchvision twin)"
        )
    if args.get("in_chans", 3) != 3:
        raise ValueError(f"in_chans: expected 3 with pretrained=True, got {args['in_chans']!r}")
    from torchvision.models import get_model_weights

    num_classes = args.pop("num_classes", 1000)
    model = entry.builder(**args, num_classes=1000)
    weights = get_model_weights(entry.torchvision).DEFAULT
    try:
        state_dict = weights.get_state_dict(progress=True)
    except Exception as err:  # offline, blocked, corrupt download
        raise RuntimeError(
            f"pretrained: could not fetch torchvision weights {weights} for {entry.name} "
            f"({err}); connect to the internet or put the file in torch.hub's cache"
        ) from err
    load_torchvision_state_dict(model, state_dict)
    if num_classes != 1000:
        model.reset_classifier(num_classes)
    return model
