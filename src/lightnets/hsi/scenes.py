"""Catalogue of the public hyperspectral benchmark scenes and :func:`load_scene`.

The seven scenes are those distributed by the Grupo de Inteligencia Computacional (GIC),
UPV/EHU, at https://www.ehu.eus/ccwintco/index.php/Hyperspectral_Remote_Sensing_Scenes.
File names, MATLAB variable names and download addresses are the ones published there.

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
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from lightnets._checks import bad_value
from lightnets.hsi import readers

DATA_ENV = "LIGHTNETS_DATA"
GIC_PAGE = "https://www.ehu.eus/ccwintco/index.php/Hyperspectral_Remote_Sensing_Scenes"
_GIC = "https://www.ehu.eus/ccwintco/uploads"


@dataclass(frozen=True)
class SceneInfo:
    """What is published about one benchmark scene.

    ``rgb_bands`` are 0-based band indices for a false-colour display. ``label_values`` lists
    the raw label of each class in the ground-truth file when those are not simply 1..K; the
    loader renumbers them to 1..K in this order.
    """

    key: str
    title: str
    sensor: str
    shape: tuple[int, int, int]
    cube_file: str
    cube_variable: str
    cube_url: str
    gt_file: str
    gt_variable: str
    gt_url: str
    class_names: tuple[str, ...]
    class_counts: tuple[int, ...]
    rgb_bands: tuple[int, int, int]
    cube_sha256: str | None = None
    gt_sha256: str | None = None
    label_values: tuple[int, ...] | None = None
    aliases: tuple[str, ...] = ()
    citation: str = ""

    @property
    def num_classes(self) -> int:
        return len(self.class_names)

    @property
    def files(self) -> tuple[str, str]:
        return (self.cube_file, self.gt_file)


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


# sha256 is given only where the published bytes could be checked: the Indian Pines ground
# truth. Every other entry is None; those files are verified on load by their spatial size,
# band count and labelled pixels per class, which any other file is very unlikely to match.
# RGB bands: Audebert, Le Saux, Lefèvre, "Deep Learning for Classification of Hyperspectral
# Data: A Comparative Review", IEEE GRSM 7(2), 2019, and its DeepHyperX toolbox (datasets.py):
# AVIRIS scenes (43, 21, 11), ROSIS Pavia scenes (55, 41, 12), Hyperion Botswana (75, 33, 15).
_CATALOGUE = (
    SceneInfo(
        key="indian_pines",
        title="Indian Pines",
        sensor="AVIRIS",
        shape=(145, 145, 200),
        cube_file="Indian_pines_corrected.mat",
        cube_variable="indian_pines_corrected",
        cube_url=f"{_GIC}/6/67/Indian_pines_corrected.mat",
        gt_file="Indian_pines_gt.mat",
        gt_variable="indian_pines_gt",
        gt_url=f"{_GIC}/c/c4/Indian_pines_gt.mat",
        gt_sha256="65c4687a8ab04f6da4789799bc3bc4f6e88bccac3ed6a2e6ae367e5e6b9e429c",
        class_names=(
            "Alfalfa",
            "Corn-notill",
            "Corn-mintill",
            "Corn",
            "Grass-pasture",
            "Grass-trees",
            "Grass-pasture-mowed",
            "Hay-windrowed",
            "Oats",
            "Soybean-notill",
            "Soybean-mintill",
            "Soybean-clean",
            "Wheat",
            "Woods",
            "Buildings-Grass-Trees-Drives",
            "Stone-Steel-Towers",
        ),
        # GIC page, "Groundtruth classes for the Indian Pines scene" (10,249 pixels).
        class_counts=(
            46,
            1428,
            830,
            237,
            483,
            730,
            28,
            478,
            20,
            972,
            2455,
            593,
            205,
            1265,
            386,
            93,
        ),
        rgb_bands=(43, 21, 11),
        aliases=("indianpines", "ip"),
        citation=(
            "Baumgardner, Biehl, Landgrebe (2015). 220 Band AVIRIS Hyperspectral Image Data Set: "
            "June 12, 1992 Indian Pine Test Site 3. Purdue University Research Repository. "
            "doi:10.4231/R7RX991C"
        ),
    ),
    SceneInfo(
        key="pavia_university",
        title="Pavia University",
        sensor="ROSIS",
        shape=(610, 340, 103),
        cube_file="PaviaU.mat",
        cube_variable="paviaU",
        cube_url=f"{_GIC}/e/ee/PaviaU.mat",
        gt_file="PaviaU_gt.mat",
        gt_variable="paviaU_gt",
        gt_url=f"{_GIC}/5/50/PaviaU_gt.mat",
        class_names=(
            "Asphalt",
            "Meadows",
            "Gravel",
            "Trees",
            "Painted metal sheets",
            "Bare Soil",
            "Bitumen",
            "Self-Blocking Bricks",
            "Shadows",
        ),
        # GIC page, "Groundtruth classes for the Pavia University scene" (42,776 pixels).
        class_counts=(6631, 18649, 2099, 3064, 1345, 5029, 1330, 3682, 947),
        rgb_bands=(55, 41, 12),
        aliases=("paviau", "pu", "pavia_u"),
        citation=f"ROSIS scene of Pavia University, Italy; distributed by GIC, UPV/EHU: {GIC_PAGE}",
    ),
    SceneInfo(
        key="pavia_centre",
        title="Pavia Centre",
        sensor="ROSIS",
        shape=(1096, 715, 102),
        cube_file="Pavia.mat",
        cube_variable="pavia",
        cube_url=f"{_GIC}/e/e3/Pavia.mat",
        gt_file="Pavia_gt.mat",
        gt_variable="pavia_gt",
        gt_url=f"{_GIC}/5/53/Pavia_gt.mat",
        class_names=(
            "Water",
            "Trees",
            "Asphalt",
            "Self-Blocking Bricks",
            "Bitumen",
            "Tiles",
            "Shadows",
            "Meadows",
            "Bare Soil",
        ),
        # Labelled pixels of Pavia_gt.mat (148,152) as reported across the literature. The
        # GIC page's own table for this scene (824, 820, ...) lists a training subset, not the
        # content of the ground-truth file.
        class_counts=(65971, 7598, 3090, 2685, 6584, 9248, 7287, 42826, 2863),
        rgb_bands=(55, 41, 12),
        aliases=("pavia", "paviac", "pavia_center", "pc"),
        citation=f"ROSIS scene of Pavia centre, Italy; distributed by GIC, UPV/EHU: {GIC_PAGE}",
    ),
    SceneInfo(
        key="salinas",
        title="Salinas",
        sensor="AVIRIS",
        shape=(512, 217, 204),
        cube_file="Salinas_corrected.mat",
        cube_variable="salinas_corrected",
        cube_url=f"{_GIC}/a/a3/Salinas_corrected.mat",
        gt_file="Salinas_gt.mat",
        gt_variable="salinas_gt",
        gt_url=f"{_GIC}/f/fa/Salinas_gt.mat",
        class_names=(
            "Brocoli_green_weeds_1",
            "Brocoli_green_weeds_2",
            "Fallow",
            "Fallow_rough_plow",
            "Fallow_smooth",
            "Stubble",
            "Celery",
            "Grapes_untrained",
            "Soil_vinyard_develop",
            "Corn_senesced_green_weeds",
            "Lettuce_romaine_4wk",
            "Lettuce_romaine_5wk",
            "Lettuce_romaine_6wk",
            "Lettuce_romaine_7wk",
            "Vinyard_untrained",
            "Vinyard_vertical_trellis",
        ),
        # GIC page, "Groundtruth classes for the Salinas scene" (54,129 pixels).
        class_counts=(
            2009,
            3726,
            1976,
            1394,
            2678,
            3959,
            3579,
            11271,
            6203,
            3278,
            1068,
            1927,
            916,
            1070,
            7268,
            1807,
        ),
        rgb_bands=(43, 21, 11),
        aliases=("sa", "sv", "salinas_valley"),
        citation=f"AVIRIS scene of Salinas Valley, California; distributed by GIC: {GIC_PAGE}",
    ),
    SceneInfo(
        key="salinas_a",
        title="Salinas-A",
        sensor="AVIRIS",
        shape=(83, 86, 204),
        cube_file="SalinasA_corrected.mat",
        cube_variable="salinasA_corrected",
        cube_url=f"{_GIC}/1/1a/SalinasA_corrected.mat",
        gt_file="SalinasA_gt.mat",
        gt_variable="salinasA_gt",
        gt_url=f"{_GIC}/a/aa/SalinasA_gt.mat",
        class_names=(
            "Brocoli_green_weeds_1",
            "Corn_senesced_green_weeds",
            "Lettuce_romaine_4wk",
            "Lettuce_romaine_5wk",
            "Lettuce_romaine_6wk",
            "Lettuce_romaine_7wk",
        ),
        # GIC page, "Groundtruth classes for the Salinas-A scene" (5,348 pixels). The file keeps
        # the Salinas class numbers 1, 10, 11, 12, 13, 14; loading renumbers them 1..6.
        class_counts=(391, 1343, 616, 1525, 674, 799),
        label_values=(1, 10, 11, 12, 13, 14),
        # Same AVIRIS bands as the full Salinas scene.
        rgb_bands=(43, 21, 11),
        aliases=("salinasa",),
        citation=f"AVIRIS subscene of Salinas Valley, California; distributed by GIC: {GIC_PAGE}",
    ),
    SceneInfo(
        key="ksc",
        title="Kennedy Space Center",
        sensor="AVIRIS",
        shape=(512, 614, 176),
        cube_file="KSC.mat",
        cube_variable="KSC",
        cube_url=f"{_GIC}/2/26/KSC.mat",
        gt_file="KSC_gt.mat",
        gt_variable="KSC_gt",
        gt_url=f"{_GIC}/a/a6/KSC_gt.mat",
        class_names=(
            "Scrub",
            "Willow swamp",
            "Cabbage palm hammock",
            "Cabbage palm/oak hammock",
            "Slash pine",
            "Oak/broadleaf hammock",
            "Hardwood swamp",
            "Graminoid marsh",
            "Spartina marsh",
            "Cattail marsh",
            "Salt marsh",
            "Mud flats",
            "Water",
        ),
        # GIC page, "Groundtruth classes for the KSC scene" (5,211 pixels).
        class_counts=(761, 243, 256, 252, 161, 229, 105, 431, 520, 404, 419, 503, 927),
        rgb_bands=(43, 21, 11),
        aliases=("kennedy_space_center",),
        citation=f"AVIRIS scene of Kennedy Space Center, Florida; distributed by GIC: {GIC_PAGE}",
    ),
    SceneInfo(
        key="botswana",
        title="Botswana",
        sensor="Hyperion (EO-1)",
        shape=(1476, 256, 145),
        cube_file="Botswana.mat",
        cube_variable="Botswana",
        cube_url=f"{_GIC}/7/72/Botswana.mat",
        gt_file="Botswana_gt.mat",
        gt_variable="Botswana_gt",
        gt_url=f"{_GIC}/5/58/Botswana_gt.mat",
        class_names=(
            "Water",
            "Hippo grass",
            "Floodplain grasses 1",
            "Floodplain grasses 2",
            "Reeds",
            "Riparian",
            "Firescar",
            "Island interior",
            "Acacia woodlands",
            "Acacia shrublands",
            "Acacia grasslands",
            "Short mopane",
            "Mixed mopane",
            "Exposed soils",
        ),
        # GIC page, "Groundtruth classes for the Botswana scene" (3,248 pixels).
        class_counts=(270, 101, 251, 215, 269, 269, 259, 203, 314, 248, 305, 181, 268, 95),
        rgb_bands=(75, 33, 15),
        aliases=("bw", "okavango"),
        citation=f"Hyperion scene of the Okavango Delta, Botswana; distributed by GIC: {GIC_PAGE}",
    ),
)

SCENES: dict[str, SceneInfo] = {info.key: info for info in _CATALOGUE}


def _normalise(name: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", name.strip().lower()).strip("_")


_LOOKUP: dict[str, str] = {}
for _info in _CATALOGUE:
    for _alias in (_info.key, _info.title, *_info.aliases):
        _LOOKUP[_normalise(_alias)] = _info.key
        _LOOKUP[_normalise(_alias).replace("_", "")] = _info.key


def scene_info(name: str) -> SceneInfo:
    """The catalogue entry for ``name`` (key, title or alias; case and separators ignored)."""
    key = _LOOKUP.get(_normalise(name)) or _LOOKUP.get(_normalise(name).replace("_", ""))
    if key is None:
        raise bad_value("name", "one of " + ", ".join(SCENES) + " or a file path", name)
    return SCENES[key]


def is_catalogue_name(name: str) -> bool:
    """True when ``name`` names a catalogue scene."""
    try:
        scene_info(name)
    except ValueError:
        return False
    return True


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
        f"in one folder and pass data_dir=<folder>, or set {DATA_ENV}=<folder>.",
        "Looked in: " + "; ".join(looked) + ".",
        f"Published at {info.cube_url} and {info.gt_url} (see {GIC_PAGE}).",
        'Or pass download=True to fetch them into the user cache (pip install "lightnets[hsi]").',
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
        paths.append(Path(pooch.retrieve(url=url, known_hash=known, fname=fname, path=folder)))
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


def list_scenes() -> list[str]:
    """The names of the catalogue scenes (for :func:`load_scene`)."""
    return [info.key for info in _CATALOGUE]


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
