"""Numeric precision of training and inference: one rule for every command and library call.

``"fp32"``: float32 throughout. ``"bf16"``: the forward pass under ``torch.autocast`` with
bfloat16 (CPU or CUDA); ``"fp16"``: the same with float16, CUDA only, with a gradient scaler.
In both mixed modes the weights, their gradients and the optimiser state stay float32 (autocast
casts a copy of each weight for the convolutions and matrix products) and the loss is computed
in float32 from float32 logits. ``"auto"``: bf16 where the hardware runs it natively (a CPU with
``avx512_bf16`` or ``amx_bf16``; a CUDA device of compute capability 8.0 or more), else fp32.

Autocast's weight-cast cache is switched off (``cache_enabled=False``). The cache keeps the
low-precision copy of a weight until the *outermost* autocast region is left; one region
around several optimiser steps (say, ``with torch.autocast(...)`` around a whole training run)
then runs every forward pass on the copies made at the first step, while the optimiser moves
the float32 weights: the loss stays at its initial value and the weights drift blindly. On
Indian Pines at 10 % (HybridSN, seed 0) that froze the loss at 2.82 for 12 epochs and ended
in one class everywhere (OA 23.95 %). With the cache off, every forward pass casts the current
weights, also inside a caller's autocast region; the fp32 mode switches autocast off for its
own forward passes, so a caller's region does not change it either.
"""

from __future__ import annotations

import contextlib
import functools
import warnings
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ._checks import bad_value, check_choice

if TYPE_CHECKING:
    import torch

# torch is imported where it is used, so that the command line can list the choices cheaply
PRECISIONS = ("fp32", "bf16", "fp16", "auto")
NATIVE_BF16_CPU_FLAGS = ("avx512_bf16", "amx_bf16")


@functools.lru_cache(maxsize=1)
def cpu_flags() -> frozenset[str]:
    """The CPU's feature flags as Linux lists them in /proc/cpuinfo (empty elsewhere)."""
    try:
        text = Path("/proc/cpuinfo").read_text()
    except OSError:
        return frozenset()
    for line in text.splitlines():
        if line.startswith(("flags", "Features")):
            return frozenset(line.partition(":")[2].split())
    return frozenset()


def native_bf16(device: torch.device) -> bool:
    """Whether ``device`` computes bfloat16 natively (not emulated in float32 units)."""
    if device.type == "cuda":
        import torch

        return torch.cuda.get_device_capability(device) >= (8, 0)
    return any(flag in cpu_flags() for flag in NATIVE_BF16_CPU_FLAGS)


def resolve_precision(precision: str | None, device: torch.device) -> str:
    """``precision`` checked against ``device`` and ``"auto"``/None made concrete.

    ``fp16`` on a CPU is refused (use bf16); ``bf16`` where it is not native runs, with a
    warning that it is emulated and slower than fp32."""
    precision = check_choice("precision", "fp32" if precision is None else precision, PRECISIONS)
    if precision == "auto":
        return "bf16" if native_bf16(device) else "fp32"
    if precision == "fp16" and device.type != "cuda":
        raise bad_value(
            "precision", f"fp32, bf16 or auto on {device.type} (fp16 autocast is for CUDA)", "fp16"
        )
    if precision == "bf16" and not native_bf16(device):
        import torch

        where = (
            f"this CPU lacks {' and '.join(NATIVE_BF16_CPU_FLAGS)}"
            if device.type == "cpu"
            else f"{torch.cuda.get_device_name(device)} is older than compute capability 8.0"
        )
        warnings.warn(
            f"precision 'bf16': {where}, so bfloat16 is emulated and usually slower than fp32",
            RuntimeWarning,
            stacklevel=2,
        )
    return precision


def autocast(precision: str, device: torch.device) -> contextlib.AbstractContextManager[Any]:
    """The region a forward pass runs in: autocast to bf16/fp16 without the weight-cast cache,
    or autocast switched off for fp32 (whatever region the caller is in)."""
    import torch

    if precision in ("bf16", "fp16"):
        dtype = torch.bfloat16 if precision == "bf16" else torch.float16
        return torch.autocast(device.type, dtype=dtype, cache_enabled=False)
    return torch.autocast(device.type, enabled=False)


def grad_scaler(precision: str, device: torch.device) -> torch.amp.GradScaler | None:
    """A gradient scaler for fp16 (its small exponent range underflows gradients), else None."""
    import torch

    return torch.amp.GradScaler(device.type) if precision == "fp16" else None
