"""Loading: P processes together see the one-process batches; seeded per-sample augmentation."""

from __future__ import annotations

import pytest
import torch
from torch.utils.data import DataLoader

from lightnets.vision.datasets import TensorImages
from lightnets.vision.distributed import Context
from lightnets.vision.loaders import (
    AUGMENT_STREAM,
    DROPOUT_STREAM,
    Augmented,
    Shard,
    derive_seed,
    eval_loader,
    train_loader,
)
from lightnets.vision.transforms import STATS, train_transform


def _indexed(n: int) -> Augmented:
    """Images whose pixels hold their own index, with the identity transform."""
    images = torch.arange(n, dtype=torch.float32).view(n, 1, 1, 1).expand(n, 1, 2, 2)
    from lightnets.vision.transforms import Compose

    return Augmented(TensorImages(images.contiguous(), list(range(n))), Compose([]), seed=0)


@pytest.mark.parametrize("world", [2, 4])
def test_processes_together_see_the_one_process_batches(world: int) -> None:
    data = _indexed(96)
    single, sampler = train_loader(data, 16, Context(), seed=5)
    sampler.set_epoch(3)
    expected = [sorted(labels.tolist()) for _, labels in single]
    shards = []
    for rank in range(world):
        loader, s = train_loader(data, 16, Context(rank=rank, world_size=world), seed=5)
        s.set_epoch(3)
        shards.append([labels.tolist() for _, labels in loader])
    assert len(shards[0]) == len(expected) == 6
    for step, batch in enumerate(expected):
        assert sorted(i for shard in shards for i in shard[step]) == batch


def test_epochs_reshuffle_and_the_last_partial_batch_is_dropped() -> None:
    loader, sampler = train_loader(_indexed(50), 16, Context(), seed=0)
    sampler.set_epoch(1)
    first = [b.tolist() for _, b in loader]
    sampler.set_epoch(2)
    second = [b.tolist() for _, b in loader]
    assert len(first) == 3 and first != second


def test_batch_errors() -> None:
    with pytest.raises(
        ValueError,
        match=r"^batch_size: expected a multiple of the number of "
        r"processes \(3\), got 16",
    ):
        train_loader(_indexed(64), 16, Context(rank=0, world_size=3), seed=0)
    with pytest.raises(ValueError, match=r"^batch_size: expected at most the number of training"):
        train_loader(_indexed(8), 16, Context(), seed=0)


def test_evaluation_shards_cover_every_image_once() -> None:
    n, world = 23, 3
    seen = [i for r in range(world) for i in Shard(n, r, world)]
    assert sorted(seen) == list(range(n))
    loader = eval_loader(_indexed(n), 8, Context(rank=1, world_size=world))
    assert [y for _, b in loader for y in b.tolist()] == list(range(1, n, world))


def test_derived_seeds_differ_by_stream_and_position() -> None:
    seeds = {
        derive_seed(0, s, e, i)
        for s in (AUGMENT_STREAM, DROPOUT_STREAM)
        for e in range(3)
        for i in range(5)
    }
    assert len(seeds) == 30
    assert derive_seed(7, AUGMENT_STREAM, 1, 2) == derive_seed(7, AUGMENT_STREAM, 1, 2)


def test_augmentation_depends_on_seed_epoch_and_index_only(digits) -> None:
    transform = train_transform("digits", 32, STATS["digits"])
    data = Augmented(digits.train, transform, seed=11)
    data.set_epoch(4)
    a = data[10][0]
    crops = set()
    for epoch in range(8):  # 25 possible translations: most epochs differ
        data.set_epoch(epoch)
        crops.add(tuple(data[10][0].flatten().tolist()))
    assert len(crops) >= 5
    data.set_epoch(4)
    assert torch.equal(a, data[10][0])
    batches = [
        torch.cat([x for x, _ in DataLoader(data, batch_size=8, num_workers=w, sampler=range(16))])
        for w in (0, 2)
    ]
    assert torch.equal(*batches)  # the same with and without loader workers
