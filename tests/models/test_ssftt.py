"""SSFTT: the reference code's sizes, the tokenizer, scene path == patch path (eval-mode BN)."""

from __future__ import annotations

import pytest
import torch
from torch import nn

import lightnets
from lightnets.hsi import engine
from lightnets.models import get_entry
from lightnets.models.ssftt import SSFTT

TOL = 1e-4


def _count(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())


def _hand_count(bands: int, classes: int) -> int:
    """The module's layer table."""
    conv3d, bn3d = 8 * 27 + 8, 16
    conv2d, bn2d = 64 * 8 * (bands - 2) * 9 + 64, 128
    tokenizer, cls_and_pos = 4 * 64 + 64 * 64, 64 + 5 * 64
    encoder = 2 * 128 + (64 * 192 + 192) + (64 * 64 + 64) + (64 * 8 + 8) + (8 * 64 + 64)
    return (
        conv3d + bn3d + conv2d + bn2d + tokenizer + cls_and_pos + encoder + 64 * classes + classes
    )


@pytest.mark.parametrize(
    ("bands", "window", "classes", "expected"),
    [
        (30, 13, 16, 153_224),  # Indian Pines, the reference setting
        (30, 21, 16, 153_224),  # the tokenizer pools over the window: no window dependence
        (15, 13, 9, 83_649),  # Pavia University with 15 components
    ],
)
def test_parameter_counts(bands: int, window: int, classes: int, expected: int) -> None:
    model = lightnets.create_model("ssftt", bands=bands, window=window, num_classes=classes)
    assert _count(model) == _hand_count(bands, classes) == expected


def test_layers_and_shapes() -> None:
    model = lightnets.create_model("ssftt")  # 30 bands, 13×13, 16 classes
    assert isinstance(model, SSFTT) and model.feature_window == 9
    assert tuple(model.conv3d.weight.shape) == (8, 1, 3, 3, 3)
    assert tuple(model.conv2d.weight.shape) == (64, 8 * 28, 3, 3)
    assert model.conv3d.padding == (0, 0, 0) and model.conv2d.padding == (0, 0)
    assert set(model.conv3d.stride) == set(model.conv2d.stride) == {1}
    (block,) = model.blocks
    assert block.attn.heads == 8 and block.attn.scale == 64**-0.5
    assert (block.mlp[0].in_features, block.mlp[0].out_features) == (64, 8)
    assert tuple(model.pos_embed.shape) == (1, 5, 64)
    assert [m.p for m in model.modules() if isinstance(m, nn.Dropout)] == [0.1] * 4
    x = torch.randn(2, 30, 13, 13)
    f = model.forward_features(x)
    assert f.shape == (2, 64, 9, 9)
    assert model.tokens(f).shape == (2, 4, 64)
    assert model.forward_head(f, pre_logits=True).shape == (2, 64)
    assert model(x).shape == (2, 16)
    entry = get_entry("ssftt")
    assert (entry.task, entry.family) == ("hsi", "ssftt")
    model.reset_classifier(3)
    assert model(x).shape == (2, 3)


def test_tokens_are_softmax_weighted_sums_over_the_window() -> None:
    model = lightnets.create_model("ssftt").eval()
    f = torch.randn(1, 64, 9, 9)
    with torch.no_grad():
        tokens = model.tokens(f)
        x = f[0].flatten(1).T  # 81 × 64
        weights = (x @ model.token_wa[0].T).softmax(0)  # 81 × 4, over the positions
        expected = weights.T @ (x @ model.token_wv[0])
    assert (tokens[0] - expected).abs().max() < 1e-5


def _model_with_running_stats(seed: int = 0, **kwargs) -> nn.Module:
    torch.manual_seed(seed)
    model = lightnets.create_model("ssftt", **kwargs)
    for bn in (model.bn3d, model.bn2d):  # non-trivial eval-mode batch norm
        bn.running_mean.uniform_(-0.5, 0.5)
        bn.running_var.uniform_(0.5, 2.0)
        bn.weight.data.uniform_(0.5, 1.5)
        bn.bias.data.uniform_(-0.2, 0.2)
    return model


def test_scene_path_equals_patch_path() -> None:
    model = _model_with_running_stats(bands=12, window=9, num_classes=5)
    cube = torch.randn(12, 18, 15)
    scene = engine.predict_scene(model, cube, device="cpu")
    patches = engine.predict_patches(model, cube, engine.scene_positions(18, 15), device="cpu")
    assert scene.abs().max() > 0.05
    assert (scene - patches.T.reshape(5, 18, 15)).abs().max() < TOL
    pos = torch.tensor([[0, 0], [17, 14], [8, 3]])
    pixels = engine.predict_pixels(model, cube, pos, device="cpu")
    assert (pixels - scene[:, pos[:, 0], pos[:, 1]].T).abs().max() < TOL


def test_training_gradients_equal_the_patch_path_with_batch_norm_in_eval_mode(
    training_paths_agree,
) -> None:
    # Dropout on, batch norm on running statistics: train-mode batch norm would normalise the
    # region map and the stacked patches with different statistics (see the module docs).
    model = _model_with_running_stats(1, bands=12, window=9, num_classes=4).train()
    model.bn3d.eval()
    model.bn2d.eval()
    padded = engine.pad_cube(torch.randn(12, 17, 16), model.window)
    pos = torch.stack([torch.randint(0, 17, (40,)), torch.randint(0, 16, (40,))], 1)
    labels = torch.randint(0, 4, (40,))
    training_paths_agree(model, padded, pos, labels, TOL)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"window": 3}, r"^window: expected an odd integer >= 5, got 3"),
        ({"window": 12}, r"^window: expected an odd integer >= 5, got 12"),
        ({"bands": 2}, r"^bands: expected an integer >= 3, got 2"),
        ({"in_chans": 20, "bands": 30}, r"^in_chans: expected the same value as bands=30, got 20"),
        ({"num_classes": 0}, r"^num_classes: expected an integer >= 1, got 0"),
        ({"drop_rate": -0.1}, r"^drop_rate: expected a number in \[0, 1\), got -0.1"),
    ],
)
def test_bad_arguments_name_the_argument(kwargs: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        lightnets.create_model("ssftt", **kwargs)


def test_input_is_checked() -> None:
    model = lightnets.create_model("ssftt")
    with pytest.raises(ValueError, match=r"^input: expected a tensor of shape \(N, 30, 13, 13\)"):
        model(torch.randn(2, 30, 15, 15))
