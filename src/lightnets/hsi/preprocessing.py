"""Spectral preprocessing: scaling (per-band standardisation or one min-max map of the whole
cube) and PCA, fitted once, applied to any cube.

HybridSN (Roy et al., "HybridSN: Exploring 3-D–2-D CNN Feature Hierarchy for Hyperspectral
Image Classification", IEEE GRSL 17(2), 2020) reduces the bands with PCA fitted on the whole
scene, test pixels included. Fitting on the training pixels only (``mask=``) is the
leakage-free alternative. Either way the fitted state is a handful of plain arrays
(:meth:`SpectralTransform.state_dict`) that a checkpoint can carry, so a model can be applied
to new cubes with exactly the transform it was trained with.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Mapping
from typing import Any

import numpy as np

from .._checks import bad_value, check_choice, check_int
from .readers import check_cube, check_mask, require

STATE_KIND = "lightnets.hsi.SpectralTransform"
SCALINGS = ("none", "standard", "minmax")
_CHUNK_PIXELS = 1 << 16  # pixels transformed per step, to bound float64 working memory


class SpectralTransform:
    """Optional scaling followed by optional PCA to ``n_components``.

    ``scaling``: ``"none"``; ``"standard"`` (each band to mean 0, variance 1 over the fitted
    pixels; ``standardize=True`` says the same); ``"minmax"`` (one affine map of all bands to
    [0, 1] by the fitted pixels' global minimum and maximum, as DeepHyperX prepares scenes).
    ``n_components=None`` skips PCA. ``whiten`` scales each component to unit variance.
    ``random_state`` is handed to scikit-learn's PCA for its randomised solvers.
    """

    def __init__(
        self,
        n_components: int | None = 30,
        *,
        scaling: str = "none",
        standardize: bool = False,
        whiten: bool = False,
        random_state: int | None = 0,
    ) -> None:
        if n_components is not None:
            check_int("n_components", n_components, minimum=1)
        if whiten and n_components is None:
            raise bad_value("whiten", "False when n_components is None (no PCA)", whiten)
        check_choice("scaling", scaling, SCALINGS)
        if standardize:
            if scaling not in ("none", "standard"):
                raise bad_value("standardize", f"False with scaling={scaling!r}", standardize)
            scaling = "standard"
        self.n_components = n_components
        self.scaling = scaling
        self.standardize = scaling == "standard"
        self.whiten = bool(whiten)
        self.random_state = random_state
        self._state: dict[str, Any] | None = None

    # -- fitting -------------------------------------------------------------------------------

    def fit(self, cube: np.ndarray, mask: np.ndarray | None = None) -> SpectralTransform:
        """Fit on every pixel of ``cube`` (H×W×B), or only where the boolean H×W ``mask`` is set."""
        cube = check_cube(cube)
        height, width, bands = cube.shape
        if mask is None:
            pixels = cube.reshape(-1, bands)
            fitted_on = "scene"
        else:
            mask = check_mask("mask", mask, (height, width))
            pixels = cube[mask]
            fitted_on = "mask"
        pixels = pixels.astype(np.float64)
        n_pixels = pixels.shape[0]
        if self.n_components is not None:
            if self.n_components > bands:
                raise bad_value(
                    "n_components", f"at most {bands} (the cube's band count)", self.n_components
                )
            if self.n_components > n_pixels:
                raise bad_value(
                    "n_components", f"at most {n_pixels} (the pixels fitted on)", self.n_components
                )
        elif n_pixels < 1:
            raise bad_value("mask", "at least one selected pixel", 0)

        band_mean = np.zeros(bands)
        band_scale = np.ones(bands)
        if self.scaling == "standard":
            band_mean = pixels.mean(axis=0)
            std = pixels.std(axis=0)
            band_scale = np.where(std > 0, std, 1.0)  # a constant band stays constant
            pixels = (pixels - band_mean) / band_scale
        elif self.scaling == "minmax":
            low, high = float(pixels.min()), float(pixels.max())
            band_mean = np.full(bands, low)
            band_scale = np.full(bands, high - low if high > low else 1.0)
            pixels = (pixels - band_mean) / band_scale

        state: dict[str, Any] = {
            "kind": STATE_KIND,
            "version": 1,
            "n_bands": bands,
            "n_components": self.n_components,
            "standardize": self.standardize,
            "scaling": self.scaling,
            "whiten": self.whiten,
            "random_state": self.random_state,
            "fitted_on": fitted_on,
            "n_fit_pixels": n_pixels,
            "band_mean": band_mean,
            "band_scale": band_scale,
        }
        if self.n_components is not None:
            decomposition = require("sklearn.decomposition", "hsi")
            pca = decomposition.PCA(
                n_components=self.n_components, whiten=self.whiten, random_state=self.random_state
            )
            with _single_blas_thread():
                pca.fit(pixels)
            state.update(
                pca_mean=np.asarray(pca.mean_, dtype=np.float64),
                components=np.asarray(pca.components_, dtype=np.float64),
                explained_variance=np.asarray(pca.explained_variance_, dtype=np.float64),
                explained_variance_ratio=np.asarray(
                    pca.explained_variance_ratio_, dtype=np.float64
                ),
            )
        self._state = state
        return self

    def fit_transform(self, cube: np.ndarray, mask: np.ndarray | None = None) -> np.ndarray:
        """:meth:`fit` then :meth:`transform` on the same cube."""
        return self.fit(cube, mask).transform(cube)

    # -- applying ------------------------------------------------------------------------------

    @property
    def fitted(self) -> bool:
        return self._state is not None

    @property
    def n_bands(self) -> int:
        """Bands of the cubes this transform accepts."""
        return int(self._fitted_state()["n_bands"])

    @property
    def n_outputs(self) -> int:
        """Bands of the transformed cube."""
        return self.n_bands if self.n_components is None else int(self.n_components)

    @property
    def explained_variance_ratio(self) -> np.ndarray:
        """Share of the (standardised) variance carried by each component."""
        state = self._fitted_state()
        if self.n_components is None:
            raise bad_value("n_components", "an integer (PCA) for explained variance", None)
        return np.array(state["explained_variance_ratio"])

    def transform(self, cube: np.ndarray) -> np.ndarray:
        """Apply the fitted transform to an H×W×B cube; returns float32 H×W×n_outputs."""
        state = self._fitted_state()
        cube = check_cube(cube)
        height, width, bands = cube.shape
        if bands != state["n_bands"]:
            raise bad_value(
                "cube",
                f"{state['n_bands']} bands (the transform was fitted on {state['n_bands']})",
                f"{bands} bands",
            )
        flat = cube.reshape(-1, bands)
        out = np.empty((flat.shape[0], self.n_outputs), dtype=np.float32)
        with _single_blas_thread():
            for start in range(0, flat.shape[0], _CHUNK_PIXELS):
                block = flat[start : start + _CHUNK_PIXELS].astype(np.float64)
                block = (block - state["band_mean"]) / state["band_scale"]
                if self.n_components is not None:
                    block = (block - state["pca_mean"]) @ state["components"].T
                    if self.whiten:
                        block /= np.sqrt(state["explained_variance"])
                out[start : start + _CHUNK_PIXELS] = block
        return out.reshape(height, width, self.n_outputs)

    # -- state ---------------------------------------------------------------------------------

    def state_dict(self) -> dict[str, Any]:
        """The fitted state as plain Python values and float64 numpy arrays (copies)."""
        state = self._fitted_state()
        return {k: (v.copy() if isinstance(v, np.ndarray) else v) for k, v in state.items()}

    @classmethod
    def from_state_dict(cls, state: Mapping[str, Any]) -> SpectralTransform:
        """Rebuild a fitted transform from :meth:`state_dict` (arrays may be lists or tensors)."""
        if not isinstance(state, Mapping) or state.get("kind") != STATE_KIND:
            kind = state.get("kind") if isinstance(state, Mapping) else type(state).__name__
            raise bad_value("state", f"a state dict of kind {STATE_KIND!r}", kind)
        scaling = state.get("scaling", "standard" if state["standardize"] else "none")
        transform = cls(
            state["n_components"],
            scaling=scaling,
            whiten=bool(state["whiten"]),
            random_state=state.get("random_state"),
        )
        restored = dict(state)
        bands = int(state["n_bands"])
        keys = ["band_mean", "band_scale"]
        if state["n_components"] is not None:
            keys += ["pca_mean", "components", "explained_variance", "explained_variance_ratio"]
        for key in keys:
            if key not in state:
                raise bad_value("state", f"an entry {key!r}", "none")
            restored[key] = np.array(_to_numpy(state[key]), dtype=np.float64)
        restored["n_bands"] = bands
        if restored["band_mean"].shape != (bands,):
            raise bad_value("state", f"band_mean of shape ({bands},)", restored["band_mean"].shape)
        if state["n_components"] is not None:
            expected = (int(state["n_components"]), bands)
            if restored["components"].shape != expected:
                raise bad_value(
                    "state", f"components of shape {expected}", restored["components"].shape
                )
        transform._state = restored
        return transform

    def _fitted_state(self) -> dict[str, Any]:
        if self._state is None:
            raise RuntimeError("SpectralTransform: call fit() before using the transform")
        return self._state

    def __repr__(self) -> str:
        status = "fitted" if self.fitted else "not fitted"
        return (
            f"SpectralTransform(n_components={self.n_components}, scaling={self.scaling!r},"
            f" whiten={self.whiten}, {status})"
        )


@contextlib.contextmanager
def _single_blas_thread() -> Iterator[None]:
    """Run the BLAS products on one thread.

    The matrices here are thin (pixels × bands, bands ≤ a few hundred): one thread does
    them in a fraction of a second, while a multi-threaded BLAS on a busy machine can spend
    ten times longer contending for cores. threadpoolctl ships with scikit-learn.
    """
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:
        yield
        return
    with threadpool_limits(limits=1, user_api="blas"):
        yield


def _to_numpy(value: Any) -> Any:
    """Accept numpy arrays, lists and torch tensors alike."""
    if hasattr(value, "detach"):
        return value.detach().cpu().numpy()
    return value
