"""Fixtures for the image-classification tests: tiny image folders and CIFAR-format files."""

from __future__ import annotations

import hashlib
import pickle
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from lightnets.vision import load_dataset
from lightnets.vision.datasets import ImageData


@pytest.fixture(autouse=True)
def _one_thread(one_thread: None) -> None:
    """Tiny networks run fastest on one thread, and a busy machine does not stall them."""


@pytest.fixture(scope="session")
def digits() -> ImageData:
    """scikit-learn's digits, loaded once for the session."""
    return load_dataset("digits")


def write_images(
    folder: Path,
    count: int,
    *,
    size: tuple[int, int] = (40, 36),
    seed: int = 0,
    value: int | None = None,
) -> list[Path]:
    """``count`` random RGB PNGs in ``folder`` (a constant ``value`` when given)."""
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    paths = []
    for i in range(count):
        if value is None:
            pixels = rng.integers(0, 256, (size[1], size[0], 3), dtype=np.uint8)
        else:
            pixels = np.full((size[1], size[0], 3), value, dtype=np.uint8)
        path = folder / f"img{i:03d}.png"
        Image.fromarray(pixels).save(path)
        paths.append(path)
    return paths


@pytest.fixture
def png_writer() -> Callable[..., list[Path]]:
    """:func:`write_images` as a fixture."""
    return write_images


@pytest.fixture
def image_folder(tmp_path: Path) -> Callable[..., Path]:
    """Build ``root/<class>/*.png`` (and ``root/val/<class>`` when ``val`` counts are given)."""

    def build(
        counts: dict[str, int], val: dict[str, int] | None = None, name: str = "images"
    ) -> Path:
        root = tmp_path / name
        for i, (cls, n) in enumerate(counts.items()):
            write_images(root / cls, n, seed=i, value=40 + 80 * i)
        for i, (cls, n) in enumerate((val or {}).items()):
            write_images(root / "val" / cls, n, seed=100 + i, value=40 + 80 * i)
        return root

    return build


def _dump(path: Path, obj: object) -> str:
    path.write_bytes(pickle.dumps(obj))
    return hashlib.md5(path.read_bytes()).hexdigest()


@pytest.fixture
def fake_cifar(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Callable[[str, int], Path]:
    """Write a tiny CIFAR-10 or CIFAR-100 in the published pickle format under ``tmp_path``
    and point torchvision's integrity check at these files' checksums, so that torchvision's
    own reading code runs offline. Image *i* of a split has every pixel equal to its label."""
    from torchvision import datasets

    def build(name: str, per_file: int = 4) -> Path:
        hundred = name == "cifar100"
        cls = datasets.CIFAR100 if hundred else datasets.CIFAR10
        folder = tmp_path / cls.base_folder
        folder.mkdir(parents=True)
        classes = 100 if hundred else 10
        label_key = "fine_labels" if hundred else "labels"

        def batch(n: int, offset: int) -> dict[str, object]:
            labels = [(offset + i) % classes for i in range(n)]
            data = np.repeat(np.array(labels, dtype=np.uint8)[:, None], 3072, axis=1)
            data[:, 1024:2048] = 200  # the green plane: checks the channel order
            entry: dict[str, object] = {"data": data, label_key: labels}
            if hundred:
                entry["coarse_labels"] = [y // 5 for y in labels]
            return entry

        train_names = ["train"] if hundred else [f"data_batch_{i}" for i in range(1, 6)]
        train_list = [
            [f, _dump(folder / f, batch(per_file, 7 * i))] for i, f in enumerate(train_names)
        ]
        test_name = "test" if hundred else "test_batch"
        test_list = [[test_name, _dump(folder / test_name, batch(per_file + 1, 3))]]
        meta_name, key = (
            ("meta", "fine_label_names") if hundred else ("batches.meta", "label_names")
        )
        names = [f"class{k}" for k in range(classes)]
        meta = {"filename": meta_name, "key": key, "md5": _dump(folder / meta_name, {key: names})}
        monkeypatch.setattr(cls, "train_list", train_list)
        monkeypatch.setattr(cls, "test_list", test_list)
        monkeypatch.setattr(cls, "meta", meta)
        return tmp_path

    return build
