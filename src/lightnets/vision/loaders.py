"""Seeded, shardable data loading: the same samples, augmentations and batches whatever the
number of workers or processes.

* Shuffling: :class:`~torch.utils.data.DistributedSampler` with the run's seed and the epoch,
  also in one process (one replica). Process *r* of *P* takes positions ``r, r+P, …`` of the
  epoch's permutation, so with a per-process batch of B/P the *P* processes together see
  exactly the samples of the one-process batch of B.
* Augmentation: one generator per sample, seeded from (seed, epoch, index).
* Evaluation: process *r* takes images ``r, r+P, …``, no padding, so every image counts once.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import torch
from torch import Tensor
from torch.utils.data import DataLoader, Dataset, DistributedSampler, Sampler, Subset

from .._checks import bad_value
from .distributed import Context
from .transforms import Compose

# Namespaces of derived seeds, so that streams for different purposes never coincide.
AUGMENT_STREAM = 1
DROPOUT_STREAM = 2


def derive_seed(seed: int, stream: int, *keys: int) -> int:
    """A 64-bit seed for one purpose (``stream``) and position (``keys``, e.g. epoch, index)."""
    sequence = np.random.SeedSequence(seed, spawn_key=(stream, *keys))
    return int(sequence.generate_state(1, np.uint64)[0])


class Augmented(Dataset):
    """``raw[i]`` passed through ``transform`` with a generator seeded by (seed, epoch, i)."""

    def __init__(self, raw: Dataset, transform: Compose, seed: int) -> None:
        self.raw, self.transform, self.seed = raw, transform, seed
        self.epoch = 0

    def set_epoch(self, epoch: int) -> None:
        """Use the augmentations of ``epoch`` (call before iterating over a new epoch)."""
        self.epoch = epoch

    def __len__(self) -> int:
        return len(self.raw)  # type: ignore[arg-type]

    def __getitem__(self, index: int) -> tuple[Tensor, int]:
        image, label = self.raw[index]
        generator = None
        if self.transform.random:
            seed = derive_seed(self.seed, AUGMENT_STREAM, self.epoch, index)
            generator = torch.Generator().manual_seed(seed)
        return self.transform(image, generator), label


class Shard(Sampler[int]):
    """Indices ``rank, rank + world, …`` below ``n``: one process's share, without padding."""

    def __init__(self, n: int, rank: int, world_size: int) -> None:
        self.indices = list(range(rank, n, world_size))

    def __iter__(self) -> Iterator[int]:
        return iter(self.indices)

    def __len__(self) -> int:
        return len(self.indices)


def subset(data: Dataset, limit: int | None) -> Dataset:
    """At most ``limit`` items, drawn once with seed 0 and kept in order (quick checks)."""
    n = len(data)  # type: ignore[arg-type]
    if limit is None or limit >= n:
        return data
    keep = np.sort(np.random.default_rng(0).permutation(n)[:limit])
    return Subset(data, keep.tolist())


def per_process_batch(batch_size: int, ctx: Context) -> int:
    """The global batch split evenly over the processes."""
    if batch_size % ctx.world_size:
        raise bad_value(
            "batch_size", f"a multiple of the number of processes ({ctx.world_size})", batch_size
        )
    return batch_size // ctx.world_size


def train_loader(
    data: Augmented, batch_size: int, ctx: Context, *, seed: int, workers: int = 0
) -> tuple[DataLoader, DistributedSampler]:
    """Shuffled batches of this process's share; the last incomplete batch is dropped."""
    local = per_process_batch(batch_size, ctx)
    sampler = DistributedSampler(
        data, num_replicas=ctx.world_size, rank=ctx.rank, shuffle=True, seed=seed
    )
    loader = DataLoader(
        data,
        batch_size=local,
        sampler=sampler,
        num_workers=workers,
        drop_last=True,
        pin_memory=ctx.device.type == "cuda",
    )
    if len(loader) == 0:
        raise bad_value(
            "batch_size", f"at most the number of training images ({len(data)})", batch_size
        )
    return loader, sampler


def eval_loader(data: Dataset, batch_size: int, ctx: Context, *, workers: int = 0) -> DataLoader:
    """This process's share of the evaluation images, in order."""
    local = max(1, batch_size // ctx.world_size)
    return DataLoader(
        data,
        batch_size=local,
        sampler=Shard(len(data), ctx.rank, ctx.world_size),  # type: ignore[arg-type]
        num_workers=workers,
        pin_memory=ctx.device.type == "cuda",
    )
