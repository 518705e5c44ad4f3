"""Parameters and multiply-adds, per network and per layer, counted on the ``meta`` device.

The engine is :class:`torch.utils.flop_counter.FlopCounterMode`: it sees every convolution and
matrix product at the ATen level (so functional calls count too) and reports FLOPs as
2 × multiply-accumulates, which makes ``MACs = FLOPs / 2`` exactly the papers' convention:
convolution and linear multiply-adds only, no biases, batch norm, activations or pooling.

Counting runs on a ``meta`` copy of the model: shapes only, no memory, no arithmetic, so a
ResNet-50 at batch 64 costs the same fraction of a second as at batch 1.
"""

from __future__ import annotations

import copy
import itertools
from collections.abc import Sequence
from dataclasses import dataclass, field

import torch
from torch import Tensor, nn
from torch.utils.flop_counter import FlopCounterMode

from .memory import ActivationTracker
from .resolve import check_batch_size, input_shape_of

CONVENTION = (
    "MACs: multiply-accumulates of convolutions and linear layers (matrix products) per sample, "
    "the papers' convention; FLOPs = 2 × MACs. Biases, batch norm, activations, pooling and "
    "other element-wise operations are not counted."
)


@dataclass(frozen=True)
class LayerStats:
    """One row of the per-layer table.

    ``macs`` are the module's *own* multiply-adds per sample (those of its children are in
    their rows) and ``params`` its own parameters, so both columns add up to the totals.
    """

    name: str
    type: str
    output_shape: tuple[int, ...] | None
    params: int
    macs: int
    calls: int


@dataclass(frozen=True)
class Counts:
    """What one counted forward pass yields (MACs and element-wise work per sample; bytes and
    ATen op count for the whole batch)."""

    macs: int
    layers: tuple[LayerStats, ...]
    activation_bytes: int
    peak_activation_bytes: int
    ops: int = 0
    elementwise: dict[str, int] = field(default_factory=dict)


def count_parameters(model: nn.Module, *, trainable_only: bool = False) -> int:
    """Parameters of ``model``, each tensor once (``trainable_only``: those with gradients)."""
    return sum(p.numel() for p in model.parameters() if p.requires_grad or not trainable_only)


def meta_copy(model: nn.Module) -> nn.Module:
    """An eval-mode copy of ``model`` on ``meta``, built without copying any weight data."""
    tensors = list(itertools.chain(model.parameters(), model.buffers()))
    if all(t.is_meta for t in tensors):
        memo: dict[int, object] = {}
    else:
        memo = {}
        for t in tensors:
            meta = t.detach().to("meta")
            if isinstance(t, nn.Parameter):
                meta = nn.Parameter(meta, requires_grad=t.requires_grad)
            memo[id(t)] = meta
    clone = copy.deepcopy(model, memo)
    return clone.to("meta").eval()


def _module_macs(counter: FlopCounterMode, root: nn.Module) -> dict[str, int]:
    """Multiply-adds of each module (children included), keyed by its name in ``root``."""
    prefix = type(root).__name__
    out: dict[str, int] = {}
    for key, ops in counter.get_flop_counts().items():
        if key == prefix:
            name = ""
        elif key.startswith(prefix + "."):
            name = key[len(prefix) + 1 :]
        else:
            continue
        out[name] = sum(ops.values()) // 2
    return out


def _layer_rows(
    root: nn.Module,
    totals: dict[str, int],
    shapes: dict[str, tuple[int, ...]],
    calls: dict[str, int],
    batch_size: int,
) -> tuple[LayerStats, ...]:
    rows = []
    for name, module in root.named_modules():
        children = [f"{name}.{c}" if name else c for c, _ in module.named_children()]
        own_macs = totals.get(name, 0) - sum(totals.get(c, 0) for c in children)
        own_params = sum(p.numel() for p in module.parameters(recurse=False))
        called = calls.get(name, 0) > 0
        if (not children and called) or own_params or own_macs:
            rows.append(
                LayerStats(
                    name=name or "(model)",
                    type=type(module).__name__,
                    output_shape=shapes.get(name),
                    params=own_params,
                    macs=own_macs // batch_size,
                    calls=calls.get(name, 0),
                )
            )
    return tuple(rows)


def count(
    model: nn.Module,
    input_shape: Sequence[int],
    batch_size: int = 1,
    *,
    dtype: torch.dtype | None = None,
) -> Counts:
    """Count one forward pass of ``batch_size`` samples of shape ``input_shape`` on ``meta``.

    Output shapes include the batch axis; MACs and element-wise work are per sample; the
    activation bytes are for the whole batch (``dtype`` defaults to the model's).
    """
    clone = meta_copy(model)
    if dtype is None:
        first = next(itertools.chain(clone.parameters(), clone.buffers()), None)
        dtype = first.dtype if first is not None and first.is_floating_point() else torch.float32
    names = {id(m): n for n, m in clone.named_modules()}
    shapes: dict[str, tuple[int, ...]] = {}
    calls: dict[str, int] = {}

    def record(module: nn.Module, _inputs: object, output: object) -> None:
        name = names[id(module)]
        calls[name] = calls.get(name, 0) + 1
        tensor = output if isinstance(output, Tensor) else None
        if isinstance(output, (tuple, list)):
            tensor = next((o for o in output if isinstance(o, Tensor)), None)
        if tensor is not None:
            shapes[name] = tuple(tensor.shape)

    handles = [m.register_forward_hook(record) for m in clone.modules()]
    x = torch.zeros(batch_size, *input_shape, device="meta", dtype=dtype)
    try:
        with torch.no_grad(), FlopCounterMode(display=False) as counter:
            tracker = ActivationTracker(x)
            with tracker:
                clone(x)
    finally:
        for handle in handles:
            handle.remove()
    total = counter.get_total_flops() // 2
    rows = _layer_rows(clone, _module_macs(counter, clone), shapes, calls, batch_size)
    return Counts(
        macs=total // batch_size,
        layers=rows,
        activation_bytes=tracker.created_bytes,
        peak_activation_bytes=tracker.peak_bytes,
        ops=tracker.ops,
        elementwise={k: v // batch_size for k, v in tracker.elementwise.items()},
    )


def count_macs(
    model: nn.Module, input_size: int | Sequence[int] | None = None, batch_size: int = 1
) -> int:
    """Multiply-adds per sample (papers' convention) of ``model`` on ``input_size``.

    ``input_size`` as in :func:`lightnets.profile`: ``None`` (the model's ``input_shape``), an
    int ``s`` (``C×s×s``), ``(H, W)`` or a full sample shape such as ``(512, 14, 14)``.
    """
    shape = input_shape_of(model, input_size)
    batch_size = check_batch_size(batch_size)
    return count(model, shape, batch_size).macs
