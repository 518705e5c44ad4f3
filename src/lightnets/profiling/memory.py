"""Activation memory and the element-wise work that MACs leave out, seen op by op.

A dispatch mode watches every ATen op of one forward pass. It adds up the bytes of each new
tensor (views and in-place results share storage and are skipped) and follows how many bytes
are alive at once through weak references to the storages, which die exactly when the eager
forward frees them. It also tallies, per category, the element operations that some counters
add to the multiply-adds (batch norm, biases, pooling, activations and other element-wise ops).
"""

from __future__ import annotations

from typing import Any

import torch
from torch.multiprocessing.reductions import StorageWeakRef
from torch.utils._python_dispatch import TorchDispatchMode

# Element-wise work by category, one unit per element (the unit of fvcore-/thop-style tallies).
NORM = "norm"
BIAS = "bias"
POOL = "pooling"
ELEMENTWISE = "elementwise"
CATEGORIES = (NORM, BIAS, POOL, ELEMENTWISE)

_POOL_OPS = {
    "avg_pool1d", "avg_pool2d", "avg_pool3d", "max_pool1d", "max_pool2d", "max_pool3d",
    "max_pool2d_with_indices", "max_pool3d_with_indices", "adaptive_avg_pool1d",
    "adaptive_avg_pool2d", "adaptive_avg_pool3d", "_adaptive_avg_pool2d",
    "_adaptive_avg_pool3d", "adaptive_max_pool2d", "adaptive_max_pool3d", "mean", "amax",
    "amin", "sum",
}
_ELEMENTWISE_OPS = {
    "add", "sub", "mul", "div", "relu", "relu6", "hardtanh", "hardswish", "hardsigmoid",
    "sigmoid", "tanh", "silu", "gelu", "elu", "leaky_relu", "clamp", "clamp_min",
    "clamp_max", "threshold", "exp", "softmax", "_softmax", "log_softmax", "_log_softmax",
    "maximum", "minimum", "where",
}


def _category(name: str) -> str | None:
    base = name.removesuffix("_")  # in-place variants (relu_, add_) count as the op
    if "batch_norm" in name or "layer_norm" in name or "group_norm" in name:
        return NORM
    if base in _POOL_OPS:
        return POOL
    if base in _ELEMENTWISE_OPS:
        return ELEMENTWISE
    return None


def _first_tensor(values: Any) -> torch.Tensor | None:
    for value in values:
        if isinstance(value, torch.Tensor):
            return value
    return None


class ActivationTracker(TorchDispatchMode):
    """Tally new-tensor bytes, peak live bytes, ATen ops and element-wise work run inside."""

    def __init__(self, *inputs: torch.Tensor) -> None:
        super().__init__()
        self.created_bytes = 0
        self.ops = 0
        self.peak_bytes = 0
        self.elementwise = dict.fromkeys(CATEGORIES, 0)
        self._live: list[tuple[StorageWeakRef, int]] = []
        for tensor in inputs:
            self._track(tensor)
        self._update_peak()

    def _track(self, tensor: torch.Tensor) -> int:
        nbytes = tensor.numel() * tensor.element_size()
        self._live.append((StorageWeakRef(tensor.untyped_storage()), nbytes))
        return nbytes

    def _update_peak(self) -> None:
        self._live = [(ref, n) for ref, n in self._live if not ref.expired()]
        self.peak_bytes = max(self.peak_bytes, sum(n for _, n in self._live))

    def __torch_dispatch__(
        self, func: Any, types: Any, args: tuple = (), kwargs: dict | None = None
    ) -> Any:
        out = func(*args, **(kwargs or {}))
        self.ops += 1
        outputs = out if isinstance(out, (tuple, list)) else (out,)
        for spec, value in zip(func._schema.returns, outputs, strict=False):
            if isinstance(value, torch.Tensor) and spec.alias_info is None:
                self.created_bytes += self._track(value)
        self._update_peak()
        self._tally(func, args, outputs)
        return out

    def _tally(self, func: Any, args: tuple, outputs: tuple) -> None:
        name = func.overloadpacket.__name__
        first_out = _first_tensor(outputs)
        has_bias = name == "addmm" or (name == "convolution" and args[2] is not None)
        if has_bias and first_out is not None:
            self.elementwise[BIAS] += first_out.numel()
        category = _category(name)
        if category is None or first_out is None:
            return
        if category == POOL:
            first_in = _first_tensor(args)
            self.elementwise[POOL] += first_in.numel() if first_in is not None else 0
        else:
            self.elementwise[category] += first_out.numel()
