"""Hamida3D: the layer table by hand, spectral-only strides, scene path == patch path."""

from __future__ import annotations

import pytest
import torch
from torch import nn

import lightnets
from lightnets.hsi import engine
from lightnets.models import get_entry
from lightnets.models.hamida3d import Hamida3D, spectral_sizes

TOL = 1e-4
# conv1 560 + pool1 1,220 + conv2 18,935 + pool2 3,710 + conv3 3,710 + conv4 2,485
CONVS = 560 + 1_220 + 18_935 + 3_710 + 3_710 + 2_485  # 30,620


def _count(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())


@pytest.mark.parametrize(
    ("bands", "window", "classes", "d4", "expected"),
    [
        (30, 5, 16, 4, CONVS + 35 * 4 * 16 + 16),  # 32,876: Indian Pines, 30 PCA bands
        (200, 5, 16, 26, CONVS + 35 * 26 * 16 + 16),  # 45,196: corrected Indian Pines
        (103, 5, 9, 14, CONVS + 35 * 14 * 9 + 9),  # 35,039: Pavia University
        (30, 7, 16, 4, CONVS + 35 * 4 * 9 * 16 + 16),  # 50,796: 3×3 feature window
    ],
)
def test_parameter_counts_from_the_layer_table(
    bands: int, window: int, classes: int, d4: int, expected: int
) -> None:
    assert spectral_sizes(bands)[3] == d4
    model = lightnets.create_model("hamida3d", bands=bands, window=window, num_classes=classes)
    assert _count(model) == expected


def test_layers_and_strides() -> None:
    model = lightnets.create_model("hamida3d")  # 30 bands, 5×5, 16 classes
    convs = [m for m in model.modules() if isinstance(m, nn.Conv3d)]
    assert [(tuple(c.weight.shape), c.stride, c.padding) for c in convs] == [
        ((20, 1, 3, 3, 3), (1, 1, 1), (0, 0, 0)),
        ((20, 20, 3, 1, 1), (2, 1, 1), (1, 0, 0)),
        ((35, 20, 3, 3, 3), (1, 1, 1), (1, 0, 0)),
        ((35, 35, 3, 1, 1), (2, 1, 1), (1, 0, 0)),
        ((35, 35, 3, 1, 1), (1, 1, 1), (1, 0, 0)),
        ((35, 35, 2, 1, 1), (2, 1, 1), (1, 0, 0)),
    ]
    assert spectral_sizes(30) == (28, 14, 7, 4)
    x = torch.randn(2, 30, 5, 5)
    assert model.forward_features(x).shape == (2, 35 * 4, 1, 1)
    assert model.forward_head(model.forward_features(x), pre_logits=True).shape == (2, 140)
    assert model(x).shape == (2, 16)
    assert isinstance(model, Hamida3D) and model.feature_window == 1
    entry = get_entry("hamida3d")
    assert (entry.task, entry.family) == ("hsi", "hamida3d")
    model.reset_classifier(3)
    assert model(x).shape == (2, 3)


@pytest.mark.parametrize("window", [5, 7])
def test_scene_path_equals_patch_path(window: int) -> None:
    torch.manual_seed(0)
    model = lightnets.create_model("hamida3d", bands=20, window=window, num_classes=5)
    cube = torch.randn(20, 19, 16)
    scene = engine.predict_scene(model, cube, device="cpu")
    patches = engine.predict_patches(model, cube, engine.scene_positions(19, 16), device="cpu")
    assert scene.abs().max() > 0.05
    assert (scene - patches.T.reshape(5, 19, 16)).abs().max() < TOL
    pos = torch.tensor([[0, 0], [18, 15], [7, 3], [11, 12]])
    pixels = engine.predict_pixels(model, cube, pos, device="cpu")
    assert (pixels - scene[:, pos[:, 0], pos[:, 1]].T).abs().max() < TOL


def test_training_gradients_equal_the_patch_path(training_paths_agree) -> None:
    torch.manual_seed(1)
    model = lightnets.create_model("hamida3d", bands=20, window=7, num_classes=4, drop_rate=0.3)
    model.train()
    padded = engine.pad_cube(torch.randn(20, 21, 18), model.window)
    pos = torch.stack([torch.randint(0, 21, (48,)), torch.randint(0, 18, (48,))], 1)
    labels = torch.randint(0, 4, (48,))
    training_paths_agree(model, padded, pos, labels, TOL)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"window": 3}, r"^window: expected an odd integer >= 5, got 3"),
        ({"window": 6}, r"^window: expected an odd integer >= 5, got 6"),
        ({"window": 5.0}, r"^window: expected an odd integer >= 5, got 5.0"),
        ({"bands": 2}, r"^bands: expected an integer >= 3, got 2"),
        ({"in_chans": 20, "bands": 30}, r"^in_chans: expected the same value as bands=30, got 20"),
        ({"num_classes": 0}, r"^num_classes: expected an integer >= 1, got 0"),
    ],
)
def test_bad_arguments_name_the_argument(kwargs: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        lightnets.create_model("hamida3d", **kwargs)


def test_input_is_checked() -> None:
    model = lightnets.create_model("hamida3d")
    with pytest.raises(ValueError, match=r"^input: expected a tensor of shape \(N, 30, 5, 5\)"):
        model(torch.randn(2, 30, 7, 7))
