"""What the benchmark scripts that keep one JSON record per run share: writing a record, and
the spread they print."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np

from lightnets.runs import atomic_write_bytes


def write_json(path: Path, data: dict[str, Any]) -> None:
    """``data`` as indented JSON, numpy arrays and scalars as plain values, written atomically."""
    text = json.dumps(data, indent=2, default=lambda v: np.asarray(v).tolist()) + "\n"
    atomic_write_bytes(path, text.encode())


def sample_sd(values: Any) -> float:
    """The sample standard deviation (ddof=1, as the run summaries), 0 for one value."""
    return float(np.std(values, ddof=1)) if len(values) > 1 else 0.0
