"""Load torchvision state dicts into lightnets models.

Our twins of torchvision networks register their parameters and buffers in the same order
as torchvision's (only the names differ, to read like the papers), so the state dict is
mapped by position; every pair must agree in tensor kind (weight, bias, running_mean, …) and
shape, else loading stops at the first disagreement with both names in the message.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import torch
from torch import nn

from ..runs import load_torch
from .entry import ModelEntry


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


def published_weights(entry: ModelEntry) -> Any:
    """torchvision's default ImageNet weights (a ``WeightsEnum`` member) for ``entry``, which
    :func:`~lightnets.models.registry.pretrained_entry` has checked to have them."""
    if entry.torchvision is None:
        raise ValueError(f"pretrained: {entry.name!r} has no torchvision twin with weights")
    from torchvision.models import get_model_weights

    return get_model_weights(entry.torchvision).DEFAULT


def weights_cache_file(weights: Any) -> Path:
    """Where torch.hub keeps the file of ``weights`` (``$TORCH_HOME/hub/checkpoints/...``)."""
    return Path(torch.hub.get_dir()) / "checkpoints" / Path(urlparse(weights.url).path).name


def fetch_published_state_dict(entry: ModelEntry, *, progress: bool = True) -> dict[str, Any]:
    """torchvision's ImageNet state dict for ``entry``, from torch.hub's cache, downloaded
    there (with torchvision's checksum) when missing; offline, a FileNotFoundError that names
    the file, its address and the folder to put it in."""
    weights = published_weights(entry)
    path = weights_cache_file(weights)
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        match = re.search(r"-([a-f0-9]+)\.", path.name)
        try:
            torch.hub.download_url_to_file(
                weights.url, str(path), match.group(1) if match else None, progress=progress
            )
        except Exception as err:  # offline, blocked, checksum mismatch
            raise FileNotFoundError(
                f"pretrained: torchvision's weights for {entry.name} ({weights}) are not in "
                f"torch.hub's cache and could not be downloaded ({type(err).__name__}: {err}); "
                f"put {path.name} from {weights.url} in {path.parent}"
            ) from None
    return load_torch(path, "pretrained")


def load_pretrained(entry: ModelEntry, args: dict[str, Any]) -> nn.Module:
    """Build ``entry`` with torchvision's published ImageNet weights."""
    if args.get("in_chans", 3) != 3:
        raise ValueError(f"in_chans: expected 3 with pretrained=True, got {args['in_chans']!r}")
    state_dict = fetch_published_state_dict(entry)
    num_classes = args.pop("num_classes", 1000)
    model = entry.builder(**args, num_classes=1000)
    load_torchvision_state_dict(model, state_dict)
    if num_classes != 1000:
        model.reset_classifier(num_classes)
    return model
