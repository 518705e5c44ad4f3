"""The frame every hyperspectral patch model shares: defaults, geometry, one set of checks."""

from __future__ import annotations

import pytest
import torch

import lightnets
from lightnets.models.patch import PatchModel

HSI_MODELS = lightnets.list_models(task="hsi")


@pytest.mark.parametrize("name", HSI_MODELS)
def test_every_hsi_model_is_a_patch_model_with_consistent_geometry(name: str) -> None:
    with torch.device("meta"):
        model = lightnets.create_model(name)
    assert isinstance(model, PatchModel)
    cls = type(model)
    assert model.window == cls.DEFAULT_WINDOW and model.bands == cls.DEFAULT_BANDS
    assert model.drop_rate == cls.DEFAULT_DROP_RATE
    assert cls.MIN_WINDOW == cls.SPATIAL_SHRINK + 1
    assert model.feature_window == model.window - cls.SPATIAL_SHRINK
    assert model.input_shape == (model.bands, model.window, model.window)


@pytest.mark.parametrize("name", HSI_MODELS)
def test_none_means_the_models_default(name: str) -> None:
    with torch.device("meta"):
        default = lightnets.create_model(name)
        explicit_none = lightnets.create_model(name, window=None, drop_rate=None, bands=None)
    assert (explicit_none.window, explicit_none.drop_rate, explicit_none.bands) == (
        default.window,
        default.drop_rate,
        default.bands,
    )


@pytest.mark.parametrize("name", HSI_MODELS)
def test_bad_arguments_share_one_message_format(name: str) -> None:
    with pytest.raises(ValueError, match=r"^num_classes: expected an integer >= 1, got 0"):
        lightnets.create_model(name, num_classes=0)
    with pytest.raises(ValueError, match=r"^in_chans: expected the same value as bands=30"):
        lightnets.create_model(name, bands=30, in_chans=31)
    with pytest.raises(ValueError, match=r"^drop_rate: expected a number in \[0, 1\), got 2"):
        lightnets.create_model(name, drop_rate=2)
    with pytest.raises(ValueError, match=r"^window: expected "):
        lightnets.create_model(name, window=2)
