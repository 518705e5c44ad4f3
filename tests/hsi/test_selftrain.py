"""Self-training: pseudo-labels only where the smoothed map agrees, never on training pixels."""

from __future__ import annotations

import numpy as np
import pytest

from lightnets.hsi import HSIClassifier
from lightnets.hsi.selftrain import pseudo_labels, self_train


def _fields() -> np.ndarray:
    labels = np.ones((12, 12), dtype=np.int64)
    labels[:, 6:] = 2
    return labels


def test_pseudo_labels_come_from_agreeing_windows_outside_training() -> None:
    labels = _fields()
    labels[3, 2] = 2  # an isolated error: its window disagrees with it
    train = np.zeros((12, 12), dtype=bool)
    train[:, :2] = True
    got = pseudo_labels(labels, train, size=3, per_class=1000, agree=1.0)
    assert not got[train].any()
    assert got[3, 2] == 0 and got[2:5, 1:4].sum() == 0  # the error and its neighbours
    picked = got > 0
    np.testing.assert_array_equal(got[picked], labels[picked])  # the map's own label
    # at the border between the fields a 3×3 window is split: no pixel there agrees fully
    assert not picked[:, 5:7].any()
    assert picked[8, 3] and picked[0, 10]


def test_at_most_per_class_pixels_a_class_drawn_by_the_seed() -> None:
    labels, train = _fields(), np.zeros((12, 12), dtype=bool)
    a = pseudo_labels(labels, train, size=3, per_class=5, seed=1)
    assert [(a == c).sum() for c in (1, 2)] == [5, 5]
    np.testing.assert_array_equal(a, pseudo_labels(labels, train, size=3, per_class=5, seed=1))
    assert (a != pseudo_labels(labels, train, size=3, per_class=5, seed=2)).any()


class _Recorder:
    """Fits nothing; records each fit and predicts a fixed map."""

    def __init__(self, prediction: np.ndarray) -> None:
        self.prediction, self.fits = prediction, []

    def fit(self, cube, gt, train_mask, **kwargs):
        self.fits.append((gt.copy(), train_mask.copy(), kwargs))
        self.classes_ = np.array([1, 2])
        return self

    def predict(self, cube):
        return self.prediction


def test_each_round_refits_on_training_and_pseudo_labelled_pixels() -> None:
    gt = np.zeros((12, 12), dtype=np.int64)
    gt[:, 0], gt[:, 11] = 1, 2
    train = gt > 0
    rec = _Recorder(_fields())
    self_train(
        rec,
        np.zeros((12, 12, 3)),
        gt,
        train,
        size=3,
        per_class=10,
        rounds=2,
        class_names=["a", "b"],
    )
    assert len(rec.fits) == 3  # the first fit and one per round
    np.testing.assert_array_equal(rec.fits[0][1], train)
    for extended, mask, kwargs in rec.fits[1:]:
        assert kwargs == {"class_names": ["a", "b"]}
        assert (mask & ~train).sum() == 20  # 10 a class
        np.testing.assert_array_equal(extended[train], gt[train])  # true labels kept
        added = mask & ~train
        np.testing.assert_array_equal(extended[added], _fields()[added])
    np.testing.assert_array_equal(rec.pseudo_labels_ > 0, rec.fits[-1][1] & ~train)


def test_an_svm_self_trains_on_a_scene() -> None:
    rng = np.random.default_rng(0)
    gt = np.zeros((20, 20), dtype=np.int64)
    gt[2:-2, 2:10], gt[2:-2, 10:18] = 1, 2
    cube = rng.uniform(0, 1, (3, 8))[gt] + rng.normal(0, 0.05, (20, 20, 8))
    train = np.zeros_like(gt, dtype=bool)
    train[2:5, 2:18] = True
    grid = {"c_grid": [10.0], "gamma_grid": [1.0], "folds": 2}
    clf = self_train(HSIClassifier("svm", pca=4, model_kwargs=grid), cube, gt, train, size=3)
    assert (clf.pseudo_labels_[train] == 0).all() and (clf.pseudo_labels_ > 0).sum() > 0
    assert set(np.unique(clf.predict(cube)[gt > 0])) == {1, 2}


def test_bad_input_names_the_argument() -> None:
    labels, train = _fields(), np.zeros((12, 12), dtype=bool)
    with pytest.raises(ValueError, match=r"^agree: expected a share in \(0, 1\], got 0"):
        pseudo_labels(labels, train, agree=0)
    with pytest.raises(ValueError, match=r"^per_class: expected an integer >= 1, got 0"):
        pseudo_labels(labels, train, per_class=0)
    with pytest.raises(ValueError, match=r"^train: expected a boolean array of shape \(12, 12\)"):
        pseudo_labels(labels, np.zeros((12, 11), dtype=bool))
    with pytest.raises(ValueError, match=r"^rounds: expected an integer >= 1, got 0"):
        self_train(_Recorder(labels), np.zeros((12, 12, 3)), labels, train, rounds=0)
