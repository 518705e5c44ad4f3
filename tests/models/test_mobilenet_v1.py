"""MobileNetV1 against the paper: Table 1 layout, Table 3 layer costs, Tables 6 and 7 totals."""

import pytest
import torch
from torch import nn
from torch.utils.flop_counter import FlopCounterMode

from lightnets.layers import DepthwiseSeparableConv
from lightnets.models import create_model, get_entry
from lightnets.models.mobilenet_v1 import LAYERS, MobileNetV1, scale_channels
from lightnets.models.table import count_parameters


def count_macs(model: nn.Module, size: int, channels: int = 3) -> int:
    """Multiply-adds of convs and linear layers for one sample, computed on the meta device."""
    with torch.device("meta"):
        model = model.to("meta").eval()
        with FlopCounterMode(display=False) as counter:
            model(torch.empty(1, channels, size, size))
    return counter.get_total_flops() // 2


def build_meta(name: str) -> nn.Module:
    with torch.device("meta"):
        return create_model(name)


# MobileNets paper, Table 6: width multiplier → (million parameters, million mult-adds at 224).
TABLE6 = {
    "mobilenet_v1_100": (4.2, 569),
    "mobilenet_v1_075": (2.6, 325),
    "mobilenet_v1_050": (1.3, 149),
    "mobilenet_v1_025": (0.5, 41),
}

# MobileNets paper, Table 7: input resolution → million mult-adds of 1.0 MobileNet.
TABLE7 = {224: 569, 192: 418, 160: 290, 128: 186}


@pytest.mark.parametrize(("name", "expected"), TABLE6.items())
def test_parameters_match_table6(name: str, expected: tuple[float, int]) -> None:
    params = count_parameters(build_meta(name))
    assert abs(params / 1e6 - expected[0]) <= 0.05


@pytest.mark.parametrize(("name", "expected"), TABLE6.items())
def test_macs_match_table6(name: str, expected: tuple[float, int]) -> None:
    macs = count_macs(build_meta(name), 224)
    assert macs / 1e6 == pytest.approx(expected[1], rel=0.01)


@pytest.mark.parametrize(("size", "expected"), TABLE7.items())
def test_macs_match_table7(size: int, expected: int) -> None:
    macs = count_macs(build_meta("mobilenet_v1_100"), size)
    assert macs / 1e6 == pytest.approx(expected, rel=0.01)


def test_table3_layer_costs() -> None:
    """Table 3: the 14×14×512 layer as a full 3×3 conv and as a depthwise separable conv."""

    def conv_weights(module: nn.Module) -> int:
        return sum(m.weight.numel() for m in module.modules() if isinstance(m, nn.Conv2d))

    separable = DepthwiseSeparableConv(512, 512)
    full = nn.Conv2d(512, 512, 3, padding=1, bias=False)
    assert count_macs(separable, 14, channels=512) == 3 * 3 * 512 * 14 * 14 + 512 * 512 * 14 * 14
    assert count_macs(separable, 14, channels=512) == 52_283_392
    assert conv_weights(separable) == 266_752
    assert count_macs(full, 14, channels=512) == 462_422_016
    assert conv_weights(full) == 2_359_296


def test_layout_follows_table1() -> None:
    with torch.device("meta"):
        model = MobileNetV1()
        features = model.forward_features(torch.empty(1, 3, 224, 224))
    assert len(model.blocks) == 13  # 28 layers: stem + 13 × (dw + pw) + FC
    strides = [block.dw.conv.stride[0] for block in model.blocks]
    assert strides == [s for s, _ in LAYERS]
    assert [block.pw.conv.out_channels for block in model.blocks] == [c for _, c in LAYERS]
    assert all(block.dw.conv.groups == block.dw.conv.in_channels for block in model.blocks)
    # Five strided layers (stem + four depthwise): 224 → 7, as the 7×7 average pool of Table 1.
    assert features.shape == (1, 1024, 7, 7)


def test_width_scales_every_layer() -> None:
    assert scale_channels(32, 0.25) == 8
    assert scale_channels(1024, 0.75) == 768
    assert scale_channels(32, 0.1) == 8  # never thinner than 8 channels
    model = MobileNetV1(width=0.5)
    assert model.stem.conv.out_channels == 16
    assert model.num_features == 512
    assert model.classifier.in_features == 512


def test_registry_entries() -> None:
    entry = get_entry("mobilenet_v1")
    assert entry.name == "mobilenet_v1_100"
    assert entry.family == "mobilenet_v1"
    assert entry.paper == "MobileNets (Howard et al. 2017)"
    assert entry.torchvision is None
    assert create_model("mobilenet_v1_025").width == 0.25


@torch.no_grad()
def test_classifier_interface() -> None:
    model = create_model("mobilenet_v1_025", num_classes=7).eval()
    x = torch.randn(2, 3, 64, 64)
    features = model.forward_features(x)
    assert features.shape == (2, 256, 2, 2)
    assert model.forward_head(features, pre_logits=True).shape == (2, 256)
    assert model(x).shape == (2, 7)
    assert model(torch.randn(1, 3, 32, 32)).shape == (1, 7)
    model.reset_classifier(10)
    assert model(x).shape == (2, 10)
    assert model.drop_rate == 0.0


@pytest.mark.parametrize("width", [0, -0.5, float("nan")])
def test_bad_width_is_rejected(width: float) -> None:
    with pytest.raises(ValueError, match="width"):
        MobileNetV1(width=width)
