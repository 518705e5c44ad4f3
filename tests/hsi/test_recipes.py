"""Recipes: named settings per model and paper, resolved with explicit settings in their place,
and the training and preprocessing they need (SGD with weight decay, a plateau schedule, the
last epoch kept, one min-max map of the cube)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from lightnets.hsi import HSIClassifier, Scene, stratified_split
from lightnets.hsi.config import ExperimentConfig
from lightnets.hsi.preprocessing import SpectralTransform
from lightnets.hsi.recipes import COMMON, PAPER, RECIPE_SETTINGS, get_recipe, resolve
from lightnets.hsi.training import FitConfig, build_optimizer, fit
from lightnets.models import create_model, list_models


@pytest.fixture
def scene(synthetic_scene_factory) -> Scene:
    s = synthetic_scene_factory(height=28, width=26, bands=20, num_classes=3, seed=1)
    return Scene("synthetic", s.cube, s.gt, s.class_names, (0, 5, 10), {"source": "test"})


def test_every_model_has_a_paper_recipe_with_its_source() -> None:
    assert set(PAPER) == {"svm", *list_models(task="hsi")}
    for model, recipe in PAPER.items():
        assert recipe.source, model
        assert set(recipe.settings()) == set(RECIPE_SETTINGS)
    assert PAPER["ssftt"].batch_size == 64 and PAPER["ssftt"].keep == "last"
    assert PAPER["ssftt"].last_batch == "even" and COMMON.last_batch == "keep"
    assert PAPER["ssftt"].path == "patch" and COMMON.path == "scene"
    assert PAPER["hamida3d"].optimizer == "sgd" and PAPER["hamida3d"].weight_decay == 5e-4
    assert PAPER["svm"].pca == 0 and PAPER["hu1d"].scaling == "minmax"
    assert get_recipe("ssftt", "common") is COMMON


def test_given_settings_override_the_recipe() -> None:
    resolved = resolve("ssftt", "paper", {"batch_size": 32, "lr": None, "unrelated": 1})
    assert resolved["batch_size"] == 32 and resolved["lr"] == 1e-3 and "unrelated" not in resolved
    config = ExperimentConfig(model="ssftt", recipe="paper", epochs=7)
    assert (config.batch_size, config.epochs, config.keep, config.window) == (64, 7, "last", 13)
    assert ExperimentConfig(model="ssftt").batch_size == 256  # the common recipe
    assert ExperimentConfig(model="ssftt", recipe="paper").path == "patch"
    assert ExperimentConfig(model="ssftt", recipe="paper", path="scene").path == "scene"
    with pytest.raises(ValueError, match=r"^path: expected one of 'scene', 'patch', got 'tile'"):
        ExperimentConfig(model="ssftt", path="tile")


def test_an_unknown_recipe_names_the_known_ones() -> None:
    with pytest.raises(ValueError, match=r"^recipe: expected one of 'common', 'paper', got 'x'"):
        ExperimentConfig(recipe="x")
    with pytest.raises(ValueError, match=r"^recipe: expected one of 'common', 'paper'"):
        HSIClassifier(recipe="mine").fit(np.ones((4, 4, 3)), np.eye(4, dtype=int) + 1)


def test_the_estimator_uses_the_recipe_and_records_it(scene: Scene) -> None:
    split = stratified_split(scene.gt, 0.3, seed=0)
    clf = HSIClassifier("hu1d", recipe="paper", epochs=3).fit(scene, train_mask=split.train)
    assert clf.settings_["optimizer"] == "sgd" and clf.settings_["epochs"] == 3
    assert clf.transform_.scaling == "minmax" and clf.transform_.n_outputs == 20  # all bands
    assert clf.best_epoch_ == 3  # the last epoch is kept
    assert [row["lr"] for row in clf.history_] == [0.01] * 3


def test_sgd_with_weight_decay_and_a_plateau_schedule() -> None:
    model = create_model("hu1d", bands=12, num_classes=3)
    config = FitConfig(optimizer="sgd", lr=1e-6, weight_decay=1e-3, schedule="plateau", epochs=8)
    optimizer = build_optimizer(model, config)
    assert isinstance(optimizer, torch.optim.SGD)
    assert optimizer.defaults["weight_decay"] == 1e-3 and optimizer.defaults["momentum"] == 0
    rng = np.random.default_rng(0)
    cube = rng.random((12, 6, 6)).astype(np.float32)
    positions = np.stack(np.nonzero(np.ones((6, 6))), axis=1)
    labels = rng.integers(0, 3, len(positions))  # a tiny lr: the loss stalls, the lr falls
    result = fit(model, cube, positions, labels, config, progress=False)
    rates = [row["lr"] for row in result.history]
    assert rates[0] == 1e-6 and rates[-1] <= 1e-7 and rates == sorted(rates, reverse=True)
    with pytest.raises(ValueError, match=r"^weight_decay: expected a number >= 0"):
        FitConfig(weight_decay=-1.0)
    with pytest.raises(ValueError, match=r"^optimizer: expected one of 'adam', 'sgd'"):
        FitConfig(optimizer="lbfgs")


def test_minmax_scaling_is_one_affine_map_to_the_unit_interval(synthetic_scene) -> None:
    cube = synthetic_scene.cube
    out = SpectralTransform(None, scaling="minmax").fit_transform(cube)
    low, high = float(cube.min()), float(cube.max())
    np.testing.assert_allclose(out, (cube - low) / (high - low), rtol=1e-5, atol=1e-6)
    assert out.min() == pytest.approx(0.0) and out.max() == pytest.approx(1.0)
    state = SpectralTransform(4, scaling="minmax", whiten=True).fit(cube).state_dict()
    again = SpectralTransform.from_state_dict(state)
    np.testing.assert_array_equal(again.transform(cube), SpectralTransform.from_state_dict(
        state).transform(cube))
    assert again.scaling == "minmax"


def test_a_file_saved_before_recipes_still_loads(scene: Scene, tmp_path: Path) -> None:
    split = stratified_split(scene.gt, 0.3, seed=0)
    clf = HSIClassifier("svm", pca=0, whiten=False, model_kwargs={"folds": 2})
    clf.fit(scene, train_mask=split.train)
    state = torch.load(clf.save(tmp_path / "new.lnet"), weights_only=True)
    params = {k: v for k, v in state["params"].items() if k not in RECIPE_SETTINGS}
    params.pop("recipe")
    params.update(pca=None, whiten=False, standardize=False, pca_fit="scene", window=None,
                  epochs=100, batch_size=256, lr=1e-3)
    del state["settings"]
    torch.save({**state, "format_version": 1, "params": params}, tmp_path / "old.lnet")
    old = HSIClassifier.load(tmp_path / "old.lnet")
    assert old.pca == 0 and old.scaling == "none" and old.settings_["pca"] == 0
    np.testing.assert_array_equal(old.predict(scene.cube), clf.predict(scene.cube))
