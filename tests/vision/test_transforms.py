"""Transforms: shapes, seeded randomness, the recipes of each kind of data."""

from __future__ import annotations

import pytest
import torch

from lightnets.vision.transforms import (
    STATS,
    RandomCrop,
    RandomResizedCrop,
    eval_transform,
    train_transform,
)


def _gen(seed: int) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


@pytest.mark.parametrize(
    ("kind", "image", "size"),
    [
        ("digits", torch.rand(1, 8, 8), 32),
        ("digits", torch.rand(1, 8, 8), 48),
        ("cifar", torch.randint(0, 256, (3, 32, 32), dtype=torch.uint8), 32),
        ("folder", torch.randint(0, 256, (3, 50, 70), dtype=torch.uint8), 40),
    ],
)
def test_recipes_give_normalised_square_images(kind: str, image: torch.Tensor, size: int) -> None:
    stats = STATS["digits" if kind == "digits" else "imagenet"]
    train, evaluate = train_transform(kind, size, stats), eval_transform(kind, size, stats)
    assert train.random and not evaluate.random
    for transform in (train, evaluate):
        out = transform(image, _gen(0))
        assert out.shape == (image.shape[0], size, size) and out.dtype == torch.float32
    assert torch.equal(train(image, _gen(3)), train(image, _gen(3)))
    assert torch.equal(evaluate(image, None), evaluate(image, _gen(1)))


def test_the_same_generator_seed_gives_the_same_augmentation() -> None:
    image = torch.randint(0, 256, (3, 32, 32), dtype=torch.uint8)
    transform = train_transform("cifar", 32, STATS["cifar10"])
    outs = {tuple(transform(image, _gen(s)).flatten()[:50].tolist()) for s in range(8)}
    assert len(outs) > 4  # different seeds, different crops and flips


def test_digits_are_never_flipped() -> None:
    transform = train_transform("digits", 32, STATS["digits"])
    assert "Flip" not in repr(transform)
    assert "RandomHorizontalFlip" in repr(train_transform("cifar", 32, STATS["cifar10"]))


def test_random_crop_translates_within_the_padding() -> None:
    image = torch.zeros(1, 8, 8)
    image[0, 4, 4] = 1.0
    crop = RandomCrop(8, padding=2)
    positions = set()
    for seed in range(40):
        out = crop(image, _gen(seed))
        assert out.shape == (1, 8, 8)
        hit = (out[0] == 1).nonzero()
        positions.add(tuple(hit[0].tolist()))
    assert positions <= {(r, c) for r in range(2, 7) for c in range(2, 7)}
    assert len(positions) > 10


def test_random_resized_crop_windows_stay_inside_and_respect_the_area() -> None:
    rrc = RandomResizedCrop(16)
    for seed in range(100):
        top, left, h, w = rrc.window(30, 60, _gen(seed))
        assert top >= 0 and top + h <= 30 and left >= 0 and left + w <= 60
        assert h * w >= 0.08 * 30 * 60 * 0.9 or (h, w) == (30, 40)


def test_eval_transform_of_folders_centre_crops_after_resizing() -> None:
    image = torch.zeros(3, 70, 140, dtype=torch.uint8)
    image[:, :, 60:80] = 255  # a bright band in the middle
    out = eval_transform("folder", 32, STATS["imagenet"])(image, None)
    assert out.shape == (3, 32, 32)
    centre = out[0, :, 14:18].mean()
    assert centre > out[0, :, :4].mean()
