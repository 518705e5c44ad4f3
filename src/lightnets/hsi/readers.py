"""Read hyperspectral cubes and ground-truth maps from files, and validate them.

A cube comes back as an H×W×B numpy array in the file's own dtype; a ground truth as an
H×W int64 array with 0 = unlabelled and classes 1..K. Formats: MATLAB ``.mat`` (v5 through
scipy, v7.3 through h5py), ``.npy``/``.npz``, ENVI ``.hdr`` (``spectral``), GeoTIFF
(``rasterio``) and, for ground truth only, label PNGs (Pillow). Optional readers are imported
inside the functions that need them, so the module imports with numpy alone.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from .._checks import bad_value, spell

CUBE_SUFFIXES = (".mat", ".npy", ".npz", ".hdr", ".tif", ".tiff")
GT_SUFFIXES = (*CUBE_SUFFIXES, ".png")

# MATLAB v7.3 files are HDF5 files; these root entries hold MATLAB bookkeeping, not variables.
_HDF5_SKIP = ("#refs#", "#subsystem#")


def require(module: str, extra: str) -> Any:
    """Import an optional dependency, or raise an ImportError naming the extra that installs it."""
    import importlib

    try:
        return importlib.import_module(module)
    except ImportError as exc:
        raise ImportError(
            f'{module} is needed for this and is not installed: pip install "lightnets[{extra}]"'
        ) from exc


def read_cube(
    path: str | Path, *, variable: str | None = None, prefer: str | None = None
) -> np.ndarray:
    """Read an H×W×B cube from ``path``; ``variable`` picks the array in a .mat/.npz file.

    ``prefer`` names a variable to take when the file has it, falling back to the automatic
    choice otherwise. The array keeps its stored dtype and is validated with :func:`check_cube`.
    """
    path = _existing_file("path", path, CUBE_SUFFIXES)
    suffix = path.suffix.lower()
    if suffix == ".hdr":
        cube = _read_envi(path)
    elif suffix in (".tif", ".tiff"):
        cube = _read_geotiff(path, single_band=False)
    else:
        arrays = _read_arrays(path)
        cube = _pick(arrays, path, variable, prefer, role="cube")
    return check_cube(cube, name=f"cube in {path.name}")


def read_ground_truth(
    path: str | Path,
    *,
    variable: str | None = None,
    prefer: str | None = None,
    class_names: Sequence[str] | None = None,
) -> np.ndarray:
    """Read an H×W ground-truth map (0 = unlabelled, 1..K) as int64.

    ``variable``/``prefer`` pick the array in a .mat/.npz file as in :func:`read_cube`. A PNG
    must hold class indices (palette or grayscale), not colours. With ``class_names``, labels
    beyond the class list are an error.
    """
    path = _existing_file("gt", path, GT_SUFFIXES)
    suffix = path.suffix.lower()
    if suffix == ".png":
        gt = _read_label_png(path)
    elif suffix == ".hdr":
        gt = _squeeze_single_band(_read_envi(path), path)
    elif suffix in (".tif", ".tiff"):
        gt = _read_geotiff(path, single_band=True)
    else:
        arrays = _read_arrays(path)
        gt = _pick(arrays, path, variable, prefer, role="gt")
    num_classes = None if class_names is None else len(class_names)
    return check_ground_truth(gt, num_classes=num_classes, name=f"ground truth in {path.name}")


def list_variables(path: str | Path) -> dict[str, tuple[tuple[int, ...], str]]:
    """Name → (shape, dtype) of the numeric arrays in a .mat/.npz/.npy file."""
    path = _existing_file("path", path, (".mat", ".npy", ".npz"))
    return {k: (tuple(v.shape), str(v.dtype)) for k, v in _read_arrays(path).items()}


def check_cube(cube: Any, *, name: str = "cube") -> np.ndarray:
    """Return ``cube`` as an array after checking it is a finite, numeric H×W×B array."""
    if not isinstance(cube, np.ndarray):
        raise bad_value(name, "a numpy array H×W×B", type(cube).__name__)
    if cube.ndim != 3:
        raise bad_value(name, "a 3-D array H×W×B", f"a {cube.ndim}-D array of shape {cube.shape}")
    if cube.size == 0:
        raise bad_value(name, "a non-empty array H×W×B", f"shape {cube.shape}")
    if cube.dtype == bool or not (
        np.issubdtype(cube.dtype, np.integer) or np.issubdtype(cube.dtype, np.floating)
    ):
        raise bad_value(name, "real numbers (integer or float dtype)", f"dtype {cube.dtype}")
    if np.issubdtype(cube.dtype, np.floating):
        finite = np.isfinite(cube)
        if not finite.all():
            bad = np.argwhere(~finite)
            first = tuple(int(i) for i in bad[0])
            raise bad_value(
                name,
                "finite values (no NaN or infinity)",
                f"{len(bad)} non-finite values, the first at (row, col, band) {first}",
            )
    return cube


def check_mask(name: str, mask: Any, shape: tuple[int, ...]) -> np.ndarray:
    """``mask`` as an array when it holds booleans of ``shape``; else an error naming ``name``."""
    m = np.asarray(mask)
    if m.dtype != bool or m.shape != tuple(shape):
        raise bad_value(name, f"a boolean array of shape {tuple(shape)}", f"{m.dtype} {m.shape}")
    return m


def check_ground_truth(
    gt: Any,
    *,
    shape: tuple[int, int] | None = None,
    num_classes: int | None = None,
    name: str = "gt",
) -> np.ndarray:
    """Return ``gt`` as an int64 H×W array after checking labels are whole numbers in 0..K.

    ``shape`` is the cube's spatial shape (H, W) to match; ``num_classes`` bounds the labels.
    """
    if not isinstance(gt, np.ndarray):
        raise bad_value(name, "a numpy array H×W", type(gt).__name__)
    if gt.ndim != 2:
        raise bad_value(name, "a 2-D array H×W", f"a {gt.ndim}-D array of shape {gt.shape}")
    if shape is not None and tuple(gt.shape) != tuple(shape):
        raise bad_value(
            name, f"the cube's spatial shape {tuple(shape)}", f"shape {tuple(gt.shape)}"
        )
    if gt.dtype == bool or not (
        np.issubdtype(gt.dtype, np.integer) or np.issubdtype(gt.dtype, np.floating)
    ):
        raise bad_value(name, "integer class labels", f"dtype {gt.dtype}")
    if np.issubdtype(gt.dtype, np.floating):
        if not np.isfinite(gt).all():
            raise bad_value(name, "finite integer labels", "NaN or infinite values")
        if not np.array_equal(gt, np.round(gt)):
            raise bad_value(name, "whole-number labels", "fractional values")
    labels = gt.astype(np.int64)
    if labels.size and labels.min() < 0:
        count = int((labels < 0).sum())
        raise bad_value(
            name, "labels >= 0 (0 = unlabelled)", f"{count} negative labels, min {labels.min()}"
        )
    if num_classes is not None and labels.size and labels.max() > num_classes:
        raise bad_value(
            name,
            f"labels in 0..{num_classes} (0 = unlabelled, {num_classes} class names given)",
            f"labels up to {labels.max()}",
        )
    return labels


# ---------------------------------------------------------------------------------------------
# Files and variables


def _existing_file(name: str, path: str | Path, suffixes: Sequence[str]) -> Path:
    path = Path(path).expanduser()
    if not path.is_file():
        raise FileNotFoundError(f"{name}: file not found: {path}")
    if path.suffix.lower() not in suffixes:
        raise bad_value(name, "a file ending in " + ", ".join(suffixes), str(path))
    return path


def _unreadable(path: Path, kind: str, exc: BaseException) -> ValueError:
    """The error for a file that exists but cannot be parsed; names the file and the cause."""
    return ValueError(f"{path}: expected a readable {kind} file, got {type(exc).__name__}: {exc}")


def _read_arrays(path: Path) -> dict[str, np.ndarray]:
    """All numeric arrays of a .mat/.npz/.npy file, keyed by variable name."""
    suffix = path.suffix.lower()
    if suffix == ".npy":
        try:
            return {path.stem: np.load(path, allow_pickle=False)}
        except (ValueError, OSError, EOFError) as exc:
            raise _unreadable(path, ".npy", exc) from exc
    if suffix == ".npz":
        try:
            with np.load(path, allow_pickle=False) as archive:
                return {k: archive[k] for k in archive.files}
        except (ValueError, OSError, EOFError) as exc:
            raise _unreadable(path, ".npz", exc) from exc
    return _read_mat(path)


def _read_mat(path: Path) -> dict[str, np.ndarray]:
    if _is_hdf5(path):
        return _read_mat_v73(path, require("h5py", "hsi"))
    sio = require("scipy.io", "hsi")
    try:
        content = sio.loadmat(path)
    except NotImplementedError:  # scipy's answer to a v7.3 header it cannot read itself
        return _read_mat_v73(path, require("h5py", "hsi"))
    except Exception as exc:  # scipy raises several unrelated types for damaged files
        raise _unreadable(path, "MATLAB .mat", exc) from exc
    return {k: v for k, v in content.items() if not k.startswith("__") and _numeric(v)}


def _is_hdf5(path: Path) -> bool:
    """True for HDF5 files: the signature sits at byte 0 or after a 512-byte MATLAB header."""
    signature = b"\x89HDF\r\n\x1a\n"
    with path.open("rb") as f:
        head = f.read(520)
    return head[:8] == signature or head[512:520] == signature


def _read_mat_v73(path: Path, h5py: Any) -> dict[str, np.ndarray]:
    """Read the root datasets of a MATLAB v7.3 (HDF5) file.

    MATLAB writes arrays column-major, so h5py sees every dimension reversed: an H×W×B
    variable is stored as B×W×H. Reversing the axes (``.T``) restores MATLAB's shape.
    """
    arrays: dict[str, np.ndarray] = {}
    try:
        with h5py.File(path, "r") as f:
            for key, item in f.items():
                if key in _HDF5_SKIP or not isinstance(item, h5py.Dataset):
                    continue
                matlab_class = item.attrs.get("MATLAB_class", b"")
                if isinstance(matlab_class, bytes):
                    matlab_class = matlab_class.decode("ascii", "replace")
                if matlab_class == "char":  # text stored as uint16 codes
                    continue
                data = item[()]
                if isinstance(data, np.ndarray) and _numeric(data):
                    arrays[key] = np.ascontiguousarray(data.T)
    except OSError as exc:
        raise _unreadable(path, "MATLAB v7.3 (HDF5) .mat", exc) from exc
    return arrays


def _numeric(value: Any) -> bool:
    return (
        isinstance(value, np.ndarray)
        and value.dtype != bool
        and (np.issubdtype(value.dtype, np.integer) or np.issubdtype(value.dtype, np.floating))
    )


def _integral(array: np.ndarray) -> bool:
    if np.issubdtype(array.dtype, np.integer):
        return True
    return bool(np.isfinite(array).all() and np.array_equal(array, np.round(array)))


def _pick(
    arrays: Mapping[str, np.ndarray],
    path: Path,
    variable: str | None,
    prefer: str | None,
    *,
    role: str,
) -> np.ndarray:
    """Choose the cube (the one 3-D array) or the gt (the one 2-D integer array) of a file."""
    listing = ", ".join(f"{k} {tuple(v.shape)} {v.dtype}" for k, v in arrays.items()) or "none"
    option = spell("variable" if role == "cube" else "gt_variable")
    if variable is not None:
        if variable not in arrays:
            raise bad_value(option, f"one of the arrays in {path.name} ({listing})", variable)
        return arrays[variable]
    if prefer is not None and prefer in arrays:
        return arrays[prefer]
    if role == "cube":
        candidates = [k for k, v in arrays.items() if v.ndim == 3]
        wanted = "a 3-D array H×W×B"
    else:
        # A label map is 2-D with both sides > 1: scalars and vectors are metadata.
        candidates = [
            k for k, v in arrays.items() if v.ndim == 2 and min(v.shape) > 1 and _integral(v)
        ]
        wanted = "a 2-D integer array H×W"
    if len(candidates) == 1:
        return arrays[candidates[0]]
    if not candidates:
        if len(arrays) == 1:
            # One array of the wrong kind: let the shape checks say what is wrong with it.
            return next(iter(arrays.values()))
        raise bad_value(f"{role} in {path.name}", wanted, f"arrays {listing}")
    raise bad_value(
        option,
        f"the name of the {role} array in {path.name}, one of " + ", ".join(candidates),
        None,
    )


# ---------------------------------------------------------------------------------------------
# Optional formats


def _read_envi(path: Path) -> np.ndarray:
    """Read an ENVI image through its header; spectral loads it as rows × samples × bands."""
    spectral = require("spectral", "envi")
    try:
        image = spectral.envi.open(str(path))
        return np.asarray(image.load())
    except FileNotFoundError:
        raise
    except Exception as exc:  # spectral raises its own exception classes
        raise _unreadable(path, "ENVI", exc) from exc


def _read_geotiff(path: Path, *, single_band: bool) -> np.ndarray:
    """Read a GeoTIFF; rasterio gives bands first (B×H×W), returned here as H×W×B."""
    rasterio = require("rasterio", "geotiff")
    try:
        with rasterio.open(path) as src:
            data = np.asarray(src.read())
    except Exception as exc:  # rasterio.errors.RasterioIOError and friends
        raise _unreadable(path, "GeoTIFF", exc) from exc
    if single_band:
        if data.shape[0] != 1:
            raise bad_value("gt", "a single-band GeoTIFF", f"{data.shape[0]} bands in {path.name}")
        return data[0]
    return np.moveaxis(data, 0, -1)


def _read_label_png(path: Path) -> np.ndarray:
    """Class indices from a palette ("P") or grayscale ("L", "I", "I;16") PNG."""
    image_module = require("PIL.Image", "hsi")
    try:
        with image_module.open(path) as image:
            image.load()
            mode = image.mode
            data = np.asarray(image)
    except Exception as exc:  # PIL.UnidentifiedImageError, truncated files
        raise _unreadable(path, "PNG", exc) from exc
    if mode not in ("P", "L", "I", "I;16"):
        raise bad_value(
            "gt",
            "a palette or grayscale PNG holding class indices",
            f"mode {mode!r} in {path.name} (colour images hold colours, not indices)",
        )
    return data


def _squeeze_single_band(array: np.ndarray, path: Path) -> np.ndarray:
    if array.ndim == 3:
        if array.shape[2] != 1:
            raise bad_value("gt", "a single-band image", f"{array.shape[2]} bands in {path.name}")
        return array[:, :, 0]
    return array


def read_mask(
    path: str | Path,
    *,
    shape: tuple[int, ...] | None = None,
    variable: str | None = None,
    name: str = "mask",
) -> np.ndarray:
    """Read an H×W boolean mask (booleans, or the integers 0 and 1) from a .npy/.npz/.mat,
    PNG or GeoTIFF file; ``shape`` is the ground truth's to match."""
    path = _existing_file(name, path, GT_SUFFIXES)
    suffix = path.suffix.lower()
    if suffix == ".png":
        mask = _read_label_png(path)
    elif suffix in (".tif", ".tiff"):
        mask = _read_geotiff(path, single_band=True)
    elif suffix == ".hdr":
        mask = _squeeze_single_band(_read_envi(path), path)
    else:
        arrays = _read_arrays(path)
        if variable is not None or len(arrays) != 1:
            mask = _pick(arrays, path, variable, None, role="gt")
        else:
            mask = next(iter(arrays.values()))
    mask = np.asarray(mask)
    if mask.ndim != 2:
        raise bad_value(name, "a 2-D H×W mask", f"shape {mask.shape} in {path.name}")
    if shape is not None and tuple(mask.shape) != tuple(shape):
        raise bad_value(name, f"the ground truth's shape {tuple(shape)}", f"shape {mask.shape}")
    if mask.dtype != bool:
        values = np.unique(mask) if mask.size else mask
        if not (_numeric(mask) and set(values.tolist()) <= {0, 1}):
            shown = values[:5].tolist() if _numeric(mask) else str(mask.dtype)
            raise bad_value(name, f"booleans or 0/1 values in {path.name}", shown)
    return mask.astype(bool)
