"""Augmentation and normalisation, with every random choice drawn from a given generator.

A transform is called as ``transform(image, generator)`` on a ``C×H×W`` tensor (uint8 in
0..255 or float in [0, 1]) and returns a normalised float tensor. The training data sets seed
one generator per sample from (seed, epoch, index), so a sample's augmentation is the same
whatever the number of loader workers or processes, and after a resume.

Standard recipes, one per kind of data:

* ``digits`` (8×8 scikit-learn digits, one channel): bilinear upscaling to the image size;
  training adds a random translation of up to 1/16 of the side (zero padding, random crop).
  No flips: a mirrored digit is another symbol.
* ``cifar`` (32×32 colour): training adds the usual random crop with 4-pixel zero padding
  (scaled with the size) and a horizontal flip with probability 1/2.
* ``folder`` (photographs of any size): training uses a random resized crop (scale
  0.08–1, aspect 3/4–4/3) and a horizontal flip; evaluation resizes the short side to
  size/0.875 and takes the centre crop (the ImageNet recipe).

Normalisation statistics (per channel, over the training images, pixel values in [0, 1]):
see :data:`STATS`.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import torch
import torchvision.transforms.v2.functional as TF
from torch import Tensor

from .._checks import check_choice, check_int

KINDS = ("digits", "cifar", "folder")


@dataclass(frozen=True)
class Normalization:
    """Per-channel mean and standard deviation, and where they come from."""

    mean: tuple[float, ...]
    std: tuple[float, ...]
    source: str


STATS = {
    # The 1437 training images of the fixed digits split, upscaled to 32×32 (bilinear).
    "digits": Normalization((0.3054,), (0.3237,), "digits training split at 32×32"),
    # The 50,000 CIFAR-10 training images.
    "cifar10": Normalization(
        (0.4914, 0.4822, 0.4465), (0.2470, 0.2435, 0.2616), "CIFAR-10 training set"
    ),
    # The 50,000 CIFAR-100 training images.
    "cifar100": Normalization(
        (0.5071, 0.4865, 0.4409), (0.2673, 0.2564, 0.2762), "CIFAR-100 training set"
    ),
    # ImageNet (ILSVRC-2012) training set: the convention for photographs.
    "imagenet": Normalization(
        (0.485, 0.456, 0.406), (0.229, 0.224, 0.225), "ImageNet training set"
    ),
}


def _uniform(low: float, high: float, g: torch.Generator | None) -> float:
    return low + (high - low) * float(torch.rand((), generator=g))


def _randint(low: int, high: int, g: torch.Generator | None) -> int:
    """A uniform integer in ``low..high`` (both included)."""
    return int(torch.randint(low, high + 1, (), generator=g))


class Step:
    """One transform step; ``random`` says whether it draws from the generator."""

    random = False

    def __call__(self, image: Tensor, g: torch.Generator | None) -> Tensor:
        raise NotImplementedError


class ToFloat(Step):
    """uint8 0..255 → float 0..1 (float input passes through)."""

    def __call__(self, image: Tensor, g: torch.Generator | None) -> Tensor:
        if image.dtype == torch.uint8:
            return image.float().div_(255)
        return image.float()

    def __repr__(self) -> str:
        return "ToFloat()"


class Resize(Step):
    """Resize to ``size × size`` (or the short side to ``size`` with ``short_side``)."""

    def __init__(self, size: int, *, short_side: bool = False) -> None:
        self.size, self.short_side = size, short_side

    def __call__(self, image: Tensor, g: torch.Generator | None) -> Tensor:
        h, w = image.shape[-2:]
        if self.short_side:
            scale = self.size / min(h, w)
            shape = [max(self.size, round(h * scale)), max(self.size, round(w * scale))]
        else:
            shape = [self.size, self.size]
        if [h, w] == shape:
            return image
        return TF.resize(image, shape, antialias=True)

    def __repr__(self) -> str:
        return f"Resize({self.size}{', short_side' if self.short_side else ''})"


class CenterCrop(Step):
    """The central ``size × size`` window."""

    def __init__(self, size: int) -> None:
        self.size = size

    def __call__(self, image: Tensor, g: torch.Generator | None) -> Tensor:
        return TF.center_crop(image, [self.size, self.size])

    def __repr__(self) -> str:
        return f"CenterCrop({self.size})"


class RandomCrop(Step):
    """Zero-pad by ``padding`` on each side, then cut a random ``size × size`` window."""

    random = True

    def __init__(self, size: int, padding: int) -> None:
        self.size, self.padding = size, padding

    def __call__(self, image: Tensor, g: torch.Generator | None) -> Tensor:
        if self.padding:
            image = TF.pad(image, [self.padding] * 4, fill=0)
        h, w = image.shape[-2:]
        top, left = _randint(0, h - self.size, g), _randint(0, w - self.size, g)
        return image[..., top : top + self.size, left : left + self.size]

    def __repr__(self) -> str:
        return f"RandomCrop({self.size}, padding={self.padding})"


class RandomHorizontalFlip(Step):
    """Mirror left–right with probability ``p``."""

    random = True

    def __init__(self, p: float = 0.5) -> None:
        self.p = p

    def __call__(self, image: Tensor, g: torch.Generator | None) -> Tensor:
        return image.flip(-1) if float(torch.rand((), generator=g)) < self.p else image

    def __repr__(self) -> str:
        return f"RandomHorizontalFlip(p={self.p})"


class RandomResizedCrop(Step):
    """A random window of ``scale`` × the area and aspect ratio in ``ratio`` (log-uniform),
    resized to ``size × size``; after 10 failed draws, the largest centred window in range."""

    random = True

    def __init__(
        self,
        size: int,
        scale: tuple[float, float] = (0.08, 1.0),
        ratio: tuple[float, float] = (3 / 4, 4 / 3),
    ) -> None:
        self.size, self.scale, self.ratio = size, scale, ratio

    def window(self, h: int, w: int, g: torch.Generator | None) -> tuple[int, int, int, int]:
        """(top, left, height, width) of the window to cut from an ``h × w`` image."""
        log_low, log_high = math.log(self.ratio[0]), math.log(self.ratio[1])
        for _ in range(10):
            area = h * w * _uniform(*self.scale, g)
            aspect = math.exp(_uniform(log_low, log_high, g))
            cw, ch = round(math.sqrt(area * aspect)), round(math.sqrt(area / aspect))
            if 0 < cw <= w and 0 < ch <= h:
                return _randint(0, h - ch, g), _randint(0, w - cw, g), ch, cw
        aspect = w / h
        if aspect < self.ratio[0]:
            cw, ch = w, round(w / self.ratio[0])
        elif aspect > self.ratio[1]:
            ch, cw = h, round(h * self.ratio[1])
        else:
            ch, cw = h, w
        return (h - ch) // 2, (w - cw) // 2, ch, cw

    def __call__(self, image: Tensor, g: torch.Generator | None) -> Tensor:
        top, left, ch, cw = self.window(*image.shape[-2:], g)
        size = [self.size, self.size]
        return TF.resized_crop(image, top, left, ch, cw, size, antialias=True)

    def __repr__(self) -> str:
        return f"RandomResizedCrop({self.size}, scale={self.scale}, ratio=(3/4, 4/3))"


class RepeatChannels(Step):
    """A one-channel (grey) image repeated on ``channels`` channels (for colour weights)."""

    def __init__(self, channels: int) -> None:
        self.channels = channels

    def __call__(self, image: Tensor, g: torch.Generator | None) -> Tensor:
        if image.shape[-3] != 1:
            return image
        return image.expand(*image.shape[:-3], self.channels, *image.shape[-2:])

    def __repr__(self) -> str:
        return f"RepeatChannels({self.channels})"


class Normalize(Step):
    """Subtract the mean and divide by the standard deviation, per channel."""

    def __init__(self, stats: Normalization) -> None:
        self.stats = stats
        self._mean = torch.tensor(stats.mean).view(-1, 1, 1)
        self._std = torch.tensor(stats.std).view(-1, 1, 1)

    def __call__(self, image: Tensor, g: torch.Generator | None) -> Tensor:
        return (image - self._mean) / self._std

    def __repr__(self) -> str:
        return f"Normalize(mean={self.stats.mean}, std={self.stats.std})"


class Compose:
    """Steps applied in order; ``random`` when any step is."""

    def __init__(self, steps: Sequence[Step]) -> None:
        self.steps = list(steps)
        self.random = any(step.random for step in self.steps)

    def __call__(self, image: Tensor, g: torch.Generator | None = None) -> Tensor:
        for step in self.steps:
            image = step(image, g)
        return image

    def __repr__(self) -> str:
        return " → ".join(repr(step) for step in self.steps)


Transform = Callable[[Tensor, "torch.Generator | None"], Tensor]


def _channels(steps: list[Step], stats: Normalization) -> list[Step]:
    """Grey images repeated on the channels of colour statistics (e.g. ImageNet weights)."""
    return [*steps, RepeatChannels(len(stats.mean))] if len(stats.mean) > 1 else steps


def train_transform(kind: str, size: int, stats: Normalization) -> Compose:
    """The standard training augmentation for ``kind`` (see the module docstring); grey
    images get as many channels as ``stats`` has."""
    check_choice("kind", kind, KINDS)
    check_int("img_size", size, minimum=1)
    if kind == "digits":
        steps: list[Step] = [ToFloat(), Resize(size), RandomCrop(size, max(1, size // 16))]
    elif kind == "cifar":
        steps = [
            ToFloat(),
            Resize(size),
            RandomCrop(size, max(1, size // 8)),
            RandomHorizontalFlip(),
        ]
    else:
        steps = [ToFloat(), RandomResizedCrop(size), RandomHorizontalFlip()]
    return Compose([*_channels(steps, stats), Normalize(stats)])


def eval_transform(
    kind: str, size: int, stats: Normalization, *, resize: int | None = None
) -> Compose:
    """The deterministic evaluation transform for ``kind``; photographs have their short side
    resized to ``resize`` (default ``size / 0.875``) before the centre crop."""
    check_choice("kind", kind, KINDS)
    check_int("img_size", size, minimum=1)
    if kind == "folder":
        short = round(size / 0.875) if resize is None else check_int("resize", resize, minimum=size)
        steps: list[Step] = [ToFloat(), Resize(short, short_side=True), CenterCrop(size)]
    else:
        steps = [ToFloat(), Resize(size)]
    return Compose([*_channels(steps, stats), Normalize(stats)])
