"""Fixtures for the hyperspectral tests: a small synthetic scene and the real data folders.

Real data is read from ``$LIGHTNETS_TEST_DATA`` when set, else from ``<repo>/../shared/datasets``;
tests that need it are skipped when it is absent. Nothing here downloads.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
TEST_DATA_ENV = "LIGHTNETS_TEST_DATA"


def find_test_data_root() -> Path | None:
    """The folder of real test datasets, or None when this machine has none."""
    env = os.environ.get(TEST_DATA_ENV)
    root = Path(env).expanduser() if env else REPO_ROOT.parent / "shared" / "datasets"
    return root if root.is_dir() else None


def dataset_dir(name: str, files: tuple[str, ...]) -> Path:
    """``<test data root>/<name>`` holding ``files``, or skip the calling test."""
    root = find_test_data_root()
    if root is None:
        pytest.skip(f"no real test data (set {TEST_DATA_ENV} or provide ../shared/datasets)")
    folder = root / name
    missing = [f for f in files if not (folder / f).is_file()]
    if missing:
        pytest.skip(f"{folder} lacks {', '.join(missing)}")
    return folder


@pytest.fixture(scope="session")
def indian_pines_dir() -> Path:
    """Folder with Indian_pines_corrected.mat and Indian_pines_gt.mat, or skip."""
    return dataset_dir("indian_pines", ("Indian_pines_corrected.mat", "Indian_pines_gt.mat"))


@pytest.fixture(scope="session")
def indian_pines_scene(indian_pines_dir: Path):
    """The real Indian Pines scene loaded from the shared folder (session-cached)."""
    from lightnets.hsi.scenes import load_scene

    return load_scene("indian_pines", data_dir=indian_pines_dir)


@dataclass(frozen=True)
class SyntheticScene:
    """Cube H×W×B float32 and ground truth H×W int64 (0 = unlabelled, classes 1..K)."""

    cube: np.ndarray
    gt: np.ndarray
    class_names: tuple[str, ...]


def make_synthetic_scene(
    height: int = 30, width: int = 24, bands: int = 12, num_classes: int = 4, seed: int = 0
) -> SyntheticScene:
    """Classes as vertical stripes with an unlabelled border; each class has its own spectrum."""
    rng = np.random.default_rng(seed)
    gt = np.zeros((height, width), dtype=np.int64)
    stripe = (width - 2) // num_classes
    for k in range(num_classes):
        gt[1:-1, 1 + k * stripe : 1 + (k + 1) * stripe] = k + 1
    signatures = rng.uniform(100, 1000, size=(num_classes + 1, bands))
    cube = signatures[gt] + rng.normal(0, 20, size=(height, width, bands))
    names = tuple(f"material {k}" for k in range(1, num_classes + 1))
    return SyntheticScene(cube.astype(np.float32), gt, names)


@pytest.fixture
def synthetic_scene() -> SyntheticScene:
    """A 30×24×12 scene with 4 striped classes (fresh arrays for every test)."""
    return make_synthetic_scene()


@pytest.fixture
def synthetic_scene_factory() -> Callable[..., SyntheticScene]:
    """:func:`make_synthetic_scene` itself, for tests that need other sizes.

    Test modules cannot import from this conftest (tests/ folders are not packages), so
    they take this fixture instead.
    """
    return make_synthetic_scene
