"""Which device a computation runs on: one rule for every command and library call."""

from __future__ import annotations

import torch

from ._checks import bad_value


def resolve_device(device: str | torch.device | None, local_rank: int = 0) -> torch.device:
    """``None``: CUDA when available, else the CPU. ``cuda`` without an index means the
    process's own GPU, ``cuda:LOCAL_RANK`` (under torchrun; 0 otherwise). A device that does
    not exist here is one error naming the devices that do."""
    if device is None:
        device = "cuda" if torch.cuda.is_available() else "cpu"
    try:
        resolved = torch.device(device)
    except (RuntimeError, TypeError):
        raise bad_value("device", "cpu, cuda or cuda:N", device) from None
    if resolved.type == "cuda":
        if not torch.cuda.is_available():
            raise bad_value("device", "cpu (CUDA is not available here)", str(device))
        if resolved.index is None:
            resolved = torch.device("cuda", local_rank)
        elif resolved.index >= torch.cuda.device_count():
            have = ", ".join(f"cuda:{i}" for i in range(torch.cuda.device_count()))
            raise bad_value("device", f"cpu or one of {have}", str(device))
    elif resolved.type != "cpu":
        raise bad_value("device", "cpu, cuda or cuda:N", str(device))
    return resolved
