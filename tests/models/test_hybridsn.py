"""HybridSN: the paper's layers and parameter counts, the interface, bad arguments."""

from __future__ import annotations

import pytest
import torch
from torch import nn

import lightnets
from lightnets.models import get_entry
from lightnets.models.hybridsn import HybridSN


def _count(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())


@pytest.mark.parametrize(
    ("bands", "classes", "expected"),
    [(30, 16, 5_122_176), (15, 9, 4_844_793)],  # Indian Pines, Pavia University (the paper)
)
def test_parameter_counts_match_the_paper(bands: int, classes: int, expected: int) -> None:
    model = lightnets.create_model("hybridsn", bands=bands, num_classes=classes, window=25)
    assert _count(model) == expected


def test_layers_are_the_papers() -> None:
    model = lightnets.create_model("hybridsn")  # 30 bands, 25×25, 16 classes
    convs3d = [m for m in model.modules() if isinstance(m, nn.Conv3d)]
    assert [tuple(c.weight.shape) for c in convs3d] == [
        (8, 1, 7, 3, 3),
        (16, 8, 5, 3, 3),
        (32, 16, 3, 3, 3),
    ]
    assert tuple(model.conv4.weight.shape) == (64, 32 * 18, 3, 3)
    linears = [m for m in model.modules() if isinstance(m, nn.Linear)]
    assert [(m.in_features, m.out_features) for m in linears] == [
        (64 * 17 * 17, 256),
        (256, 128),
        (128, 16),
    ]
    assert [m.p for m in model.modules() if isinstance(m, nn.Dropout)] == [0.4, 0.4]
    assert not any(isinstance(m, nn.modules.batchnorm._BatchNorm) for m in model.modules())
    convs = [*convs3d, model.conv4]
    assert all(c.padding in ((0, 0, 0), (0, 0)) and set(c.stride) == {1} for c in convs)
    x = torch.randn(2, 30, 25, 25)
    assert model.forward_features(x).shape == (2, 64, 17, 17)
    assert model.forward_head(model.forward_features(x), pre_logits=True).shape == (2, 128)
    assert model(x).shape == (2, 16)


def test_registry_entry_and_interface() -> None:
    entry = get_entry("hybridsn")
    assert (entry.task, entry.family, entry.paper) == (
        "hsi",
        "hybridsn",
        "HybridSN (Roy et al. 2020)",
    )
    model = lightnets.create_model("hybridsn", bands=20, window=11, num_classes=7)
    assert isinstance(model, HybridSN)
    assert (model.bands, model.in_chans, model.window, model.feature_window) == (20, 20, 11, 3)
    assert model.input_shape == (20, 11, 11) and model.num_features == 128
    assert model.drop_rate == 0.4
    via_in_chans = lightnets.create_model("hybridsn", in_chans=20, window=11, num_classes=7)
    assert via_in_chans.bands == 20 and _count(via_in_chans) == _count(model)
    model.reset_classifier(3)
    assert model.num_classes == 3 and model(torch.randn(4, 20, 11, 11)).shape == (4, 3)


def test_scene_head_equals_the_dense_head_on_one_window() -> None:
    model = lightnets.create_model("hybridsn", bands=14, window=13, num_classes=6).eval()
    x = torch.randn(3, 14, 13, 13)
    with torch.no_grad():
        dense = model(x)
        as_conv = model.scene_head(model.forward_features(x))
    assert as_conv.shape == (3, 6, 1, 1)
    assert (as_conv[:, :, 0, 0] - dense).abs().max() < 1e-5


def test_forward_features_is_translation_equivariant() -> None:
    model = lightnets.create_model("hybridsn", bands=13, window=9, num_classes=2).eval()
    scene = torch.randn(1, 13, 20, 18)
    with torch.no_grad():
        big = model.forward_features(scene)
        crop = model.forward_features(scene[:, :, 5:14, 7:16])
    assert big.shape == (1, 64, 12, 10)
    assert (big[:, :, 5:6, 7:8] - crop).abs().max() < 1e-5


def test_scene_head_dropout_acts_per_position() -> None:
    model = lightnets.create_model("hybridsn", bands=13, window=9, num_classes=4)
    features = torch.rand(1, 64, 1, 1).expand(1, 64, 8, 8).contiguous()  # same at every position
    model.eval()
    with torch.no_grad():
        out = model.scene_head(features)
    assert (out - out[:, :, :1, :1]).abs().max() == 0
    model.train()
    with torch.no_grad():
        out = model.scene_head(features)
    flat = out[0].reshape(4, -1)
    assert len({tuple(flat[:, i].tolist()) for i in range(flat.shape[1])}) > 50  # own masks


def test_input_is_checked() -> None:
    model = lightnets.create_model("hybridsn")
    with pytest.raises(ValueError, match=r"^input: expected a tensor of shape \(N, 30, 25, 25\)"):
        model(torch.randn(2, 30, 27, 27))
    with pytest.raises(ValueError, match=r"^input: expected a tensor of shape \(N, 30, 25, 25\)"):
        model(torch.randn(2, 1, 30, 25, 25))


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"window": 24}, r"^window: expected an odd integer >= 9, got 24"),
        ({"window": 7}, r"^window: expected an odd integer >= 9, got 7"),
        ({"window": 25.0}, r"^window: expected an odd integer >= 9, got 25.0"),
        ({"bands": 12}, r"^bands: expected an integer >= 13, got 12"),
        ({"in_chans": 12}, r"^in_chans: expected an integer >= 13, got 12"),
        ({"in_chans": 20, "bands": 30}, r"^in_chans: expected the same value as bands=30, got 20"),
        ({"num_classes": 0}, r"^num_classes: expected an integer >= 1, got 0"),
        ({"drop_rate": 1.0}, r"^drop_rate: expected a number in \[0, 1\), got 1.0"),
    ],
)
def test_bad_arguments_name_the_argument(kwargs: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        lightnets.create_model("hybridsn", **kwargs)
    model = lightnets.create_model("hybridsn")
    with pytest.raises(ValueError, match=r"^num_classes: expected an integer >= 1, got 0"):
        model.reset_classifier(0)
