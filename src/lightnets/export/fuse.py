"""Deployment rewrites that keep a network's outputs: conv–BN folding and channels-last weights.

Every BatchNorm2d in the zoo sits right after a Conv2d inside an ``nn.Sequential``: the
``bn`` child of :class:`~lightnets.layers.ConvNormAct`, which all families (MobileNet,
ShuffleNet, ResNet blocks and shortcuts) build their convolutions from. In eval mode such a BN
is an affine map per channel, so it folds into the conv's weight and bias and one layer less
runs at inference.
"""

from __future__ import annotations

import copy
import itertools

import torch
from torch import nn


def _fold(conv: nn.Conv2d, bn: nn.BatchNorm2d) -> None:
    """Fold ``bn`` (its running statistics) into ``conv`` in place, adding a bias if needed."""
    with torch.no_grad():
        weight = conv.weight.double()
        scale = (bn.running_var.double() + bn.eps).rsqrt()
        if bn.weight is not None:
            scale = scale * bn.weight.double()
        bias = -bn.running_mean.double() * scale
        if conv.bias is not None:
            bias = bias + conv.bias.double() * scale
        if bn.bias is not None:
            bias = bias + bn.bias.double()
        shape = (-1,) + (1,) * (weight.ndim - 1)
        conv.weight.copy_((weight * scale.reshape(shape)).to(conv.weight.dtype))
        conv.bias = nn.Parameter(bias.to(dtype=conv.weight.dtype, device=conv.weight.device))


def _foldable(conv: nn.Module, bn: nn.Module) -> bool:
    return (
        isinstance(conv, nn.Conv2d)
        and isinstance(bn, nn.BatchNorm2d)
        and bn.running_mean is not None
        and bn.running_var is not None
        and conv.out_channels == bn.num_features
    )


def fuse_conv_bn(model: nn.Module) -> nn.Module:
    """An eval-mode copy of ``model`` with each Conv2d→BatchNorm2d pair folded into the conv.

    Pairs are consecutive children of an ``nn.Sequential`` (``ConvNormAct``'s ``conv`` and
    ``bn``); each folded BN is replaced by ``nn.Identity`` so module names stay aligned. The
    copy's outputs equal the eval-mode original up to float rounding (the fold is computed in
    float64). ``model`` itself is left untouched.
    """
    if not isinstance(model, nn.Module):
        from .._checks import bad_value

        raise bad_value("model", "a torch.nn.Module", type(model).__name__)
    fused = copy.deepcopy(model).eval()
    for module in fused.modules():
        if not isinstance(module, nn.Sequential):
            continue
        children = list(module.named_children())
        for (_, conv), (bn_name, bn) in itertools.pairwise(children):
            if _foldable(conv, bn):
                _fold(conv, bn)
                setattr(module, bn_name, nn.Identity())
    return fused


def count_batchnorms(model: nn.Module) -> int:
    """Number of BatchNorm layers left in ``model`` (0 after :func:`fuse_conv_bn` on the zoo)."""
    return sum(isinstance(m, nn.modules.batchnorm._BatchNorm) for m in model.modules())


def to_channels_last(model: nn.Module) -> nn.Module:
    """Store every 4-D parameter and buffer of ``model`` channels-last (NHWC), in place.

    Like ``model.to(memory_format=torch.channels_last)``, but leaves 5-D tensors (HybridSN's
    Conv3d weights) alone instead of failing on them. Feed inputs converted with
    ``x.to(memory_format=torch.channels_last)`` so convolutions run in NHWC end to end; the
    outputs are those of the NCHW model (same values, another memory layout).
    """
    fmt = torch.channels_last
    with torch.no_grad():
        for tensor in list(model.parameters()) + list(model.buffers()):
            if tensor.ndim == 4:
                tensor.data = tensor.data.contiguous(memory_format=fmt)
    return model
