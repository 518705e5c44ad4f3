"""Spatial cross-validation: the labelled pixels in K folds of whole tiles, a buffer between.

:func:`spatial_folds` cuts the scene into ``block_size`` × ``block_size`` tiles and deals the
tiles holding labelled pixels to ``folds`` folds so that every class's pixels are spread over
the folds as evenly as whole tiles allow (in an order drawn with ``seed``, each tile to the fold
where it leaves the classes' shares most even). Fold *k* tests every labelled
pixel of its tiles and trains on the labelled pixels of the other folds, minus those within a
``window`` × ``window`` box of a test pixel: no test window contains a training pixel
(:meth:`~lightnets.hsi.splits.Split.overlap` at ``window`` is 0), and over the folds every
labelled pixel is tested exactly once.

A class whose pixels all lie within one fold's tiles and its buffer has no training pixel in
that fold. ``on_missing="error"`` (the default) refuses such a layout, naming the class and the
fold; ``"drop"`` leaves that class's pixels out of that fold's test set and records them in
``info["dropped"]`` (those pixels are then tested in no fold).

Published leakage-aware protocols this relates to: Nalepa, Myller, Kawulok (IEEE GRSL 16(8),
2019) draw whole tiles into the training set; DeepHyperX's "disjoint" mode (Audebert et al.,
IEEE GRSM 2019) splits each class by rows, with no buffer.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from .._checks import bad_value, check_choice, check_int
from .splits import Split, _check_window, _class_name, _labelled_gt, _make, _near, tiles

ON_MISSING = ("error", "drop")


def tile_folds(
    gt: np.ndarray, folds: int, *, block_size: int = 24, seed: int = 0
) -> np.ndarray:
    """The fold (0..folds−1) of every pixel, constant over each tile; −1 where the tile holds
    no labelled pixel."""
    gt = _labelled_gt(gt)
    block = check_int("block_size", block_size, minimum=1)
    k = check_int("folds", folds, minimum=2)
    tile_of_pixel, tile_counts = tiles(gt, block)
    n_tiles, num_classes = tile_counts.shape
    holding = np.flatnonzero(tile_counts.sum(axis=1))
    if k > holding.size:
        raise bad_value(
            "folds",
            f"at most {holding.size} (the {block}×{block} tiles holding labelled pixels)",
            folds,
        )
    share = 1.0 / np.maximum(tile_counts.sum(axis=0), 1)  # each class weighs the same
    rng = np.random.default_rng(seed)
    order = rng.permutation(holding)  # a seeded order: another seed, another layout
    fold_counts = np.zeros((k, num_classes))
    fold_of_tile = np.full(n_tiles, -1, dtype=np.int64)
    for t in order:
        after = fold_counts + tile_counts[t]  # every fold's counts with the tile added
        spread = ((after * share) ** 2).sum(axis=1) - ((fold_counts * share) ** 2).sum(axis=1)
        best = int(np.argmin(spread + 1e-12 * fold_counts.sum(axis=1)))
        fold_of_tile[t] = best
        fold_counts[best] += tile_counts[t]
    return fold_of_tile[tile_of_pixel]


def spatial_folds(
    gt: np.ndarray,
    folds: int = 5,
    *,
    block_size: int = 24,
    window: int = 25,
    seed: int = 0,
    on_missing: str = "error",
    class_names: Sequence[str] | None = None,
) -> list[Split]:
    """The ``folds`` splits of spatial cross-validation (see the module docstring)."""
    gt = _labelled_gt(gt)
    window = _check_window(window)
    check_choice("on_missing", on_missing, ON_MISSING)
    fold_of_pixel = tile_folds(gt, folds, block_size=block_size, seed=seed)
    labelled = gt > 0
    splits = []
    for f in range(folds):
        test = labelled & (fold_of_pixel == f)
        others = labelled & (fold_of_pixel != f)
        train = others & ~_near(test, window)
        lacking = sorted(set(np.unique(gt[test]).tolist()) - set(np.unique(gt[train]).tolist()))
        dropped: list[list[int]] = []  # [class, pixels] left out of this fold's test set
        if lacking and on_missing == "error":
            names = ", ".join(_class_name(c, class_names) for c in lacking)
            raise bad_value(
                "folds",
                "a layout where every class has training pixels in every fold (fewer folds, "
                "smaller tiles, a smaller window, or on_missing='drop')",
                f"no training pixel of class {names} in fold {f}",
            )
        for c in lacking:
            dropped.append([int(c), int((test & (gt == c)).sum())])
            test &= gt != c
        splits.append(
            _make(
                gt,
                train,
                test,
                None,
                protocol=f"spatial-cv{folds}-{block_size}",
                seed=seed,
                info={
                    "fold": f,
                    "folds": folds,
                    "block_size": block_size,
                    "window": window,
                    "removed_by_buffer": int(others.sum() - train.sum()),
                    "dropped": dropped,
                },
            )
        )
    return splits
