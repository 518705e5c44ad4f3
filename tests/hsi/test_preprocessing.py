"""SpectralTransform: agreement with scikit-learn, masks, state round trip, bad inputs."""

from __future__ import annotations

import time

import numpy as np
import pytest
import torch
from sklearn.decomposition import PCA
from sklearn.preprocessing import StandardScaler

from lightnets.hsi.preprocessing import SpectralTransform


def _pixels(cube: np.ndarray) -> np.ndarray:
    return cube.reshape(-1, cube.shape[2]).astype(np.float64)


@pytest.mark.parametrize("whiten", [False, True])
def test_pca_matches_sklearn(synthetic_scene, whiten: bool) -> None:
    cube = synthetic_scene.cube
    out = SpectralTransform(5, whiten=whiten).fit_transform(cube)
    assert out.shape == (30, 24, 5) and out.dtype == np.float32
    reference = PCA(5, whiten=whiten, random_state=0).fit_transform(_pixels(cube))
    np.testing.assert_allclose(out.reshape(-1, 5), reference, rtol=1e-5, atol=1e-3)


def test_standardize_then_pca_matches_sklearn(synthetic_scene) -> None:
    cube = synthetic_scene.cube
    out = SpectralTransform(4, standardize=True).fit_transform(cube)
    scaled = StandardScaler().fit_transform(_pixels(cube))
    reference = PCA(4, random_state=0).fit_transform(scaled)
    np.testing.assert_allclose(out.reshape(-1, 4), reference, rtol=1e-5, atol=1e-4)


def test_standardize_only(synthetic_scene) -> None:
    cube = synthetic_scene.cube.copy()
    cube[:, :, 3] = 7.0  # a constant band must not divide by zero
    out = SpectralTransform(None, standardize=True).fit_transform(cube)
    assert out.shape == cube.shape
    flat = _pixels(out)
    np.testing.assert_allclose(flat.mean(axis=0), 0, atol=1e-4)
    std = flat.std(axis=0)
    np.testing.assert_allclose(np.delete(std, 3), 1, atol=1e-4)
    assert std[3] == 0


def test_mask_fits_only_selected_pixels(synthetic_scene) -> None:
    cube, gt = synthetic_scene.cube, synthetic_scene.gt
    mask = gt == 2
    masked = SpectralTransform(3).fit(cube, mask=mask)
    reference = PCA(3, random_state=0).fit(cube[mask].astype(np.float64))
    np.testing.assert_allclose(masked.state_dict()["components"], reference.components_)
    assert masked.state_dict()["fitted_on"] == "mask"
    assert masked.state_dict()["n_fit_pixels"] == int(mask.sum())
    whole = SpectralTransform(3).fit(cube)
    assert not np.allclose(whole.transform(cube), masked.transform(cube))


def test_state_round_trip_is_exact(synthetic_scene) -> None:
    cube = synthetic_scene.cube
    fitted = SpectralTransform(6, standardize=True, whiten=True).fit(cube)
    new_cube = cube[::-1, ::2] * 1.5 + 3  # a different cube with the same bands
    expected = fitted.transform(new_cube)
    state = fitted.state_dict()
    as_lists = {k: v.tolist() if isinstance(v, np.ndarray) else v for k, v in state.items()}
    as_tensors = {
        k: torch.from_numpy(v) if isinstance(v, np.ndarray) else v for k, v in state.items()
    }
    for saved in (state, as_lists, as_tensors):
        restored = SpectralTransform.from_state_dict(saved)
        np.testing.assert_array_equal(restored.transform(new_cube), expected)
    state["components"][:] = 0  # state_dict hands out copies
    np.testing.assert_array_equal(fitted.transform(new_cube), expected)


def test_state_without_pca_round_trips(synthetic_scene) -> None:
    fitted = SpectralTransform(None, standardize=True).fit(synthetic_scene.cube)
    restored = SpectralTransform.from_state_dict(fitted.state_dict())
    np.testing.assert_array_equal(
        restored.transform(synthetic_scene.cube), fitted.transform(synthetic_scene.cube)
    )


def test_bad_inputs(synthetic_scene) -> None:
    cube = synthetic_scene.cube
    fitted = SpectralTransform(3).fit(cube)
    with pytest.raises(
        ValueError, match=r"^cube: expected 12 bands \(the transform was fitted on 12"
    ):
        fitted.transform(cube[:, :, :10])
    with pytest.raises(ValueError, match=r"^n_components: expected at most 12 \(the cube's band"):
        SpectralTransform(13).fit(cube)
    with pytest.raises(ValueError, match=r"^n_components: expected an integer >= 1, got 0"):
        SpectralTransform(0)
    expected = r"^mask: expected a boolean array of shape \(30, 24\), got "
    with pytest.raises(ValueError, match=expected + r"'bool \(30, 23\)'"):
        SpectralTransform(3).fit(cube, mask=np.ones((30, 23), dtype=bool))
    with pytest.raises(ValueError, match=expected + r"'int64 \(30, 24\)'"):
        SpectralTransform(3).fit(cube, mask=synthetic_scene.gt)
    tiny = np.zeros((30, 24), dtype=bool)
    tiny[0, :2] = True
    with pytest.raises(ValueError, match=r"at most 2 \(the pixels fitted on\)"):
        SpectralTransform(3).fit(cube, mask=tiny)
    with pytest.raises(ValueError, match=r"^whiten: expected False when n_components is None"):
        SpectralTransform(None, whiten=True)
    with pytest.raises(RuntimeError, match=r"call fit\(\) before"):
        SpectralTransform(3).transform(cube)
    with pytest.raises(ValueError, match=r"^cube: expected a 3-D array"):
        fitted.transform(cube[:, :, 0])
    with pytest.raises(ValueError, match=r"^state: expected a state dict of kind"):
        SpectralTransform.from_state_dict({"kind": "other"})


def test_indian_pines_to_30_components(indian_pines_scene) -> None:
    cube = indian_pines_scene.cube
    SpectralTransform(30).fit(cube[:8, :8])  # warm up the scikit-learn import
    timings = []
    for _ in range(2):
        start = time.perf_counter()
        transform = SpectralTransform(30, random_state=0).fit(cube)
        timings.append(time.perf_counter() - start)
    assert min(timings) < 1.0
    reduced = transform.transform(cube)
    assert reduced.shape == (145, 145, 30) and reduced.dtype == np.float32
    ratio = transform.explained_variance_ratio
    assert np.all(np.diff(ratio) <= 0)
    assert ratio.sum() > 0.95  # Indian Pines is highly redundant across its 200 bands
    component_variance = reduced.reshape(-1, 30).var(axis=0)
    assert np.all(np.diff(component_variance) <= 1e-3 * component_variance[0])
