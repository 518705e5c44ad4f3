"""Data sets: digits split, CIFAR files read by torchvision, image folders, bad input."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import numpy as np
import pytest
import torch
import torchvision.transforms.v2.functional as TF

from lightnets.vision import load_dataset
from lightnets.vision.datasets import digits_split, holdout
from lightnets.vision.transforms import STATS


def test_digits_split_is_fixed_stratified_and_scaled(digits) -> None:
    assert (len(digits.train), len(digits.eval)) == (1437, 360)
    assert digits.in_chans == 1 and digits.num_classes == 10 and digits.eval_split == "test"
    x_train, y_train, x_test, y_test = digits_split()
    again = digits_split()
    assert np.array_equal(x_test, again[2]) and np.array_equal(y_train, again[1])
    test_counts = np.bincount(y_test, minlength=10)
    assert test_counts.min() >= 35 and test_counts.max() <= 37  # 20 % of each class
    assert x_train.min() == 0.0 and x_train.max() == 1.0
    image, label = digits.train[0]
    assert image.shape == (1, 8, 8) and label == int(y_train[0])


def test_digits_normalisation_statistics_are_the_training_split_s(digits) -> None:
    images = torch.stack([digits.train[i][0] for i in range(len(digits.train))])
    upscaled = TF.resize(images, [32, 32], antialias=True)
    assert upscaled.mean().item() == pytest.approx(STATS["digits"].mean[0], abs=1e-4)
    assert upscaled.std().item() == pytest.approx(STATS["digits"].std[0], abs=1e-4)


@pytest.mark.parametrize("name", ["cifar10", "cifar100"])
def test_cifar_files_are_read_by_torchvision(fake_cifar, name: str) -> None:
    root = fake_cifar(name)
    data = load_dataset(name, data_dir=root, download=False)
    train_files = 1 if name == "cifar100" else 5
    assert len(data.train) == 4 * train_files and len(data.eval) == 5
    assert data.num_classes == (100 if name == "cifar100" else 10)
    assert data.classes[3] == "class3" and data.in_chans == 3 and data.kind == "cifar"
    image, label = data.eval[2]
    assert image.dtype == torch.uint8 and image.shape == (3, 32, 32)
    assert label == 5  # labels of the test file start at 3
    assert image[0].unique().tolist() == [5] and image[1].unique().tolist() == [200]
    assert data.normalization == STATS[name]


def test_missing_cifar_without_download_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match=r"^dataset: expected cifar10 files under"):
        load_dataset("cifar10", data_dir=tmp_path, download=False)


def test_unknown_dataset_names_the_choices() -> None:
    with pytest.raises(ValueError, match=r"^dataset: expected one of digits, cifar10, cifar100"):
        load_dataset("mnist")
    with pytest.raises(ValueError, match="folder:PATH"):
        load_dataset("folder:")


def test_folder_with_val_split(image_folder) -> None:
    root = image_folder({"cat": 3, "dog": 4}, val={"cat": 1, "dog": 2})
    data = load_dataset(f"folder:{root}")
    assert data.classes == ["cat", "dog"] and data.eval_split == "val"
    assert (len(data.train), len(data.eval)) == (7, 3)
    assert Counter(data.eval.labels) == {0: 1, 1: 2}
    image, label = data.train[0]
    assert image.shape == (3, 36, 40) and image.dtype == torch.uint8 and label == 0


def test_folder_with_train_subfolder_and_no_val_holds_out_each_class(
    tmp_path: Path, png_writer
) -> None:
    for i, cls in enumerate(["a", "b", "c"]):
        png_writer(tmp_path / "train" / cls, 10, seed=i)
    data = load_dataset(f"folder:{tmp_path}")
    assert data.classes == ["a", "b", "c"]
    assert Counter(data.eval.labels) == {0: 1, 1: 1, 2: 1}
    assert len(data.train) == 27
    assert set(data.train.paths).isdisjoint(data.eval.paths)


def test_holdout_is_stratified_and_seeded() -> None:
    labels = [0] * 20 + [1] * 5 + [2]
    train, held = holdout(labels, 0.2, seed=0)
    assert sorted([*train, *held]) == list(range(26))
    assert Counter(np.asarray(labels)[held].tolist()) == {0: 4, 1: 1}
    assert np.array_equal(held, holdout(labels, 0.2, seed=0)[1])


def test_folder_errors(tmp_path: Path, image_folder, png_writer) -> None:
    with pytest.raises(ValueError, match="existing folder"):
        load_dataset(f"folder:{tmp_path / 'missing'}")
    (tmp_path / "empty" / "a").mkdir(parents=True)
    (tmp_path / "empty" / "a" / "notes.txt").write_text("no image")
    with pytest.raises(ValueError, match=r"no images in class sub-folders"):
        load_dataset(f"folder:{tmp_path / 'empty'}")
    one = image_folder({"only": 3}, name="one")
    with pytest.raises(ValueError, match=r"at least 2 class sub-folders.*1 class: only"):
        load_dataset(f"folder:{one}")
    hollow = image_folder({"a": 2, "b": 2}, name="hollow")
    (hollow / "c").mkdir()
    png_writer(hollow / "d", 1)
    (hollow / "c" / "x.png").write_bytes(b"")
    with pytest.raises(ValueError, match=r"none in c"):
        load_dataset(f"folder:{hollow}")
    stray = image_folder({"a": 2, "b": 2}, val={"a": 1, "zebra": 1}, name="stray")
    with pytest.raises(ValueError, match=r"val/ class folders.*zebra"):
        load_dataset(f"folder:{stray}")


def test_undecodable_images_are_skipped_with_a_warning_and_counted(image_folder) -> None:
    root = image_folder({"a": 3, "b": 3})
    (root / "a" / "broken.png").write_bytes(b"\x89PNG\r\n\x1a\n not really a png")
    good = (root / "b" / "img000.png").read_bytes()
    (root / "b" / "truncated.png").write_bytes(good[: len(good) // 2])
    with pytest.warns(UserWarning, match=r"skipped 2 file\(s\) that could not be decoded"):
        data = load_dataset(f"folder:{root}")
    assert len(data.skipped) == 2 and data.summary()["skipped_files"] == 2
    assert len(data.train) + len(data.eval) == 6


def test_a_file_that_fails_later_names_itself(image_folder) -> None:
    root = image_folder({"a": 2, "b": 2}, val={"a": 1, "b": 1})
    data = load_dataset(f"folder:{root}")
    data.train.paths[0].write_bytes(b"gone bad after the scan")
    with pytest.raises(ValueError, match=r"^image: expected a file PIL can decode.*img000"):
        data.train[0]
