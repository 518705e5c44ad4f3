"""File readers and input validation: every format, every bad input, one clear error each."""

from __future__ import annotations

import sys
import types
from pathlib import Path

import h5py
import numpy as np
import pytest
import scipy.io as sio
from PIL import Image

from lightnets.hsi.readers import (
    check_cube,
    check_ground_truth,
    list_variables,
    read_cube,
    read_ground_truth,
)


def _write_v73(path: Path, variables: dict[str, np.ndarray], *, matlab_header: bool) -> None:
    """Write arrays the way MATLAB v7.3 does: HDF5, column-major (axes reversed on disk)."""
    with h5py.File(path, "w", userblock_size=512 if matlab_header else 0) as f:
        for name, array in variables.items():
            dataset = f.create_dataset(name, data=np.ascontiguousarray(array.T))
            dataset.attrs["MATLAB_class"] = np.bytes_(array.dtype.name)
        f.create_group("#refs#")
    if matlab_header:
        text = b"MATLAB 7.3 MAT-file, Platform: GLNXA64, Created on: Mon Jan  1 00:00:00 2024 HDF5"
        header = text.ljust(116, b" ") + b"\x00" * 8 + b"\x00\x02" + b"IM"
        with path.open("r+b") as f:
            f.write(header)


# -- .mat v5 ---------------------------------------------------------------------------------


def test_mat_v5_picks_the_single_cube_and_gt(tmp_path: Path, synthetic_scene) -> None:
    cube, gt = synthetic_scene.cube, synthetic_scene.gt
    sio.savemat(tmp_path / "scene.mat", {"cube": cube, "labels": gt.astype(np.uint8)})
    np.testing.assert_array_equal(read_cube(tmp_path / "scene.mat"), cube)
    read_gt = read_ground_truth(tmp_path / "scene.mat")
    assert read_gt.dtype == np.int64
    np.testing.assert_array_equal(read_gt, gt)


def test_mat_gt_stored_as_whole_doubles_is_accepted(tmp_path: Path, synthetic_scene) -> None:
    sio.savemat(tmp_path / "gt.mat", {"gt": synthetic_scene.gt.astype(np.float64)})
    np.testing.assert_array_equal(read_ground_truth(tmp_path / "gt.mat"), synthetic_scene.gt)


def test_mat_with_two_cubes_asks_for_variable(tmp_path: Path, synthetic_scene) -> None:
    cube = synthetic_scene.cube
    sio.savemat(tmp_path / "two.mat", {"raw": cube, "corrected": cube[:, :, :5]})
    with pytest.raises(ValueError, match=r"^variable: expected .*one of raw, corrected"):
        read_cube(tmp_path / "two.mat")
    assert read_cube(tmp_path / "two.mat", variable="corrected").shape[2] == 5
    with pytest.raises(ValueError, match=r"^variable: expected one of the arrays .*got 'nope'"):
        read_cube(tmp_path / "two.mat", variable="nope")


def test_prefer_is_a_soft_choice(tmp_path: Path, synthetic_scene) -> None:
    cube = synthetic_scene.cube
    sio.savemat(tmp_path / "two.mat", {"raw": cube, "corrected": cube[:, :, :5]})
    assert read_cube(tmp_path / "two.mat", prefer="corrected").shape[2] == 5
    with pytest.raises(ValueError, match=r"^variable: expected .*one of raw, corrected"):
        read_cube(tmp_path / "two.mat", prefer="absent")  # falls back to the automatic choice
    sio.savemat(tmp_path / "one.mat", {"renamed": cube})
    assert read_cube(tmp_path / "one.mat", prefer="published_name").shape == cube.shape


def test_mat_with_two_label_maps_asks_for_variable(tmp_path: Path, synthetic_scene) -> None:
    gt = synthetic_scene.gt.astype(np.uint8)
    sio.savemat(tmp_path / "gts.mat", {"train": gt, "test": gt})
    with pytest.raises(ValueError, match=r"^gt_variable: .*gt array in gts.mat, one of train, tes"):
        read_ground_truth(tmp_path / "gts.mat")
    np.testing.assert_array_equal(read_ground_truth(tmp_path / "gts.mat", variable="test"), gt)


def test_scalars_and_text_are_not_candidates(tmp_path: Path, synthetic_scene) -> None:
    gt = synthetic_scene.gt.astype(np.uint8)
    sio.savemat(tmp_path / "gt.mat", {"gt": gt, "num_classes": 4, "sizes": np.arange(5)[None]})
    np.testing.assert_array_equal(read_ground_truth(tmp_path / "gt.mat"), gt)
    path = tmp_path / "v73.mat"
    _write_v73(path, {"gt": gt}, matlab_header=True)
    with h5py.File(path, "r+") as f:  # MATLAB stores text as uint16 codes of class 'char'
        text = f.create_dataset(
            "note", data=np.frombuffer(b"h\0i\0!\0x\0", "<u2")[None].repeat(3, 0)
        )
        text.attrs["MATLAB_class"] = np.bytes_("char")
    assert list_variables(path) == {"gt": ((30, 24), "uint8")}
    np.testing.assert_array_equal(read_ground_truth(path), gt)


def test_list_variables_reports_shapes(tmp_path: Path, synthetic_scene) -> None:
    sio.savemat(tmp_path / "s.mat", {"cube": synthetic_scene.cube})
    assert list_variables(tmp_path / "s.mat") == {"cube": ((30, 24, 12), "float32")}


# -- .mat v7.3 -------------------------------------------------------------------------------


@pytest.mark.parametrize("matlab_header", [True, False])
def test_mat_v73_is_transposed_back(tmp_path: Path, synthetic_scene, matlab_header: bool) -> None:
    cube, gt = synthetic_scene.cube, synthetic_scene.gt.astype(np.uint8)
    path = tmp_path / "v73.mat"
    _write_v73(path, {"cube": cube, "gt": gt}, matlab_header=matlab_header)
    with h5py.File(path, "r") as f:  # the stored layout really is reversed
        assert f["cube"].shape == cube.shape[::-1]
    np.testing.assert_array_equal(read_cube(path), cube)
    np.testing.assert_array_equal(read_ground_truth(path), gt)


def test_v73_header_is_what_scipy_rejects(tmp_path: Path, synthetic_scene) -> None:
    path = tmp_path / "v73.mat"
    _write_v73(path, {"cube": synthetic_scene.cube}, matlab_header=True)
    with pytest.raises(NotImplementedError):
        sio.loadmat(path)  # the header is a genuine v7.3 one, so h5py must be the reader
    assert read_cube(path).shape == synthetic_scene.cube.shape


# -- numpy -----------------------------------------------------------------------------------


def test_npy_and_npz(tmp_path: Path, synthetic_scene) -> None:
    np.save(tmp_path / "cube.npy", synthetic_scene.cube)
    np.savez(tmp_path / "scene.npz", cube=synthetic_scene.cube, gt=synthetic_scene.gt)
    np.testing.assert_array_equal(read_cube(tmp_path / "cube.npy"), synthetic_scene.cube)
    np.testing.assert_array_equal(read_cube(tmp_path / "scene.npz"), synthetic_scene.cube)
    np.testing.assert_array_equal(read_ground_truth(tmp_path / "scene.npz"), synthetic_scene.gt)


# -- label PNG -------------------------------------------------------------------------------


def test_png_palette_and_grayscale(tmp_path: Path, synthetic_scene) -> None:
    gt = synthetic_scene.gt
    palette = Image.fromarray(gt.astype(np.uint8), mode="P")
    palette.putpalette([v for k in range(256) for v in (k, 255 - k, 0)])
    palette.save(tmp_path / "palette.png")
    Image.fromarray(gt.astype(np.uint8), mode="L").save(tmp_path / "gray.png")
    np.testing.assert_array_equal(read_ground_truth(tmp_path / "palette.png"), gt)
    np.testing.assert_array_equal(read_ground_truth(tmp_path / "gray.png"), gt)


def test_png_in_colour_is_rejected(tmp_path: Path, synthetic_scene) -> None:
    rgb = np.stack([synthetic_scene.gt.astype(np.uint8)] * 3, axis=-1)
    Image.fromarray(rgb, mode="RGB").save(tmp_path / "colour.png")
    with pytest.raises(ValueError, match=r"palette or grayscale PNG .*mode 'RGB'"):
        read_ground_truth(tmp_path / "colour.png")


# -- optional formats ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("module", "suffix", "extra"),
    [("spectral", ".hdr", "envi"), ("rasterio", ".tif", "geotiff")],
)
def test_missing_extra_names_the_install(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, module: str, suffix: str, extra: str
) -> None:
    monkeypatch.setitem(sys.modules, module, None)  # import fails as if not installed
    path = tmp_path / f"image{suffix}"
    path.write_bytes(b"not read")
    with pytest.raises(ImportError, match=rf'pip install "lightnets\[{extra}\]"'):
        read_cube(path)


def test_envi_through_spectral_api(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    data = {"array": np.arange(4 * 5 * 3, dtype=np.int16).reshape(4, 5, 3)}
    opened = []

    class FakeImage:
        def load(self) -> np.ndarray:  # spectral's ImageArray: rows × samples × bands
            return data["array"]

    def fake_open(path: str) -> FakeImage:
        opened.append(path)
        return FakeImage()

    fake = types.ModuleType("spectral")
    fake.envi = types.SimpleNamespace(open=fake_open)  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "spectral", fake)
    header = tmp_path / "scene.hdr"
    header.write_text("ENVI\n")
    np.testing.assert_array_equal(read_cube(header), data["array"])
    assert opened == [str(header)]
    with pytest.raises(ValueError, match=r"^gt: expected a single-band image, got '3 bands"):
        read_ground_truth(header)
    data["array"] = np.array([[[0], [1]], [[2], [3]]], dtype=np.uint8)  # a one-band class map
    np.testing.assert_array_equal(read_ground_truth(header), [[0, 1], [2, 3]])


def test_geotiff_bands_first_becomes_bands_last(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    data = {"array": np.arange(3 * 4 * 5, dtype=np.uint16).reshape(3, 4, 5)}  # B×H×W

    class FakeDataset:
        def __enter__(self) -> FakeDataset:
            return self

        def __exit__(self, *args: object) -> None:
            return None

        def read(self) -> np.ndarray:
            return data["array"]

    fake = types.ModuleType("rasterio")
    fake.open = lambda path: FakeDataset()  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "rasterio", fake)
    path = tmp_path / "scene.tif"
    path.write_bytes(b"II*\x00")
    cube = read_cube(path)
    assert cube.shape == (4, 5, 3)
    np.testing.assert_array_equal(cube[:, :, 2], data["array"][2])
    with pytest.raises(ValueError, match=r"^gt: expected a single-band GeoTIFF, got '3 bands"):
        read_ground_truth(path)
    data["array"] = np.array([[[0, 1], [2, 0]]], dtype=np.uint8)
    np.testing.assert_array_equal(read_ground_truth(path), [[0, 1], [2, 0]])


# -- bad inputs ------------------------------------------------------------------------------


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match=r"^path: file not found: .*absent\.mat"):
        read_cube(tmp_path / "absent.mat")
    with pytest.raises(FileNotFoundError, match=r"^gt: file not found: .*absent_gt\.png"):
        read_ground_truth(tmp_path / "absent_gt.png")


def test_unsupported_suffix(tmp_path: Path) -> None:
    (tmp_path / "cube.csv").write_text("1,2,3")
    with pytest.raises(ValueError, match=r"^path: expected a file ending in \.mat, .*cube\.csv"):
        read_cube(tmp_path / "cube.csv")


@pytest.mark.parametrize("name", ["broken.mat", "broken.npy", "broken.npz", "broken.png"])
def test_corrupt_file(tmp_path: Path, name: str) -> None:
    path = tmp_path / name
    path.write_bytes(b"\x00\x01garbage" * 50)
    reader = read_ground_truth if name.endswith(".png") else read_cube
    with pytest.raises(ValueError, match=rf"^{tmp_path}/{name}: expected a readable .* file, got"):
        reader(path)


def test_cube_not_3d(tmp_path: Path, synthetic_scene) -> None:
    np.save(tmp_path / "flat.npy", synthetic_scene.cube[:, :, 0])
    with pytest.raises(ValueError, match=r"expected a 3-D array H×W×B, got 'a 2-D array"):
        read_cube(tmp_path / "flat.npy")
    sio.savemat(tmp_path / "flat.mat", {"band": synthetic_scene.cube[:, :, 0]})
    with pytest.raises(ValueError, match=r"expected a 3-D array H×W×B, got 'a 2-D array"):
        read_cube(tmp_path / "flat.mat")


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_non_finite_cube(synthetic_scene, bad: float) -> None:
    cube = synthetic_scene.cube.copy()
    cube[3, 4, 5] = bad
    cube[7, 1, 0] = bad
    with pytest.raises(ValueError, match=r"finite values .*2 non-finite values, the first at"):
        check_cube(cube)


def test_non_numeric_cube() -> None:
    with pytest.raises(ValueError, match=r"^cube: expected real numbers .*dtype bool"):
        check_cube(np.zeros((2, 2, 2), dtype=bool))
    with pytest.raises(ValueError, match=r"^cube: expected a numpy array"):
        check_cube([[[1.0]]])


def test_gt_checks(synthetic_scene) -> None:
    gt = synthetic_scene.gt.copy()
    with pytest.raises(
        ValueError, match=r"the cube's spatial shape \(30, 25\), got 'shape \(30, 24"
    ):
        check_ground_truth(gt, shape=(30, 25))
    negative = gt.copy()
    negative[0, 0] = -1
    with pytest.raises(ValueError, match=r"labels >= 0 .*1 negative labels, min -1"):
        check_ground_truth(negative)
    with pytest.raises(ValueError, match=r"labels in 0\.\.3 .*3 class names given.*labels up to 4"):
        check_ground_truth(gt, num_classes=3)
    with pytest.raises(ValueError, match=r"whole-number labels"):
        check_ground_truth(gt + 0.5)
    with pytest.raises(ValueError, match=r"a 2-D array H×W, got 'a 3-D array"):
        check_ground_truth(gt[:, :, None])


def test_labels_beyond_class_list_from_file(tmp_path: Path, synthetic_scene) -> None:
    np.save(tmp_path / "gt.npy", synthetic_scene.gt)
    with pytest.raises(ValueError, match=r"ground truth in gt\.npy: expected labels in 0\.\.2"):
        read_ground_truth(tmp_path / "gt.npy", class_names=["a", "b"])
    assert read_ground_truth(tmp_path / "gt.npy", class_names=list("abcd")).max() == 4


def test_negative_labels_from_file(tmp_path: Path, synthetic_scene) -> None:
    gt = synthetic_scene.gt.astype(np.int16)
    gt[2, 2] = -3
    sio.savemat(tmp_path / "gt.mat", {"gt": gt})
    with pytest.raises(ValueError, match=r"negative labels"):
        read_ground_truth(tmp_path / "gt.mat")
