"""Published figures reproduced by ``lightnets.profile`` (all counted on the ``meta`` device).

MACs are the papers' multiply-adds: convolutions and linear layers only. Several papers call
these "FLOPs" (SENet, ShuffleNet); torchvision's "GFLOPS" column is the same quantity.
"""

from __future__ import annotations

import pytest
from torch import nn

from lightnets.layers import DepthwiseSeparableConv
from lightnets.models.hybridsn import CONV2D_FILTERS, CONV3D_FILTERS, HIDDEN_UNITS
from lightnets.profiling import profile

# --- MobileNets (Howard et al. 2017), Table 3: one 3×3 layer at 14×14 with 512 → 512 channels.
# Rows: (label, channels, spatial size, depthwise separable?, MACs, parameters).
TABLE3 = [
    ("Conv MobileNet", 512, 14, False, 462_422_016, 2_359_296),
    ("MobileNet", 512, 14, True, 52_283_392, 266_752),
    ("α = 0.75 MobileNet", 384, 14, True, 29_578_752, 150_912),
    ("α = 0.75, ρ = 0.714 MobileNet", 384, 10, True, 15_091_200, 150_912),
]


def table3_layer(channels: int, separable: bool) -> nn.Module:
    """The layer without batch norm: Table 3 counts convolution weights only."""
    if not separable:
        return nn.Conv2d(channels, channels, 3, padding=1, bias=False)
    return nn.Sequential(
        nn.Conv2d(channels, channels, 3, padding=1, groups=channels, bias=False),
        nn.Conv2d(channels, channels, 1, bias=False),
    )


@pytest.mark.parametrize(("label", "channels", "size", "separable", "macs", "params"), TABLE3)
def test_mobilenet_table3_exact(
    label: str, channels: int, size: int, separable: bool, macs: int, params: int
) -> None:
    result = profile(table3_layer(channels, separable), (channels, size, size))
    assert (result.macs, result.params) == (macs, params), label


def test_table3_with_the_library_block() -> None:
    """The zoo's DepthwiseSeparableConv: the same MACs, and the same weights plus batch norm."""
    result = profile(DepthwiseSeparableConv(512, 512), (512, 14, 14))
    assert result.macs == 52_283_392
    conv_params = sum(r.params for r in result.layers if r.type == "Conv2d")
    assert conv_params == 266_752
    assert result.params == 266_752 + 2 * 2 * 512  # two BN layers, γ and β each


# --- Whole networks at 224×224 unless stated: (model, input, expected MACs, tolerance, source).
WHOLE = [
    ("mobilenet_v1_100", 224, 569e6, 0.01, "MobileNets Tables 6 and 7"),
    ("mobilenet_v1_100", 192, 418e6, 0.01, "MobileNets Table 7"),
    # 290.68M: Table 7 prints 290; within 1% of both.
    ("mobilenet_v1_100", 160, 291e6, 0.01, "MobileNets Table 7 (290)"),
    ("mobilenet_v1_100", 128, 186e6, 0.01, "MobileNets Table 7"),
    ("mobilenet_v1_075", 224, 325e6, 0.01, "MobileNets Table 6"),
    ("mobilenet_v1_050", 224, 149e6, 0.01, "MobileNets Table 6"),
    ("mobilenet_v1_025", 224, 41e6, 0.01, "MobileNets Table 6"),
    ("shufflenet_v1_g1_x1_0", 224, 143e6, 0.02, "ShuffleNet Table 1"),
    ("shufflenet_v1_g2_x1_0", 224, 140e6, 0.02, "ShuffleNet Table 1"),
    ("shufflenet_v1_g3_x1_0", 224, 137e6, 0.02, "ShuffleNet Table 1"),
    ("shufflenet_v1_g4_x1_0", 224, 133e6, 0.02, "ShuffleNet Table 1"),
    ("shufflenet_v1_g8_x1_0", 224, 137e6, 0.02, "ShuffleNet Table 1"),
    ("resnet50", 224, 4_089e6, 0.01, "torchvision resnet50 (4.09 GFLOPS)"),
    # Paper stride placement (stride on the first 1×1 of each bottleneck).
    ("se_resnet50", 224, 3.86e9, 0.01, "SENet Table 2 (3.87 GFLOPs; text: 3.86)"),
]


@pytest.mark.parametrize(("name", "size", "expected", "tolerance", "source"), WHOLE)
def test_whole_network_macs(
    name: str, size: int, expected: float, tolerance: float, source: str
) -> None:
    macs = profile(name, size).macs
    assert abs(macs - expected) <= tolerance * expected, f"{name}: {macs:,} vs {source}"


# torchvision's own figures, exact to 0.01 M multiply-adds (torchvision layouts).
TORCHVISION = [
    ("mobilenet_v2_100", 300.77),
    ("mobilenet_v3_large_100", 216.59),
    ("mobilenet_v3_small_100", 56.51),
    # The paper's 146M uses the reference stage-2 unit (see models/shufflenet_v2.py).
    ("shufflenet_v2_x1_0", 144.91),
]


@pytest.mark.parametrize(("name", "expected_m"), TORCHVISION)
def test_torchvision_macs_to_the_hundredth(name: str, expected_m: float) -> None:
    assert round(profile(name).macs / 1e6, 2) == expected_m


def test_mobilenet_v1_parameters_table6() -> None:
    # MobileNets Table 6: 4.2M / 2.6M / 1.3M / 0.5M parameters for α = 1, 0.75, 0.5, 0.25.
    for name, expected in [("mobilenet_v1_100", 4.2e6), ("mobilenet_v1_075", 2.6e6),
                           ("mobilenet_v1_050", 1.3e6), ("mobilenet_v1_025", 0.5e6)]:
        assert abs(profile(name).params - expected) <= 0.05e6, name


def test_hybridsn_indian_pines_per_pixel_macs() -> None:
    """Patch path: one 25×25×30 window per classified pixel, so MACs per pixel = per patch."""
    result = profile("hybridsn")  # Indian Pines defaults: 30 bands, 25×25 window, 16 classes
    assert result.input_shape == (30, 25, 25)
    c1, c2, c3 = CONV3D_FILTERS
    h1, h2 = HIDDEN_UNITS
    # Valid convolutions: (bands, side) → (30−6, 23), (24−4, 21), (20−2, 19); conv4 → 17×17.
    expected = (
        c1 * 24 * 23 * 23 * (7 * 3 * 3 * 1)
        + c2 * 20 * 21 * 21 * (5 * 3 * 3 * c1)
        + c3 * 18 * 19 * 19 * (3 * 3 * 3 * c2)
        + CONV2D_FILTERS * 17 * 17 * (3 * 3 * c3 * 18)
        + CONV2D_FILTERS * 17 * 17 * h1
        + h1 * h2
        + h2 * 16
    )
    assert result.macs == expected
    assert 247e6 < result.macs < 248e6  # 247.68 M multiply-adds per pixel
    assert result.params == 5_122_176  # the HybridSN module docstring's figure
