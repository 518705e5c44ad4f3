"""Experiments with every hyperspectral model and the SVM: own windows, same run folder."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from lightnets.hsi import HSIClassifier
from lightnets.hsi.config import ExperimentConfig
from lightnets.hsi.experiment import make_split, run_experiment
from lightnets.hsi.scenes import Scene

DEFAULT_WINDOWS = {
    "svm": 1,
    "hu1d": 1,
    "hamida3d": 5,
    "ssftt": 13,
    "hybridsn": 25,
    "hybridsn_se": 25,
    "hybridsn_cbam": 25,
    "hybridsn_lite": 25,
}


@pytest.fixture
def scene(synthetic_scene_factory) -> Scene:
    s = synthetic_scene_factory(height=28, width=26, bands=20, num_classes=3, seed=1)
    return Scene("synthetic", s.cube, s.gt, s.class_names, (0, 5, 10), {"source": "test"})


def _config(**overrides) -> ExperimentConfig:
    base = dict(scene="synthetic", pca=13, epochs=1, batch_size=32, train_fraction=0.3, seed=3)
    return ExperimentConfig(**{**base, **overrides})


@pytest.mark.parametrize(("model", "window"), DEFAULT_WINDOWS.items())
def test_each_model_gets_its_own_window_unless_one_is_given(model: str, window: int) -> None:
    assert ExperimentConfig(model=model).window == window
    if window > 1:
        assert ExperimentConfig(model=model, window=window + 2).window == window + 2


def test_the_split_buffers_use_the_models_window(scene: Scene) -> None:
    for model, window in (("svm", 1), ("hamida3d", 5)):
        config = _config(model=model, split="regions")
        split = make_split(scene, config, seed=0)
        assert split.summary()["window"] == window and split.overlap(window) == 0


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"model": "resnet18"}, r"^model: expected 'svm' or a hyperspectral model \(hamida3d, "),
        ({"model": "svm", "window": 4}, r"^window: expected an odd integer >= 1, got 4"),
        ({"model": "ssftt", "window": 3}, r"^window: expected an odd integer >= 5, got 3"),
        ({"model": "hu1d", "window": 5}, r"^window: expected 1 \(hu1d classifies a pixel"),
    ],
)
def test_bad_models_and_windows_fail_when_the_config_is_made(kwargs: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        ExperimentConfig(**kwargs)


def test_svm_run_writes_the_same_outputs_but_no_training_history(
    scene: Scene, tmp_path: Path
) -> None:
    config = _config(model="svm", runs=2)
    result = run_experiment(config, tmp_path, scene=scene, progress=False, log=lambda s: None)
    run = tmp_path / "seed3"
    names = {p.name for p in run.iterdir()}
    assert {"config.json", "metrics.json", "prediction.npy", "map.png", "confusion.png"} <= names
    assert "model.pt" in names and not names & {"history.csv", "checkpoint.pt"}
    saved = HSIClassifier.load(run / "model.pt")  # the SVM is saved and maps a cube again
    assert saved.svm_ is not None
    assert np.array_equal(saved.predict(scene.cube), np.load(run / "prediction.npy"))
    metrics = json.loads((run / "metrics.json").read_text())
    for key in ("oa", "aa", "kappa", "per_class", "overlap", "train_seconds", "map_seconds"):
        assert key in metrics
    assert metrics["wall_seconds"] >= metrics["train_seconds"] + metrics["map_seconds"]
    assert metrics["overlap"] == 0 and metrics["support_vectors"] > 0
    assert json.loads((run / "config.json").read_text())["model_kwargs"]["bands"] == 13
    prediction = np.load(run / "prediction.npy")
    assert prediction.shape == scene.gt.shape and set(np.unique(prediction)) <= {1, 2, 3}
    report = (run / "report.md").read_text()
    assert "svm" in report and "writes no `history.csv`" in report
    assert result["summary"]["oa"]["n"] == 2 and (tmp_path / "summary.md").exists()
    again = run_experiment(config, tmp_path, scene=scene, resume=True, log=lambda s: None)
    assert again["runs"] == result["runs"]


@pytest.mark.parametrize("model", ["hu1d", "hamida3d", "ssftt"])
def test_every_network_runs_at_its_default_window(scene: Scene, tmp_path: Path, model: str) -> None:
    config = _config(model=model)
    result = run_experiment(config, tmp_path, scene=scene, progress=False, log=lambda s: None)
    saved = json.loads((tmp_path / "config.json").read_text())
    assert saved["model_kwargs"]["window"] == DEFAULT_WINDOWS[model]
    assert saved["experiment"]["window"] == DEFAULT_WINDOWS[model]
    assert 0 <= result["runs"][0]["oa"] <= 1 and (tmp_path / "model.pt").exists()
