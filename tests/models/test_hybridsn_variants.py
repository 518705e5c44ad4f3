"""HybridSN variants: SE / CBAM per window in the head, the separable lite model; scene == patch."""

from __future__ import annotations

import pytest
import torch
from torch import nn

import lightnets
from lightnets.hsi import engine
from lightnets.models import get_entry
from lightnets.models.hybridsn import HybridSN
from lightnets.models.hybridsn_variants import HybridSNAttention, HybridSNLite

TOL = 1e-4
VARIANTS = ("hybridsn_se", "hybridsn_cbam", "hybridsn_lite")
HYBRIDSN_IP = 5_122_176  # 30 bands, 25×25, 16 classes (test_hybridsn.py, the paper)


def _count(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())


def _lite_count(bands: int, window: int, classes: int, separable_3d: bool = False) -> int:
    """The module's layer table for hybridsn_lite."""
    folded = 32 * (bands - 12)
    fw = window - 8
    if separable_3d:
        convs = (8 * 63 + 8) + (8 * 45 + 8 + 8 * 16 + 16) + (16 * 27 + 16 + 16 * 32 + 32)
    else:
        convs = (8 * 63 + 8) + (8 * 16 * 45 + 16) + (16 * 32 * 27 + 32)
    conv4 = folded * 9 + folded + folded * 64 + 64
    return convs + conv4 + 64 * fw * fw + (64 * 128 + 128) + (128 * classes + classes)


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("hybridsn_se", HYBRIDSN_IP + (64 * 4 + 4) + (4 * 64 + 64)),  # 5,122,756
        ("hybridsn_cbam", HYBRIDSN_IP + (64 * 4 + 4) + (4 * 64 + 64) + 2 * 49),  # 5,122,854
        ("hybridsn_lite", 91_712),
    ],
)
def test_parameter_counts_for_indian_pines(name: str, expected: int) -> None:
    model = lightnets.create_model(name, bands=30, window=25, num_classes=16)
    assert _count(model) == expected
    if name == "hybridsn_lite":
        assert _lite_count(30, 25, 16) == expected
        separable = lightnets.create_model(name, separable_3d=True)
        assert _count(separable) == _lite_count(30, 25, 16, separable_3d=True) == 73_584


@pytest.mark.parametrize(
    ("bands", "window", "classes"), [(30, 25, 16), (15, 25, 9), (200, 25, 16), (13, 25, 2)]
)
def test_lite_has_at_least_ten_times_fewer_parameters(
    bands: int, window: int, classes: int
) -> None:
    # At HybridSN's 25×25 window; the ratio falls with the window (9.6× at 11×11), as
    # HybridSN's dense layer shrinks with fw².
    kwargs = {"bands": bands, "window": window, "num_classes": classes}
    lite = _count(lightnets.create_model("hybridsn_lite", **kwargs))
    assert lite == _lite_count(bands, window, classes)
    assert 10 * lite <= _count(lightnets.create_model("hybridsn", **kwargs))


def test_lite_layers_are_separable_valid_and_stride_one() -> None:
    model = lightnets.create_model("hybridsn_lite")
    assert isinstance(model, HybridSNLite) and model.feature_window == 17
    convs = [m for m in model.modules() if isinstance(m, (nn.Conv2d, nn.Conv3d))]
    assert all(set(c.stride) == {1} and set(c.padding) == {0} for c in convs)
    assert [c.groups for c in convs] == [1, 1, 1, 576, 1, 64]
    separable = lightnets.create_model("hybridsn_lite", separable_3d=True)
    groups = [m.groups for m in separable.modules() if isinstance(m, (nn.Conv2d, nn.Conv3d))]
    assert groups == [1, 8, 1, 16, 1, 576, 1, 64]
    assert tuple(model.pool.weight.shape) == (64, 1, 17, 17)
    assert not any(isinstance(m, nn.modules.batchnorm._BatchNorm) for m in model.modules())
    x = torch.randn(2, 30, 25, 25)
    f = model.forward_features(x)
    assert f.shape == (2, 64, 17, 17)
    assert model.forward_head(f, pre_logits=True).shape == (2, 128)
    assert model(x).shape == (2, 16)
    model.reset_classifier(3)
    assert model(x).shape == (2, 3)


def test_lite_pooling_starts_as_the_average() -> None:
    model = lightnets.create_model("hybridsn_lite", window=11).eval()
    f = torch.randn(3, 64, 3, 3)
    with torch.no_grad():
        assert (model.pool(f).flatten(1) - f.mean((2, 3))).abs().max() < 1e-6


def test_lite_options_keep_the_scene_path_exact() -> None:
    for m in (1, 3):
        model = lightnets.create_model("hybridsn_lite", pool_maps=m)
        assert _count(model) == _lite_count(30, 25, 16) + (m - 1) * 64 * (17 * 17 + 128)
        assert tuple(model.pool.weight.shape) == (64 * m, 1, 17, 17)
    torch.manual_seed(0)
    cube = torch.randn(16, 13, 12)
    for kwargs in ({"pool_maps": 3}, {"separable_3d": True}):
        model = lightnets.create_model(
            "hybridsn_lite", bands=16, window=11, num_classes=5, **kwargs
        )
        scene = engine.predict_scene(model, cube, device="cpu")
        every = engine.scene_positions(13, 12)
        patches = engine.predict_patches(model, cube, every, device="cpu")
        assert (scene - patches.T.reshape(5, 13, 12)).abs().max() < TOL
    with pytest.raises(ValueError, match=r"^pool_maps: expected an integer >= 1, got 0"):
        lightnets.create_model("hybridsn_lite", pool_maps=0)
    with pytest.raises(ValueError, match=r"^separable_3d: expected True or False, got 'yes'"):
        lightnets.create_model("hybridsn_lite", separable_3d="yes")


@pytest.mark.parametrize("name", ["hybridsn_se", "hybridsn_cbam"])
def test_attention_variants_are_hybridsn_plus_a_block_in_the_head(name: str) -> None:
    model = lightnets.create_model(name, window=11, num_classes=6).eval()
    assert isinstance(model, HybridSNAttention) and isinstance(model, HybridSN)
    plain = lightnets.create_model("hybridsn", window=11, num_classes=6).eval()
    state = model.state_dict()
    plain.load_state_dict({k: v for k, v in state.items() if not k.startswith("attention.")})
    assert set(state) - set(plain.state_dict()) == {k for k in state if k.startswith("attention.")}
    x = torch.randn(2, 30, 11, 11)
    with torch.no_grad():
        f = model.forward_features(x)
        assert torch.equal(f, plain.forward_features(x))  # attention is not in the trunk
        assert (model(x) - plain.forward_head(model.attention(f))).abs().max() < 1e-6
        assert (model(x) - plain(x)).abs().max() > 1e-4  # and it acts
    entry = get_entry(name)
    assert (entry.task, entry.family) == ("hsi", "hybridsn")


@pytest.mark.parametrize("name", VARIANTS)
def test_scene_head_equals_the_head_on_each_window(name: str) -> None:
    torch.manual_seed(0)
    model = lightnets.create_model(name, bands=14, window=11, num_classes=5).eval()
    fmap = torch.randn(2, 64, 7, 6)
    with torch.no_grad():
        out = model.scene_head(fmap)
        assert out.shape == (2, 5, 5, 4)
        for r, c in [(0, 0), (4, 3), (2, 1)]:
            head = model.forward_head(fmap[:, :, r : r + 3, c : c + 3])
            assert (out[:, :, r, c] - head).abs().max() < 1e-5


@pytest.mark.parametrize("name", VARIANTS)
def test_scene_path_equals_patch_path(name: str) -> None:
    torch.manual_seed(0)
    model = lightnets.create_model(name, bands=16, window=11, num_classes=5)
    cube = torch.randn(16, 21, 18)
    scene = engine.predict_scene(model, cube, device="cpu")
    patches = engine.predict_patches(model, cube, engine.scene_positions(21, 18), device="cpu")
    assert scene.abs().max() > 0.05
    assert (scene - patches.T.reshape(5, 21, 18)).abs().max() < TOL
    pos = torch.tensor([[0, 0], [20, 17], [9, 4], [3, 15]])
    pixels = engine.predict_pixels(model, cube, pos, device="cpu")
    assert (pixels - scene[:, pos[:, 0], pos[:, 1]].T).abs().max() < TOL


@pytest.mark.parametrize("name", VARIANTS)
def test_training_gradients_equal_the_patch_path(name: str, training_paths_agree) -> None:
    torch.manual_seed(1)
    model = lightnets.create_model(name, bands=16, window=11, num_classes=4).train()
    padded = engine.pad_cube(torch.randn(16, 23, 19), model.window)
    pos = torch.stack([torch.randint(0, 23, (48,)), torch.randint(0, 19, (48,))], 1)
    labels = torch.randint(0, 4, (48,))
    training_paths_agree(model, padded, pos, labels, TOL)


@pytest.mark.parametrize("name", VARIANTS)
@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"window": 7}, r"^window: expected an odd integer >= 9, got 7"),
        ({"window": 24}, r"^window: expected an odd integer >= 9, got 24"),
        ({"bands": 12}, r"^bands: expected an integer >= 13, got 12"),
        ({"in_chans": 20, "bands": 30}, r"^in_chans: expected the same value as bands=30, got 20"),
        ({"num_classes": 0}, r"^num_classes: expected an integer >= 1, got 0"),
    ],
)
def test_bad_arguments_name_the_argument(name: str, kwargs: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        lightnets.create_model(name, **kwargs)


def test_unknown_attention_is_rejected() -> None:
    with pytest.raises(ValueError, match=r"^attention: expected 'se' or 'cbam', got 'eca'"):
        HybridSNAttention("eca")
