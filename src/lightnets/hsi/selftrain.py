"""Self-training on the scene being classified: the classifier's own smoothed map labels more
pixels, and it is fitted again.

A classifier trained on some fields meets other fields whose spectra differ (soil, moisture,
illumination). Self-training (Dópido et al., "Semisupervised self-learning for hyperspectral
image classification", IEEE TGRS 51(7), 2013) takes pixels of the scene the classifier has
not been trained on, where its map is spatially consistent, labels them with the map and fits
again, so the classifier sees spectra of the new fields. Here a pixel qualifies when the
majority window of :mod:`lightnets.hsi.smoothing` gives it a label that at least ``agree`` of
its window shares. It uses the scene's spectra and the classifier's output, never a label
outside the training pixels.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .._checks import bad_value, check_int
from .readers import check_mask
from .smoothing import check_size, majority_filter, smooth_scores, votes


def pseudo_labels(
    labels: np.ndarray,
    train: np.ndarray,
    *,
    size: int = 7,
    per_class: int = 100,
    agree: float = 0.8,
    seed: int = 0,
) -> np.ndarray:
    """H×W pseudo-labels (0: none) drawn from the map ``labels`` (1..K): pixels outside
    ``train`` whose label at least ``agree`` of their ``size``×``size`` window shares, at most
    ``per_class`` a class, drawn at random (``seed``)."""
    labels = np.asarray(labels)
    train = check_mask("train", train, labels.shape)
    size = check_size(size)
    check_int("per_class", per_class, minimum=1)
    if isinstance(agree, bool) or not isinstance(agree, (int, float)) or not 0 < agree <= 1:
        raise bad_value("agree", "a share in (0, 1]", agree)
    k = int(labels.max(initial=1))
    share = smooth_scores(votes(labels, k), size)
    agreeing = np.take_along_axis(share, labels[..., None] - 1, axis=2)[..., 0] >= agree - 1e-9
    rng = np.random.default_rng(seed)
    out = np.zeros(labels.shape, dtype=np.int64)
    for c in range(1, k + 1):
        rows, cols = np.nonzero((labels == c) & agreeing & ~train)
        pick = rng.permutation(len(rows))[:per_class]
        out[rows[pick], cols[pick]] = c
    return out


def self_train(
    estimator: Any,
    cube: np.ndarray,
    gt: np.ndarray,
    train_mask: np.ndarray,
    *,
    size: int = 7,
    per_class: int = 100,
    agree: float = 0.8,
    rounds: int = 1,
    seed: int = 0,
    **fit_kwargs: Any,
) -> Any:
    """Fit ``estimator`` (an unfitted :class:`~lightnets.hsi.estimator.HSIClassifier`, or
    anything with its ``fit(cube, gt, train_mask, **kw)`` and ``predict(cube)``) on the
    ``train_mask`` pixels of ``gt``, then ``rounds`` times: smooth its map with a
    ``size``×``size`` majority, add :func:`pseudo_labels` of that map to the training pixels
    and fit again. Returns the estimator, with ``pseudo_labels_`` (H×W, the last round's) set;
    classify with ``majority_filter(estimator.predict(cube), size, K)`` for the smoothed map."""
    check_int("rounds", rounds, minimum=1)
    gt = np.asarray(gt)
    train_mask = np.asarray(train_mask, dtype=bool)
    estimator.fit(cube, gt, train_mask, **fit_kwargs)
    k = len(estimator.classes_)
    pseudo = np.zeros(gt.shape, dtype=np.int64)
    for _ in range(rounds):
        smoothed = majority_filter(estimator.predict(cube), size, k)
        pseudo = pseudo_labels(
            smoothed, train_mask, size=size, per_class=per_class, agree=agree, seed=seed
        )
        extended = np.where(pseudo > 0, pseudo, gt)
        estimator.fit(cube, extended, train_mask | (pseudo > 0), **fit_kwargs)
    estimator.pseudo_labels_ = pseudo
    return estimator
