"""SpectralSVM: fits a separable synthetic scene, cross-validation picks the grid, predictions."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pytest

pytest.importorskip("sklearn")

from lightnets.hsi.svm import SpectralSVM


def _scene(factory: Callable, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """A bands-first cube and its 0-based labels (−1 unlabelled) from the conftest factory."""
    scene = factory(height=26, width=22, bands=12, num_classes=4, seed=seed)
    return scene.cube.transpose(2, 0, 1), scene.gt - 1


def _split(gt: np.ndarray, per_class: int, seed: int = 0):
    rng = np.random.default_rng(seed)
    train, test = [], []
    for k in range(gt.max() + 1):
        rows, cols = np.nonzero(gt == k)
        order = rng.permutation(len(rows))
        pos = np.stack([rows[order], cols[order]], 1)
        train.append(pos[:per_class])
        test.append(pos[per_class:])
    train_pos, test_pos = np.concatenate(train), np.concatenate(test)
    return train_pos, gt[tuple(train_pos.T)], test_pos, gt[tuple(test_pos.T)]


def test_fits_a_separable_scene_and_predicts(synthetic_scene_factory: Callable) -> None:
    cube, gt = _scene(synthetic_scene_factory)
    train_pos, train_y, test_pos, test_y = _split(gt, per_class=10)
    svm = SpectralSVM().fit(cube, train_pos, train_y)
    assert svm.best_params_["C"] in svm.c_grid
    assert any(svm.best_params_["gamma"] * 12 == pytest.approx(g) for g in svm.gamma_grid)
    assert svm.cv_score_ == 1.0
    pred = svm.predict_pixels(cube, test_pos)
    assert pred.dtype == np.int64 and pred.shape == test_y.shape
    assert (pred == test_y).mean() == 1.0
    scene = svm.predict_scene(cube)
    assert scene.shape == gt.shape and scene.dtype == np.int64
    assert np.array_equal(scene[tuple(test_pos.T)], pred)
    assert svm.predict_pixels(cube, np.empty((0, 2), dtype=np.int64)).shape == (0,)


def test_cross_validation_rejects_a_useless_pair(synthetic_scene_factory: Callable) -> None:
    cube, gt = _scene(synthetic_scene_factory, seed=1)
    train_pos, train_y, test_pos, test_y = _split(gt, per_class=8, seed=1)
    # γ = 1e4 / bands makes every training pixel its own island: the kernel vanishes between
    # distinct pixels, a validation pixel gets the intercepts' class, about 1 in 4 right.
    svm = SpectralSVM(c_grid=(10.0,), gamma_grid=(1e4, 1.0), folds=4, seed=3)
    svm.fit(cube, train_pos, train_y)
    assert svm.best_params_ == {"C": 10.0, "gamma": pytest.approx(1.0 / 12)}
    assert svm.cv_score_ == 1.0
    assert (svm.predict_pixels(cube, test_pos) == test_y).mean() == 1.0


def test_standardisation_makes_the_result_scale_free(synthetic_scene_factory: Callable) -> None:
    cube, gt = _scene(synthetic_scene_factory, seed=2)
    train_pos, train_y, _, _ = _split(gt, per_class=6, seed=2)
    a = SpectralSVM(seed=5).fit(cube, train_pos, train_y)
    b = SpectralSVM(seed=5).fit(cube * 1000.0 + 7.0, train_pos, train_y)
    assert a.best_params_ == b.best_params_ and a.cv_score_ == b.cv_score_
    assert np.array_equal(a.predict_scene(cube), b.predict_scene(cube * 1000.0 + 7.0))


def test_rare_classes_and_few_pixels(synthetic_scene_factory: Callable) -> None:
    cube, gt = _scene(synthetic_scene_factory, seed=3)
    train_pos, train_y, _, _ = _split(gt, per_class=3, seed=3)
    train_pos, train_y = train_pos[1:], train_y[1:]  # one class with 2 pixels, folds capped at 3
    svm = SpectralSVM(folds=5).fit(cube, train_pos, train_y)
    assert set(np.unique(svm.predict_scene(cube))) <= {0, 1, 2, 3}


def test_bad_arguments_name_the_argument(synthetic_scene_factory: Callable) -> None:
    cube, gt = _scene(synthetic_scene_factory)
    pos, y, _, _ = _split(gt, per_class=5)
    with pytest.raises(ValueError, match=r"^labels: expected an integer array of shape \(20,\)"):
        SpectralSVM().fit(cube, pos, y[:-1])
    with pytest.raises(ValueError, match=r"^labels: expected an integer array"):
        SpectralSVM().fit(cube, pos, y.astype(float))
    with pytest.raises(ValueError, match=r"^labels: expected at least 2 classes"):
        SpectralSVM().fit(cube, pos, np.zeros(len(pos), dtype=np.int64))
    with pytest.raises(ValueError, match=r"^positions: expected \(row, col\) pairs inside"):
        SpectralSVM().fit(cube, pos + 100, y)
    with pytest.raises(ValueError, match=r"^cube: expected a real array of shape"):
        SpectralSVM().fit(cube[0], pos, y)
    with pytest.raises(ValueError, match=r"^folds: expected an integer >= 2, got 1"):
        SpectralSVM(folds=1)
    with pytest.raises(ValueError, match=r"^c_grid: expected one or more numbers > 0"):
        SpectralSVM(c_grid=(0.0, 1.0))
    with pytest.raises(RuntimeError, match="call fit"):
        SpectralSVM().predict_scene(cube)
    svm = SpectralSVM(c_grid=(10.0,), gamma_grid=(1.0,)).fit(cube, pos, y)
    with pytest.raises(ValueError, match=r"^cube: expected an array of shape \(12, H, W\)"):
        svm.predict_scene(cube[:5])
