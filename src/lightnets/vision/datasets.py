"""Image-classification data: scikit-learn's digits, CIFAR-10/100 and image folders.

``load_dataset(spec)`` returns an :class:`ImageData`: raw training and evaluation images
(tensors, not yet augmented), class names, channels, the default image size, the
normalisation statistics and the recipe kind (see :mod:`.transforms`).

* ``digits``: the 1,797 8×8 handwritten digits that scikit-learn ships (pixel values 0..16,
  scaled to [0, 1]), split once into 1,437 training and 360 test images, stratified by class
  with a fixed seed (0), whatever the training seed. Real data, no download; default 32×32.
* ``cifar10`` / ``cifar100``: read by torchvision's CIFAR classes from ``data_dir`` (default
  ``$LIGHTNETS_DATA`` or ``~/.cache/lightnets``), downloaded there when missing and
  ``download`` is true. The 10,000 test images are the evaluation split. Default 32×32.
* ``folder:PATH``: one sub-folder of images per class (``PATH/<class>/…``, or
  ``PATH/train/<class>/…``). An optional ``PATH/val/<class>/…`` is the evaluation split;
  without it, a fixed stratified 10 % of each class (seed 0) is held out. Images are read
  as RGB. Files that PIL cannot identify or verify are **skipped with a warning and
  counted** (``ImageData.skipped``); a file that passes the check but fails to decode later
  raises a ValueError naming it. Default 224×224.
"""

from __future__ import annotations

import dataclasses
import os
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
from torch import Tensor
from torch.utils.data import Dataset

from .._checks import bad_value, check_fraction
from .transforms import STATS, Normalization

DATASETS = ("digits", "cifar10", "cifar100", "folder:PATH")
IMAGE_EXTENSIONS = (
    ".jpg",
    ".jpeg",
    ".png",
    ".bmp",
    ".gif",
    ".tif",
    ".tiff",
    ".webp",
    ".ppm",
    ".pgm",
)
DIGITS_TEST_FRACTION = 0.2
DIGITS_SPLIT_SEED = 0
FOLDER_VAL_FRACTION = 0.1
FOLDER_SPLIT_SEED = 0
DATA_ENV = "LIGHTNETS_DATA"


class TensorImages(Dataset):
    """Images held in memory as one ``N×C×H×W`` tensor, with integer labels."""

    def __init__(self, images: Tensor, labels: Sequence[int]) -> None:
        self.images = images
        self.labels = [int(y) for y in labels]

    def __len__(self) -> int:
        return len(self.labels)

    def __getitem__(self, index: int) -> tuple[Tensor, int]:
        return self.images[index], self.labels[index]


class ImageFiles(Dataset):
    """Image files decoded on access as ``3×H×W`` uint8 RGB tensors."""

    def __init__(self, paths: Sequence[Path], labels: Sequence[int]) -> None:
        self.paths = [Path(p) for p in paths]
        self.labels = [int(y) for y in labels]

    def __len__(self) -> int:
        return len(self.labels)

    def __getitem__(self, index: int) -> tuple[Tensor, int]:
        from PIL import Image
        from torchvision.transforms.v2.functional import pil_to_tensor

        path = self.paths[index]
        try:
            with Image.open(path) as image:
                rgb = image.convert("RGB")
        except (OSError, SyntaxError, ValueError) as err:
            raise bad_value("image", f"a file PIL can decode ({err})", str(path)) from None
        return pil_to_tensor(rgb), self.labels[index]


@dataclass
class ImageData:
    """A classification data set: raw images of both splits and what describes them."""

    name: str
    train: Dataset
    eval: Dataset
    eval_split: str  # "test" or "val"
    classes: list[str]
    in_chans: int
    img_size: int
    kind: str  # the augmentation recipe: "digits", "cifar" or "folder"
    normalization: Normalization
    skipped: list[str] = field(default_factory=list)

    @property
    def num_classes(self) -> int:
        return len(self.classes)

    def summary(self) -> dict[str, object]:
        """What config.json records about the data."""
        return {
            "name": self.name,
            "train_images": len(self.train),
            f"{self.eval_split}_images": len(self.eval),
            "classes": self.classes,
            "in_chans": self.in_chans,
            "default_img_size": self.img_size,
            "normalization": {
                "mean": self.normalization.mean,
                "std": self.normalization.std,
                "source": self.normalization.source,
            },
            "skipped_files": len(self.skipped),
            "skipped_examples": self.skipped[:10],
        }


def default_data_dir() -> Path:
    """``$LIGHTNETS_DATA``, else ``$XDG_CACHE_HOME/lightnets`` (``~/.cache/lightnets``)."""
    if os.environ.get(DATA_ENV):
        return Path(os.environ[DATA_ENV])
    cache = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(cache) / "lightnets"


def parse_spec(spec: str) -> tuple[str, Path | None]:
    """``"digits"`` → ("digits", None); ``"folder:PATH"`` → ("folder", PATH)."""
    if isinstance(spec, str) and spec.startswith("folder:") and len(spec) > len("folder:"):
        return "folder", Path(spec[len("folder:") :]).expanduser()
    if spec in ("digits", "cifar10", "cifar100"):
        return spec, None
    raise bad_value("dataset", "one of " + ", ".join(DATASETS), spec)


def dataset_name(spec: str) -> str:
    """The name :func:`load_dataset` gives the data set of ``spec`` (``ImageData.name``)."""
    name, path = parse_spec(spec)
    return name if path is None else f"folder:{path}"


def digits_split() -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The fixed stratified split of scikit-learn's digits: (x_train, y_train, x_test, y_test),
    images as ``N×8×8`` float32 in [0, 1]."""
    try:
        from sklearn.datasets import load_digits
        from sklearn.model_selection import train_test_split
    except ImportError as err:  # pragma: no cover - scikit-learn is in the hsi extra
        raise ImportError(
            'the digits data set needs scikit-learn: pip install "lightnets[hsi]"'
        ) from err
    digits = load_digits()
    images = (digits.images / 16.0).astype(np.float32)
    labels = digits.target.astype(np.int64)
    train_idx, test_idx = train_test_split(
        np.arange(len(labels)),
        test_size=DIGITS_TEST_FRACTION,
        stratify=labels,
        random_state=DIGITS_SPLIT_SEED,
    )
    return images[train_idx], labels[train_idx], images[test_idx], labels[test_idx]


def _digits() -> ImageData:
    x_train, y_train, x_test, y_test = digits_split()
    return ImageData(
        name="digits",
        train=TensorImages(torch.from_numpy(x_train).unsqueeze(1), y_train),
        eval=TensorImages(torch.from_numpy(x_test).unsqueeze(1), y_test),
        eval_split="test",
        classes=[str(d) for d in range(10)],
        in_chans=1,
        img_size=32,
        kind="digits",
        normalization=STATS["digits"],
    )


def _cifar_class(name: str) -> type:
    from torchvision import datasets

    return datasets.CIFAR10 if name == "cifar10" else datasets.CIFAR100


def prepare_cifar(name: str, data_dir: str | os.PathLike | None = None) -> Path:
    """Download CIFAR ``name`` into ``data_dir`` unless its files are already there."""
    root = Path(data_dir) if data_dir is not None else default_data_dir()
    cls = _cifar_class(name)
    for train in (True, False):
        cls(str(root), train=train, download=True)
    return root


def _cifar(name: str, data_dir: str | os.PathLike | None, download: bool) -> ImageData:
    root = Path(data_dir) if data_dir is not None else default_data_dir()
    cls = _cifar_class(name)
    splits = []
    for train in (True, False):
        try:
            ds = cls(str(root), train=train, download=download)
        except RuntimeError as err:
            where = root / cls.base_folder
            raise bad_value("dataset", f"{name} files under {where} ({err})", name) from None
        images = torch.from_numpy(np.ascontiguousarray(ds.data)).permute(0, 3, 1, 2)
        splits.append(TensorImages(images.contiguous(), ds.targets))
    return ImageData(
        name=name,
        train=splits[0],
        eval=splits[1],
        eval_split="test",
        classes=list(ds.classes),
        in_chans=3,
        img_size=32,
        kind="cifar",
        normalization=STATS[name],
    )


def _is_image(path: Path) -> bool:
    visible = not path.name.startswith(".")
    return visible and path.suffix.lower() in IMAGE_EXTENSIONS and path.is_file()


def _readable(path: Path) -> bool:
    """Whether PIL identifies the file and its structure verifies (no full decode)."""
    from PIL import Image

    try:
        with Image.open(path) as image:
            image.verify()
    except Exception:  # PIL raises many types for broken files (OSError, SyntaxError, ...)
        return False
    return True


def _class_dirs(root: Path, exclude: Sequence[str] = ()) -> list[Path]:
    return sorted(
        p
        for p in root.iterdir()
        if p.is_dir() and not p.name.startswith(".") and p.name not in exclude
    )


def scan_folder(
    root: Path, classes: Sequence[str] | None = None
) -> tuple[list[Path], list[int], list[str], list[str]]:
    """(paths, labels, class names, skipped files) of ``root/<class>/…``.

    With ``classes`` (the training classes), the sub-folders must be among them and labels
    follow their order. Raises when there are no images, a class folder holds none, or
    (training) fewer than two classes.
    """
    exclude = ("train", "val") if classes is None else ()
    dirs = _class_dirs(root, exclude)
    names = [d.name for d in dirs]
    if classes is not None:
        unknown = [n for n in names if n not in classes]
        if unknown:
            raise bad_value(
                "dataset", f"val/ class folders among the training classes {list(classes)}", unknown
            )
    index = {n: i for i, n in enumerate(classes if classes is not None else names)}
    paths: list[Path] = []
    labels: list[int] = []
    skipped: list[str] = []
    empty: list[str] = []
    for folder in dirs:
        files = sorted(p for p in folder.rglob("*") if _is_image(p))
        good = [p for p in files if _readable(p)]
        kept = set(good)
        skipped += [str(p) for p in files if p not in kept]
        if not good:
            empty.append(folder.name)
        paths += good
        labels += [index[folder.name]] * len(good)
    if not paths:
        raise bad_value(
            "dataset",
            f"a folder with one sub-folder of images per class ({', '.join(IMAGE_EXTENSIONS)})",
            f"folder:{root} (no images in class sub-folders)",
        )
    if empty:
        raise bad_value(
            "dataset",
            "every class folder to hold readable images",
            f"folder:{root} (none in {', '.join(empty)})",
        )
    if classes is None and len(names) < 2:
        raise bad_value(
            "dataset",
            "a folder with at least 2 class sub-folders",
            f"folder:{root} (1 class: {names[0]})",
        )
    return paths, labels, names, skipped


def holdout(labels: Sequence[int], fraction: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """(train, held-out) indices: ``round(fraction · n_k)`` of each class (at least 1 when the
    class has 2 or more images), chosen at random with ``seed``."""
    check_fraction("fraction", fraction)
    labels = np.asarray(labels)
    rng = np.random.default_rng(seed)
    held: list[int] = []
    for k in np.unique(labels):
        members = np.flatnonzero(labels == k)
        n = len(members)
        take = min(n - 1, max(1, round(fraction * n))) if n >= 2 else 0
        held += rng.permutation(members)[:take].tolist()
    held_idx = np.sort(np.array(held, dtype=np.int64))
    train_idx = np.setdiff1d(np.arange(len(labels)), held_idx)
    return train_idx, held_idx


def _folder(root: Path) -> ImageData:
    if not root.is_dir():
        raise bad_value("dataset", "folder:PATH naming an existing folder", f"folder:{root}")
    train_root = root / "train" if (root / "train").is_dir() else root
    paths, labels, classes, skipped = scan_folder(train_root)
    if (root / "val").is_dir():
        val_paths, val_labels, _, val_skipped = scan_folder(root / "val", classes)
        skipped += val_skipped
        train = ImageFiles(paths, labels)
        evaluation = ImageFiles(val_paths, val_labels)
    else:
        train_idx, val_idx = holdout(labels, FOLDER_VAL_FRACTION, FOLDER_SPLIT_SEED)
        train = ImageFiles([paths[i] for i in train_idx], [labels[i] for i in train_idx])
        evaluation = ImageFiles([paths[i] for i in val_idx], [labels[i] for i in val_idx])
    if skipped:
        shown = ", ".join(skipped[:3]) + (", …" if len(skipped) > 3 else "")
        warnings.warn(
            f"folder:{root}: skipped {len(skipped)} file(s) that could not be decoded: {shown}",
            stacklevel=3,
        )
    return ImageData(
        name=f"folder:{root}",
        train=train,
        eval=evaluation,
        eval_split="val",
        classes=classes,
        in_chans=3,
        img_size=224,
        kind="folder",
        normalization=STATS["imagenet"],
        skipped=skipped,
    )


class ClassSubset(Dataset):
    """The samples of ``data`` whose label is in ``keep`` (old label indices), relabelled
    0..len(keep)-1 in ``keep``'s order."""

    def __init__(self, data: Dataset, keep: Sequence[int]) -> None:
        labels = getattr(data, "labels", None)
        if labels is None:  # pragma: no cover - every data set here has its labels
            raise bad_value("data", "a data set with a labels attribute", type(data).__name__)
        new = {old: i for i, old in enumerate(keep)}
        self.data = data
        self.indices = [i for i, y in enumerate(labels) if y in new]
        self.labels = [new[labels[i]] for i in self.indices]

    def __len__(self) -> int:
        return len(self.indices)

    def __getitem__(self, index: int) -> tuple[Tensor, int]:
        image, _ = self.data[self.indices[index]]
        return image, self.labels[index]


def select_classes(data: ImageData, classes: Sequence[str]) -> ImageData:
    """``data`` restricted to ``classes`` (names, e.g. ``["5", "6", "7", "8", "9"]``), which
    become the classes 0..len(classes)-1 in the order given."""
    names = [str(c) for c in classes]
    unknown = [c for c in names if c not in data.classes]
    if len(names) < 2 or unknown or len(set(names)) != len(names):
        raise bad_value(
            "classes",
            f"at least 2 distinct class names of {data.name} ({', '.join(data.classes[:12])}"
            + (", …" if len(data.classes) > 12 else "")
            + ")",
            names,
        )
    keep = [data.classes.index(c) for c in names]
    return dataclasses.replace(
        data,
        train=ClassSubset(data.train, keep),
        eval=ClassSubset(data.eval, keep),
        classes=names,
    )


def load_dataset(
    spec: str, *, data_dir: str | os.PathLike | None = None, download: bool = True
) -> ImageData:
    """The data set named by ``spec``: ``digits``, ``cifar10``, ``cifar100`` or
    ``folder:PATH`` (see the module docstring)."""
    name, path = parse_spec(spec)
    if name == "digits":
        return _digits()
    if name == "folder":
        assert path is not None
        return _folder(path)
    return _cifar(name, data_dir, download)
