"""RBF-SVM baseline: each pixel's spectrum alone, standardised, ``C`` and ``γ`` cross-validated.

The classic spectral baseline of the hyperspectral literature (Melgani & Bruzzone 2004, IEEE
TGRS 42(8)). :class:`SpectralSVM` takes the arguments of the engine's functions — a cube
``bands × H × W``, positions ``n × 2`` of (row, col), 0-based labels — and returns class
indices rather than logits.

Model selection uses the training pixels only: a grid search over ``C × γ`` with stratified,
shuffled ``folds``-fold cross-validation (seeded), the standardisation refitted inside every
fold (a scikit-learn pipeline), then a refit on all training pixels with the best pair.

Default grid. Each band is standardised, so a single kernel width suits every band. Two random
pixels of a standardised ``d``-band cube are ``2d`` apart in squared distance on average, so
scikit-learn's default ``γ = 1/d`` gives them a kernel value of ``e⁻²``; the grid is
``γ ∈ {0.01, 0.1, 1, 10} / d``: from nearly linear (0.01/d) to kernels that separate spectra
ten times closer than that average (10/d), as neighbouring pixels of one class are.
``C ∈ {1, 10, 100, 1000}`` goes from a soft margin to a nearly hard one. 16 pairs × 5 folds
= 80 fits of at most a few thousand pixels: seconds for Indian Pines at 10 % training.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from typing import Any

import numpy as np

from .._checks import bad_value, check_int
from .engine import as_cube, as_positions
from .readers import require

DEFAULT_C = (1.0, 10.0, 100.0, 1000.0)
DEFAULT_GAMMA = (0.01, 0.1, 1.0, 10.0)  # multiples of 1 / bands


def _spectra(cube: Any, positions: Any) -> np.ndarray:
    """``n × bands`` float64 spectra of the pixels at ``positions``."""
    c = as_cube(cube).numpy()
    p = as_positions(positions, c.shape[1], c.shape[2]).numpy()
    return c[:, p[:, 0], p[:, 1]].T.astype(np.float64)


class SpectralSVM:
    """RBF SVM on standardised spectra with ``C`` and ``γ`` chosen by cross-validation.

    ``gamma_grid`` holds multiples of ``1 / bands``; ``n_jobs`` is scikit-learn's (parallel
    fits; default one process). After :meth:`fit`: ``best_params_``
    (``{"C": …, "gamma": …}``, ``gamma`` absolute), ``cv_score_`` (mean validation accuracy of
    the best pair), ``classes_`` and ``pipeline_`` (the refitted scaler + SVC).
    """

    def __init__(
        self,
        *,
        c_grid: Sequence[float] = DEFAULT_C,
        gamma_grid: Sequence[float] = DEFAULT_GAMMA,
        folds: int = 5,
        seed: int = 0,
        n_jobs: int | None = None,
    ) -> None:
        self.c_grid = tuple(float(c) for c in c_grid)
        self.gamma_grid = tuple(float(g) for g in gamma_grid)
        if not self.c_grid or min(self.c_grid) <= 0:
            raise bad_value("c_grid", "one or more numbers > 0", c_grid)
        if not self.gamma_grid or min(self.gamma_grid) <= 0:
            raise bad_value("gamma_grid", "one or more numbers > 0", gamma_grid)
        self.folds = check_int("folds", folds, minimum=2)
        self.seed = check_int("seed", seed, minimum=0)
        self.n_jobs = n_jobs
        self.pipeline_: Any = None

    def fit(self, cube: Any, positions: Any, labels: Any) -> SpectralSVM:
        """Standardise, cross-validate ``C × γ`` on these pixels, refit with the best pair."""
        model_selection = require("sklearn.model_selection", "hsi")
        pipeline = require("sklearn.pipeline", "hsi")
        preprocessing = require("sklearn.preprocessing", "hsi")
        svm = require("sklearn.svm", "hsi")

        x = _spectra(cube, positions)
        y = np.asarray(labels)
        if y.shape != (len(x),) or not np.issubdtype(y.dtype, np.integer):
            raise bad_value("labels", f"an integer array of shape ({len(x)},)", y.shape)
        classes, counts = np.unique(y, return_counts=True)
        if len(classes) < 2:
            raise bad_value("labels", "at least 2 classes", f"{len(classes)} class")
        # Stratified folds need one class with a pixel in every fold; rarer classes are spread
        # as far as they go (scikit-learn warns about them; that is expected here).
        splits = min(self.folds, int(counts.max()))
        if splits < 2:
            raise bad_value("labels", "a class with at least 2 pixels", counts.tolist())
        bands = x.shape[1]
        search = model_selection.GridSearchCV(
            pipeline.Pipeline(
                [("scale", preprocessing.StandardScaler()), ("svc", svm.SVC(kernel="rbf"))]
            ),
            {"svc__C": list(self.c_grid), "svc__gamma": [g / bands for g in self.gamma_grid]},
            cv=model_selection.StratifiedKFold(splits, shuffle=True, random_state=self.seed),
            n_jobs=self.n_jobs,
            error_score="raise",
        )
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", "The least populated class", UserWarning)
            search.fit(x, y)
        self.pipeline_ = search.best_estimator_
        self.best_params_ = {
            "C": search.best_params_["svc__C"],
            "gamma": search.best_params_["svc__gamma"],
        }
        self.cv_score_ = float(search.best_score_)
        self.classes_ = classes
        return self

    def _check_fitted(self) -> None:
        if self.pipeline_ is None:
            raise RuntimeError("SpectralSVM: call fit(cube, positions, labels) first")

    def predict_pixels(self, cube: Any, positions: Any) -> np.ndarray:
        """Class indices (``n``, int64) of the pixels at ``positions``, in their order."""
        self._check_fitted()
        x = _spectra(cube, positions)
        if not len(x):
            return np.empty(0, dtype=np.int64)
        self._check_bands(x.shape[1])
        return self.pipeline_.predict(x).astype(np.int64)

    def predict_scene(self, cube: Any) -> np.ndarray:
        """Class indices (``H × W``, int64) of every pixel of the cube."""
        self._check_fitted()
        c = as_cube(cube).numpy()
        bands, height, width = c.shape
        self._check_bands(bands)
        x = c.reshape(bands, -1).T.astype(np.float64)
        return self.pipeline_.predict(x).astype(np.int64).reshape(height, width)

    def _check_bands(self, bands: int) -> None:
        fitted = self.pipeline_.named_steps["scale"].n_features_in_
        if bands != fitted:
            raise bad_value("cube", f"an array of shape ({fitted}, H, W)", f"{bands} bands")
