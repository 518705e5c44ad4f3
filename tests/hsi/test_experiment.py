"""End-to-end runs on a small synthetic scene: outputs, reproducibility, resume, predict."""

import json
from pathlib import Path

import numpy as np
import pytest

from lightnets.cli import main
from lightnets.hsi import HSIClassifier
from lightnets.hsi.config import ExperimentConfig
from lightnets.hsi.experiment import run_experiment
from lightnets.hsi.scenes import Scene


@pytest.fixture
def scene(synthetic_scene_factory) -> Scene:
    s = synthetic_scene_factory(height=28, width=26, bands=20, num_classes=3, seed=1)
    return Scene("synthetic", s.cube, s.gt, s.class_names, (0, 5, 10), {"source": "test"})


def history_rows(folder: Path) -> list[str]:
    return (folder / "history.csv").read_text().splitlines()[1:]


def _config(**overrides) -> ExperimentConfig:
    base = dict(
        scene="synthetic", pca=13, window=9, epochs=3, batch_size=32, train_fraction=0.3, seed=3
    )
    return ExperimentConfig(**{**base, **overrides})


def test_run_folder_has_every_output(scene: Scene, tmp_path: Path) -> None:
    result = run_experiment(_config(), tmp_path, scene=scene, progress=False, log=lambda s: None)
    names = {p.name for p in tmp_path.iterdir()}
    assert {
        "config.json",
        "metrics.json",
        "history.csv",
        "model.pt",
        "map.png",
        "confusion.png",
        "report.md",
    } <= names
    assert "checkpoint.pt" not in names  # training state is dropped once the run is complete
    metrics = json.loads((tmp_path / "metrics.json").read_text())
    for key in ("oa", "aa", "kappa", "per_class", "overlap", "train_seconds", "map_seconds"):
        assert key in metrics
    assert 0 <= metrics["oa"] <= 1 and len(metrics["per_class"]) == 3
    assert metrics["overlap"] > 0.5  # a random split: most test windows see a training pixel
    assert metrics["wall_seconds"] > metrics["train_seconds"] + metrics["map_seconds"]
    config = json.loads((tmp_path / "config.json").read_text())
    assert config["seed"] == 3 and config["environment"]["torch"]
    assert (tmp_path / "history.csv").read_text().count("\n") == 4  # header + 3 epochs
    assert result["summary"]["oa"]["n"] == 1
    # without validation pixels the epoch with the lowest training loss is kept
    losses = [float(r.split(",")[1]) for r in history_rows(tmp_path)]
    assert result["runs"][0]["best_epoch"] == 1 + losses.index(min(losses))


def test_keep_train_acc_keeps_the_first_epoch_of_highest_training_accuracy(
    scene: Scene, tmp_path: Path
) -> None:
    run = run_experiment(
        _config(keep="train_acc", epochs=4), tmp_path, scene=scene, progress=False,
        log=lambda s: None,
    )["runs"][0]
    header, *rows = (tmp_path / "history.csv").read_text().splitlines()
    column = header.split(",").index("train_acc")
    accuracy = [float(r.split(",")[column]) for r in rows]
    assert run["best_epoch"] == 1 + accuracy.index(max(accuracy))


def test_same_seed_same_metrics_and_different_seed_differs(scene: Scene, tmp_path: Path) -> None:
    quiet = dict(scene=scene, progress=False, log=lambda s: None)
    a = run_experiment(_config(), tmp_path / "a", **quiet)["runs"][0]
    b = run_experiment(_config(), tmp_path / "b", **quiet)["runs"][0]
    run_experiment(_config(seed=4), tmp_path / "c", **quiet)
    for key in ("oa", "aa", "kappa", "per_class"):
        assert a[key] == b[key]
    ha = (tmp_path / "a" / "history.csv").read_text().splitlines()
    hb = (tmp_path / "b" / "history.csv").read_text().splitlines()
    assert [r.split(",")[1] for r in ha] == [r.split(",")[1] for r in hb]  # identical losses
    hc = (tmp_path / "c" / "history.csv").read_text().splitlines()
    assert [r.split(",")[1] for r in ha] != [r.split(",")[1] for r in hc]


def test_interrupted_run_resumes_to_the_same_result(
    scene: Scene, tmp_path: Path, monkeypatch
) -> None:
    quiet = dict(scene=scene, progress=False, log=lambda s: None)
    full = run_experiment(_config(), tmp_path / "full", **quiet)["runs"][0]

    from lightnets.hsi import training

    original = training.engine.train_epoch
    calls = {"n": 0}

    def interrupted(*args, **kwargs):
        calls["n"] += 1
        if calls["n"] == 3:
            raise KeyboardInterrupt
        return original(*args, **kwargs)

    monkeypatch.setattr(training.engine, "train_epoch", interrupted)
    with pytest.raises(KeyboardInterrupt):
        run_experiment(_config(), tmp_path / "cut", **quiet)
    monkeypatch.undo()
    assert (tmp_path / "cut" / "checkpoint.pt").exists()  # two epochs saved
    resumed = run_experiment(_config(), tmp_path / "cut", resume=True, **quiet)["runs"][0]
    for key in ("oa", "aa", "kappa", "per_class"):
        assert resumed[key] == full[key]


def test_several_runs_write_a_summary(scene: Scene, tmp_path: Path) -> None:
    result = run_experiment(
        _config(runs=2, epochs=1), tmp_path, scene=scene, progress=False, log=lambda s: None
    )
    assert {p.name for p in tmp_path.iterdir()} >= {"seed3", "seed4", "summary.json", "summary.md"}
    assert result["summary"]["oa"]["n"] == 2
    assert "±" in (tmp_path / "summary.md").read_text()


def test_validation_selects_on_validation_pixels_only(scene: Scene, tmp_path: Path) -> None:
    result = run_experiment(
        _config(val_fraction=0.3), tmp_path, scene=scene, progress=False, log=lambda s: None
    )
    run = result["runs"][0]
    assert 1 <= run["best_epoch"] <= 3
    history = (tmp_path / "history.csv").read_text().splitlines()
    assert history[0].endswith("val_oa")


def test_predictor_classifies_a_new_cube_and_rejects_other_band_counts(
    scene: Scene, tmp_path: Path
) -> None:
    run_experiment(_config(), tmp_path, scene=scene, progress=False, log=lambda s: None)
    predictor = HSIClassifier.load(tmp_path / "model.pt")
    labels = predictor.predict(scene.cube)
    assert labels.shape == scene.gt.shape and labels.min() >= 1 and labels.max() <= 3
    assert np.array_equal(labels, np.load(tmp_path / "prediction.npy"))
    with pytest.raises(ValueError, match=r"^X: expected a cube with 20 bands"):
        predictor.predict(scene.cube[:, :, :15])

    np.save(tmp_path / "cube.npy", scene.cube)
    assert (
        main(
            [
                "hsi",
                "predict",
                "--checkpoint",
                str(tmp_path / "model.pt"),
                "--cube",
                str(tmp_path / "cube.npy"),
                "--out",
                str(tmp_path / "pred.npy"),
                "--tile",
                "7",  # streamed tile by tile
            ]
        )
        == 0
    )
    assert np.array_equal(np.load(tmp_path / "pred.npy"), labels)


def test_bad_checkpoints_get_clear_errors(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="checkpoint: no file at"):
        HSIClassifier.load(tmp_path / "missing.pt", argument="checkpoint")
    (tmp_path / "junk.pt").write_bytes(b"not a checkpoint")
    with pytest.raises(ValueError, match=r"checkpoint: expected a file saved by torch\.save"):
        HSIClassifier.load(tmp_path / "junk.pt", argument="checkpoint")


def test_bad_settings_are_rejected_before_any_work() -> None:
    with pytest.raises(ValueError, match=r"^split: expected one of 'random'"):
        _config(split="checkerboard")
    with pytest.raises(ValueError, match=r"^train_fraction: expected a number in \(0, 1\)"):
        _config(train_fraction=1.5)
    with pytest.raises(ValueError, match=r"^runs: expected an integer >= 1"):
        _config(runs=0)
    with pytest.raises(ValueError, match=r"^batching: expected one of 'random', 'mixed'"):
        _config(batching="tiles")
    with pytest.raises(ValueError, match=r"^last_batch: expected one of 'keep', 'even'"):
        _config(last_batch="drop")
    with pytest.raises(ValueError, match=r"^epochs: expected an integer >= 1"):
        _config(epochs=0)
    with pytest.raises(ValueError, match=r"^buffer: expected an odd integer >= the window \(9\)"):
        _config(buffer=7)
    with pytest.raises(ValueError, match=r"^buffer: expected an odd integer >= the window"):
        _config(buffer=12)
    assert _config().buffer == 9 and _config(buffer=13).buffer == 13
    assert _config().batching == "random"  # the default written out, as config.json records it


def test_cli_trains_on_your_own_files(scene: Scene, tmp_path: Path, capsys) -> None:
    np.save(tmp_path / "cube.npy", scene.cube)
    np.save(tmp_path / "gt.npy", scene.gt)
    args = [
        "hsi",
        "train",
        "--scene",
        str(tmp_path / "cube.npy"),
        "--gt",
        str(tmp_path / "gt.npy"),
        "--pca",
        "13",
        "--window",
        "9",
        "--epochs",
        "2",
        "--batch-size",
        "32",
        "--out",
        str(tmp_path / "run"),
        "--quiet",
    ]
    assert main(args) == 0
    out = capsys.readouterr().out
    assert "OA" in out and "kappa" in out.lower() and str(tmp_path / "run") in out
    assert (tmp_path / "run" / "map.png").exists()


def test_cli_reports_bad_input_in_one_line(tmp_path: Path, capsys) -> None:
    assert (
        main(
            [
                "hsi",
                "train",
                "--scene",
                str(tmp_path / "missing.npy"),
                "--gt",
                str(tmp_path / "gt.npy"),
                "--quiet",
            ]
        )
        == 2
    )
    err = capsys.readouterr().err
    assert err.startswith("lightnets: error:") and "missing.npy" in err
    assert main(["hsi", "train", "--window", "10", "--quiet"]) == 2
    assert "window" in capsys.readouterr().err


def test_cli_lists_the_scene_catalogue(capsys) -> None:
    assert main(["hsi", "scenes"]) == 0
    from lightnets.hsi.catalogue import SCENES

    lines = capsys.readouterr().out.splitlines()
    assert len(SCENES) == 7
    for key in SCENES:
        assert any(line.startswith(f"| {key} ") for line in lines)


def test_dropout_left_on_changes_predictions_eval_mode_does_not(
    scene: Scene, tmp_path: Path, capsys
) -> None:
    run_experiment(_config(), tmp_path, scene=scene, progress=False, log=lambda s: None)
    np.save(tmp_path / "cube.npy", scene.cube)
    args = ["hsi", "dropout", "--checkpoint", str(tmp_path / "model.pt"), "--cube",
            str(tmp_path / "cube.npy"), "--repeats", "4"]
    assert main(args) == 0
    out = capsys.readouterr().out
    train_line = next(line for line in out.splitlines() if "train mode" in line)
    eval_line = next(line for line in out.splitlines() if "eval mode" in line)
    assert int(train_line.split(":")[1].split()[0].replace(",", "")) > 0
    assert int(eval_line.split(":")[1].split()[0].replace(",", "")) == 0


@pytest.mark.parametrize("split", ["blocks", "regions"])
def test_disjoint_splits_have_no_overlap_in_the_run(scene: Scene, tmp_path: Path, split) -> None:
    from lightnets.hsi.experiment import make_split

    config = _config(split=split, block_size=8)
    made = make_split(scene, config, seed=0)
    assert made.overlap(config.window) == 0 and made.train.any()
    metrics = run_experiment(config, tmp_path / split, scene=scene, progress=False)["runs"][0]
    assert metrics["overlap"] == 0.0


def test_a_larger_buffer_gives_the_split_of_that_window(scene: Scene) -> None:
    from lightnets.hsi.experiment import make_split

    wide = make_split(scene, _config(split="regions", buffer=13), seed=0)
    same = make_split(scene, _config(split="regions", window=13), seed=0)
    narrow = make_split(scene, _config(split="regions"), seed=0)
    assert np.array_equal(wide.train, same.train) and np.array_equal(wide.test, same.test)
    assert wide.overlap(13) == 0 and wide.overlap(9) == 0
    assert wide.test.sum() < narrow.test.sum()  # a wider buffer keeps fewer test pixels


def test_resume_refuses_a_folder_made_with_other_settings(scene: Scene, tmp_path: Path) -> None:
    config = _config(model="svm", window=None, runs=2)
    first = run_experiment(config, tmp_path, scene=scene, progress=False, log=lambda _: None)
    more = run_experiment(
        _config(model="svm", window=None, runs=3), tmp_path, scene=scene, resume=True,
        progress=False, log=lambda _: None,
    )  # more seeds of the same settings: the finished ones are reused
    assert [r["oa"] for r in more["runs"][:2]] == [r["oa"] for r in first["runs"]]
    with pytest.raises(ValueError, match=r"^resume: .*seed3 was made with train_fraction=0.3, "
                       r"this run asks for train_fraction=0.2; use another output folder"):
        run_experiment(
            _config(model="svm", window=None, runs=2, train_fraction=0.2), tmp_path,
            scene=scene, resume=True, progress=False, log=lambda _: None,
        )


def test_resume_names_a_corrupt_config_json(scene: Scene, tmp_path: Path) -> None:
    (tmp_path / "config.json").write_text("{not json")
    with pytest.raises(ValueError, match=r"^resume: .*config.json is not a run's config.json"):
        run_experiment(
            _config(model="svm", window=None), tmp_path, scene=scene, resume=True,
            progress=False, log=lambda _: None,
        )


def test_spatial_cross_validation_runs_one_fold_per_run(scene: Scene, tmp_path: Path) -> None:
    config = _config(split="spatial-cv", folds=3, block_size=8, window=1, buffer=5, model="hu1d")
    assert config.runs == 3 and config.buffer == 5
    result = run_experiment(config, tmp_path, scene=scene, progress=False, log=lambda s: None)
    assert result["summary"]["oa"]["n"] == 3
    left_out = 0
    for i, seed in enumerate((3, 4, 5)):
        record = json.loads((tmp_path / f"seed{seed}" / "config.json").read_text())
        assert record["split"]["fold"] == i and record["split"]["protocol"].startswith("spatial")
        left_out += sum(n for _, n in record["split"]["dropped"])
        metrics = json.loads((tmp_path / f"seed{seed}" / "metrics.json").read_text())
        assert metrics["overlap"] == 0.0
    from lightnets.hsi.folds import spatial_folds

    folds = spatial_folds(scene.gt, 3, block_size=8, window=5, seed=3, on_missing="drop")
    tested = sum(f.test.astype(np.int64) for f in folds)
    assert tested.max() == 1 and int(tested.sum()) + left_out == int((scene.gt > 0).sum())
    with pytest.raises(ValueError, match=r"^runs: expected 1 or folds \(3\)"):
        _config(split="spatial-cv", folds=3, runs=2)
