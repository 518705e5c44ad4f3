"""Split protocols, their validation, reproducibility and the window-overlap measure."""

from __future__ import annotations

import numpy as np
import pytest

from lightnets.hsi.splits import (
    Split,
    block_split,
    fixed_count_split,
    masks_split,
    region_split,
    stratified_split,
    window_overlap,
    with_validation,
)


def _brute_overlap(train: np.ndarray, test: np.ndarray, window: int) -> float:
    """Reference: look at every test pixel's clipped window one by one."""
    r = window // 2
    hits = [
        train[max(i - r, 0) : i + r + 1, max(j - r, 0) : j + r + 1].any()
        for i, j in zip(*np.nonzero(test), strict=True)
    ]
    return float(np.mean(hits))


def _check_partition(split: Split, gt: np.ndarray) -> None:
    labelled = gt > 0
    assert split.train.dtype == bool and split.train.shape == gt.shape
    assert not (split.train & split.test).any()
    assert not (split.train & split.val).any() and not (split.val & split.test).any()
    assert not ((split.train | split.val | split.test) & ~labelled).any()
    for mask, counts in (
        (split.train, split.train_counts),
        (split.val, split.val_counts),
        (split.test, split.test_counts),
    ):
        assert counts == tuple(np.bincount(gt[mask], minlength=gt.max() + 1)[1:])


# -- stratified ------------------------------------------------------------------------------


def test_stratified_fraction_per_class(synthetic_scene) -> None:
    gt = synthetic_scene.gt
    split = stratified_split(gt, 0.3, seed=1)
    _check_partition(split, gt)
    assert ((split.train | split.test) == (gt > 0)).all()
    sizes = np.bincount(gt.ravel())[1:]
    assert split.train_counts == tuple(round(0.3 * n) for n in sizes)
    assert split.protocol == "stratified-0.3" and split.seed == 1


def test_same_seed_same_split(synthetic_scene) -> None:
    gt = synthetic_scene.gt
    a, b, c = (stratified_split(gt, 0.2, seed=s) for s in (5, 5, 6))
    np.testing.assert_array_equal(a.train, b.train)
    assert not np.array_equal(a.train, c.train)
    f1, f2 = fixed_count_split(gt, 7, seed=3), fixed_count_split(gt, 7, seed=3)
    np.testing.assert_array_equal(f1.train, f2.train)
    b1, b2 = (block_split(gt, block_size=6, window=3, seed=9) for _ in range(2))
    np.testing.assert_array_equal(b1.train, b2.train)
    np.testing.assert_array_equal(b1.test, b2.test)


def test_stratified_keeps_one_train_and_one_test_pixel() -> None:
    gt = np.zeros((10, 10), dtype=np.int64)
    gt[0, :2] = 1  # 2 pixels: 0.01 of them rounds to 0, 0.99 rounds to 2
    gt[5:, :] = 2
    for fraction in (0.01, 0.99):
        split = stratified_split(gt, fraction, seed=0)
        assert split.train_counts[0] == 1 and split.test_counts[0] == 1


def test_stratified_class_too_small_is_named() -> None:
    gt = np.zeros((6, 6), dtype=np.int64)
    gt[:3] = 1
    gt[5, 5] = 2
    with pytest.raises(ValueError, match=r"^class 2 \(Oats\): expected at least 2 labelled"):
        stratified_split(gt, 0.3, class_names=["Corn", "Oats"])
    with pytest.raises(ValueError, match=r"^train_fraction: expected a number in \[0, 1\), got 1"):
        stratified_split(gt, 1.0)


# -- fixed count -----------------------------------------------------------------------------


def test_fixed_count_caps_small_classes_with_a_warning() -> None:
    gt = np.zeros((20, 20), dtype=np.int64)
    gt[:10] = 1  # 200 pixels
    gt[15, :9] = 2  # 9 pixels: capped at 4
    with pytest.warns(UserWarning, match=r"class 2 \(Oats\): 10 training pixels requested .* 9"):
        split = fixed_count_split(gt, 10, seed=0, class_names=["Corn", "Oats"])
    assert split.train_counts == (10, 4)
    assert split.test_counts == (190, 5)
    assert split.info["capped"] == ["2 (Oats)"]
    _check_partition(split, gt)


# -- blocks ----------------------------------------------------------------------------------


def test_blocks_have_no_overlap_at_their_window(synthetic_scene_factory) -> None:
    gt = synthetic_scene_factory(height=40, width=38, num_classes=5).gt
    for seed in range(4):
        split = block_split(gt, block_size=6, train_fraction=0.3, window=5, seed=seed)
        _check_partition(split, gt)
        assert split.overlap(5) == 0
        assert split.train.any() and split.test.any()
        random = stratified_split(gt, 0.3, seed=seed)
        assert random.overlap(5) > 0.9
        dropped = (gt > 0) & ~split.train & ~split.test
        assert split.info["removed_by_buffer"] == int(dropped.sum())


def test_blocks_give_every_class_training_pixels_where_possible() -> None:
    gt = np.zeros((40, 40), dtype=np.int64)
    gt[:, :30] = 1
    gt[2:6, 34:38] = 2  # a small field in a single tile
    split = block_split(gt, block_size=10, train_fraction=0.2, window=3, seed=0)
    assert split.train_counts[1] > 0
    assert split.info["classes_without_train"] == []
    assert split.info["classes_without_test"] == [2]  # its only tile went to training


def test_blocks_report_classes_without_training() -> None:
    gt = np.zeros((30, 30), dtype=np.int64)
    gt[:, :20] = 1
    gt[25:, 25:] = 2
    split = block_split(gt, block_size=10, train_fraction=0.0, window=1, seed=0)
    assert split.info["classes_without_train"] == []  # coverage comes first, even at 0 %
    one_class = np.zeros((30, 30), dtype=np.int64)
    one_class[:, :20] = 1
    one_class[25:, 25:] = 3  # class 2 absent from the map
    split = block_split(one_class, block_size=10, window=1, seed=0)
    assert split.info["classes_without_train"] == [2]


def test_block_arguments_are_checked(synthetic_scene) -> None:
    with pytest.raises(ValueError, match=r"^window: expected an odd integer"):
        block_split(synthetic_scene.gt, window=4)
    with pytest.raises(ValueError, match=r"^block_size: expected an integer >= 1"):
        block_split(synthetic_scene.gt, block_size=0)
    with pytest.raises(ValueError, match=r"^gt: expected at least one labelled pixel"):
        block_split(np.zeros((5, 5), dtype=np.int64))


# -- regions ---------------------------------------------------------------------------------


def test_regions_train_a_fraction_of_every_class_with_no_overlap(synthetic_scene_factory) -> None:
    gt = synthetic_scene_factory(height=40, width=38, num_classes=5).gt
    sizes = np.bincount(gt.ravel())[1:]
    for seed in range(3):
        split = region_split(gt, train_fraction=0.3, window=5, seed=seed, tries=4, sweeps=1)
        _check_partition(split, gt)
        assert split.overlap(5) == 0
        assert _brute_overlap(split.train, split.test, 5) == 0
        assert split.train_counts == tuple(max(1, round(0.3 * n)) for n in sizes)
        dropped = (gt > 0) & ~split.train & ~split.test
        assert split.info["removed_by_buffer"] == int(dropped.sum())
    a, b = (region_split(gt, window=5, seed=7, tries=4, sweeps=1) for _ in range(2))
    assert (a.train == b.train).all() and (a.test == b.test).all()


def test_regions_keep_test_pixels_where_tiles_lose_them() -> None:
    # Four 10×12 fields, one per class, two per 20×20 tile: a tile that trains takes two whole
    # classes, so tiles always leave classes untested; a cut through each field does not.
    gt = np.zeros((40, 40), dtype=np.int64)
    for label, (r, c) in enumerate([(0, 0), (0, 28), (28, 0), (28, 28)], start=1):
        gt[r : r + 12, c : c + 10] = label
    blocks = block_split(gt, block_size=40, train_fraction=0.3, window=3, seed=0)
    assert len(blocks.info["classes_without_test"]) == 4
    regions = region_split(gt, train_fraction=0.3, window=3, seed=0)
    assert regions.info["classes_without_test"] == []
    assert all(n > 0 for n in regions.train_counts) and regions.overlap(3) == 0
    # a field narrower than the buffer cannot give both: reported, still trained on
    gt[0:12, 0:10] = 0
    gt[0:2, 0:2] = 1
    narrow = region_split(gt, train_fraction=0.5, window=7, seed=0)
    assert narrow.info["classes_without_test"] == [1] and narrow.train_counts[0] == 2


def test_region_arguments_are_checked(synthetic_scene) -> None:
    with pytest.raises(ValueError, match=r"^window: expected an odd integer"):
        region_split(synthetic_scene.gt, window=4)
    with pytest.raises(ValueError, match=r"^train_fraction: expected"):
        region_split(synthetic_scene.gt, train_fraction=1.5)
    with pytest.raises(ValueError, match=r"^tries: expected an integer >= 1"):
        region_split(synthetic_scene.gt, tries=0)


# -- user masks ------------------------------------------------------------------------------


def test_masks_split_accepts_valid_masks(synthetic_scene) -> None:
    gt = synthetic_scene.gt
    train = (gt > 0) & (np.arange(gt.shape[0])[:, None] < 10)
    test = (gt > 0) & ~train
    split = masks_split(gt, train, test)
    _check_partition(split, gt)
    assert split.protocol == "user" and split.seed is None


def test_masks_split_rejects_bad_masks(synthetic_scene) -> None:
    gt = synthetic_scene.gt
    train = (gt > 0) & (np.arange(gt.shape[0])[:, None] < 10)
    test = (gt > 0) & ~train
    with pytest.raises(
        ValueError, match=r"^train_mask and test_mask: expected disjoint .*5 shared"
    ):
        overlapping = test.copy()
        overlapping[np.nonzero(train)[0][:5], np.nonzero(train)[1][:5]] = True
        masks_split(gt, train, overlapping)
    with pytest.raises(
        ValueError, match=r"^test_mask: expected only labelled pixels .*1 unlabelled"
    ):
        outside = test.copy()
        outside[0, 0] = True
        masks_split(gt, train, outside)
    with pytest.raises(ValueError, match=r"^train_mask: expected the ground truth's shape"):
        masks_split(gt, train[:-1], test)
    with pytest.raises(ValueError, match=r"^train_mask: expected a boolean H×W array"):
        masks_split(gt, train.astype(np.uint8), test)
    with pytest.raises(ValueError, match=r"^test_mask: expected at least one test pixel"):
        masks_split(gt, train, np.zeros_like(test))


# -- validation ------------------------------------------------------------------------------


def test_validation_carved_from_training(synthetic_scene) -> None:
    gt = synthetic_scene.gt
    split = stratified_split(gt, 0.5, seed=0)
    carved = with_validation(split, gt, 0.2, seed=4)
    _check_partition(carved, gt)
    np.testing.assert_array_equal(carved.train | carved.val, split.train)
    np.testing.assert_array_equal(carved.test, split.test)
    assert carved.val_counts == tuple(round(0.2 * n) for n in split.train_counts)
    again = with_validation(split, gt, 0.2, seed=4)
    np.testing.assert_array_equal(again.val, carved.val)


def test_validation_keeps_a_lone_training_pixel() -> None:
    gt = np.zeros((8, 8), dtype=np.int64)
    gt[0, :2] = 1
    gt[4:] = 2
    split = with_validation(stratified_split(gt, 0.3, seed=0), gt, 0.5, seed=0)
    assert split.train_counts[0] == 1 and split.val_counts[0] == 0


# -- overlap ---------------------------------------------------------------------------------


def test_window_overlap_by_hand() -> None:
    train = np.zeros((11, 11), dtype=bool)
    train[5, 5] = True
    test = np.zeros_like(train)
    test[5, 7] = True  # 2 columns away: inside a 5×5 window
    test[5, 8] = True  # 3 away: outside
    test[0, 0] = True  # far away
    assert window_overlap(train, test, 5) == pytest.approx(1 / 3)
    assert window_overlap(train, test, 7) == pytest.approx(2 / 3)
    assert window_overlap(train, test, 1) == 0
    assert np.isnan(window_overlap(train, np.zeros_like(train), 5))


def test_window_overlap_matches_brute_force() -> None:
    rng = np.random.default_rng(0)
    for window in (1, 3, 7, 25):
        labelled = rng.random((37, 29)) < 0.6
        train = labelled & (rng.random(labelled.shape) < 0.05)
        test = labelled & ~train
        assert window_overlap(train, test, window) == pytest.approx(
            _brute_overlap(train, test, window)
        )


def test_window_overlap_checks_arguments() -> None:
    mask = np.zeros((4, 4), dtype=bool)
    with pytest.raises(ValueError, match=r"^window: expected an odd integer"):
        window_overlap(mask, mask, 2)
    with pytest.raises(ValueError, match=r"^test_mask: expected a 2-D mask of the train mask"):
        window_overlap(mask, mask[:3], 3)


# -- split helpers ---------------------------------------------------------------------------


def test_pixels_and_dict_round_trip(synthetic_scene) -> None:
    gt = synthetic_scene.gt
    split = with_validation(stratified_split(gt, 0.3, seed=2), gt, 0.25, seed=2)
    rows, cols, labels = split.pixels("train", gt)
    assert len(rows) == sum(split.train_counts)
    np.testing.assert_array_equal(labels, gt[rows, cols] - 1)
    assert labels.min() == 0 and labels.max() == 3
    restored = Split.from_dict(split.to_dict(), gt)
    for name in ("train", "val", "test"):
        np.testing.assert_array_equal(getattr(restored, name), getattr(split, name))
    assert restored.train_counts == split.train_counts and restored.protocol == split.protocol
    assert split.summary()["val"] == int(split.val.sum())
    with pytest.raises(ValueError, match=r"^which: expected one of 'train', 'val', 'test'"):
        split.pixels("all", gt)


# -- real data -------------------------------------------------------------------------------


def test_indian_pines_stratified_and_blocks(indian_pines_scene) -> None:
    gt = indian_pines_scene.gt
    sizes = np.bincount(gt.ravel())[1:]
    split = stratified_split(gt, 0.3, seed=0)
    train = np.array(split.train_counts)
    assert np.all(np.abs(train - 0.3 * sizes) <= 0.5 + 1e-9)  # round(0.3 n) for every class
    assert abs(train.sum() / sizes.sum() - 0.3) < 0.001

    random_overlap = split.overlap(25)
    blocks = block_split(gt, block_size=32, window=25, seed=0)
    assert random_overlap > 0.95
    assert blocks.overlap(25) == 0
    assert blocks.info["classes_without_train"] == []
    assert blocks.test.sum() > 1000
    regions = region_split(gt, window=25, seed=0)
    assert regions.overlap(25) == 0
    assert np.all(np.abs(np.array(regions.train_counts) - 0.3 * sizes) <= 0.5 + 1e-9)
    # tiles leave 7–8 of the 16 classes untested; only the four single fields narrower than
    # the 25×25 window's buffer (Alfalfa, Grass-pasture-mowed, Oats, Stone-Steel-Towers) may
    assert set(regions.info["classes_without_test"]) <= {1, 7, 9, 13, 16}
    assert len(blocks.info["classes_without_test"]) > len(regions.info["classes_without_test"])
    assert regions.test.sum() > 2000
