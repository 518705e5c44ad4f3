"""Finding, downloading and loading scenes: :func:`load_scene` for the catalogue scenes of
:mod:`lightnets.hsi.catalogue` and for the user's own files.

A catalogue scene is found, in this order: the ``data_dir`` argument, the folder named by the
``LIGHTNETS_DATA`` environment variable, the user cache (``pooch.os_cache("lightnets")``), the
``tensorly`` package (Indian Pines only: its wheel ships the published cube and ground truth),
and finally a download with pooch when ``download=True``. In each folder the files may sit
directly or in a sub-folder named after the scene key (``<folder>/indian_pines/...``).

Every load checks the scene's spatial size, band count and labelled pixels per class against
the published figures, so a different file fails loudly instead of training on the wrong data.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from .._checks import bad_value, spell
from . import readers
from .catalogue import _CATALOGUE, GIC_PAGE, SCENES, SceneInfo, is_catalogue_name, scene_info

DATA_ENV = "LIGHTNETS_DATA"


@dataclass(eq=False)
class Scene:
    """A loaded scene: cube H×W×B float32, ground truth H×W int64 (0 = unlabelled, 1..K)."""

    name: str
    cube: np.ndarray
    gt: np.ndarray
    class_names: tuple[str, ...]
    rgb_bands: tuple[int, int, int] | None
    metadata: dict[str, Any] = field(default_factory=dict)

    @property
    def num_classes(self) -> int:
        return len(self.class_names)

    @property
    def num_bands(self) -> int:
        return int(self.cube.shape[2])

    @property
    def spatial_shape(self) -> tuple[int, int]:
        return (int(self.cube.shape[0]), int(self.cube.shape[1]))

    def class_counts(self) -> np.ndarray:
        """Labelled pixels per class 1..K, as an int64 array of length K."""
        return np.bincount(self.gt.ravel(), minlength=self.num_classes + 1)[1:].astype(np.int64)


# ---------------------------------------------------------------------------------------------
# Finding the files


@dataclass(frozen=True)
class SceneLocation:
    """Where a catalogue scene was found: ``source`` is data_dir, env, cache or tensorly."""

    source: str
    cube_path: Path | None
    gt_path: Path | None

    def describe(self) -> str:
        if self.cube_path is None:
            return self.source
        return str(self.cube_path.parent)


def user_cache_dir() -> Path | None:
    """The per-user cache folder (``pooch.os_cache("lightnets")``), or None without pooch."""
    try:
        import pooch
    except ImportError:
        return None
    return Path(pooch.os_cache("lightnets"))


def _folders(info: SceneInfo, data_dir: str | Path | None) -> list[tuple[str, Path]]:
    """Candidate folders in resolution order, each with the name of its source."""
    roots: list[tuple[str, Path]] = []
    if data_dir is not None:
        roots.append(("data_dir", Path(data_dir).expanduser()))
    env = os.environ.get(DATA_ENV)
    if env:
        roots.append(("env", Path(env).expanduser()))
    cache = user_cache_dir()
    if cache is not None:
        roots.append(("cache", cache))
    folders = []
    for source, root in roots:
        folders.append((source, root))
        folders.append((source, root / info.key))
    return folders


def _tensorly_has(info: SceneInfo) -> bool:
    if info.key != "indian_pines":
        return False
    try:
        import tensorly.datasets  # noqa: F401
    except ImportError:
        return False
    return True


def locate_scene(name: str, *, data_dir: str | Path | None = None) -> SceneLocation | None:
    """Where the files of catalogue scene ``name`` are on this machine, or None (no download)."""
    info = scene_info(name)
    for source, folder in _folders(info, data_dir):
        cube, gt = folder / info.cube_file, folder / info.gt_file
        if cube.is_file() and gt.is_file():
            return SceneLocation(source, cube, gt)
    if _tensorly_has(info):
        return SceneLocation("tensorly", None, None)
    return None


def _missing_error(info: SceneInfo, data_dir: str | Path | None) -> FileNotFoundError:
    looked = [str(folder) for _, folder in _folders(info, data_dir)]
    if not os.environ.get(DATA_ENV):
        looked.append(f"${DATA_ENV} (not set)")
    lines = [
        f"{info.title}: scene files not found. Put {info.cube_file} and {info.gt_file} "
        f"in one folder and pass {spell('data_dir', '<folder>')}, or set {DATA_ENV}=<folder>.",
        "Looked in: " + "; ".join(looked) + ".",
        f"Published at {info.cube_url} and {info.gt_url} (see {GIC_PAGE}).",
        f"Or pass {spell('download', True)} to fetch them into the user cache "
        '(pip install "lightnets[hsi]").',
    ]
    if info.key == "indian_pines":
        lines.append('For Indian Pines offline: pip install "lightnets[indian-pines]" (tensorly).')
    return FileNotFoundError("\n".join(lines))


def _download(info: SceneInfo) -> SceneLocation:
    pooch = readers.require("pooch", "hsi")
    folder = Path(user_cache_dir() or pooch.os_cache("lightnets")) / info.key
    paths = []
    for url, fname, sha in (
        (info.cube_url, info.cube_file, info.cube_sha256),
        (info.gt_url, info.gt_file, info.gt_sha256),
    ):
        known = None if sha is None else f"sha256:{sha}"
        try:
            paths.append(Path(pooch.retrieve(url=url, known_hash=known, fname=fname, path=folder)))
        except Exception as err:  # no network, refused, HTTP error, checksum mismatch
            reason = str(err).strip().splitlines()[0] if str(err).strip() else ""
            raise ConnectionError(
                f"download: could not fetch {url} into {folder} ({type(err).__name__}"
                f"{': ' + reason if reason else ''}); download {info.cube_file} and "
                f"{info.gt_file} by hand from {GIC_PAGE} and put them in {folder}, or in a "
                f"folder given by {spell('data_dir', '<folder>')}"
            ) from None
    return SceneLocation("download", paths[0], paths[1])


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


# ---------------------------------------------------------------------------------------------
# Loading


def load_scene(
    name_or_path: str | Path,
    *,
    gt: str | Path | np.ndarray | None = None,
    data_dir: str | Path | None = None,
    download: bool = False,
    variable: str | None = None,
    gt_variable: str | None = None,
    class_names: Sequence[str] | None = None,
    rgb_bands: tuple[int, int, int] | None = None,
) -> Scene:
    """Load a catalogue scene by name, or the user's own cube from a file path.

    For a name, see the module docstring for where files are looked for; ``download=True``
    allows fetching them with pooch. For a path, ``gt`` gives the ground truth (a file or an
    H×W array; without it every pixel is unlabelled), ``variable``/``gt_variable`` pick arrays
    in .mat/.npz files, and ``class_names`` default to "class 1".."class K".
    """
    if isinstance(name_or_path, str) and is_catalogue_name(name_or_path):
        own_file_options = {
            "gt": gt,
            "variable": variable,
            "gt_variable": gt_variable,
            "class_names": class_names,
            "rgb_bands": rgb_bands,
        }
        for option, value in own_file_options.items():
            if value is not None:
                shown = type(value).__name__ if isinstance(value, np.ndarray) else value
                raise bad_value(
                    option, "None for a catalogue scene (it is for your own files)", shown
                )
        return _load_catalogue(scene_info(name_or_path), data_dir=data_dir, download=download)
    path = Path(name_or_path).expanduser()
    if not path.exists() and not path.suffix and os.sep not in str(name_or_path):
        expected = "one of " + ", ".join(SCENES) + " or a file path"
        raise bad_value("name_or_path", expected, name_or_path)
    return _load_files(
        path,
        gt=gt,
        variable=variable,
        gt_variable=gt_variable,
        class_names=class_names,
        rgb_bands=rgb_bands,
    )


def _load_catalogue(info: SceneInfo, *, data_dir: str | Path | None, download: bool) -> Scene:
    location = locate_scene(info.key, data_dir=data_dir)
    if location is None:
        if not download:
            raise _missing_error(info, data_dir)
        location = _download(info)
    if location.source == "tensorly":
        cube, raw_gt = _tensorly_indian_pines()
    else:
        assert location.cube_path is not None and location.gt_path is not None
        cube = readers.read_cube(location.cube_path, prefer=info.cube_variable)
        raw_gt = readers.read_ground_truth(location.gt_path, prefer=info.gt_variable)
    where = "tensorly" if location.cube_path is None else str(location.cube_path.parent)
    gt_map = _renumber(raw_gt, info, where)
    _verify(info, cube, gt_map, where)
    metadata: dict[str, Any] = {
        "source": location.source,
        "cube_path": None if location.cube_path is None else str(location.cube_path),
        "gt_path": None if location.gt_path is None else str(location.gt_path),
        "title": info.title,
        "sensor": info.sensor,
        "cube_url": info.cube_url,
        "gt_url": info.gt_url,
        "citation": info.citation,
        "verified": "shape and class counts",
    }
    if location.gt_path is not None and info.gt_sha256 is not None:
        # A re-saved copy with the same content is accepted; the byte match is only recorded.
        metadata["gt_sha256_match"] = _sha256(location.gt_path) == info.gt_sha256
    return Scene(
        name=info.key,
        cube=np.ascontiguousarray(cube, dtype=np.float32),
        gt=gt_map,
        class_names=info.class_names,
        rgb_bands=info.rgb_bands,
        metadata=metadata,
    )


def _tensorly_indian_pines() -> tuple[np.ndarray, np.ndarray]:
    """Indian Pines as shipped by tensorly: the published cube and, as ticks[0], the gt."""
    import tensorly
    from tensorly.datasets import load_indian_pines

    bunch = load_indian_pines()
    cube = np.asarray(tensorly.to_numpy(bunch["tensor"]))
    gt = readers.check_ground_truth(np.asarray(bunch["ticks"][0]), name="tensorly ground truth")
    return readers.check_cube(cube, name="tensorly cube"), gt


def _renumber(gt: np.ndarray, info: SceneInfo, where: str) -> np.ndarray:
    if info.label_values is None:
        return gt
    lookup = np.zeros(max(int(gt.max()), *info.label_values) + 1, dtype=np.int64)
    lookup[list(info.label_values)] = np.arange(1, info.num_classes + 1)
    unknown = sorted(set(np.unique(gt).tolist()) - {0, *info.label_values})
    if unknown:
        raise bad_value(
            f"{info.title} ground truth in {where}",
            f"labels 0, {', '.join(map(str, info.label_values))} (the published file)",
            f"also {unknown}",
        )
    return lookup[gt]


def _verify(info: SceneInfo, cube: np.ndarray, gt: np.ndarray, where: str) -> None:
    if tuple(cube.shape) != info.shape:
        raise bad_value(
            f"{info.title} cube in {where}",
            f"the published shape {info.shape} (this is not the published file)",
            f"shape {tuple(cube.shape)}",
        )
    readers.check_ground_truth(
        gt, shape=info.shape[:2], num_classes=info.num_classes, name=f"{info.title} gt"
    )
    counts = tuple(np.bincount(gt.ravel(), minlength=info.num_classes + 1)[1:].tolist())
    if counts != info.class_counts:
        raise bad_value(
            f"{info.title} ground truth in {where}",
            f"the published labelled pixels per class {info.class_counts} "
            "(this is not the published file)",
            counts,
        )


def _load_files(
    path: Path,
    *,
    gt: str | Path | np.ndarray | None,
    variable: str | None,
    gt_variable: str | None,
    class_names: Sequence[str] | None,
    rgb_bands: tuple[int, int, int] | None,
) -> Scene:
    cube = readers.read_cube(path, variable=variable)
    if gt is None:
        gt_map = np.zeros(cube.shape[:2], dtype=np.int64)
        gt_path = None
    elif isinstance(gt, np.ndarray):
        gt_map = readers.check_ground_truth(gt, shape=cube.shape[:2], name="gt")
        gt_path = None
    else:
        gt_map = readers.read_ground_truth(gt, variable=gt_variable)
        gt_path = str(Path(gt).expanduser())
        readers.check_ground_truth(gt_map, shape=cube.shape[:2], name=f"gt {Path(gt).name}")
    if class_names is None:
        names = tuple(f"class {k}" for k in range(1, int(gt_map.max()) + 1))
    else:
        names = tuple(str(n) for n in class_names)
        readers.check_ground_truth(gt_map, num_classes=len(names), name="gt")
    if rgb_bands is not None:
        bands = tuple(int(b) for b in rgb_bands)
        if len(bands) != 3 or not all(0 <= b < cube.shape[2] for b in bands):
            raise bad_value("rgb_bands", f"three band indices in 0..{cube.shape[2] - 1}", rgb_bands)
        rgb_bands = (bands[0], bands[1], bands[2])
    return Scene(
        name=path.stem,
        cube=np.ascontiguousarray(cube, dtype=np.float32),
        gt=gt_map,
        class_names=names,
        rgb_bands=rgb_bands,
        metadata={"source": "path", "cube_path": str(path), "gt_path": gt_path},
    )


# ---------------------------------------------------------------------------------------------
# Report


def available_scenes(*, data_dir: str | Path | None = None) -> list[dict[str, Any]]:
    """One row per catalogue scene: name, title, size, bands, classes, where found.

    ``found`` is the folder holding the files, "tensorly", or "not found". Nothing is loaded
    or downloaded, so this is cheap enough for a ``scenes`` command.
    """
    rows = []
    for info in _CATALOGUE:
        location = locate_scene(info.key, data_dir=data_dir)
        rows.append(
            {
                "name": info.key,
                "title": info.title,
                "size": f"{info.shape[0]}×{info.shape[1]}",
                "bands": info.shape[2],
                "classes": info.num_classes,
                "labelled": sum(info.class_counts),
                "found": "not found" if location is None else location.describe(),
            }
        )
    return rows


def scenes_table(*, data_dir: str | Path | None = None) -> str:
    """:func:`available_scenes` as a plain-text table."""
    from lightnets._table import format_table

    rows = available_scenes(data_dir=data_dir)
    headers = ["name", "title", "size", "bands", "classes", "labelled", "found"]
    return format_table(headers, [[r[h] for h in headers] for r in rows], align="lllrrrl")
