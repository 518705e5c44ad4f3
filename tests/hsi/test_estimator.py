"""HSIClassifier: scikit-learn conventions, the same result as the experiment driver, save and
load of networks and the SVM, and one clear error for each bad input."""

from __future__ import annotations

import os
import pickle
from pathlib import Path

import numpy as np
import pytest
import torch

from lightnets.hsi import HSIClassifier, HSIEvaluation, Scene, stratified_split
from lightnets.hsi.config import ExperimentConfig
from lightnets.hsi.experiment import run_experiment

FAST = dict(pca=13, window=9, epochs=3, batch_size=32, random_state=3)


@pytest.fixture
def scene(synthetic_scene_factory) -> Scene:
    s = synthetic_scene_factory(height=28, width=26, bands=20, num_classes=3, seed=1)
    return Scene("synthetic", s.cube, s.gt, s.class_names, (0, 5, 10), {"source": "test"})


@pytest.fixture
def split(scene: Scene):
    return stratified_split(scene.gt, 0.3, seed=3, class_names=scene.class_names)


def test_scikit_learn_conventions(scene: Scene, split) -> None:
    from sklearn.base import clone

    clf = HSIClassifier("hybridsn", **FAST, model_kwargs={"drop_rate": 0.2})
    assert not [k for k in vars(clf) if k.endswith("_")]  # nothing fitted before fit
    params = clf.get_params()
    assert params["model"] == "hybridsn" and params["epochs"] == 3
    twin = clone(clf)
    assert twin is not clf and twin.get_params() == params
    assert clf.set_params(epochs=2) is clf and clf.epochs == 2
    assert HSIClassifier(**clf.get_params()).get_params() == clf.get_params()
    assert clf.fit(scene, train_mask=split.train) is clf
    assert clf.classes_.tolist() == [1, 2, 3] and clf.n_bands_in_ == 20 and clf.window_ == 9
    assert len(clf.history_) == 2
    assert not [k for k in vars(clone(clf)) if k.endswith("_")]


def test_the_estimator_gives_the_experiment_drivers_map_and_scores(
    scene: Scene, split, tmp_path: Path
) -> None:
    config = ExperimentConfig(
        scene="synthetic", pca=13, window=9, epochs=3, batch_size=32, train_fraction=0.3, seed=3
    )
    summary = run_experiment(config, tmp_path, scene=scene, progress=False, log=lambda _s: None)
    clf = HSIClassifier("hybridsn", **FAST)
    clf.fit(scene.cube, scene.gt, train_mask=split.train, class_names=scene.class_names)
    prediction = clf.predict(scene.cube)
    assert prediction.shape == scene.gt.shape and prediction.dtype == np.int64
    assert np.array_equal(prediction, np.load(tmp_path / "prediction.npy"))
    result = clf.evaluate(scene, mask=split.test)
    run = summary["runs"][0]
    assert isinstance(result, HSIEvaluation)
    assert (result.oa, result.aa, result.kappa) == (run["oa"], run["aa"], run["kappa"])
    assert result.n_pixels == int(split.test.sum()) and list(result.per_class) == list(
        scene.class_names
    )
    assert clf.score(scene, mask=split.test) == result.oa
    proba = clf.predict_proba(scene.cube)
    assert proba.shape == (*scene.gt.shape, 3)
    np.testing.assert_allclose(proba.sum(-1), 1.0, atol=1e-5)
    assert np.array_equal(proba.argmax(-1) + 1, prediction)


def test_a_saved_network_predicts_the_same_after_loading(
    scene: Scene, split, tmp_path: Path
) -> None:
    clf = HSIClassifier("hu1d", pca=0, whiten=False, epochs=2, batch_size=64).fit(
        scene, train_mask=split.train
    )
    path = clf.save(tmp_path / "hu.lnet")
    again = HSIClassifier.load(path)
    assert again.get_params() == clf.get_params() and again.class_names_ == clf.class_names_
    np.testing.assert_array_equal(again.predict_proba(scene.cube), clf.predict_proba(scene.cube))
    new_cube = scene.cube[3:20, 2:25] * 1.01  # another cube with the same bands
    np.testing.assert_array_equal(again.predict(new_cube), clf.predict(new_cube))


def test_the_svm_is_the_same_estimator_fit_predict_save_load(
    scene: Scene, split, tmp_path: Path
) -> None:
    clf = HSIClassifier("svm", pca=10, random_state=3, model_kwargs={"folds": 3})
    clf.fit(scene, train_mask=split.train)
    assert clf.network_ is None and clf.svm_ is not None and clf.window_ == 1
    prediction = clf.predict(scene.cube)
    assert set(np.unique(prediction)) <= {1, 2, 3}
    assert clf.evaluate(scene, mask=split.test).oa > 0.9
    again = HSIClassifier.load(clf.save(tmp_path / "svm.lnet"))
    assert again.svm_.pipeline_ is None  # no scikit-learn object in the file: our vote
    np.testing.assert_array_equal(again.predict(scene.cube), prediction)
    with pytest.raises(ValueError, match=r"^model: expected a network for predict_proba"):
        clf.predict_proba(scene.cube)


def _crafted(path: Path, marker: Path) -> Path:
    class Evil:
        def __reduce__(self):
            return (os.system, (f"touch {marker}",))

    path.write_bytes(pickle.dumps({"format": "lightnets-hsi-classifier", "x": Evil()}))
    return path


@pytest.mark.filterwarnings("ignore:Detected pickle protocol")
def test_load_refuses_other_files_newer_versions_and_crafted_ones(
    scene: Scene, split, tmp_path: Path
) -> None:
    other = tmp_path / "other.pt"
    torch.save({"weights": torch.zeros(3)}, other)
    with pytest.raises(ValueError, match=r"^path: expected a lightnets 'lightnets-hsi-classif"):
        HSIClassifier.load(other)
    clf = HSIClassifier("svm", pca=5, model_kwargs={"folds": 2}).fit(scene, train_mask=split.train)
    state = torch.load(clf.save(tmp_path / "ok.lnet"), weights_only=True)
    state["format_version"] = 99
    torch.save(state, tmp_path / "newer.lnet")
    with pytest.raises(ValueError, match=r"format version <= 2 \(upgrade lightnets.*version 99"):
        HSIClassifier.load(tmp_path / "newer.lnet")
    marker = tmp_path / "ran"
    with pytest.raises(ValueError, match=r"^path: expected a file saved by torch.save"):
        HSIClassifier.load(_crafted(tmp_path / "evil.lnet", marker))
    assert not marker.exists()
    with pytest.raises(FileNotFoundError, match=r"^path: no file at"):
        HSIClassifier.load(tmp_path / "missing.lnet")


def test_bad_input_gets_one_error_naming_the_argument(scene: Scene, split) -> None:
    from sklearn.exceptions import NotFittedError

    clf = HSIClassifier("hybridsn", **FAST)
    with pytest.raises(NotFittedError, match=r"^predict: expected a fitted HSIClassifier"):
        clf.predict(scene.cube)
    with pytest.raises(ValueError, match=r"^y: expected a ground truth of the cube's spatial"):
        clf.fit(scene.cube, scene.gt[:-1])
    with pytest.raises(ValueError, match=r"^y: expected the H×W ground truth"):
        clf.fit(scene.cube)
    with pytest.raises(ValueError, match=r"^train_mask: expected a boolean array of shape"):
        clf.fit(scene, train_mask=split.train[:, :-1])
    no_class_2 = split.train & (scene.gt != 2)
    with pytest.raises(ValueError, match=r"^train_mask: expected training pixels of every class"):
        clf.fit(scene, train_mask=no_class_2)
    with pytest.raises(ValueError, match=r"^model_kwargs: expected arguments that hybridsn"):
        HSIClassifier("hybridsn", **FAST, model_kwargs={"depth": 3}).fit(scene)
    with pytest.raises(ValueError, match=r"^model_kwargs: expected keys among c_grid"):
        HSIClassifier("svm", model_kwargs={"kernel": "linear"}).fit(scene)
    with pytest.raises(ValueError, match=r"^model: expected 'svm' or one of"):
        HSIClassifier("resnet18").fit(scene)
    with pytest.raises(ValueError, match=r"^last_batch: expected one of 'keep', 'even'"):
        HSIClassifier("hybridsn", **FAST, last_batch="drop").fit(scene)
    fitted = HSIClassifier("svm", pca=5, model_kwargs={"folds": 2}).fit(
        scene, train_mask=split.train
    )
    with pytest.raises(ValueError, match=r"^X: expected a cube with 20 bands \(as fitted\)"):
        fitted.predict(scene.cube[..., :12])
    with pytest.raises(ValueError, match=r"^y: expected labels 0..3"):
        fitted.evaluate(scene.cube, scene.gt + (scene.gt > 0))


def test_a_class_without_training_pixels_is_allowed_when_asked(scene: Scene, split) -> None:
    no_class_2 = split.train & (scene.gt != 2)
    clf = HSIClassifier("svm", pca=5, model_kwargs={"folds": 2})
    clf.fit(scene, train_mask=no_class_2, allow_missing_classes=True)
    prediction = clf.predict(scene.cube)
    assert clf.classes_.tolist() == [1, 2, 3] and 2 not in set(np.unique(prediction).tolist())
    with pytest.raises(ValueError, match=r"^train_mask: expected at least one labelled"):
        clf.fit(scene, train_mask=np.zeros_like(split.train), allow_missing_classes=True)
