"""SE and CBAM against hand computations of their defining equations."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from lightnets.layers import CBAM, ChannelAttention, SpatialAttention, SqueezeExcite


def _mlp(x: torch.Tensor, fc1: torch.nn.Conv2d, fc2: torch.nn.Conv2d) -> torch.Tensor:
    """Two FC layers with ReLU between, written as matrix products on N×C descriptors."""
    w1, w2 = fc1.weight.flatten(1), fc2.weight.flatten(1)
    hidden = (x @ w1.T + fc1.bias).clamp_min(0)
    return hidden @ w2.T + fc2.bias


@pytest.mark.parametrize("gate", ["sigmoid", "hsigmoid"])
def test_squeeze_excite_matches_hand_computation(gate: str) -> None:
    torch.manual_seed(0)
    se = SqueezeExcite(32, rd_ratio=1 / 4, gate=gate)
    x = torch.randn(2, 32, 5, 6) * 3
    squeezed = x.sum((2, 3)) / (5 * 6)
    z = _mlp(squeezed, se.fc1, se.fc2)
    # SENet eq. (3) uses the logistic sigmoid; MobileNetV3 §5.2: h-sigmoid = ReLU6(z + 3) / 6.
    scale = 1 / (1 + torch.exp(-z)) if gate == "sigmoid" else (z + 3).clamp(0, 6) / 6
    expected = x * scale[:, :, None, None]
    out = se(x)
    assert out.shape == x.shape
    torch.testing.assert_close(out, expected, atol=1e-6, rtol=1e-5)
    if gate == "hsigmoid":
        # The two gates must really differ, or the parametrisation tests nothing.
        sig = x * torch.sigmoid(z)[:, :, None, None]
        assert (out - sig).abs().max() > 1e-3


@pytest.mark.parametrize(
    ("channels", "rd_ratio", "divisor", "expected"),
    [
        (64, 1 / 16, 1, 4),  # SENet r = 16
        (2048, 1 / 16, 1, 128),
        (16, 1 / 16, 1, 1),
        (8, 1 / 16, 1, 1),  # never below one channel
        (96, 1 / 4, 8, 24),  # MobileNetV3: make_divisible(exp / 4, 8)
        (72, 1 / 4, 8, 24),  # 18 rounds down to 16 < 0.9 · 18, so up to 24
        (120, 1 / 4, 8, 32),  # 30 rounds to 32
    ],
)
def test_squeeze_excite_reduced_width(
    channels: int, rd_ratio: float, divisor: int, expected: int
) -> None:
    se = SqueezeExcite(channels, rd_ratio=rd_ratio, divisor=divisor)
    assert se.fc1.out_channels == expected
    assert se.fc2.in_channels == expected
    assert se.fc2.out_channels == channels


def test_squeeze_excite_explicit_reduced_width_wins() -> None:
    se = SqueezeExcite(64, rd_ratio=1 / 16, rd_channels=10)
    assert (se.fc1.out_channels, se.fc2.in_channels) == (10, 10)


def test_channel_attention_uses_one_shared_mlp() -> None:
    torch.manual_seed(0)
    ca = ChannelAttention(64, rd_ratio=1 / 16)
    # One MLP: fc1 and fc2, weights and biases, 4 tensors (two MLPs would have 8).
    assert len(list(ca.parameters())) == 4
    assert ca.fc1.out_channels == 4
    x = torch.randn(2, 64, 7, 5)
    avg = x.mean((2, 3))
    mx = x.flatten(2).max(dim=2).values
    # CBAM eq. (2): Mc = σ(MLP(AvgPool(F)) + MLP(MaxPool(F))), the same MLP for both.
    scale = torch.sigmoid(_mlp(avg, ca.fc1, ca.fc2) + _mlp(mx, ca.fc1, ca.fc2))
    out = ca(x)
    assert out.shape == x.shape
    torch.testing.assert_close(out, x * scale[:, :, None, None], atol=1e-6, rtol=1e-5)
    # The max descriptor matters: dropping it gives a different result.
    avg_only = x * torch.sigmoid(2 * _mlp(avg, ca.fc1, ca.fc2))[:, :, None, None]
    assert (out - avg_only).abs().max() > 1e-3


def test_spatial_attention_matches_conv_over_mean_and_max() -> None:
    torch.manual_seed(0)
    sa = SpatialAttention()
    assert sa.conv.weight.shape == (1, 2, 7, 7)
    assert sa.conv.bias is None
    x = torch.randn(2, 16, 9, 11)
    pooled = torch.cat([x.mean(1, keepdim=True), x.max(1, keepdim=True).values], dim=1)
    # CBAM eq. (3): Ms = σ(f7×7([AvgPool(F); MaxPool(F)])), "same" padding.
    attn = torch.sigmoid(F.conv2d(pooled, sa.conv.weight, padding=3))
    out = sa(x)
    assert out.shape == x.shape
    torch.testing.assert_close(out, x * attn, atol=1e-6, rtol=1e-5)
    # Swapping the two pooled maps changes the result: the order [mean; max] is checked.
    swapped = torch.sigmoid(F.conv2d(pooled.flip(1), sa.conv.weight, padding=3))
    assert (x * swapped - out).abs().max() > 1e-4


def test_spatial_attention_scale_depends_on_position() -> None:
    torch.manual_seed(0)
    sa = SpatialAttention()
    ramp = torch.linspace(0.5, 3.0, 12)
    x = (ramp[None, :] * ramp[:, None]).expand(1, 8, 12, 12).clone()  # varies with position
    scale = sa(x) / x
    # One map, shared by every channel at a given position ...
    torch.testing.assert_close(scale, scale[:, :1].expand_as(scale))
    # ... whose values differ from position to position (SE would give one value per channel).
    assert scale[0, 0].std() > 1e-3
    assert len(torch.unique(scale[0, 0].round(decimals=5))) > 10


def test_cbam_is_channel_then_spatial() -> None:
    torch.manual_seed(0)
    cbam = CBAM(32, rd_ratio=1 / 16, kernel_size=7)
    assert cbam.channel.fc1.out_channels == 2
    assert cbam.spatial.conv.kernel_size == (7, 7)
    x = torch.randn(2, 32, 8, 8)
    out = cbam(x)
    assert out.shape == x.shape
    torch.testing.assert_close(out, cbam.spatial(cbam.channel(x)))
    # The order matters (both steps are non-linear), so the check above can fail.
    assert (out - cbam.channel(cbam.spatial(x))).abs().max() > 1e-4


@pytest.mark.parametrize(
    "module",
    [
        SqueezeExcite(24),
        SqueezeExcite(24, rd_ratio=0.25, divisor=8, gate="hsigmoid"),
        ChannelAttention(24),
        SpatialAttention(),
        SpatialAttention(3),
        CBAM(24),
    ],
    ids=["se", "se_hsigmoid", "channel", "spatial7", "spatial3", "cbam"],
)
def test_shapes_preserved(module: torch.nn.Module) -> None:
    x = torch.randn(3, 24, 10, 7)
    assert module(x).shape == x.shape
