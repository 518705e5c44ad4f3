"""Metrics against scikit-learn on random data, on hand-made cases, and run summaries."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.metrics import (
    accuracy_score,
    balanced_accuracy_score,
    cohen_kappa_score,
)
from sklearn.metrics import (
    confusion_matrix as sk_confusion_matrix,
)

from lightnets.hsi.metrics import (
    average_accuracy,
    classification_metrics,
    confusion_matrix,
    kappa,
    overall_accuracy,
    per_class_accuracy,
    score_maps,
    summarize_runs,
)


@pytest.mark.parametrize("seed", range(5))
def test_against_sklearn_on_random_data(seed: int) -> None:
    rng = np.random.default_rng(seed)
    k = int(rng.integers(2, 12))
    y_true = rng.integers(0, k, size=500)
    # mostly right, some noise, so kappa is neither 0 nor 1
    y_pred = np.where(rng.random(500) < 0.7, y_true, rng.integers(0, k, size=500))
    np.testing.assert_array_equal(
        confusion_matrix(y_true, y_pred, k), sk_confusion_matrix(y_true, y_pred, labels=range(k))
    )
    assert overall_accuracy(y_true, y_pred, k) == pytest.approx(accuracy_score(y_true, y_pred))
    assert kappa(y_true, y_pred, k) == pytest.approx(cohen_kappa_score(y_true, y_pred))
    assert average_accuracy(y_true, y_pred, k) == pytest.approx(
        balanced_accuracy_score(y_true, y_pred)
    )


def test_perfect() -> None:
    y = np.array([0, 1, 2, 2, 1, 0, 3])
    result = classification_metrics(y, y, 4)
    assert result["oa"] == result["aa"] == result["kappa"] == 1.0
    assert result["per_class"] == [1.0, 1.0, 1.0, 1.0]
    np.testing.assert_array_equal(result["confusion"], np.diag([2, 2, 2, 1]))


def test_single_class_perfect_has_kappa_one() -> None:
    y = np.zeros(10, dtype=int)
    assert kappa(y, y, 3) == 1.0


def test_all_wrong() -> None:
    y_true = np.array([0, 0, 1, 1, 2, 2])
    y_pred = (y_true + 1) % 3
    result = classification_metrics(y_true, y_pred, 3)
    assert result["oa"] == 0 and result["aa"] == 0
    assert result["kappa"] == pytest.approx(-0.5)  # p_o = 0, p_e = 1/3
    assert result["kappa"] == pytest.approx(cohen_kappa_score(y_true, y_pred))


def test_class_missing_from_predictions() -> None:
    y_true = np.array([0, 0, 0, 0, 1, 1, 2, 2, 2, 2])
    y_pred = np.array([0, 0, 0, 1, 0, 0, 2, 2, 2, 0])  # class 1 never predicted
    acc = per_class_accuracy(y_true, y_pred, 3)
    np.testing.assert_allclose(acc, [0.75, 0.0, 0.75])
    assert average_accuracy(y_true, y_pred, 3) == pytest.approx(0.5)
    assert overall_accuracy(y_true, y_pred, 3) == pytest.approx(0.6)


def test_class_absent_from_truth_is_left_out_of_aa() -> None:
    y_true = np.array([0, 0, 2, 2])
    y_pred = np.array([0, 1, 2, 2])
    acc = per_class_accuracy(y_true, y_pred, 3)
    assert acc[0] == 0.5 and np.isnan(acc[1]) and acc[2] == 1.0
    assert average_accuracy(y_true, y_pred, 3) == pytest.approx(0.75)


def test_bad_inputs() -> None:
    with pytest.raises(ValueError, match=r"^y_pred: expected 3 values like y_true, got 2"):
        confusion_matrix([0, 1, 2], [0, 1], 3)
    with pytest.raises(ValueError, match=r"^y_true: expected class indices in 0\.\.2, got"):
        confusion_matrix([0, 3], [0, 1], 3)
    with pytest.raises(ValueError, match=r"^y_pred: expected class indices in 0\.\.2, got"):
        confusion_matrix([0, 1], [-1, 1], 3)
    with pytest.raises(ValueError, match=r"^y_pred: expected integer class indices"):
        confusion_matrix([0, 1], [0.5, 1], 3)
    with pytest.raises(ValueError, match=r"^num_classes: expected an integer >= 1"):
        confusion_matrix([0], [0], 0)
    with pytest.raises(ValueError, match=r"^y_true: expected at least one pixel"):
        confusion_matrix([], [], 2)


def test_score_maps_ignores_unlabelled_pixels() -> None:
    rng = np.random.default_rng(0)
    gt = rng.integers(0, 5, size=(20, 20))  # 0 = unlabelled, classes 1..4
    prediction = np.where(rng.random(gt.shape) < 0.8, gt, rng.integers(1, 5, size=gt.shape))
    prediction[gt == 0] = rng.integers(1, 5, size=int((gt == 0).sum()))
    result = score_maps(gt, prediction)
    labelled = gt > 0
    assert result["n"] == int(labelled.sum())
    assert result["oa"] == pytest.approx(np.mean(prediction[labelled] == gt[labelled]))
    changed = prediction.copy()
    changed[gt == 0] = 1  # anything at unlabelled pixels leaves the score unchanged
    assert score_maps(gt, changed)["kappa"] == result["kappa"]
    zero_based = score_maps(gt, prediction - 1, zero_based=True, num_classes=4)
    assert zero_based["oa"] == result["oa"]
    half = np.zeros(gt.shape, dtype=bool)
    half[:10] = True
    assert score_maps(gt, prediction, mask=half)["n"] == int((labelled & half).sum())


def test_score_maps_bad_inputs() -> None:
    gt = np.array([[0, 1], [2, 1]])
    with pytest.raises(ValueError, match=r"^prediction: expected the ground truth's shape"):
        score_maps(gt, np.zeros((2, 3), dtype=int))
    with pytest.raises(ValueError, match=r"^gt: expected at least one labelled pixel"):
        score_maps(np.zeros((2, 2), dtype=int), np.zeros((2, 2), dtype=int))
    with pytest.raises(ValueError, match=r"^y_pred: expected class indices in 0\.\.1"):
        score_maps(gt, np.array([[0, 3], [2, 1]]))


def test_summarize_runs() -> None:
    runs = [
        {"oa": 0.9, "aa": 0.8, "kappa": 0.88, "per_class": [1.0, 0.5, np.nan], "scene": "ip"},
        {"oa": 0.92, "aa": 0.84, "kappa": 0.9, "per_class": [0.8, 0.7, 0.9], "scene": "ip"},
        {"oa": 0.95, "aa": 0.83, "kappa": 0.94, "per_class": [0.9, 0.6, 0.7], "scene": "ip"},
    ]
    for run in runs:
        run["split"] = {"protocol": "random"}
    summary = summarize_runs(runs)
    assert "scene" not in summary and "split" not in summary
    oa = [r["oa"] for r in runs]
    assert summary["oa"]["mean"] == pytest.approx(np.mean(oa))
    assert summary["oa"]["std"] == pytest.approx(np.std(oa, ddof=1))
    assert summary["oa"]["n"] == 3
    np.testing.assert_allclose(summary["per_class"]["mean"], [0.9, 0.6, 0.8])
    np.testing.assert_allclose(summary["per_class"]["std"], [0.1, 0.1, np.std([0.9, 0.7], ddof=1)])
    single = summarize_runs(runs[:1])
    assert single["kappa"] == {"mean": 0.88, "std": 0.0, "n": 1}


def test_summarize_runs_bad_inputs() -> None:
    with pytest.raises(ValueError, match=r"^runs: expected at least one dict"):
        summarize_runs([])
    with pytest.raises(ValueError, match=r"^runs\[1\]: expected the keys of runs\[0\]"):
        summarize_runs([{"oa": 1.0}, {"aa": 1.0}])
    with pytest.raises(ValueError, match=r"^per_class: expected numbers or equal-shape arrays"):
        summarize_runs([{"per_class": [1.0, 0.5]}, {"per_class": [1.0]}])
