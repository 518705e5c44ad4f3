"""Label maps for GIS tools: GeoTIFF through rasterio (the ``geotiff`` extra).

A map is a tiled, deflate-compressed single-band GeoTIFF: labels 1..K, 0 = no data, uint8 (or
uint16 beyond 255 classes), a colour table with the colours of the PNG maps, the class names in
the metadata (``class_1 = Alfalfa``, …) and the input's CRS and geotransform where it had them
(without them a GIS places the map at 0, 0, so a warning says so). It is written window by
window, so a streamed map never holds the scene in memory, into a temporary file renamed to
its name once complete.
"""

from __future__ import annotations

import os
import tempfile
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from .readers import require

BLOCK = 256  # GeoTIFF tile side (a multiple of 16, as the format requires)


class _GeoTiff:
    """A single-band GeoTIFF being written window by window into a temporary file beside
    ``path``, renamed to it once complete (use ``with``)."""

    def __init__(
        self,
        path: str | os.PathLike,
        height: int,
        width: int,
        dtype: str,
        *,
        nodata: float | None,
        crs: Any = None,
        transform: Any = None,
    ) -> None:
        rasterio = require("rasterio", "geotiff")
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        if crs is None:
            warnings.warn(
                f"{self.path.name}: written without a CRS or geotransform (the input has none); "
                "a GIS will place it at 0, 0",
                RuntimeWarning,
                stacklevel=3,
            )
        self.dtype = dtype
        fd, tmp = tempfile.mkstemp(dir=self.path.parent, prefix=f".{self.path.name}.",
                                   suffix=".tmp")
        os.close(fd)
        self.tmp = Path(tmp)
        profile: dict[str, Any] = {
            "driver": "GTiff",
            "height": height,
            "width": width,
            "count": 1,
            "dtype": dtype,
            "nodata": nodata,
            "tiled": True,
            "blockxsize": BLOCK,
            "blockysize": BLOCK,
            "compress": "deflate",
        }
        if crs is not None:
            profile.update(crs=crs, transform=transform)
        try:
            self.dataset = rasterio.open(self.tmp, "w", **profile)
        except BaseException:
            self.tmp.unlink(missing_ok=True)
            raise

    def write(self, tile: Any, values: np.ndarray) -> None:
        """Values of the window ``tile`` (``r0, r1, c0, c1``)."""
        from rasterio.windows import Window

        window = Window(tile.c0, tile.r0, tile.c1 - tile.c0, tile.r1 - tile.r0)
        self.dataset.write(np.asarray(values).astype(self.dtype), 1, window=window)

    def __enter__(self) -> _GeoTiff:
        return self

    def __exit__(self, exc_type: object, *exc: object) -> None:
        try:
            self.dataset.close()
        except BaseException:
            self.tmp.unlink(missing_ok=True)
            raise
        if exc_type is None:
            os.replace(self.tmp, self.path)
        else:
            self.tmp.unlink(missing_ok=True)


class GeoTiffLabels(_GeoTiff):
    """A label map being written into the GeoTIFF ``path``: labels 1..K, nodata 0, a colour
    table and the class names (use ``with``)."""

    def __init__(
        self,
        path: str | os.PathLike,
        height: int,
        width: int,
        class_names: Sequence[str],
        *,
        crs: Any = None,
        transform: Any = None,
    ) -> None:
        from .maps import class_colors

        k = len(class_names)
        dtype = "uint8" if k <= 255 else "uint16"
        super().__init__(path, height, width, dtype, nodata=0, crs=crs, transform=transform)
        colours = (np.asarray(class_colors(k)) * 255).round().astype(int)
        if dtype == "uint8":  # GeoTIFF colour tables are for 8- and 16-bit bands
            self.dataset.write_colormap(1, {i: (*map(int, c), 255) for i, c in enumerate(colours)})
        self.dataset.update_tags(
            classes=str(k), **{f"class_{i}": name for i, name in enumerate(class_names, 1)}
        )
        self.dataset.set_band_description(1, "class (0 = no data)")


class GeoTiffConfidence(_GeoTiff):
    """Each pixel's largest class probability (float32, 0..1) as a GeoTIFF beside the map,
    with the same georeferencing (use ``with``)."""

    def __init__(
        self,
        path: str | os.PathLike,
        height: int,
        width: int,
        *,
        crs: Any = None,
        transform: Any = None,
    ) -> None:
        super().__init__(path, height, width, "float32", nodata=None, crs=crs,
                         transform=transform)
        self.dataset.set_band_description(1, "largest class probability")


def write_geotiff(
    path: str | os.PathLike,
    labels: np.ndarray,
    class_names: Sequence[str] | None = None,
    *,
    crs: Any = None,
    transform: Any = None,
) -> Path:
    """Write an H×W label map (1..K, 0 = no data) as a GeoTIFF in one window."""
    from .streaming import Tile

    labels = np.asarray(labels)
    if class_names is None:
        class_names = [f"class {i}" for i in range(1, int(labels.max(initial=0)) + 1)]
    height, width = labels.shape
    with GeoTiffLabels(path, height, width, class_names, crs=crs, transform=transform) as out:
        out.write(Tile(0, height, 0, width), labels)
    return Path(path)
