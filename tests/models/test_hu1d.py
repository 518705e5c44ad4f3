"""Hu1D: layer sizes and parameter counts by hand, one pixel per window, scene path == patch."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F
from torch import nn

import lightnets
from lightnets.hsi import engine
from lightnets.models import get_entry
from lightnets.models.hu1d import Hu1D, spectral_sizes

TOL = 1e-4


def _count(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())


@pytest.mark.parametrize(
    ("bands", "classes", "sizes", "expected"),
    [
        # 20·(k1 + 1) + (20·n3·100 + 100) + (100·K + K), the module's layer table
        (220, 8, (24, 197, 5, 39), 500 + 78_100 + 808),  # 79,408
        (224, 16, (24, 201, 5, 40), 500 + 80_100 + 1_616),  # 82,216: Salinas
        (103, 9, (11, 93, 3, 31), 240 + 62_100 + 909),  # 63,249: Pavia University
        (200, 16, (22, 179, 5, 35), 460 + 70_100 + 1_616),  # 72,176: corrected Indian Pines
        (30, 16, (3, 28, 1, 28), 80 + 56_100 + 1_616),  # 57,796: 30 PCA bands
    ],
)
def test_layer_sizes_and_parameter_counts(
    bands: int, classes: int, sizes: tuple[int, int, int, int], expected: int
) -> None:
    assert spectral_sizes(bands) == sizes
    k1, _, k2, n3 = sizes
    model = lightnets.create_model("hu1d", bands=bands, num_classes=classes)
    assert tuple(model.conv.weight.shape) == (20, 1, k1)
    assert model.pool.kernel_size == k2 and model.pool.stride == k2
    assert (model.fc.in_features, model.fc.out_features) == (20 * n3, 100)
    assert _count(model) == expected


def test_forward_shapes_and_interface() -> None:
    model = lightnets.create_model("hu1d", bands=200, num_classes=16)
    assert isinstance(model, Hu1D)
    assert (model.window, model.feature_window, model.in_chans, model.drop_rate) == (1, 1, 200, 0)
    assert model.input_shape == (200, 1, 1)
    x = torch.randn(3, 200, 1, 1)
    features = model.forward_features(x)
    assert features.shape == (3, 20 * 35, 1, 1)
    assert model.forward_head(features, pre_logits=True).shape == (3, 100)
    assert model(x).shape == (3, 16)
    assert all(p.abs().max() <= 0.05 for p in model.parameters())  # the paper's initialisation
    model.reset_classifier(4)
    assert model.num_classes == 4 and model(x).shape == (3, 4)
    entry = get_entry("hu1d")
    assert (entry.task, entry.family) == ("hsi", "hu1d")


def test_matches_a_plain_1d_network_per_pixel() -> None:
    model = lightnets.create_model("hu1d", bands=40, num_classes=5).eval()
    scene = torch.randn(2, 40, 6, 7)
    with torch.no_grad():
        features = model.forward_features(scene)
        spectrum = scene[1, :, 4, 2].view(1, 1, 40)
        expected = torch.tanh(F.max_pool1d(model.conv(spectrum), model.pool.kernel_size))
    assert features.shape == (2, 20 * spectral_sizes(40)[3], 6, 7)
    assert (features[1, :, 4, 2] - expected.flatten()).abs().max() < 1e-6


def test_scene_path_equals_patch_path() -> None:
    torch.manual_seed(0)
    model = lightnets.create_model("hu1d", bands=30, num_classes=5)
    cube = torch.randn(30, 17, 13)
    scene = engine.predict_scene(model, cube, device="cpu")
    patches = engine.predict_patches(model, cube, engine.scene_positions(17, 13), device="cpu")
    assert scene.shape == (5, 17, 13) and scene.abs().max() > 0.05
    assert (scene - patches.T.reshape(5, 17, 13)).abs().max() < TOL
    pos = torch.tensor([[0, 0], [16, 12], [5, 7], [9, 1]])
    pixels = engine.predict_pixels(model, cube, pos, device="cpu")
    assert (pixels - patches.view(17, 13, 5)[pos[:, 0], pos[:, 1]]).abs().max() < TOL


def test_training_gradients_equal_the_patch_path(training_paths_agree) -> None:
    torch.manual_seed(1)
    model = lightnets.create_model("hu1d", bands=30, num_classes=4, drop_rate=0.3).train()
    padded = engine.pad_cube(torch.randn(30, 15, 12), model.window)
    pos = torch.stack([torch.randint(0, 15, (40,)), torch.randint(0, 12, (40,))], 1)
    labels = torch.randint(0, 4, (40,))
    training_paths_agree(model, padded, pos, labels, TOL)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"window": 25}, r"^window: expected 1 \(hu1d classifies a pixel .*\), got 25"),
        ({"window": 3}, r"^window: expected 1 .*, got 3"),
        ({"window": 1.0}, r"^window: expected 1 .*, got 1.0"),
        ({"bands": 0}, r"^bands: expected an integer >= 1, got 0"),
        ({"in_chans": 20, "bands": 30}, r"^in_chans: expected the same value as bands=30, got 20"),
        ({"num_classes": 0}, r"^num_classes: expected an integer >= 1, got 0"),
        ({"drop_rate": 1.0}, r"^drop_rate: expected a number in \[0, 1\), got 1.0"),
    ],
)
def test_bad_arguments_name_the_argument(kwargs: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        lightnets.create_model("hu1d", **kwargs)


def test_input_is_checked() -> None:
    model = lightnets.create_model("hu1d", bands=30)
    with pytest.raises(ValueError, match=r"^input: expected a tensor of shape \(N, 30, 1, 1\)"):
        model(torch.randn(2, 30, 3, 3))


@pytest.mark.parametrize(
    ("bands", "classes", "paper", "tolerance"),
    [(220, 8, 81_408, 0.025), (224, 16, 82_216, 0.0), (103, 9, 61_249, 0.033)],
)
def test_parameter_counts_against_hu_et_al_table_1(bands, classes, paper, tolerance) -> None:
    # Table 1's pooled lengths (40 / 40 / 30) are not one rounding of n2 / k2: see hu1d.py
    model = lightnets.create_model("hu1d", bands=bands, num_classes=classes)
    assert abs(_count(model) - paper) <= tolerance * paper
