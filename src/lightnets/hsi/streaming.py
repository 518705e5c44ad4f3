"""Classify a cube of any size tile by tile: memory bounded by the tile, not by the scene.

A *source* hands out windows of an H×W×B cube without reading the rest: a ``.npy`` file
through a memory map, a MATLAB v7.3 (HDF5) ``.mat`` through h5py slices, ENVI through
``spectral``'s memory map (``envi`` extra), GeoTIFF through ``rasterio`` windows (``geotiff``
extra, whose CRS and transform the output map keeps); MATLAB v5 ``.mat`` and ``.npz`` have no
windowed access and are read whole.
Each output tile is read with the margin the network's window needs (``window // 2`` on each
side), reduced by the fitted spectral transform, zero-padded where the margin leaves the scene
(as the in-memory path pads the whole reduced scene) and classified; its labels are written
before the next tile is read. Labels equal those of :meth:`HSIClassifier.predict
<lightnets.hsi.estimator.HSIClassifier.predict>` on the whole cube. With ``smooth`` (an odd
window side), each tile is classified with ``smooth // 2`` more pixels on every side, the
majority filter of :mod:`lightnets.hsi.smoothing` runs over that block and the tile is cut out
of it: the map equals ``majority_filter(clf.predict(cube), smooth, K)`` of the whole scene.

Memory stays bounded by the tile on both sides: a ``.npy`` cube is mapped afresh for each
window and unmapped after it (pages of a long-lived map would count towards the process's
resident memory until the whole file had been read), and an ``.npy`` map is written row by row
into its file rather than through a map.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from .._checks import bad_value, check_int
from . import engine
from .readers import CUBE_SUFFIXES, _existing_file, _is_hdf5, check_cube, read_cube, require
from .smoothing import check_size, majority_filter

if TYPE_CHECKING:
    from .estimator import HSIClassifier

# Output pixels per tile side: engine.DEFAULT_MAX_PIXELS (256²), whose HybridSN activations
# (about 3 KB per pixel of tile plus margin) keep a process under 1.5 GB.
DEFAULT_TILE = 256


class CubeSource:
    """An H×W×B cube read window by window (``shape`` known before any pixel is read)."""

    shape: tuple[int, int, int]

    def read(self, rows: slice, cols: slice) -> np.ndarray:
        """The ``rows × cols × B`` window (stored dtype)."""
        raise NotImplementedError

    def close(self) -> None:
        """Release the file (nothing to do for an array)."""

    def __enter__(self) -> CubeSource:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class ArraySource(CubeSource):
    """A cube held as an array, in memory or memory-mapped (then only windows are read)."""

    def __init__(self, cube: np.ndarray) -> None:
        if not isinstance(cube, np.memmap):
            cube = check_cube(cube)
        elif cube.ndim != 3:
            raise bad_value("cube", "an H×W×B array", f"{cube.ndim} dimensions")
        self.cube = cube
        self.shape = tuple(int(n) for n in cube.shape)  # type: ignore[assignment]

    def read(self, rows: slice, cols: slice) -> np.ndarray:
        return np.asarray(self.cube[rows, cols])


class NpySource(CubeSource):
    """A ``.npy`` cube mapped for each window only (resident memory bounded by the window)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        cube = self._map()
        if cube.ndim != 3 or cube.dtype.kind not in "iuf":
            raise bad_value("cube", "a numeric H×W×B array", f"{cube.dtype} {cube.shape}")
        self.shape = tuple(int(n) for n in cube.shape)  # type: ignore[assignment]
        self.dtype = cube.dtype

    def _map(self) -> np.ndarray:
        try:
            return np.load(self.path, mmap_mode="r", allow_pickle=False)
        except (ValueError, OSError) as exc:
            raise bad_value("path", "a readable .npy array", f"{self.path.name} ({exc})") from exc

    def read(self, rows: slice, cols: slice) -> np.ndarray:
        cube = self._map()
        window = np.array(cube[rows, cols])  # a copy: the map is released with ``cube``
        del cube
        return window


class EnviSource(CubeSource):
    """An ENVI image (``.hdr`` with its data file) through ``spectral``'s memory map."""

    def __init__(self, path: Path) -> None:
        spectral = require("spectral", "envi")
        self.image = spectral.envi.open(str(path))
        self.shape = tuple(int(n) for n in self.image.shape)  # type: ignore[assignment]

    def read(self, rows: slice, cols: slice) -> np.ndarray:
        region = self.image.read_subregion((rows.start, rows.stop), (cols.start, cols.stop))
        return np.asarray(region)


class GeoTiffSource(CubeSource):
    """A GeoTIFF read window by window through ``rasterio``; ``crs`` and ``transform`` are
    the file's georeferencing (None when it has none)."""

    def __init__(self, path: Path) -> None:
        rasterio = require("rasterio", "geotiff")
        self.dataset = rasterio.open(path)
        self.shape = (self.dataset.height, self.dataset.width, self.dataset.count)
        self.crs = self.dataset.crs
        self.transform = None if self.crs is None else self.dataset.transform

    def read(self, rows: slice, cols: slice) -> np.ndarray:
        from rasterio.windows import Window

        window = Window(cols.start, rows.start, cols.stop - cols.start, rows.stop - rows.start)
        return self.dataset.read(window=window).transpose(1, 2, 0)

    def close(self) -> None:
        self.dataset.close()


class MatV73Source(CubeSource):
    """A MATLAB v7.3 variable: HDF5 stores MATLAB's H×W×B array reversed, as B×W×H."""

    def __init__(self, path: Path, variable: str | None) -> None:
        h5py = require("h5py", "hsi")
        self.file = h5py.File(path, "r")
        candidates = {
            k: v
            for k, v in self.file.items()
            if isinstance(v, h5py.Dataset) and v.ndim == 3 and v.dtype.kind in "iuf"
        }
        if variable is None and len(candidates) != 1:
            self.close()
            raise bad_value(
                "variable",
                f"one of {', '.join(sorted(candidates)) or '(none)'} in {path.name}",
                None,
            )
        name = variable if variable is not None else next(iter(candidates))
        if name not in candidates:
            self.close()
            raise bad_value("variable", f"one of {', '.join(sorted(candidates))}", name)
        self.data = candidates[name]
        bands, width, height = self.data.shape
        self.shape = (height, width, bands)

    def read(self, rows: slice, cols: slice) -> np.ndarray:
        return np.ascontiguousarray(self.data[:, cols, rows].transpose(2, 1, 0))

    def close(self) -> None:
        self.file.close()


def open_cube(path: str | os.PathLike, *, variable: str | None = None) -> CubeSource:
    """A source for the cube file ``path`` (windowed where the format allows: module docs)."""
    path = _existing_file("path", path, CUBE_SUFFIXES)
    suffix = path.suffix.lower()
    if suffix == ".npy":
        return NpySource(path)
    if suffix == ".mat" and _is_hdf5(path):
        return MatV73Source(path, variable)
    if suffix == ".hdr":
        return EnviSource(path)
    if suffix in (".tif", ".tiff"):
        return GeoTiffSource(path)
    return ArraySource(read_cube(path, variable=variable))


@dataclass(frozen=True)
class Tile:
    """Output rows ``r0:r1`` and columns ``c0:c1`` of one tile."""

    r0: int
    r1: int
    c0: int
    c1: int


def tiles(height: int, width: int, tile: int) -> list[Tile]:
    """Row-major tiles of at most ``tile × tile`` output pixels covering ``height × width``."""
    tile = check_int("tile", tile, minimum=1)
    return [
        Tile(r, min(r + tile, height), c, min(c + tile, width))
        for r in range(0, height, tile)
        for c in range(0, width, tile)
    ]


def _reduced_block(clf: HSIClassifier, source: CubeSource, t: Tile, margin: int) -> np.ndarray:
    """The tile with its margin, transformed, bands first, zeros beyond the scene's edge."""
    height, width, _ = source.shape
    r0, r1 = max(t.r0 - margin, 0), min(t.r1 + margin, height)
    c0, c1 = max(t.c0 - margin, 0), min(t.c1 + margin, width)
    reduced = clf.transform_.transform(source.read(slice(r0, r1), slice(c0, c1)))
    pad = (
        (r0 - (t.r0 - margin), (t.r1 + margin) - r1),
        (c0 - (t.c0 - margin), (t.c1 + margin) - c1),
        (0, 0),
    )
    return np.pad(reduced, pad).transpose(2, 0, 1)


def check_bands(clf: HSIClassifier, source: CubeSource) -> None:
    """The cube has the band count the classifier was fitted on (checked before any pixel is
    read)."""
    clf._check_fitted("predict")
    if source.shape[2] != clf.n_bands_in_:
        raise bad_value(
            "cube", f"a cube with {clf.n_bands_in_} bands (as fitted)", f"{source.shape[2]} bands"
        )


def check_confidence(clf: HSIClassifier) -> None:
    """The classifier can give each pixel a probability (a network; the SVM votes)."""
    if clf.network_ is None:
        raise bad_value(
            "confidence", "a network's model (the SVM votes, it has no probability)", "svm"
        )


def stream_labels(
    clf: HSIClassifier,
    source: CubeSource,
    *,
    tile: int = DEFAULT_TILE,
    only: Sequence[Tile] | None = None,
    confidence: bool = False,
    smooth: int = 1,
) -> Iterator[tuple[Tile, np.ndarray, np.ndarray | None]]:
    """(tile, labels 1..K, confidence) for every tile of ``source`` (or the tiles ``only``),
    one tile in memory at a time. ``smooth``: the side of the majority window each label is
    replaced by (1: none). ``confidence``: the probability the network gives each pixel's
    label (float32, the largest class probability without smoothing; a network only, the SVM
    votes), else None."""
    check_bands(clf, source)
    smooth = check_size(smooth, "smooth")
    if confidence:
        check_confidence(clf)
    network = clf.network_
    margin = 0 if network is None else network.window // 2
    height, width = source.shape[:2]
    r = smooth // 2
    for t in tiles(height, width, tile) if only is None else only:
        # the tile and the pixels its majority windows reach, within the scene
        big = Tile(max(t.r0 - r, 0), min(t.r1 + r, height), max(t.c0 - r, 0), min(t.c1 + r, width))
        block = _reduced_block(clf, source, big, margin)
        proba = None
        if network is None:
            labels = clf.svm_.predict_scene(block)
        else:
            logits = engine.predict_block(
                network, block, device=clf.device, precision=clf.precision
            )
            labels = logits.argmax(0).numpy()
            if confidence:
                proba = logits.softmax(0).numpy()
        labels = labels.astype(np.int64) + 1
        if smooth > 1:
            labels = majority_filter(labels, smooth, len(clf.class_names_))
        inside = (slice(t.r0 - big.r0, t.r1 - big.r0), slice(t.c0 - big.c0, t.c1 - big.c0))
        labels = labels[inside]
        conf = None
        if proba is not None:
            picked = np.take_along_axis(proba[(slice(None), *inside)], labels[None] - 1, axis=0)
            conf = picked[0].astype(np.float32)
        yield t, labels, conf


class ArrayLabels:
    """A label map kept in memory (``labels``: H×W int64, 0 where nothing was written)."""

    def __init__(self, height: int, width: int) -> None:
        self.labels = np.zeros((height, width), dtype=np.int64)

    def write(self, tile: Tile, labels: np.ndarray) -> None:
        self.labels[tile.r0 : tile.r1, tile.c0 : tile.c1] = labels

    def __enter__(self) -> ArrayLabels:
        return self

    def __exit__(self, *exc: object) -> None:
        pass


class NpyLabels:
    """A map written into the ``.npy`` file ``path`` row by row (``dtype`` int64 for labels,
    as :meth:`HSIClassifier.predict` returns; float32 for confidence); the file gets its name
    only once complete (use ``with``: a temporary file is renamed on success, removed on
    failure)."""

    def __init__(
        self, path: str | os.PathLike, height: int, width: int, dtype: Any = np.int64
    ) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.tmp = self.path.with_name(f".{self.path.name}.tmp")
        self.dtype = np.dtype(dtype)
        self.width = width
        self.file = open(self.tmp, "wb")  # noqa: SIM115 - closed in __exit__
        try:
            header = {
                "descr": np.lib.format.dtype_to_descr(self.dtype),
                "fortran_order": False,
                "shape": (height, width),
            }
            np.lib.format.write_array_header_1_0(self.file, header)
            self.offset = self.file.tell()
            self.file.truncate(self.offset + height * width * self.dtype.itemsize)
        except BaseException:
            self._discard()
            raise

    def write(self, tile: Tile, values: np.ndarray) -> None:
        row_bytes = self.width * self.dtype.itemsize
        values = np.ascontiguousarray(values, dtype=self.dtype)
        for i, row in enumerate(values):
            self.file.seek(self.offset + (tile.r0 + i) * row_bytes + tile.c0 * self.dtype.itemsize)
            self.file.write(row.tobytes())

    def _discard(self) -> None:
        self.file.close()
        self.tmp.unlink(missing_ok=True)

    def __enter__(self) -> NpyLabels:
        return self

    def __exit__(self, exc_type: object, *exc: object) -> None:
        if exc_type is not None:
            self._discard()
            return
        try:
            self.file.flush()
            os.fsync(self.file.fileno())
            self.file.close()
            os.replace(self.tmp, self.path)
        except BaseException:
            self._discard()
            raise


def map_source(
    clf: HSIClassifier,
    source: CubeSource,
    sink: Any,
    *,
    tile: int = DEFAULT_TILE,
    progress: bool = False,
    smooth: int = 1,
) -> np.ndarray:
    """Classify ``source`` tile by tile into ``sink`` (anything with ``write(tile, labels)``:
    :class:`ArrayLabels`, :class:`NpyLabels`, :class:`~lightnets.hsi.writers.GeoTiffLabels`);
    returns the pixel count of each label 0..K. ``progress`` shows pixels per second and the
    time left; ``smooth`` is :func:`stream_labels`'."""
    counts = np.zeros(len(clf.class_names_) + 1, dtype=np.int64)
    bar = _progress_bar(source.shape[0] * source.shape[1], progress)
    try:
        for t, labels, _ in stream_labels(clf, source, tile=tile, smooth=smooth):
            sink.write(t, labels)
            counts += np.bincount(labels.ravel(), minlength=len(counts))
            bar.update(labels.size)
    finally:
        bar.close()
    return counts


class _NoBar:
    def update(self, n: int) -> None:
        pass

    def close(self) -> None:
        pass


def _progress_bar(total: int, show: bool) -> Any:
    """A tqdm bar counting pixels (rate and time left), or nothing."""
    if not show:
        return _NoBar()
    tqdm = require("tqdm", "hsi").tqdm
    return tqdm(total=total, unit="px", unit_scale=True, desc="map", smoothing=0.1)


def predict_source(
    clf: HSIClassifier,
    source: CubeSource,
    *,
    tile: int = DEFAULT_TILE,
    progress: bool = False,
    smooth: int = 1,
) -> np.ndarray:
    """All labels (H×W, int64) of ``source``, computed tile by tile (``smooth``: the majority
    window, :func:`stream_labels`)."""
    sink = ArrayLabels(source.shape[0], source.shape[1])
    map_source(clf, source, sink, tile=tile, progress=progress, smooth=smooth)
    return sink.labels
