"""Writing label maps for GIS tools (GeoTIFF through rasterio, the ``geotiff`` extra)."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import numpy as np

from .readers import require


def write_geotiff(path: str | os.PathLike, labels: np.ndarray) -> Path:
    """Write an H×W label map as a single-band uint16 GeoTIFF (atomic rename)."""
    rasterio = require("rasterio", "geotiff")
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    os.close(fd)
    try:
        with rasterio.open(
            tmp,
            "w",
            driver="GTiff",
            height=labels.shape[0],
            width=labels.shape[1],
            count=1,
            dtype="uint16",
        ) as dst:
            dst.write(labels.astype(np.uint16), 1)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path
