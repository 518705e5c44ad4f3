"""Scene catalogue, file resolution and load_scene, on synthetic files and on real Indian Pines."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import numpy as np
import pytest
import scipy.io as sio

from lightnets.hsi import scenes
from lightnets.hsi.catalogue import SCENES, scene_info
from lightnets.hsi.scenes import available_scenes, load_scene, locate_scene

# Published labelled pixels per class of Indian Pines (GIC page; shared data README).
INDIAN_PINES_COUNTS = [
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
]


@pytest.fixture(autouse=True)
def _isolated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """No LIGHTNETS_DATA and an empty user cache, so only what a test sets up is found."""
    monkeypatch.delenv(scenes.DATA_ENV, raising=False)
    cache = tmp_path / "cache"
    cache.mkdir()
    monkeypatch.setattr(scenes, "user_cache_dir", lambda: cache)
    return cache


@pytest.fixture
def no_tensorly(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "tensorly", None)
    monkeypatch.setitem(sys.modules, "tensorly.datasets", None)


def _write_salinas_a(folder: Path, *, offset: int = 0, counts=None) -> Path:
    """Files shaped like the published Salinas-A: raw labels 1, 10..14 with published counts."""
    info = SCENES["salinas_a"]
    height, width, bands = info.shape
    counts = info.class_counts if counts is None else counts
    labels = np.concatenate(
        [np.full(n, v, dtype=np.uint8) for v, n in zip(info.label_values, counts, strict=True)]
    )
    flat = np.zeros(height * width, dtype=np.uint8)
    flat[: labels.size] = labels
    gt = np.random.default_rng(1).permutation(flat).reshape(height, width)
    cube = (np.arange(height * width * bands) % 97 + offset).astype(np.uint16)
    folder.mkdir(parents=True, exist_ok=True)
    sio.savemat(folder / info.cube_file, {info.cube_variable: cube.reshape(info.shape)})
    sio.savemat(folder / info.gt_file, {info.gt_variable: gt})
    return folder


# -- catalogue -------------------------------------------------------------------------------


def test_catalogue_entries_are_consistent() -> None:
    assert set(SCENES) == {
        "indian_pines",
        "pavia_university",
        "pavia_centre",
        "salinas",
        "salinas_a",
        "ksc",
        "botswana",
    }
    for info in SCENES.values():
        assert len(info.class_names) == len(info.class_counts) == info.num_classes
        assert len(set(info.class_names)) == info.num_classes
        assert all(n > 0 for n in info.class_counts)
        assert sum(info.class_counts) < info.shape[0] * info.shape[1]
        assert all(0 <= b < info.shape[2] for b in info.rgb_bands)
        assert info.cube_url.endswith("/" + info.cube_file)
        assert info.gt_url.endswith("/" + info.gt_file)
        assert info.cube_url.startswith("https://www.ehu.eus/ccwintco/uploads/")
        if info.label_values is not None:
            assert len(info.label_values) == info.num_classes
    assert SCENES["indian_pines"].gt_sha256 == (
        "65c4687a8ab04f6da4789799bc3bc4f6e88bccac3ed6a2e6ae367e5e6b9e429c"
    )
    assert list(SCENES["indian_pines"].class_counts) == INDIAN_PINES_COUNTS


@pytest.mark.parametrize(
    ("name", "key"),
    [
        ("Indian Pines", "indian_pines"),
        ("IndianPines", "indian_pines"),
        ("PaviaU", "pavia_university"),
        ("pavia university", "pavia_university"),
        ("Pavia", "pavia_centre"),
        ("Salinas-A", "salinas_a"),
        ("KSC", "ksc"),
    ],
)
def test_scene_names_and_aliases(name: str, key: str) -> None:
    assert scene_info(name).key == key


def test_unknown_name_lists_the_catalogue() -> None:
    with pytest.raises(ValueError, match=r"^name: expected one of indian_pines, .*botswana"):
        scene_info("indian_pine")
    with pytest.raises(ValueError, match=r"^name_or_path: expected one of indian_pines, .*'foo'"):
        load_scene("foo")


# -- resolution ------------------------------------------------------------------------------


def test_data_dir_with_scene_subfolder_and_renumbering(tmp_path: Path) -> None:
    _write_salinas_a(tmp_path / "data" / "salinas_a")
    scene = load_scene("Salinas-A", data_dir=tmp_path / "data")
    assert scene.metadata["source"] == "data_dir"
    assert scene.cube.dtype == np.float32 and scene.cube.shape == (83, 86, 204)
    assert scene.gt.dtype == np.int64
    assert sorted(np.unique(scene.gt).tolist()) == [0, 1, 2, 3, 4, 5, 6]
    assert scene.class_counts().tolist() == list(SCENES["salinas_a"].class_counts)
    assert scene.class_names[1] == "Corn_senesced_green_weeds"


def test_env_folder_then_data_dir_precedence(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _write_salinas_a(tmp_path / "env", offset=0)
    _write_salinas_a(tmp_path / "explicit", offset=1000)
    monkeypatch.setenv(scenes.DATA_ENV, str(tmp_path / "env"))
    from_env = load_scene("salinas_a")
    assert from_env.metadata["source"] == "env"
    assert from_env.cube.max() < 1000
    explicit = load_scene("salinas_a", data_dir=tmp_path / "explicit")
    assert explicit.metadata["source"] == "data_dir"
    assert explicit.cube.min() >= 1000


def test_user_cache_is_searched(_isolated: Path) -> None:
    _write_salinas_a(_isolated / "salinas_a")
    location = locate_scene("salinas_a")
    assert location is not None and location.source == "cache"
    assert load_scene("salinas_a").metadata["source"] == "cache"


def test_missing_scene_error_says_what_to_do(no_tensorly: None, tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError) as excinfo:
        load_scene("indian_pines", data_dir=tmp_path / "nowhere")
    message = str(excinfo.value)
    for expected in (
        "Indian_pines_corrected.mat",
        "Indian_pines_gt.mat",
        "data_dir=",
        "LIGHTNETS_DATA",
        str(tmp_path / "nowhere"),
        "download=True",
        'pip install "lightnets[indian-pines]"',
        "https://www.ehu.eus/ccwintco/uploads/6/67/Indian_pines_corrected.mat",
    ):
        assert expected in message
    assert locate_scene("indian_pines") is None


def test_download_uses_published_urls_and_hash(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, no_tensorly: None
) -> None:
    import pooch

    source = _write_salinas_a(tmp_path / "published")
    calls = []

    def fake_retrieve(url: str, known_hash: str | None, fname: str, path: Path) -> str:
        calls.append((url, known_hash, fname))
        Path(path).mkdir(parents=True, exist_ok=True)
        shutil.copy(source / fname, Path(path) / fname)
        return str(Path(path) / fname)

    monkeypatch.setattr(pooch, "retrieve", fake_retrieve)
    with pytest.raises(FileNotFoundError):
        load_scene("salinas_a")  # no download unless asked
    assert calls == []
    scene = load_scene("salinas_a", download=True)
    assert scene.metadata["source"] == "download"
    info = SCENES["salinas_a"]
    assert calls == [(info.cube_url, None, info.cube_file), (info.gt_url, None, info.gt_file)]


def test_download_checks_indian_pines_gt_hash(
    monkeypatch: pytest.MonkeyPatch, no_tensorly: None
) -> None:
    import pooch

    hashes = {}

    def fake_retrieve(url: str, known_hash: str | None, fname: str, path: Path) -> str:
        hashes[fname] = (url, known_hash)
        if fname.endswith("_gt.mat"):
            raise RuntimeError("stop")
        return "unused"

    monkeypatch.setattr(pooch, "retrieve", fake_retrieve)
    with pytest.raises(ConnectionError, match="RuntimeError: stop"):
        load_scene("indian_pines", download=True)
    info = SCENES["indian_pines"]
    assert hashes[info.cube_file] == (info.cube_url, None)
    assert hashes[info.gt_file] == (info.gt_url, f"sha256:{info.gt_sha256}")


# -- published-file checks -------------------------------------------------------------------


def test_wrong_class_counts_are_not_the_published_file(tmp_path: Path) -> None:
    counts = list(SCENES["salinas_a"].class_counts)
    counts[0] -= 1
    _write_salinas_a(tmp_path, counts=counts)
    with pytest.raises(ValueError, match=r"Salinas-A ground truth .*this is not the published"):
        load_scene("salinas_a", data_dir=tmp_path)


def test_wrong_shape_is_not_the_published_file(tmp_path: Path) -> None:
    info = SCENES["salinas_a"]
    _write_salinas_a(tmp_path)
    sio.savemat(tmp_path / info.cube_file, {info.cube_variable: np.zeros((83, 86, 200), "u2")})
    with pytest.raises(ValueError, match=r"published shape \(83, 86, 204\).*\(83, 86, 200\)"):
        load_scene("salinas_a", data_dir=tmp_path)


def test_unexpected_raw_labels(tmp_path: Path) -> None:
    info = SCENES["salinas_a"]
    _write_salinas_a(tmp_path)
    gt = sio.loadmat(tmp_path / info.gt_file)[info.gt_variable]
    gt[0, 0] = 7
    sio.savemat(tmp_path / info.gt_file, {info.gt_variable: gt})
    with pytest.raises(ValueError, match=r"labels 0, 1, 10, 11, 12, 13, 14 .*also \[7\]"):
        load_scene("salinas_a", data_dir=tmp_path)


# -- user files ------------------------------------------------------------------------------


def test_own_files(tmp_path: Path, synthetic_scene) -> None:
    np.save(tmp_path / "field.npy", synthetic_scene.cube.astype(np.float64))
    sio.savemat(tmp_path / "field_gt.mat", {"labels": synthetic_scene.gt.astype(np.uint8)})
    scene = load_scene(tmp_path / "field.npy", gt=tmp_path / "field_gt.mat")
    assert scene.name == "field"
    assert scene.cube.dtype == np.float32 and scene.gt.dtype == np.int64
    np.testing.assert_array_equal(scene.gt, synthetic_scene.gt)
    assert scene.class_names == ("class 1", "class 2", "class 3", "class 4")
    assert scene.rgb_bands is None
    assert scene.metadata["source"] == "path"

    named = load_scene(str(tmp_path / "field.npy"), gt=synthetic_scene.gt, class_names="abcd")
    assert named.class_names == ("a", "b", "c", "d")
    unlabelled = load_scene(tmp_path / "field.npy")
    assert unlabelled.gt.shape == (30, 24) and not unlabelled.gt.any()


def test_own_files_errors(tmp_path: Path, synthetic_scene) -> None:
    np.save(tmp_path / "cube.npy", synthetic_scene.cube)
    np.save(tmp_path / "gt_small.npy", synthetic_scene.gt[:-1])
    with pytest.raises(ValueError, match=r"the cube's spatial shape \(30, 24\).*\(29, 24\)"):
        load_scene(tmp_path / "cube.npy", gt=tmp_path / "gt_small.npy")
    with pytest.raises(ValueError, match=r"labels in 0\.\.2 \(0 = unlabelled, 2 class names"):
        load_scene(tmp_path / "cube.npy", gt=synthetic_scene.gt, class_names=["a", "b"])
    with pytest.raises(FileNotFoundError, match=r"absent\.mat"):
        load_scene(tmp_path / "absent.mat")
    with pytest.raises(ValueError, match=r"^rgb_bands: expected three band indices in 0\.\.11"):
        load_scene(tmp_path / "cube.npy", rgb_bands=(1, 2, 12))
    with pytest.raises(ValueError, match=r"^gt: expected None for a catalogue scene.*'ndarray'"):
        load_scene("indian_pines", gt=synthetic_scene.gt)
    with pytest.raises(ValueError, match=r"^class_names: expected None for a catalogue scene"):
        load_scene("indian_pines", class_names=["a"])


# -- report ----------------------------------------------------------------------------------


def test_available_scenes_report(tmp_path: Path, no_tensorly: None) -> None:
    _write_salinas_a(tmp_path / "salinas_a")
    rows = {row["name"]: row for row in available_scenes(data_dir=tmp_path)}
    assert list(rows) == list(SCENES)
    assert rows["salinas_a"]["found"] == str(tmp_path / "salinas_a")
    assert rows["indian_pines"]["found"] == "not found"
    assert rows["pavia_university"]["size"] == "610×340"
    assert rows["pavia_university"]["bands"] == 103 and rows["pavia_university"]["classes"] == 9
    table = scenes.scenes_table(data_dir=tmp_path)
    assert "| salinas_a " in table and "not found" in table


def test_tensorly_is_reported_for_indian_pines() -> None:
    pytest.importorskip("tensorly")
    rows = {row["name"]: row for row in available_scenes()}
    assert rows["indian_pines"]["found"] == "tensorly"
    assert rows["ksc"]["found"] == "not found"


# -- real data -------------------------------------------------------------------------------


def test_indian_pines_from_data_dir(indian_pines_dir: Path) -> None:
    scene = load_scene("indian_pines", data_dir=indian_pines_dir)
    assert scene.metadata["source"] == "data_dir"
    assert scene.metadata["gt_path"] == str(indian_pines_dir / "Indian_pines_gt.mat")
    assert scene.metadata["gt_sha256_match"] is True
    assert scene.cube.shape == (145, 145, 200) and scene.cube.dtype == np.float32
    assert scene.gt.shape == (145, 145) and scene.gt.dtype == np.int64
    assert scene.class_counts().tolist() == INDIAN_PINES_COUNTS
    assert (scene.cube.min(), scene.cube.max()) == (955.0, 9604.0)
    assert scene.rgb_bands == (43, 21, 11)
    assert scene.class_names[8] == "Oats"


def test_indian_pines_from_tensorly_equals_the_mat(indian_pines_dir: Path) -> None:
    pytest.importorskip("tensorly")
    scene = load_scene("indian_pines")  # no data_dir, no env var, empty cache
    assert scene.metadata["source"] == "tensorly"
    cube = sio.loadmat(indian_pines_dir / "Indian_pines_corrected.mat")["indian_pines_corrected"]
    gt = sio.loadmat(indian_pines_dir / "Indian_pines_gt.mat")["indian_pines_gt"]
    np.testing.assert_array_equal(scene.cube, cube.astype(np.float32))
    np.testing.assert_array_equal(scene.gt, gt)
    assert scene.class_counts().tolist() == INDIAN_PINES_COUNTS
