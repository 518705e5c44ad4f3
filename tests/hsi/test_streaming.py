"""Tile-streamed mapping: the labels of the in-memory path, one tile in memory at a time."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from lightnets.hsi import HSIClassifier
from lightnets.hsi.streaming import (
    ArraySource,
    CubeSource,
    open_cube,
    predict_source,
    predict_to_npy,
    stream_labels,
    tiles,
)


@pytest.fixture(scope="module")
def fitted() -> dict:
    """A noisy striped scene 37×29×16 (no tile size below divides it) and a network and an
    SVM fitted on it (fitted once for the module)."""
    rng = np.random.default_rng(1)
    gt = np.zeros((37, 29), dtype=np.int64)
    for k in range(4):
        gt[1:-1, 1 + 6 * k : 1 + 6 * (k + 1)] = k + 1
    cube = (rng.uniform(100, 1000, (5, 16))[gt] + rng.normal(0, 150, (37, 29, 16))).astype("f4")
    net = HSIClassifier("hybridsn", pca=13, window=9, epochs=2, batch_size=32).fit(cube, gt)
    small_grid = {"c_grid": [10.0], "gamma_grid": [1.0], "folds": 2}
    svm = HSIClassifier("svm", pca=6, model_kwargs=small_grid).fit(cube, gt)
    return {"cube": cube, "network": net, "svm": svm}


def test_tiles_cover_the_scene_once() -> None:
    cover = np.zeros((37, 29), int)
    for t in tiles(37, 29, 8):
        cover[t.r0 : t.r1, t.c0 : t.c1] += 1
        assert t.r1 - t.r0 <= 8 and t.c1 - t.c0 <= 8
    assert (cover == 1).all()
    with pytest.raises(ValueError, match=r"^tile: expected an integer >= 1, got 0"):
        tiles(3, 3, 0)


@pytest.mark.parametrize("kind", ["network", "svm"])
@pytest.mark.parametrize("tile", [5, 8, 512])
def test_streamed_labels_equal_the_in_memory_map(fitted: dict, kind: str, tile: int) -> None:
    clf, cube = fitted[kind], fitted["cube"]
    expected = clf.predict(cube)
    assert len(np.unique(expected)) > 1  # a map of one class would prove nothing
    np.testing.assert_array_equal(predict_source(clf, ArraySource(cube), tile=tile), expected)


def test_a_memory_mapped_npy_streams_into_an_npy(fitted: dict, tmp_path: Path) -> None:
    clf, cube = fitted["network"], fitted["cube"]
    np.save(tmp_path / "cube.npy", cube)
    with open_cube(tmp_path / "cube.npy") as source:
        assert isinstance(source.cube, np.memmap) and source.shape == cube.shape
        path = predict_to_npy(clf, source, tmp_path / "out" / "map.npy", tile=6)
    np.testing.assert_array_equal(np.load(path), clf.predict(cube))
    assert sorted(p.name for p in path.parent.iterdir()) == ["map.npy"]  # no temporary left


def test_a_matlab_v73_cube_is_read_window_by_window(fitted: dict, tmp_path: Path) -> None:
    h5py = pytest.importorskip("h5py")
    cube = fitted["cube"]
    with h5py.File(tmp_path / "cube.mat", "w") as f:  # MATLAB stores H×W×B reversed
        f.create_dataset("radiance", data=cube.T)
        f.create_dataset("labels", data=np.zeros((4, 4)))
    with open_cube(tmp_path / "cube.mat") as source:
        assert source.shape == cube.shape
        np.testing.assert_array_equal(source.read(slice(3, 11), slice(20, 29)), cube[3:11, 20:])
        labels = predict_source(fitted["svm"], source, tile=10)
    np.testing.assert_array_equal(labels, fitted["svm"].predict(cube))
    with pytest.raises(ValueError, match=r"^variable: expected one of radiance, got 'x'"):
        open_cube(tmp_path / "cube.mat", variable="x")


class _Unread(CubeSource):
    shape = (50, 40, 7)

    def read(self, rows: slice, cols: slice) -> np.ndarray:
        raise AssertionError("read before the band check")


def test_another_band_count_fails_before_reading(fitted: dict) -> None:
    with pytest.raises(ValueError, match=r"^cube: expected a cube with 16 bands \(as fitted\), "
                                         r"got '7 bands'"):
        next(stream_labels(fitted["network"], _Unread()))
