"""Train/validation/test splits of the labelled pixels of a scene.

A :class:`Split` holds three boolean H×W masks. Protocols:

- :func:`stratified_split` — a fraction of each class for training (HybridSN: 30 %);
- :func:`fixed_count_split` — N pixels per class (capped at half of a small class);
- :func:`block_split` — whole tiles for training, with test pixels near any training pixel
  removed, so no test patch of the given window sees a training pixel;
- :func:`region_split` — per class, the pixels on one side of a random line train, with the
  same buffer: spatially disjoint, and test pixels left in more classes than tiles leave;
- :func:`masks_split` — masks supplied by the user, validated;
- :func:`with_validation` — a stratified validation carve-out from the training pixels.

Random protocols draw training pixels independently of position, so a test pixel's patch
usually contains training pixels: :func:`window_overlap` measures that share.
Every function takes ``seed``; the same seed gives the same split.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from lightnets._checks import bad_value, check_fraction, check_int
from lightnets.hsi.readers import check_ground_truth


@dataclass(frozen=True, eq=False)
class Split:
    """Boolean H×W masks of training, validation and test pixels, with per-class counts.

    ``train_counts``/``val_counts``/``test_counts`` hold pixels per class 1..K (index 0 is
    class 1). ``info`` carries protocol details (e.g. classes left without training pixels).
    """

    train: np.ndarray
    test: np.ndarray
    val: np.ndarray
    protocol: str
    seed: int | None
    train_counts: tuple[int, ...]
    val_counts: tuple[int, ...]
    test_counts: tuple[int, ...]
    info: dict[str, Any] = field(default_factory=dict)

    @property
    def num_classes(self) -> int:
        return len(self.train_counts)

    def overlap(self, window: int) -> float:
        """Share of test pixels whose window×window patch contains a training pixel."""
        return window_overlap(self.train, self.test, window)

    def pixels(self, which: str, gt: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Rows, columns and 0-based class indices (gt − 1) of the train/val/test pixels."""
        mask = {"train": self.train, "val": self.val, "test": self.test}.get(which)
        if mask is None:
            raise bad_value("which", "one of 'train', 'val', 'test'", which)
        gt = check_ground_truth(gt, shape=self.train.shape)
        rows, cols = np.nonzero(mask)
        return rows, cols, gt[rows, cols] - 1

    def summary(self) -> dict[str, Any]:
        """Plain-value description (for a run's config or a report)."""
        return {
            "protocol": self.protocol,
            "seed": self.seed,
            "train": int(self.train.sum()),
            "val": int(self.val.sum()),
            "test": int(self.test.sum()),
            "train_counts": list(self.train_counts),
            "val_counts": list(self.val_counts),
            "test_counts": list(self.test_counts),
            **{k: v for k, v in self.info.items() if isinstance(v, (int, float, str, list))},
        }

    def to_dict(self) -> dict[str, Any]:
        """Masks and fields as plain values and arrays, for saving with a run."""
        return {
            "train": self.train.copy(),
            "val": self.val.copy(),
            "test": self.test.copy(),
            "protocol": self.protocol,
            "seed": self.seed,
            "info": dict(self.info),
        }

    @classmethod
    def from_dict(cls, state: Mapping[str, Any], gt: np.ndarray) -> Split:
        """Rebuild a split saved with :meth:`to_dict`; ``gt`` recomputes the counts."""
        gt = check_ground_truth(gt)
        masks = [np.asarray(state[k], dtype=bool) for k in ("train", "val", "test")]
        return _make(
            gt,
            masks[0],
            masks[2],
            masks[1],
            protocol=str(state["protocol"]),
            seed=state.get("seed"),
            info=dict(state.get("info", {})),
        )


# ---------------------------------------------------------------------------------------------
# Protocols


def stratified_split(
    gt: np.ndarray,
    train_fraction: float = 0.3,
    *,
    seed: int = 0,
    class_names: Sequence[str] | None = None,
) -> Split:
    """``train_fraction`` of each class for training, the rest for testing.

    Each class gets round(fraction × n) training pixels, at least 1 and at most n − 1, so
    every class is both trained and tested; a class with fewer than 2 pixels is an error.
    HybridSN uses 30 % training pixels (Roy et al., IEEE GRSL 2020).
    """
    gt = _labelled_gt(gt)
    fraction = check_fraction("train_fraction", train_fraction)
    if fraction == 0:
        raise bad_value("train_fraction", "a number in (0, 1)", train_fraction)
    rng = np.random.default_rng(seed)
    train = np.zeros(gt.shape, dtype=bool)
    for label, flat in _class_pixels(gt):
        n = flat.size
        if n < 2:
            raise bad_value(
                f"class {_class_name(label, class_names)}",
                "at least 2 labelled pixels (1 to train, 1 to test)",
                f"{n} pixel",
            )
        n_train = min(max(round(fraction * n), 1), n - 1)
        train.flat[rng.permutation(flat)[:n_train]] = True
    test = (gt > 0) & ~train
    return _make(gt, train, test, None, protocol=f"stratified-{fraction:g}", seed=seed)


def fixed_count_split(
    gt: np.ndarray,
    per_class: int,
    *,
    seed: int = 0,
    class_names: Sequence[str] | None = None,
) -> Split:
    """``per_class`` training pixels for every class, the rest for testing.

    A class with fewer than 2 × ``per_class`` pixels gets half of its pixels instead, with a
    warning naming the class; a class with fewer than 2 pixels is an error.
    """
    gt = _labelled_gt(gt)
    per_class = check_int("per_class", per_class, minimum=1)
    rng = np.random.default_rng(seed)
    train = np.zeros(gt.shape, dtype=bool)
    capped = []
    for label, flat in _class_pixels(gt):
        n = flat.size
        name = _class_name(label, class_names)
        if n < 2:
            raise bad_value(
                f"class {name}", "at least 2 labelled pixels (1 to train, 1 to test)", f"{n} pixel"
            )
        n_train = per_class
        if per_class > n // 2:
            n_train = n // 2
            capped.append(name)
            warnings.warn(
                f"class {name}: {per_class} training pixels requested but it has only {n}; "
                f"using {n_train} (half of the class)",
                stacklevel=2,
            )
        train.flat[rng.permutation(flat)[:n_train]] = True
    test = (gt > 0) & ~train
    return _make(
        gt, train, test, None, protocol=f"fixed-{per_class}", seed=seed, info={"capped": capped}
    )


def block_split(
    gt: np.ndarray,
    *,
    block_size: int = 32,
    train_fraction: float = 0.3,
    window: int = 25,
    seed: int = 0,
) -> Split:
    """Spatially disjoint split: whole block_size × block_size tiles go to training.

    Tiles are taken first so that each class gets training pixels (rarest class first, never
    the only tile holding a class when another one does), then at random until about
    ``train_fraction`` of the labelled pixels are in training tiles. Test pixels whose
    window×window patch contains a training pixel are then removed, so the split's
    :meth:`Split.overlap` at ``window`` is 0. ``info`` lists the classes left without
    training or test pixels and how many test pixels the buffer removed.
    """
    gt = _labelled_gt(gt)
    block = check_int("block_size", block_size, minimum=1)
    fraction = check_fraction("train_fraction", train_fraction)
    window = _check_window(window)
    rng = np.random.default_rng(seed)

    tile_of_pixel, tile_counts = tiles(gt, block)
    n_tiles = len(tile_counts)
    labelled = gt > 0
    class_totals = tile_counts.sum(axis=0)

    chosen = np.zeros(n_tiles, dtype=bool)
    for c in np.argsort(class_totals, kind="stable"):
        if tile_counts[chosen, c].sum() > 0:
            continue
        holding = np.flatnonzero((tile_counts[:, c] > 0) & ~chosen)
        if holding.size == 0:
            continue
        partial = holding[tile_counts[holding, c] < class_totals[c]]
        pool = partial if partial.size else holding
        chosen[rng.choice(pool)] = True

    # Then any tile that brings the classes closer to their targets than it overshoots them,
    # counting each pixel by the inverse of its class size so rare classes weigh as much.
    target = fraction * class_totals
    weight = 1.0 / np.maximum(class_totals, 1)
    in_train = tile_counts[chosen].sum(axis=0)
    added = True
    while added:
        added = False
        for t in rng.permutation(n_tiles):
            if chosen[t] or not tile_counts[t].any():
                continue
            useful = np.minimum(tile_counts[t], np.maximum(target - in_train, 0))
            if ((2 * useful - tile_counts[t]) * weight).sum() > 0:
                chosen[t] = True
                in_train += tile_counts[t]
                added = True

    train = chosen[tile_of_pixel] & labelled
    candidates = labelled & ~train
    test = candidates & ~_near(train, window)
    split = _make(
        gt,
        train,
        test,
        None,
        protocol=f"blocks-{block}",
        seed=seed,
        info={
            "block_size": block,
            "window": window,
            "train_tiles": int(chosen.sum()),
            "tiles": n_tiles,
            "removed_by_buffer": int(candidates.sum() - test.sum()),
        },
    )
    split.info["classes_without_train"] = [
        k + 1 for k, n in enumerate(split.train_counts) if n == 0
    ]
    split.info["classes_without_test"] = [k + 1 for k, n in enumerate(split.test_counts) if n == 0]
    return split


def region_split(
    gt: np.ndarray,
    *,
    train_fraction: float = 0.3,
    window: int = 25,
    seed: int = 0,
    tries: int = 24,
    sweeps: int = 3,
) -> Split:
    """Spatially disjoint split cut per class: one compact region of each class trains.

    Each class's training pixels are the ``train_fraction`` of its pixels on one side of a
    line (a half-plane through the class), so every class is trained on. Test pixels are the
    other labelled pixels whose window×window patch holds no training pixel of any class
    (:meth:`Split.overlap` is 0). Tiles (:func:`block_split`) ignore where the classes are,
    so on a scene of small fields such as Indian Pines half of the classes lose every test
    pixel. Here the line angles are chosen, from a random start, by ``sweeps`` rounds of
    trying ``tries`` random angles for each class in turn and keeping the one that leaves
    the test pixels best spread (the sum over classes of log(1 + test pixels)). ``info``
    lists the classes left without test pixels (a field narrower than the window cannot
    give both).
    """
    gt = _labelled_gt(gt)
    fraction = check_fraction("train_fraction", train_fraction)
    window = _check_window(window)
    tries = check_int("tries", tries, minimum=1)
    sweeps = check_int("sweeps", sweeps, minimum=0)
    rng = np.random.default_rng(seed)
    classes = _class_pixels(gt)
    labelled = gt > 0
    width = gt.shape[1]

    def side(flat: np.ndarray, angle: float) -> np.ndarray:
        """Flat indices of the class's ``fraction`` of pixels lowest along ``angle``."""
        rows, cols = np.divmod(flat, width)
        along = rows * np.cos(angle) + cols * np.sin(angle)
        k = max(1, round(fraction * len(flat)))
        return flat[np.argsort(along, kind="stable")[:k]]

    def outcome(chosen: list[np.ndarray]) -> tuple[float, np.ndarray, np.ndarray]:
        train = np.zeros(gt.size, dtype=bool)
        train[np.concatenate(chosen)] = True
        train = train.reshape(gt.shape)
        test = labelled & ~train & ~_near(train, window)
        tested = np.bincount(gt[test], minlength=gt.max() + 1)[1:]
        return float(np.log1p(tested).sum()), train, test

    chosen = [side(flat, rng.uniform(0.0, 2.0 * np.pi)) for _, flat in classes]
    score, train, test = outcome(chosen)
    for _ in range(sweeps):
        for i, (_, flat) in enumerate(classes):
            for angle in rng.uniform(0.0, 2.0 * np.pi, size=tries):
                trial = [*chosen[:i], side(flat, angle), *chosen[i + 1 :]]
                result = outcome(trial)
                if result[0] > score:
                    chosen = trial
                    score, train, test = result
    split = _make(
        gt,
        train,
        test,
        None,
        protocol="regions",
        seed=seed,
        info={
            "window": window,
            "removed_by_buffer": int((labelled & ~train).sum() - test.sum()),
        },
    )
    split.info["classes_without_test"] = [k + 1 for k, n in enumerate(split.test_counts) if n == 0]
    return split


def masks_split(
    gt: np.ndarray,
    train_mask: np.ndarray,
    test_mask: np.ndarray,
    *,
    val_mask: np.ndarray | None = None,
    protocol: str = "user",
) -> Split:
    """A split from user-supplied boolean masks: same shape as ``gt``, disjoint, labelled only."""
    gt = _labelled_gt(gt)
    masks = {"train_mask": train_mask, "test_mask": test_mask}
    if val_mask is not None:
        masks["val_mask"] = val_mask
    checked = {}
    for name, mask in masks.items():
        mask = np.asarray(mask)
        if mask.dtype != bool:
            raise bad_value(name, "a boolean H×W array", f"dtype {mask.dtype}")
        if mask.shape != gt.shape:
            raise bad_value(name, f"the ground truth's shape {gt.shape}", f"shape {mask.shape}")
        unlabelled = int((mask & (gt == 0)).sum())
        if unlabelled:
            raise bad_value(name, "only labelled pixels (gt > 0)", f"{unlabelled} unlabelled")
        checked[name] = mask
    if not checked["train_mask"].any():
        raise bad_value("train_mask", "at least one training pixel", "none")
    if not checked["test_mask"].any():
        raise bad_value("test_mask", "at least one test pixel", "none")
    names = list(checked)
    for i, a in enumerate(names):
        for b in names[i + 1 :]:
            shared = int((checked[a] & checked[b]).sum())
            if shared:
                raise bad_value(f"{a} and {b}", "disjoint masks", f"{shared} shared pixels")
    return _make(
        gt,
        checked["train_mask"],
        checked["test_mask"],
        checked.get("val_mask"),
        protocol=protocol,
        seed=None,
    )


def with_validation(split: Split, gt: np.ndarray, val_fraction: float, *, seed: int = 0) -> Split:
    """Move ``val_fraction`` of each class's training pixels to validation (stratified).

    A class keeps at least one training pixel: classes with a single training pixel give none.
    """
    gt = check_ground_truth(gt, shape=split.train.shape)
    fraction = check_fraction("val_fraction", val_fraction)
    rng = np.random.default_rng(seed)
    train = split.train.copy()
    val = split.val.copy()
    for _, flat in _class_pixels(np.where(split.train, gt, 0)):
        n = flat.size
        n_val = min(max(round(fraction * n), 1 if fraction > 0 else 0), n - 1)
        picked = rng.permutation(flat)[:n_val]
        train.flat[picked] = False
        val.flat[picked] = True
    info = {**split.info, "val_fraction": fraction, "val_seed": seed}
    return _make(gt, train, split.test, val, protocol=split.protocol, seed=split.seed, info=info)


# ---------------------------------------------------------------------------------------------
# Overlap


def window_overlap(train_mask: np.ndarray, test_mask: np.ndarray, window: int) -> float:
    """Share of test pixels whose window×window neighbourhood holds at least one training pixel.

    The neighbourhood is centred on the test pixel and clipped at the image border. Computed
    with a summed-area table, so the cost is one pass over the image whatever the window.
    Returns NaN when there are no test pixels.
    """
    train = np.asarray(train_mask, dtype=bool)
    test = np.asarray(test_mask, dtype=bool)
    if train.ndim != 2 or train.shape != test.shape:
        raise bad_value(
            "test_mask", f"a 2-D mask of the train mask's shape {train.shape}", test.shape
        )
    window = _check_window(window)
    n_test = int(test.sum())
    if n_test == 0:
        return float("nan")
    touched = _near(train, window) & test
    return float(touched.sum()) / n_test


def tiles(gt: np.ndarray, block: int) -> tuple[np.ndarray, np.ndarray]:
    """The tile of every pixel (row-major index of its block × block tile) and the labelled
    pixels of each class in each tile (``counts[t, c]``: class c + 1 in tile t)."""
    height, width = gt.shape
    tile_rows, tile_cols = -(-height // block), -(-width // block)
    tile_of_pixel = (np.arange(height)[:, None] // block) * tile_cols + (
        np.arange(width)[None, :] // block
    )
    labelled = gt > 0
    counts = np.zeros((tile_rows * tile_cols, int(gt.max())), dtype=np.int64)
    np.add.at(counts, (tile_of_pixel[labelled], gt[labelled] - 1), 1)
    return tile_of_pixel, counts


def _near(mask: np.ndarray, window: int) -> np.ndarray:
    """True where the window×window box centred on a pixel contains a True pixel of ``mask``."""
    radius = window // 2
    height, width = mask.shape
    table = np.zeros((height + 1, width + 1), dtype=np.int64)
    table[1:, 1:] = mask.astype(np.int64).cumsum(axis=0).cumsum(axis=1)
    rows = np.arange(height)
    cols = np.arange(width)
    top = np.clip(rows - radius, 0, height)[:, None]
    bottom = np.clip(rows + radius + 1, 0, height)[:, None]
    left = np.clip(cols - radius, 0, width)[None, :]
    right = np.clip(cols + radius + 1, 0, width)[None, :]
    box = table[bottom, right] - table[top, right] - table[bottom, left] + table[top, left]
    return box > 0


# ---------------------------------------------------------------------------------------------
# Helpers


def _check_window(window: Any) -> int:
    window = check_int("window", window, minimum=1)
    if window % 2 == 0:
        raise bad_value("window", "an odd integer (a patch centred on its pixel)", window)
    return window


def _labelled_gt(gt: Any) -> np.ndarray:
    gt = check_ground_truth(gt)
    if not (gt > 0).any():
        raise bad_value("gt", "at least one labelled pixel (gt > 0)", "none")
    return gt


def _class_pixels(gt: np.ndarray) -> list[tuple[int, np.ndarray]]:
    """(label, flat indices) for each label present in ``gt`` (> 0), in label order."""
    flat = gt.ravel()
    order = np.argsort(flat, kind="stable")
    labels, starts = np.unique(flat[order], return_index=True)
    bounds = [*starts[1:], flat.size]
    return [
        (int(label), order[start:end])
        for label, start, end in zip(labels, starts, bounds, strict=True)
        if label > 0
    ]


def _class_name(label: int, class_names: Sequence[str] | None) -> str:
    if class_names is not None and 0 < label <= len(class_names):
        return f"{label} ({class_names[label - 1]})"
    return str(label)


def _counts(gt: np.ndarray, mask: np.ndarray, num_classes: int) -> tuple[int, ...]:
    return tuple(int(n) for n in np.bincount(gt[mask], minlength=num_classes + 1)[1:])


def _make(
    gt: np.ndarray,
    train: np.ndarray,
    test: np.ndarray,
    val: np.ndarray | None,
    *,
    protocol: str,
    seed: int | None,
    info: dict[str, Any] | None = None,
) -> Split:
    num_classes = int(gt.max())
    val = np.zeros(gt.shape, dtype=bool) if val is None else val
    return Split(
        train=train,
        test=test,
        val=val,
        protocol=protocol,
        seed=seed,
        train_counts=_counts(gt, train, num_classes),
        val_counts=_counts(gt, val, num_classes),
        test_counts=_counts(gt, test, num_classes),
        info=dict(info or {}),
    )
