"""Regions of a scene follow its spectra; the vote inside a region counts like a hand tally."""

from __future__ import annotations

import numpy as np
import pytest

from lightnets.hsi.segments import cluster_regions, region_majority


def _quadrants() -> np.ndarray:
    """A 12×12×6 cube of two spectra in a 2×2 checkerboard of 6×6 quadrants, with noise."""
    rng = np.random.default_rng(0)
    a, b = rng.uniform(0, 1, 6), rng.uniform(2, 3, 6)
    cube = np.empty((12, 12, 6))
    cube[:6, :6] = cube[6:, 6:] = a
    cube[:6, 6:] = cube[6:, :6] = b
    return cube + rng.normal(0, 0.01, cube.shape)


def test_each_cluster_splits_into_its_connected_regions() -> None:
    regions = cluster_regions(_quadrants(), 2, components=2)
    # quadrants of one spectrum touch at a corner only: 8-connected, so one region each spectrum
    assert sorted(np.unique(regions).tolist()) == [0, 1]
    assert len(np.unique(regions[:6, :6])) == 1 and len(np.unique(regions[:6, 6:])) == 1
    assert regions[0, 0] == regions[11, 11] != regions[0, 11]


def test_regions_split_where_a_cluster_is_not_connected() -> None:
    cube = _quadrants()
    # a cross of spectrum a through the middle keeps the two b quadrants apart
    cube[5:7, :] = cube[0, 0]
    cube[:, 5:7] = cube[0, 0]
    regions = cluster_regions(cube, 2, components=2)
    # spectrum a now forms one cross-shaped region; the two b quadrants are separate regions
    assert len(np.unique(regions)) == 3
    assert regions[0, 11] != regions[11, 0]
    np.testing.assert_array_equal(regions, cluster_regions(cube, 2, components=2))


def _tally(labels, regions, k, exclude):
    out = labels.copy()
    for r in np.unique(regions):
        inside = regions == r
        voters = labels[inside & ~exclude]
        if voters.size:
            out[inside] = np.bincount(voters, minlength=k + 1)[1:].argmax() + 1
    return out


def test_the_region_vote_is_the_hand_tally() -> None:
    rng = np.random.default_rng(1)
    labels = rng.integers(1, 4, (10, 9))
    regions = rng.integers(0, 6, (10, 9))
    exclude = rng.random((10, 9)) < 0.3
    exclude[regions == 5] = True  # a region where nobody votes keeps its labels
    got = region_majority(labels, regions, 3, exclude=exclude)
    np.testing.assert_array_equal(got, _tally(labels, regions, 3, exclude))
    np.testing.assert_array_equal(got[regions == 5], labels[regions == 5])
    no_one = np.zeros_like(exclude)
    np.testing.assert_array_equal(
        region_majority(labels, regions, 3), _tally(labels, regions, 3, no_one)
    )


def test_excluded_pixels_cast_no_vote() -> None:
    labels = np.array([[1, 1, 2]])
    regions = np.zeros((1, 3), dtype=int)
    assert region_majority(labels, regions, 2).tolist() == [[1, 1, 1]]
    exclude = np.array([[True, True, False]])
    assert region_majority(labels, regions, 2, exclude=exclude).tolist() == [[2, 2, 2]]
    # a tie goes to the smallest label
    assert region_majority(np.array([[2, 1]]), np.zeros((1, 2), int), 2).tolist() == [[1, 1]]


def test_bad_input_names_the_argument() -> None:
    with pytest.raises(ValueError, match=r"^clusters: expected an integer >= 2"):
        cluster_regions(_quadrants(), 1)
    with pytest.raises(ValueError, match=r"^components: expected at most the 6 bands"):
        cluster_regions(_quadrants(), 2, components=7)
    with pytest.raises(ValueError, match=r"^regions: expected an H×W map of shape \(2, 2\)"):
        region_majority(np.ones((2, 2), int), np.zeros((2, 3), int), 2)
    with pytest.raises(ValueError, match=r"^labels: expected labels 1..2, got 'labels 0..1'"):
        region_majority(np.eye(2, dtype=int), np.zeros((2, 2), int), 2)
    with pytest.raises(ValueError, match=r"^exclude: expected a boolean array of shape \(2, 2\)"):
        region_majority(np.ones((2, 2), int), np.zeros((2, 2), int), 2, exclude=np.ones((2, 2)))
