"""Map jobs: parts kept per tile, resuming, outputs assembled, torchrun ranks sharing tiles."""

from __future__ import annotations

import errno
import os
import socket
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from lightnets.cli import main
from lightnets.hsi import HSIClassifier, mapjob
from lightnets.hsi.mapjob import Preview, map_cube_file, parts_folder
from lightnets.hsi.smoothing import majority_filter
from lightnets.hsi.streaming import tiles


@pytest.fixture(scope="module")
def job(tmp_path_factory) -> dict:
    """A striped scene 37×29×16 saved as cube.npy, a network and an SVM saved beside it."""
    folder = tmp_path_factory.mktemp("job")
    rng = np.random.default_rng(2)
    gt = np.zeros((37, 29), dtype=np.int64)
    for k in range(4):
        gt[1:-1, 1 + 6 * k : 1 + 6 * (k + 1)] = k + 1
    cube = (rng.uniform(100, 1000, (5, 16))[gt] + rng.normal(0, 150, (37, 29, 16))).astype("f4")
    np.save(folder / "cube.npy", cube)
    net = HSIClassifier("hybridsn", pca=13, window=9, epochs=2, batch_size=32).fit(cube, gt)
    net.save(folder / "net.lnet")
    other = HSIClassifier("hybridsn", pca=13, window=9, epochs=1, batch_size=32, random_state=5)
    other.fit(cube, gt).save(folder / "other.lnet")
    small_grid = {"c_grid": [10.0], "gamma_grid": [1.0], "folds": 2}
    svm = HSIClassifier("svm", pca=6, model_kwargs=small_grid).fit(cube, gt)
    svm.save(folder / "svm.lnet")
    return {"folder": folder, "cube": cube, "net": net, "svm": svm}


def _predict(job: dict, out: Path, *extra: str, model: str = "net.lnet") -> int:
    folder = job["folder"]
    return main(["hsi", "predict", "--checkpoint", str(folder / model), "--cube",
                 str(folder / "cube.npy"), "--out", str(out), "--tile", "8", "--quiet", *extra])


def test_an_npy_map_its_preview_and_no_parts_left(job: dict, tmp_path: Path, capsys) -> None:
    assert _predict(job, tmp_path / "map.npy") == 0
    np.testing.assert_array_equal(np.load(tmp_path / "map.npy"), job["net"].predict(job["cube"]))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["map.npy", "map.preview.png"]
    printed = capsys.readouterr().out
    assert "classified 1,073 pixels into 4 classes" in printed and "map.preview.png" in printed


def test_confidence_is_the_largest_class_probability(job: dict, tmp_path: Path) -> None:
    assert _predict(job, tmp_path / "map.npy", "--confidence") == 0
    expected = job["net"].predict_proba(job["cube"]).max(axis=2)
    confidence = np.load(tmp_path / "map.confidence.npy")
    assert confidence.dtype == np.float32
    np.testing.assert_allclose(confidence, expected, rtol=1e-5, atol=1e-6)
    assert confidence.min() >= 0.25 and confidence.max() <= 1.0  # 4 classes


def test_a_geotiff_confidence_raster_keeps_the_georeferencing(job: dict, tmp_path: Path) -> None:
    rasterio = pytest.importorskip("rasterio")
    from rasterio.transform import from_origin

    cube = job["cube"]
    transform = from_origin(300000.0, 5000000.0, 30.0, 30.0)
    profile = {"driver": "GTiff", "height": 37, "width": 29, "count": 16, "dtype": "float32",
               "crs": "EPSG:32633", "transform": transform}
    with rasterio.open(tmp_path / "cube.tif", "w", **profile) as dst:
        dst.write(cube.transpose(2, 0, 1))
    assert main(["hsi", "predict", "--checkpoint", str(job["folder"] / "net.lnet"), "--cube",
                 str(tmp_path / "cube.tif"), "--out", str(tmp_path / "map.tif"), "--confidence",
                 "--quiet"]) == 0
    with rasterio.open(tmp_path / "map.confidence.tif") as src:
        assert src.crs.to_epsg() == 32633 and src.transform == transform
        assert src.dtypes == ("float32",)
        expected = job["net"].predict_proba(cube).max(axis=2)
        np.testing.assert_allclose(src.read(1), expected, rtol=1e-5, atol=1e-6)


def test_the_svm_has_no_confidence(job: dict, tmp_path: Path, capsys) -> None:
    assert _predict(job, tmp_path / "map.npy", "--confidence", model="svm.lnet") == 2
    err = capsys.readouterr().err
    assert "confidence: expected a network's model (the SVM votes" in err
    assert list(tmp_path.iterdir()) == []


def test_a_smoothed_map_and_its_resume(job: dict, tmp_path: Path, monkeypatch, capsys) -> None:
    out = tmp_path / "map.npy"
    with monkeypatch.context() as m:
        _fail_after(m, "_save_part", 3)
        assert _predict(job, out, "--smooth", "5") == 2
    capsys.readouterr()
    assert _predict(job, out, "--resume") == 2  # the unfinished map was smoothed
    err = capsys.readouterr().err
    assert "resume: expected the smooth that began map.npy: 5, got 1" in err
    assert _predict(job, out, "--resume", "--smooth", "5") == 0
    expected = majority_filter(job["net"].predict(job["cube"]), 5, 4)
    np.testing.assert_array_equal(np.load(out), expected)
    assert _predict(job, tmp_path / "even.npy", "--smooth", "4") == 2
    assert "smooth: expected an odd integer >= 1 (the window's side), got 4" in (
        capsys.readouterr().err
    )
    assert not (tmp_path / "even.npy").exists()


def test_a_preview_keeps_every_nth_pixel() -> None:
    labels = np.arange(37 * 29).reshape(37, 29)
    preview = Preview(37, 29, side=10)
    assert preview.step == 4
    for t in tiles(37, 29, 7):
        preview.write(t, labels[t.r0 : t.r1, t.c0 : t.c1])
    np.testing.assert_array_equal(preview.image, labels[::4, ::4])


def _fail_after(monkeypatch, function: str, n: int, owner=mapjob) -> None:
    """``owner.function`` raises 'no space left' from its (n+1)-th call."""
    original = getattr(owner, function)
    calls = {"n": 0}

    def failing(*args, **kwargs):
        calls["n"] += 1
        if calls["n"] > n:
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        return original(*args, **kwargs)

    monkeypatch.setattr(owner, function, failing)


def test_an_interrupted_map_resumes_from_its_finished_tiles(
    job: dict, tmp_path: Path, monkeypatch, capsys
) -> None:
    out = tmp_path / "map.npy"
    with monkeypatch.context() as m:  # the disk fills after 5 of the 20 tiles
        _fail_after(m, "_save_part", 5)
        assert _predict(job, out) == 2
    assert "No space left on device" in capsys.readouterr().err
    assert not out.exists()
    assert len(list(parts_folder(out).glob("*.labels.npy"))) == 5

    assert _predict(job, out) == 2  # no silent restart over finished tiles
    err = capsys.readouterr().err
    assert "out: expected a map without unfinished parts (--resume continues them" in err
    assert "holds 5 of 20 tiles" in err

    result = map_cube_file(job["folder"] / "net.lnet", job["folder"] / "cube.npy", out, tile=8,
                           resume=True, log=lambda _: None)
    assert (result.classified, result.reused) == (15, 5)
    np.testing.assert_array_equal(np.load(out), job["net"].predict(job["cube"]))
    assert not parts_folder(out).exists()


def test_a_disk_that_fills_while_assembling_leaves_no_map(
    job: dict, tmp_path: Path, monkeypatch
) -> None:
    from lightnets.hsi import streaming

    out = tmp_path / "map.npy"
    with monkeypatch.context() as m, pytest.raises(OSError, match="No space left"):
        _fail_after(m, "write", 3, owner=streaming.NpyLabels)
        map_cube_file(job["folder"] / "net.lnet", job["folder"] / "cube.npy", out, tile=8)
    assert sorted(p.name for p in tmp_path.iterdir()) == [".map.npy.parts"]  # no map, no temp
    result = map_cube_file(job["folder"] / "net.lnet", job["folder"] / "cube.npy", out, tile=8,
                           resume=True, log=lambda _: None)
    assert (result.classified, result.reused) == (0, 20)  # every tile kept, only assembled
    np.testing.assert_array_equal(np.load(out), job["net"].predict(job["cube"]))


def test_resuming_with_another_model_is_refused(job: dict, tmp_path: Path, monkeypatch,
                                                 capsys) -> None:
    out = tmp_path / "map.tif"
    with monkeypatch.context() as m:
        _fail_after(m, "_save_part", 2)
        assert _predict(job, out) == 2
    capsys.readouterr()
    assert _predict(job, out, "--resume", model="other.lnet") == 2
    err = capsys.readouterr().err
    assert "resume: expected the model that began map.tif: " in err
    assert "net.lnet (sha256 " in err and "other.lnet (sha256 " in err
    assert _predict(job, out, "--resume", "--confidence") == 2
    assert "resume: expected the confidence that began map.tif: False, got True" in (
        capsys.readouterr().err
    )


def test_an_output_folder_that_cannot_be_written(job: dict, tmp_path: Path, capsys) -> None:
    (tmp_path / "a_file").write_text("")
    assert _predict(job, tmp_path / "a_file" / "map.npy") == 2
    err = capsys.readouterr().err
    assert err.startswith("lightnets: error: out: expected a file in a folder that can be written")
    assert err.count("\n") == 1
    assert _predict(job, tmp_path / "map.jpg") == 2
    assert "out: expected a map file ending in .npy, .tif, .tiff, .png" in capsys.readouterr().err


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.slow
def test_two_torchrun_processes_make_the_one_process_map(job: dict, tmp_path: Path) -> None:
    folder = job["folder"]
    command = [
        sys.executable, "-m", "torch.distributed.run", "--nproc_per_node", "2",
        "--master_addr", "127.0.0.1", "--master_port", str(_free_port()),
        "-m", "lightnets", "hsi", "predict", "--checkpoint", str(folder / "net.lnet"),
        "--cube", str(folder / "cube.npy"), "--out", str(tmp_path / "map.npy"), "--tile", "8",
        "--confidence", "--quiet",
    ]
    done = subprocess.run(command, capture_output=True, text=True, timeout=300,
                          env={**os.environ, "OMP_NUM_THREADS": "1"})
    assert done.returncode == 0, done.stderr[-2000:]
    assert "by 2 processes" in done.stdout and done.stdout.count("classified") == 1
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # each rank ran with one thread: the same sums in the same order
    try:
        reference = map_cube_file(folder / "net.lnet", folder / "cube.npy",
                                  tmp_path / "one" / "map.npy", tile=8, confidence=True)
    finally:
        torch.set_num_threads(threads)
    assert reference.world_size == 1
    np.testing.assert_array_equal(np.load(tmp_path / "map.npy"),
                                  np.load(tmp_path / "one" / "map.npy"))
    np.testing.assert_array_equal(np.load(tmp_path / "map.confidence.npy"),
                                  np.load(tmp_path / "one" / "map.confidence.npy"))
    assert not parts_folder(tmp_path / "map.npy").exists()



@pytest.mark.slow
def test_indian_pines_mapped_in_tiles_equals_the_in_memory_map(
    indian_pines_scene, tmp_path: Path
) -> None:
    """HybridSN at its paper window (25) and PCA (30), one epoch: the map job over tiles of 64
    (145 is no multiple of it) gives every pixel the label and the largest probability of the
    whole cube's ``predict_proba`` (a network this young may give one class everywhere, so the
    probabilities carry the check)."""
    from lightnets.hsi.splits import stratified_split

    scene = indian_pines_scene
    split = stratified_split(scene.gt, 0.1, seed=0)
    clf = HSIClassifier("hybridsn", epochs=1).fit(scene, train_mask=split.train)
    clf.save(tmp_path / "ip.lnet")
    np.save(tmp_path / "ip.npy", scene.cube)
    proba = clf.predict_proba(scene.cube)
    assert proba.max(axis=2).std() > 1e-3  # the probabilities differ from pixel to pixel
    map_cube_file(tmp_path / "ip.lnet", tmp_path / "ip.npy", tmp_path / "map.npy", tile=64,
                  confidence=True)
    np.testing.assert_array_equal(np.load(tmp_path / "map.npy"), clf.predict(scene.cube))
    np.testing.assert_allclose(np.load(tmp_path / "map.confidence.npy"), proba.max(axis=2),
                               rtol=1e-4, atol=1e-5)
