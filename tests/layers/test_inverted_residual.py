import pytest
import torch
from torch import nn

from lightnets.layers import InvertedResidual, InvertedResidualConfig, SqueezeExcite


def test_residual_only_when_shapes_match() -> None:
    same = InvertedResidual(InvertedResidualConfig(16, 96, 16, stride=1))
    down = InvertedResidual(InvertedResidualConfig(16, 96, 16, stride=2))
    wider = InvertedResidual(InvertedResidualConfig(16, 96, 24, stride=1))
    assert same.use_residual and not down.use_residual and not wider.use_residual
    same.eval()
    x = torch.randn(2, 16, 9, 9)
    torch.testing.assert_close(same(x), x + same.block(x))
    assert down(x).shape == (2, 16, 5, 5)


def test_linear_bottleneck_and_expansion() -> None:
    block = InvertedResidual(InvertedResidualConfig(16, 96, 24, kernel=5, act="hswish"))
    assert list(block.block._modules) == ["expand", "dw", "project"]
    assert block.block.dw.conv.groups == 96 and block.block.dw.conv.kernel_size == (5, 5)
    # The projection is linear: conv + norm, no activation (MobileNetV2 §3.2).
    assert [type(m) for m in block.block.project] == [nn.Conv2d, nn.BatchNorm2d]
    assert isinstance(block.block.expand.act, nn.Hardswish)


def test_no_expand_conv_when_expansion_is_one() -> None:
    block = InvertedResidual(InvertedResidualConfig(32, 32, 16))
    assert "expand" not in block.block._modules


def test_squeeze_excite_width_follows_mobilenet_v3() -> None:
    block = InvertedResidual(InvertedResidualConfig(24, 72, 40, kernel=5, stride=2, se=True))
    se = block.block.se
    assert isinstance(se, SqueezeExcite)
    assert se.fc1.out_channels == 24  # make_divisible(72 / 4, 8)
    assert isinstance(se.gate, nn.Hardsigmoid)


def test_bad_stride() -> None:
    with pytest.raises(ValueError, match=r"^stride: expected one of 1, 2, got 3"):
        InvertedResidual(InvertedResidualConfig(8, 8, 8, stride=3))
