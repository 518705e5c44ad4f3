"""Regions of a scene and a majority vote of a classified map inside each region.

The spectral–spatial scheme of Tarabalka, Benediktsson and Chanussot ("Spectral–spatial
classification of hyperspectral imagery based on partitional clustering techniques", IEEE TGRS
47(8), 2009): cluster the spectra of the whole scene without labels, split every cluster into
its 8-connected regions, then give every pixel of a region the label most of the region's pixels
were classified as. Fields are spectrally uniform, so a region follows a field's outline, which
a square window (:mod:`lightnets.hsi.smoothing`) does not. The regions read the cube only, never
a label.
"""

from __future__ import annotations

import numpy as np
from scipy.ndimage import label as connected_regions

from .._checks import bad_value, check_int
from .readers import check_mask, require
from .smoothing import check_labels


def cluster_regions(
    cube: np.ndarray, clusters: int, *, components: int = 10, seed: int = 0
) -> np.ndarray:
    """H×W region ids 0..R-1 of the H×W×B ``cube``: k-means (``clusters`` centres, ``seed``)
    on its standardised spectra reduced to ``components`` principal components, each cluster
    split into 8-connected regions."""
    check_int("clusters", clusters, minimum=2)
    check_int("components", components, minimum=1)
    cube = np.asarray(cube)
    if cube.ndim != 3:
        raise bad_value("cube", "an H×W×B array", f"shape {cube.shape}")
    h, w, b = cube.shape
    if components > b:
        raise bad_value("components", f"at most the {b} bands of the cube", components)
    decomposition = require("sklearn.decomposition", "hsi")
    cluster = require("sklearn.cluster", "hsi")
    x = cube.reshape(-1, b).astype(np.float64)
    x = (x - x.mean(0)) / np.where(x.std(0) > 0, x.std(0), 1.0)
    x = decomposition.PCA(components, random_state=seed).fit_transform(x)
    kmeans = cluster.KMeans(clusters, n_init=3, random_state=seed).fit(x)
    assignment = kmeans.labels_.reshape(h, w)
    regions = np.zeros((h, w), dtype=np.int64)
    found = 0
    for c in range(clusters):
        ids, n = connected_regions(assignment == c, structure=np.ones((3, 3), dtype=bool))
        regions[ids > 0] = ids[ids > 0] - 1 + found
        found += n
    return regions


def region_majority(
    labels: np.ndarray,
    regions: np.ndarray,
    n_classes: int,
    *,
    exclude: np.ndarray | None = None,
) -> np.ndarray:
    """The H×W map ``labels`` (1..``n_classes``) with every pixel given the most frequent label
    of its region (``regions``: ids 0..R-1; the smallest label on ties). Pixels of ``exclude``
    (H×W booleans, e.g. the training pixels, whose labels the classifier has fitted) cast no
    vote; a region where no pixel votes keeps its labels."""
    labels = check_labels(labels, n_classes)
    regions = np.asarray(regions)
    if regions.shape != labels.shape:
        raise bad_value("regions", f"an H×W map of shape {labels.shape}", f"shape {regions.shape}")
    if regions.size and regions.min() < 0:
        raise bad_value("regions", "region ids >= 0", f"id {regions.min()}")
    voting = np.ones(labels.shape, dtype=bool)
    if exclude is not None:
        voting = ~check_mask("exclude", exclude, labels.shape)
    counts = np.zeros((int(regions.max(initial=0)) + 1, n_classes), dtype=np.int64)
    np.add.at(counts, (regions[voting], labels[voting] - 1), 1)
    majority = counts.argmax(1) + 1
    voted = counts.sum(1) > 0
    return np.where(voted[regions], majority[regions], labels).astype(np.int64)
