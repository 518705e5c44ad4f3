"""Run folders: atomic writes, environment records, and per-epoch history.

A run folder holds ``config.json`` (configuration, seed, versions, hardware),
``metrics.json``, ``history.csv`` and checkpoints. Every file is written to a temporary name in
the same folder and renamed into place, so an interrupted run never leaves a half-written
file and loses nothing already saved.
"""

from __future__ import annotations

import csv
import io
import json
import os
import platform
import sys
import tempfile
from collections.abc import Mapping
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import numpy as np
import torch

from ._version import __version__


def atomic_write_bytes(path: str | os.PathLike, data: bytes) -> Path:
    """Write ``data`` to ``path`` through a temporary file and an atomic rename."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def _jsonable(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, (np.integer, np.floating, np.bool_)):
        return value.item()
    if isinstance(value, Path):
        return str(value)
    return value


def write_json(path: str | os.PathLike, data: Mapping[str, Any]) -> Path:
    """Atomically write ``data`` (numpy values converted) as indented JSON."""
    text = json.dumps(_jsonable(data), indent=2, sort_keys=False) + "\n"
    return atomic_write_bytes(path, text.encode())


def save_torch(path: str | os.PathLike, obj: Any) -> Path:
    """Atomically save a checkpoint with ``torch.save``."""
    buffer = io.BytesIO()
    torch.save(obj, buffer)
    return atomic_write_bytes(path, buffer.getvalue())


def load_torch(
    path: str | os.PathLike, argument: str = "file", what: str = "a file saved by torch.save"
) -> dict[str, Any]:
    """A ``torch.save``d dict read with ``weights_only=True``: tensors, numbers, strings,
    lists and dicts only, so a crafted file runs no code. One ValueError naming
    ``argument`` when the file is unreadable, refused by the safe unpickler or not a dict."""
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except FileNotFoundError:
        raise FileNotFoundError(f"{argument}: no file at {path}") from None
    except Exception as err:  # refused global, truncated zip, not a torch file, ...
        text = str(err).strip()
        reason = text.splitlines()[0] if text else type(err).__name__
        raise ValueError(
            f"{argument}: expected {what} holding only tensors, numbers, "
            f"strings, lists and dicts (read with weights_only=True), got {str(path)!r}, "
            f"which could not be read safely ({reason})"
        ) from None
    if not isinstance(state, Mapping):
        raise ValueError(
            f"{argument}: expected a file holding a dict, got {str(path)!r} "
            f"(holding a {type(state).__name__})"
        )
    return dict(state)


def write_csv(path: str | os.PathLike, rows: list[Mapping[str, Any]]) -> Path:
    """Atomically write rows (dicts with the same keys) as CSV."""
    out = io.StringIO()
    if rows:
        writer = csv.DictWriter(out, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(_jsonable(r) for r in rows)
    return atomic_write_bytes(path, out.getvalue().encode())


def cpu_name() -> str:
    """The CPU model as the OS reports it (``/proc/cpuinfo`` on Linux)."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def environment_info() -> dict[str, Any]:
    """Versions, hardware and the time (UTC), recorded beside every result."""
    info: dict[str, Any] = {
        "utc": datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "lightnets": __version__,
        "python": sys.version.split()[0],
        "torch": torch.__version__,
        "numpy": np.__version__,
        "platform": platform.platform(),
        "cpu": cpu_name(),
        "cpu_count": os.cpu_count(),
        "torch_threads": torch.get_num_threads(),
        "cuda": torch.cuda.get_device_name(0) if torch.cuda.is_available() else None,
    }
    if hasattr(os, "getloadavg"):
        info["load_average_1min"] = round(os.getloadavg()[0], 2)
    return info
