"""MobileNetV1 (Howard et al. 2017): a plain stack of depthwise separable convolutions.

Every layer after the first is a 3×3 depthwise conv followed by a 1×1 pointwise conv, each
with batch norm and ReLU (paper Fig. 3). The width multiplier α thins every layer; the
resolution multiplier ρ is simply the input size, since the head pools globally.
"""

from __future__ import annotations

from torch import Tensor, nn

from .._checks import check_positive
from ..layers import ConvNormAct, DepthwiseSeparableConv
from .base import Classifier, init_weights
from .registry import register_model

PAPER = "MobileNets (Howard et al. 2017)"

# MobileNets paper, Table 1: the full 3×3 stem conv (stride 2, 32 filters).
STEM_CHANNELS = 32

# MobileNets paper, Table 1: one row per depthwise separable layer,
# (stride of the depthwise conv, output channels of the pointwise conv).
LAYERS: tuple[tuple[int, int], ...] = (
    (1, 64),
    (2, 128),
    (1, 128),
    (2, 256),
    (1, 256),
    (2, 512),
    (1, 512),  # "5×" rows at 14×14×512
    (1, 512),
    (1, 512),
    (1, 512),
    (1, 512),
    (2, 1024),
    # Table 1 prints "s2" here, but this layer's input and the next one's are both 7×7:
    # the stride is 1, as in the reference TensorFlow implementation.
    (1, 1024),
)

# Smallest width a layer may be thinned to (``min_depth`` of the reference implementation).
MIN_CHANNELS = 8


def scale_channels(channels: int, width: float) -> int:
    """Width-multiplied channel count: ``max(8, floor(α·c))``.

    No rounding to multiples of 8: the paper's α ∈ {1, 0.75, 0.5, 0.25} give whole numbers for
    every layer, and this plain rule reproduces the parameter counts of Table 6.
    """
    return max(MIN_CHANNELS, int(channels * width))


class MobileNetV1(Classifier):
    """MobileNetV1 with width multiplier ``width`` (α > 0, any float).

    ``drop_rate`` defaults to 0: the paper trains with little regularisation and names no
    dropout (the reference TensorFlow code keeps 99.9%, i.e. ``drop_rate=0.001``, a near no-op
    that can still be passed explicitly).
    """

    def __init__(
        self,
        *,
        width: float = 1.0,
        num_classes: int = 1000,
        in_chans: int = 3,
        drop_rate: float = 0.0,
    ) -> None:
        super().__init__(num_classes=num_classes, in_chans=in_chans, drop_rate=drop_rate)
        self.width = check_positive("width", width)
        chs = scale_channels(STEM_CHANNELS, self.width)
        self.stem = ConvNormAct(in_chans, chs, 3, stride=2)
        blocks = []
        for stride, out_chs in LAYERS:
            out_chs = scale_channels(out_chs, self.width)
            blocks.append(DepthwiseSeparableConv(chs, out_chs, stride=stride))
            chs = out_chs
        self.blocks = nn.Sequential(*blocks)
        self._init_head(chs)
        init_weights(self)

    def forward_features(self, x: Tensor) -> Tensor:
        return self.blocks(self.stem(x))


register_model(
    "mobilenet_v1_100",
    MobileNetV1,
    paper=PAPER,
    family="mobilenet_v1",
    aliases=("mobilenet_v1",),
    width=1.0,
)
register_model("mobilenet_v1_075", MobileNetV1, paper=PAPER, family="mobilenet_v1", width=0.75)
register_model("mobilenet_v1_050", MobileNetV1, paper=PAPER, family="mobilenet_v1", width=0.5)
register_model("mobilenet_v1_025", MobileNetV1, paper=PAPER, family="mobilenet_v1", width=0.25)
