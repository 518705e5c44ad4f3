"""Window smoothing of a classified map: the majority filter counts like a brute-force mode."""

from __future__ import annotations

import numpy as np
import pytest

from lightnets.hsi.smoothing import majority_filter, smooth_scores, smoothed_labels


def _mode_by_hand(labels: np.ndarray, size: int, k: int) -> np.ndarray:
    r = size // 2
    padded = np.pad(labels, r, mode="symmetric")  # scipy's "reflect" repeats the edge pixel
    out = np.zeros_like(labels)
    for i in range(labels.shape[0]):
        for j in range(labels.shape[1]):
            counts = np.bincount(padded[i : i + size, j : j + size].ravel(), minlength=k + 1)
            out[i, j] = counts[1:].argmax() + 1
    return out


@pytest.mark.parametrize("size", [1, 3, 5])
def test_the_majority_filter_is_the_window_mode(size: int) -> None:
    labels = np.random.default_rng(size).integers(1, 5, (13, 11))
    np.testing.assert_array_equal(majority_filter(labels, size, 4), _mode_by_hand(labels, size, 4))


def test_an_isolated_error_inside_a_field_goes() -> None:
    labels = np.ones((9, 9), dtype=np.int64)
    labels[:, 5:] = 2
    noisy = labels.copy()
    noisy[2, 2], noisy[6, 7] = 3, 1
    np.testing.assert_array_equal(majority_filter(noisy, 3, 3), labels)


def test_probabilities_are_averaged_over_the_window() -> None:
    rng = np.random.default_rng(0)
    proba = rng.dirichlet(np.ones(4), size=(8, 7))
    smoothed = smooth_scores(proba, 3)
    padded = np.pad(proba, ((1, 1), (1, 1), (0, 0)), mode="symmetric")
    np.testing.assert_allclose(smoothed[4, 3], padded[4:7, 3:6].mean(axis=(0, 1)))
    np.testing.assert_array_equal(smoothed_labels(proba, 1), proba.argmax(2) + 1)


def test_bad_input_names_the_argument() -> None:
    with pytest.raises(ValueError, match=r"^size: expected an odd integer >= 1"):
        majority_filter(np.ones((3, 3), int), 4, 2)
    with pytest.raises(ValueError, match=r"^labels: expected labels 1..2, got 'labels 0..1'"):
        majority_filter(np.eye(3, dtype=int), 3, 2)
    with pytest.raises(ValueError, match=r"^scores: expected an H×W×K array"):
        smooth_scores(np.ones((3, 3)), 3)
