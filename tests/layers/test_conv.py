import pytest
import torch
from torch import nn

from lightnets.layers import ConvNormAct, DepthwiseSeparableConv


def test_conv_norm_act_order_and_same_padding() -> None:
    block = ConvNormAct(8, 16, kernel_size=5, stride=1, act="hswish")
    kinds = [type(m) for m in block]
    assert kinds == [nn.Conv2d, nn.BatchNorm2d, nn.Hardswish]
    assert block.conv.bias is None  # the norm carries the bias
    x = torch.randn(2, 8, 13, 13)
    assert block(x).shape == (2, 16, 13, 13)
    assert ConvNormAct(8, 16, stride=2)(x).shape == (2, 16, 7, 7)


def test_conv_norm_act_without_norm_or_act() -> None:
    block = ConvNormAct(4, 4, 1, act=None, norm=False)
    assert [type(m) for m in block] == [nn.Conv2d]
    assert block.conv.bias is not None


def test_conv_norm_act_groups_must_divide_channels() -> None:
    with pytest.raises(ValueError, match=r"^in_chs: expected a multiple of groups=3, got 8"):
        ConvNormAct(8, 12, groups=3)
    with pytest.raises(ValueError, match=r"^out_chs: expected a multiple of groups=4, got 10"):
        ConvNormAct(8, 10, groups=4)
    with pytest.raises(ValueError, match=r"^in_chs: expected an integer >= 1, got 0"):
        ConvNormAct(0, 10)


def test_depthwise_separable_cost_matches_mobilenet_v1_formula() -> None:
    # MobileNetV1 §3.1: depthwise Dk²·M weights, pointwise M·N weights.
    m, n, k = 32, 64, 3
    block = DepthwiseSeparableConv(m, n, k)
    conv_weights = sum(p.numel() for name, p in block.named_parameters() if "conv" in name)
    assert conv_weights == k * k * m + m * n
    assert block.dw.conv.groups == m
    x = torch.randn(2, m, 10, 10)
    assert block(x).shape == (2, n, 10, 10)
    assert DepthwiseSeparableConv(m, n, stride=2)(x).shape == (2, n, 5, 5)


def test_depthwise_separable_equals_its_two_convolutions() -> None:
    block = DepthwiseSeparableConv(6, 9).eval()
    x = torch.randn(1, 6, 8, 8)
    expected = block.pw(block.dw(x))
    torch.testing.assert_close(block(x), expected)
