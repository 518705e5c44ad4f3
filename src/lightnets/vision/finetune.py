"""Where a training starts: fresh weights, torchvision's ImageNet weights, or a weights file.

:func:`plan_start` decides, before the network is built, what the initial weights imply:
the input channels they expect, the normalisation and image size they were trained with
(the preprocessing of the fine-tuning run is theirs, and is recorded), and the number of
classes of their head. :func:`load_start` then loads them into the network and replaces the
classifier where the task's classes differ:

* ``pretrained``: torchvision's published ImageNet weights of the network's torchvision twin
  (through torch.hub's cache); preprocessing from torchvision's metadata of those weights
  (resize, centre crop, ImageNet mean and standard deviation); grey images are repeated on
  the three colour channels.
* ``weights=FILE``: a lightnets training checkpoint (its own normalisation, image size,
  channels and class names come with it) or a plain state dict (lightnets' parameter names,
  or torchvision's, matched by position). A plain 3-channel state dict is taken as ImageNet
  weights (ImageNet mean and standard deviation). Files are read with ``weights_only=True``:
  a crafted file runs nothing and is refused with one error.

``head``: ``"auto"`` keeps the file's classifier only when it was trained on the same classes
(the same class names for a lightnets checkpoint, the same count for a plain state dict),
``"new"`` always starts a fresh one, ``"keep"`` always loads it (an error naming the layer when
it does not fit). ``freeze_backbone`` trains the classifier alone: every other parameter is
fixed and the backbone's batch-norm layers keep their statistics (they run in eval mode).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import torch
from torch import nn
from torch.nn.modules.batchnorm import _BatchNorm

from .._checks import bad_value
from ..models.registry import pretrained_entry
from ..models.torchvision_compat import (
    fetch_published_state_dict,
    map_torchvision_keys,
    published_weights,
)
from ..runs import load_torch
from .transforms import STATS, Normalization

HEADS = ("auto", "new", "keep")


@dataclass
class Start:
    """What the initial weights imply for the network and the preprocessing."""

    source: str  # "scratch", "pretrained:<torchvision weights>" or "weights:<file>"
    in_chans: int
    normalization: Normalization
    img_size: int | None = None  # the weights' image size, when they have one
    resize: int | None = None  # evaluation resize of the short side (photographs)
    num_classes: int | None = None  # the classes of the file's head
    classes: list[str] | None = None  # their names (lightnets checkpoints)
    state_dict: dict[str, torch.Tensor] | None = field(default=None, repr=False)
    model_name: str | None = None  # the network a lightnets checkpoint was trained as

    def record(self) -> dict[str, Any]:
        """What config.json says about the start."""
        return {
            "source": self.source,
            "in_chans": self.in_chans,
            "normalization": {
                "mean": list(self.normalization.mean),
                "std": list(self.normalization.std),
                "source": self.normalization.source,
            },
            "img_size": self.img_size,
            "eval_resize": self.resize,
            "file_classes": self.num_classes,
        }


def _classifier_rows(state_dict: Mapping[str, Any]) -> int | None:
    """Output rows of the last 2-D tensor: the classifier of every zoo network and its
    torchvision twin (the classifier is their last layer)."""
    matrices = [t for t in state_dict.values() if isinstance(t, torch.Tensor) and t.ndim == 2]
    return int(matrices[-1].shape[0]) if matrices else None


def _classifier_key(state_dict: Mapping[str, Any]) -> str:
    """The name of the classifier's weight in ``state_dict`` (its last 2-D tensor)."""
    keys = [k for k, t in state_dict.items() if isinstance(t, torch.Tensor) and t.ndim == 2]
    return keys[-1] if keys else "(none)"


def _input_channels(state_dict: Mapping[str, Any]) -> int | None:
    """Input channels of the first convolution (the first 4-D tensor)."""
    for t in state_dict.values():
        if isinstance(t, torch.Tensor) and t.ndim == 4:
            return int(t.shape[1])
    return None


def _published_start(model: str, progress: bool) -> Start:
    entry = pretrained_entry(model)
    weights = published_weights(entry)
    state = fetch_published_state_dict(entry, progress=progress)
    preprocess = weights.transforms()
    return Start(
        source=f"pretrained:{weights}",
        in_chans=3,
        normalization=Normalization(
            tuple(preprocess.mean), tuple(preprocess.std), f"{weights} (ImageNet)"
        ),
        img_size=int(preprocess.crop_size[0]),
        resize=int(preprocess.resize_size[0]),
        num_classes=_classifier_rows(state),
        state_dict=state,
    )


def _file_start(path: str, data_norm: Normalization, data_chans: int) -> Start:
    state = load_torch(path, "weights")
    if "model" in state and "model_name" in state:  # a lightnets training checkpoint
        weights = state["model"]
        if not isinstance(weights, Mapping):
            raise bad_value("weights", "a checkpoint whose 'model' is a state dict", path)
        n = state.get("normalization")
        norm = (
            Normalization(tuple(n["mean"]), tuple(n["std"]), f"{n['source']} (from {path})")
            if isinstance(n, Mapping)
            else data_norm
        )
        classes = state.get("classes")
        return Start(
            source=f"weights:{path}",
            in_chans=int(state.get("in_chans", _input_channels(weights) or data_chans)),
            normalization=norm,
            img_size=state.get("img_size"),
            resize=state.get("eval_resize"),
            num_classes=int(state.get("num_classes") or _classifier_rows(weights) or 0) or None,
            classes=list(classes) if isinstance(classes, list) else None,
            state_dict=dict(weights),
            model_name=str(state["model_name"]),
        )
    tensors = {k: v for k, v in state.items() if isinstance(v, torch.Tensor)}
    if not tensors or len(tensors) != len(state):
        raise bad_value(
            "weights", "a lightnets checkpoint or a state dict (names → tensors)", str(path)
        )
    chans = _input_channels(tensors) or data_chans
    norm = STATS["imagenet"] if chans == 3 else data_norm
    return Start(
        source=f"weights:{path}",
        in_chans=chans,
        normalization=norm,
        num_classes=_classifier_rows(tensors),
        state_dict=tensors,
    )


def plan_start(
    model: str,
    *,
    pretrained: bool,
    weights: str | os.PathLike | None,
    data_normalization: Normalization,
    data_chans: int,
    progress: bool = True,
) -> Start:
    """What the run starts from (see the module docstring); reads the weights once."""
    if pretrained:
        return _published_start(model, progress)
    if weights is not None:
        start = _file_start(str(weights), data_normalization, data_chans)
    else:
        return Start("scratch", data_chans, data_normalization)
    if start.in_chans not in (data_chans, 3) or (start.in_chans == 3 and data_chans not in (1, 3)):
        raise bad_value(
            "weights",
            f"weights for {data_chans}-channel images (or 3-channel ones for grey images)",
            f"{weights} ({start.in_chans} input channels)",
        )
    return start


def first_mismatch(model: nn.Module, state_dict: Mapping[str, torch.Tensor]) -> str | None:
    """The first layer of ``state_dict`` that does not fit ``model`` (by name when the names
    are lightnets', else by position as torchvision's), or None when all fit."""
    ours = list(model.state_dict().items())
    theirs = list(state_dict.items())
    same_names = [k for k, _ in ours] == [k for k, _ in theirs]
    for (k1, t1), (k2, t2) in zip(ours, theirs, strict=False):
        kind1, kind2 = k1.rsplit(".", 1)[-1], k2.rsplit(".", 1)[-1]
        if t1.shape != t2.shape or (not same_names and kind1 != kind2):
            return f"{k1} {tuple(t1.shape)} in the network, {k2} {tuple(t2.shape)} in the file"
    if len(ours) != len(theirs):
        return f"{len(ours)} tensors in the network, {len(theirs)} in the file"
    return None


def load_start(model: nn.Module, start: Start, *, model_name: str) -> None:
    """Load ``start``'s weights into ``model``, built with the file's class count (see
    :func:`head_classes`). A ValueError names the first layer that does not fit when the file
    holds another architecture."""
    if start.state_dict is None:
        return
    where = start.source.split(":", 1)[1]
    mismatch = first_mismatch(model, start.state_dict)
    if start.model_name is not None and start.model_name != model_name:
        raise bad_value(
            "weights",
            f"a checkpoint of {model_name} (first mismatching layer: {mismatch})",
            f"{where} (a checkpoint of {start.model_name})",
        )
    if mismatch is not None:
        raise bad_value(
            "weights", f"weights of {model_name} (first mismatching layer: {mismatch})", where
        )
    sd = start.state_dict
    if list(sd) != list(model.state_dict()):
        sd = map_torchvision_keys(model, sd)
    model.load_state_dict(sd)


def head_classes(start: Start, data_classes: list[str], head: str) -> tuple[int, str]:
    """(outputs to build the network with, so the file loads; what happens to the head):
    ``"loaded"`` or ``"replaced"``."""
    if head not in HEADS:
        raise bad_value("head", "one of " + ", ".join(HEADS), head)
    n = len(data_classes)
    if start.state_dict is None or start.num_classes is None:
        return n, "new"
    same = (
        start.classes == list(data_classes) if start.classes is not None else start.num_classes == n
    )
    if head == "keep" and start.num_classes != n:
        layer = _classifier_key(start.state_dict)
        raise bad_value(
            "head",
            f"'new' or 'auto' (the file's classifier {layer} has {start.num_classes} outputs, "
            f"the data has {n} classes)",
            head,
        )
    keep = head == "keep" or (head == "auto" and same)
    return start.num_classes, "loaded" if keep else "replaced"


def freeze_backbone(model: nn.Module) -> int:
    """Fix every parameter outside ``model.classifier``; returns how many stay trainable."""
    head = {id(p) for p in model.classifier.parameters()}  # type: ignore[union-attr]
    for p in model.parameters():
        p.requires_grad_(id(p) in head)
    return sum(p.numel() for p in model.parameters() if p.requires_grad)


def frozen_batchnorm_to_eval(model: nn.Module) -> None:
    """Put batch-norm layers whose parameters are all fixed in eval mode (after ``train()``)."""
    for m in model.modules():
        params = list(m.parameters(recurse=False))
        if isinstance(m, _BatchNorm) and params and not any(p.requires_grad for p in params):
            m.eval()
