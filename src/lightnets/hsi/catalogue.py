"""The catalogue of public hyperspectral benchmark scenes: data only.

The seven scenes are those distributed by the Grupo de Inteligencia Computacional (GIC),
UPV/EHU, at https://www.ehu.eus/ccwintco/index.php/Hyperspectral_Remote_Sensing_Scenes.
File names, MATLAB variable names, download addresses, class names and labelled pixels per
class are the ones published there. Locating, downloading and loading the files is
:mod:`lightnets.hsi.scenes`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from .._checks import bad_value

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


def list_scenes() -> list[str]:
    """The names of the catalogue scenes (for :func:`~lightnets.hsi.scenes.load_scene`)."""
    return [info.key for info in _CATALOGUE]
