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
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import torch

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
        self._arrays: dict[str, np.ndarray] | None = None  # a loaded SVM: no scikit-learn object

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
        self._arrays = None
        self.best_params_ = {
            "C": search.best_params_["svc__C"],
            "gamma": search.best_params_["svc__gamma"],
        }
        self.cv_score_ = float(search.best_score_)
        self.classes_ = classes
        return self

    def _check_fitted(self) -> None:
        if self.pipeline_ is None and self._arrays is None:
            raise RuntimeError("SpectralSVM: call fit(cube, positions, labels) first")

    def _predict(self, x: np.ndarray) -> np.ndarray:
        if self.pipeline_ is not None:
            return self.pipeline_.predict(x).astype(np.int64)
        return ovo_predict(self._arrays, x)

    def predict_pixels(self, cube: Any, positions: Any) -> np.ndarray:
        """Class indices (``n``, int64) of the pixels at ``positions``, in their order."""
        self._check_fitted()
        x = _spectra(cube, positions)
        if not len(x):
            return np.empty(0, dtype=np.int64)
        self._check_bands(x.shape[1])
        return self._predict(x)

    def predict_scene(self, cube: Any) -> np.ndarray:
        """Class indices (``H × W``, int64) of every pixel of the cube."""
        self._check_fitted()
        c = as_cube(cube).numpy()
        bands, height, width = c.shape
        self._check_bands(bands)
        x = c.reshape(bands, -1).T.astype(np.float64)
        return self._predict(x).reshape(height, width)

    @property
    def n_bands(self) -> int:
        """Bands of the spectra it was fitted on."""
        self._check_fitted()
        if self.pipeline_ is not None:
            return int(self.pipeline_.named_steps["scale"].n_features_in_)
        return int(self._arrays["mean"].shape[0])

    def _check_bands(self, bands: int) -> None:
        fitted = self.n_bands
        if bands != fitted:
            raise bad_value("cube", f"an array of shape ({fitted}, H, W)", f"{bands} bands")

    def state_dict(self) -> dict[str, Any]:
        """The fitted SVM as tensors and numbers (no pickled objects): the scaler's mean and
        scale, the support vectors, libsvm's one-vs-one coefficients and intercepts, γ, the
        chosen pair and the search's settings."""
        self._check_fitted()
        arrays = self._arrays if self.pipeline_ is None else _libsvm_arrays(self.pipeline_)
        return {
            "kind": STATE_KIND,
            **{k: torch.as_tensor(v) for k, v in arrays.items()},
            "best_params": dict(self.best_params_),
            "cv_score": self.cv_score_,
            "c_grid": list(self.c_grid),
            "gamma_grid": list(self.gamma_grid),
            "folds": self.folds,
            "seed": self.seed,
        }

    @classmethod
    def from_state_dict(cls, state: Mapping[str, Any]) -> SpectralSVM:
        """An SVM that predicts like the one :meth:`state_dict` was taken from."""
        if not isinstance(state, Mapping) or state.get("kind") != STATE_KIND:
            kind = state.get("kind") if isinstance(state, Mapping) else type(state).__name__
            raise bad_value("state", f"an SVM state of kind {STATE_KIND!r}", kind)
        svm = cls(
            c_grid=state["c_grid"],
            gamma_grid=state["gamma_grid"],
            folds=int(state["folds"]),
            seed=int(state["seed"]),
        )
        svm._arrays = {k: np.asarray(_as_numpy(state[k])) for k in _ARRAY_KEYS}
        svm.best_params_ = dict(state["best_params"])
        svm.cv_score_ = float(state["cv_score"])
        svm.classes_ = svm._arrays["classes"]
        return svm


STATE_KIND = "lightnets.hsi.SpectralSVM"
_ARRAY_KEYS = (
    "mean",
    "scale",
    "support_vectors",
    "dual_coef",
    "intercept",
    "n_support",
    "gamma",
    "classes",
)
_KERNEL_CHUNK = 4096  # pixels per kernel block: bounds the pixels × support-vectors matrix


def _as_numpy(value: Any) -> Any:
    return value.numpy() if isinstance(value, torch.Tensor) else value


def _libsvm_arrays(pipeline: Any) -> dict[str, np.ndarray]:
    """The fitted scaler + SVC as arrays in libsvm's own sign convention (scikit-learn flips
    the signs of ``dual_coef_`` and ``intercept_`` for two classes)."""
    scale, svc = pipeline.named_steps["scale"], pipeline.named_steps["svc"]
    sign = -1.0 if len(svc.classes_) == 2 else 1.0
    return {
        "mean": np.asarray(scale.mean_, dtype=np.float64),
        "scale": np.asarray(scale.scale_, dtype=np.float64),
        "support_vectors": np.asarray(svc.support_vectors_, dtype=np.float64),
        "dual_coef": sign * np.asarray(svc.dual_coef_, dtype=np.float64),
        "intercept": sign * np.asarray(svc.intercept_, dtype=np.float64),
        "n_support": np.asarray(svc.n_support_, dtype=np.int64),
        "gamma": np.asarray(float(svc._gamma), dtype=np.float64),
        "classes": np.asarray(svc.classes_, dtype=np.int64),
    }


def ovo_predict(arrays: Mapping[str, np.ndarray], x: np.ndarray) -> np.ndarray:
    """libsvm's one-vs-one vote of an RBF SVC, from its arrays: for classes i < j the decision
    ``Σ_{SV of i} α·K + Σ_{SV of j} α·K + b_ij`` votes for i when > 0, else for j; the class
    with most votes wins (ties to the lower class), as ``SVC.predict`` does."""
    z = (x - arrays["mean"]) / arrays["scale"]
    sv, coef, b = arrays["support_vectors"], arrays["dual_coef"], arrays["intercept"]
    gamma = float(arrays["gamma"])
    n_support = arrays["n_support"]
    starts = np.concatenate([[0], np.cumsum(n_support)])
    k = len(n_support)
    sv_norm = (sv**2).sum(1)
    out = np.empty(len(z), dtype=np.int64)
    for lo in range(0, len(z), _KERNEL_CHUNK):
        part = z[lo : lo + _KERNEL_CHUNK]
        dist = (part**2).sum(1)[:, None] + sv_norm[None, :] - 2.0 * part @ sv.T
        kernel = np.exp(-gamma * np.maximum(dist, 0.0))
        votes = np.zeros((len(part), k), dtype=np.int64)
        pair = 0
        for i in range(k):
            si = slice(starts[i], starts[i + 1])
            for j in range(i + 1, k):
                sj = slice(starts[j], starts[j + 1])
                dec = kernel[:, si] @ coef[j - 1, si] + kernel[:, sj] @ coef[i, sj] + b[pair]
                wins_i = dec > 0
                votes[:, i] += wins_i
                votes[:, j] += ~wins_i
                pair += 1
        out[lo : lo + _KERNEL_CHUNK] = arrays["classes"][votes.argmax(1)]
    return out
