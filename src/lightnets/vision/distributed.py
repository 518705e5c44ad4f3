"""Multi-process data parallelism under PyTorch's launcher (``torchrun``).

``torchrun`` starts one process per device and tells each its place through environment
variables: ``RANK`` (global index), ``LOCAL_RANK`` (index on its node), ``WORLD_SIZE``,
``MASTER_ADDR`` and ``MASTER_PORT``. :func:`session` reads them, joins the process group
(NCCL on CUDA, gloo on the CPU) and leaves it at the end; without them it is a one-process
session and nothing is initialised. Sessions nest: an inner session reuses the group.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import torch
import torch.distributed as dist
from torch import nn

from .._checks import bad_value
from ..devices import resolve_device


@dataclass(frozen=True)
class Context:
    """Where this process stands: its rank, the number of processes and its device."""

    rank: int = 0
    world_size: int = 1
    local_rank: int = 0
    device: torch.device = field(default_factory=lambda: torch.device("cpu"))

    @property
    def distributed(self) -> bool:
        return self.world_size > 1

    @property
    def is_main(self) -> bool:
        """Only the main process (global rank 0) writes files and prints results."""
        return self.rank == 0


def _env_int(name: str, default: int) -> int:
    value = os.environ.get(name)
    if value is None:
        return default
    if not value.isdigit():
        raise bad_value(name, "a non-negative integer (set by torchrun)", value)
    return int(value)


def current(device: str | torch.device | None = None) -> Context:
    """The context of this process: from the initialised process group, else one process."""
    if dist.is_available() and dist.is_initialized():
        local = _env_int("LOCAL_RANK", 0)
        return Context(dist.get_rank(), dist.get_world_size(), local, resolve_device(device, local))
    return Context(device=resolve_device(device))


@contextlib.contextmanager
def session(device: str | torch.device | None = None) -> Iterator[Context]:
    """Join the process group torchrun describes (when ``WORLD_SIZE`` > 1) for the block."""
    world = _env_int("WORLD_SIZE", 1)
    if world == 1 or (dist.is_available() and dist.is_initialized()):
        yield current(device)
        return
    if not dist.is_available():  # pragma: no cover - every supported torch build has it
        raise bad_value("WORLD_SIZE", "1 (this torch build has no torch.distributed)", world)
    local = _env_int("LOCAL_RANK", 0)
    resolved = resolve_device(device, local)
    if resolved.type == "cuda":
        torch.cuda.set_device(resolved)
    dist.init_process_group("nccl" if resolved.type == "cuda" else "gloo")
    try:
        yield Context(dist.get_rank(), dist.get_world_size(), local, resolved)
    finally:
        dist.destroy_process_group()


def barrier(ctx: Context) -> None:
    """Wait for every process (a no-op in one process)."""
    if ctx.distributed:
        dist.barrier()


def sum_across(values: list[float], ctx: Context) -> list[float]:
    """Element-wise sum of ``values`` over all processes."""
    if not ctx.distributed:
        return list(values)
    device = ctx.device if ctx.device.type == "cuda" else torch.device("cpu")
    tensor = torch.tensor(values, dtype=torch.float64, device=device)
    dist.all_reduce(tensor)
    return tensor.tolist()


def gather(obj: Any, ctx: Context) -> list[Any]:
    """Every process's ``obj``, in rank order (``[obj]`` in one process)."""
    if not ctx.distributed:
        return [obj]
    out: list[Any] = [None] * ctx.world_size
    dist.all_gather_object(out, obj)
    return out


def broadcast(obj: Any, ctx: Context) -> Any:
    """Rank 0's ``obj`` on every process."""
    if not ctx.distributed:
        return obj
    box = [obj if ctx.is_main else None]
    dist.broadcast_object_list(box, src=0)
    return box[0]


def average_buffers(module: nn.Module, ctx: Context) -> None:
    """Average floating-point buffers (BatchNorm running statistics) over the processes.

    Each process updates the running statistics with its own part of the global batch; their
    mean is what one process would have computed from the whole batch for the running mean
    (and close to it for the variance), so evaluation and checkpoints use it.
    """
    if not ctx.distributed:
        return
    with torch.no_grad():
        for buffer in module.buffers():
            if buffer.is_floating_point():
                dist.all_reduce(buffer)
                buffer.div_(ctx.world_size)
