"""Tile-streamed mapping: the labels of the in-memory path, one tile in memory at a time."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from lightnets.hsi import HSIClassifier
from lightnets.hsi.smoothing import majority_filter
from lightnets.hsi.streaming import (
    ArraySource,
    CubeSource,
    NpyLabels,
    NpySource,
    map_source,
    open_cube,
    predict_source,
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


@pytest.mark.parametrize("kind", ["network", "svm"])
@pytest.mark.parametrize("tile", [5, 8, 512])
def test_streamed_smoothing_equals_the_majority_filter_of_the_whole_map(
    fitted: dict, kind: str, tile: int
) -> None:
    clf, cube = fitted[kind], fitted["cube"]
    expected = majority_filter(clf.predict(cube), 5, 4)
    assert (expected != clf.predict(cube)).any()  # the filter changed something to compare
    streamed = predict_source(clf, ArraySource(cube), tile=tile, smooth=5)
    np.testing.assert_array_equal(streamed, expected)


def test_confidence_is_the_probability_of_the_smoothed_label(fitted: dict) -> None:
    clf, cube = fitted["network"], fitted["cube"]
    proba = clf.predict_proba(cube)
    for smooth in (1, 5):
        got = np.zeros(cube.shape[:2], np.float32)
        for t, _, conf in stream_labels(
            clf, ArraySource(cube), tile=8, confidence=True, smooth=smooth
        ):
            got[t.r0 : t.r1, t.c0 : t.c1] = conf
        labels = majority_filter(clf.predict(cube), smooth, 4)
        expected = np.take_along_axis(proba, labels[..., None] - 1, axis=2)[..., 0]
        np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-6)
    with pytest.raises(ValueError, match=r"^smooth: expected an odd integer >= 1"):
        next(stream_labels(clf, ArraySource(cube), smooth=4))


def test_a_memory_mapped_npy_streams_into_an_npy(fitted: dict, tmp_path: Path) -> None:
    clf, cube = fitted["network"], fitted["cube"]
    np.save(tmp_path / "cube.npy", cube)
    with open_cube(tmp_path / "cube.npy") as source:
        assert isinstance(source, NpySource) and source.shape == cube.shape
        path = tmp_path / "out" / "map.npy"
        with NpyLabels(path, *cube.shape[:2]) as sink:
            map_source(clf, source, sink, tile=6)
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


class _Failing(ArraySource):
    """Fails on the third window read, as a disk or a network share might."""

    def __init__(self, cube: np.ndarray) -> None:
        super().__init__(cube)
        self.reads = 0

    def read(self, rows: slice, cols: slice) -> np.ndarray:
        self.reads += 1
        if self.reads == 3:
            raise OSError("read failed")
        return super().read(rows, cols)


def test_a_map_that_fails_midway_leaves_no_file(fitted: dict, tmp_path: Path) -> None:
    with (
        pytest.raises(OSError, match="read failed"),
        NpyLabels(tmp_path / "map.npy", *fitted["cube"].shape[:2]) as sink,
    ):
        map_source(fitted["svm"], _Failing(fitted["cube"]), sink, tile=8)
    assert list(tmp_path.iterdir()) == []


def test_progress_shows_pixels_per_second(fitted: dict, capsys) -> None:
    predict_source(fitted["svm"], ArraySource(fitted["cube"]), tile=8, progress=True)
    err = capsys.readouterr().err
    assert "map" in err and "px/s" in err and "1.07k/1.07k" in err  # 37 × 29 pixels


def _cli_predict(model: Path, cube: Path, out: Path, *extra: str) -> int:
    from lightnets.cli import main

    return main(["hsi", "predict", "--checkpoint", str(model), "--cube", str(cube),
                 "--out", str(out), "--tile", "8", "--quiet", *extra])


def test_a_geotiff_map_keeps_the_inputs_crs_and_transform(fitted: dict, tmp_path: Path) -> None:
    rasterio = pytest.importorskip("rasterio")
    from rasterio.transform import from_origin

    clf, cube = fitted["network"], fitted["cube"]
    clf.save(tmp_path / "model.lnet")
    transform = from_origin(500000.0, 4500000.0, 20.0, 20.0)
    profile = {"driver": "GTiff", "height": cube.shape[0], "width": cube.shape[1],
               "count": cube.shape[2], "dtype": "float32", "crs": "EPSG:32616",
               "transform": transform}
    with rasterio.open(tmp_path / "cube.tif", "w", **profile) as dst:
        dst.write(cube.transpose(2, 0, 1))
    assert _cli_predict(tmp_path / "model.lnet", tmp_path / "cube.tif", tmp_path / "map.tif") == 0
    with rasterio.open(tmp_path / "map.tif") as src:
        assert src.crs.to_epsg() == 32616 and src.transform == transform
        assert src.nodata == 0 and src.dtypes == ("uint8",) and src.profile["tiled"]
        assert src.compression.name == "deflate"
        np.testing.assert_array_equal(src.read(1), clf.predict(cube))
        assert src.tags()["class_1"] == clf.class_names_[0] and src.tags()["classes"] == "4"
        assert src.colormap(1)[0][:3] == (0, 0, 0) and len(set(src.colormap(1).values())) > 4


def test_a_map_of_an_input_without_crs_warns(fitted: dict, tmp_path: Path) -> None:
    rasterio = pytest.importorskip("rasterio")
    clf, cube = fitted["svm"], fitted["cube"]
    clf.save(tmp_path / "model.lnet")
    np.save(tmp_path / "cube.npy", cube)
    with pytest.warns(RuntimeWarning, match=r"map\.tif: written without a CRS"):
        _cli_predict(tmp_path / "model.lnet", tmp_path / "cube.npy", tmp_path / "map.tif")
    with rasterio.open(tmp_path / "map.tif") as src:
        assert src.crs is None
        np.testing.assert_array_equal(src.read(1), clf.predict(cube))


def test_an_envi_cube_is_read_through_spectrals_memory_map(fitted: dict, tmp_path: Path) -> None:
    envi = pytest.importorskip("spectral.io.envi")
    cube = fitted["cube"]
    envi.save_image(str(tmp_path / "cube.hdr"), cube, dtype=np.float32, interleave="bil")
    with open_cube(tmp_path / "cube.hdr") as source:
        assert source.shape == cube.shape
        np.testing.assert_array_equal(source.read(slice(4, 9), slice(10, 29)), cube[4:9, 10:])
        labels = predict_source(fitted["network"], source, tile=8)
    np.testing.assert_array_equal(labels, fitted["network"].predict(cube))
