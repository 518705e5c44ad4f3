"""MobileNetV2 (Sandler et al. 2018): inverted residuals with linear bottlenecks.

Each block expands a narrow input t-fold with a 1×1 conv, filters it with a 3×3 depthwise
conv and projects it back with a linear 1×1 conv; the shortcut joins the narrow ends. Channel
counts under a width multiplier are rounded to multiples of 8 exactly as torchvision does, so
every width is a weight-compatible twin of ``torchvision.models.mobilenet_v2(width_mult=...)``.
"""

from __future__ import annotations

from torch import Tensor, nn

from .._checks import check_positive
from ..layers import ConvNormAct, InvertedResidual, InvertedResidualConfig, make_divisible
from .base import Classifier, init_weights
from .registry import register_model

PAPER = "MobileNetV2 (Sandler et al. 2018)"

# MobileNetV2 paper, Table 2: the first layer (3×3 conv, stride 2) and the last 1×1 conv.
STEM_CHANNELS = 32
LAST_CHANNELS = 1280

# MobileNetV2 paper, Table 2: one row per stage of bottleneck blocks,
# (expansion factor t, output channels c, repeats n, stride s of the first block).
STAGES: tuple[tuple[int, int, int, int], ...] = (
    (1, 16, 1, 1),
    (6, 24, 2, 2),
    (6, 32, 3, 2),
    (6, 64, 4, 2),
    (6, 96, 3, 1),
    (6, 160, 3, 2),
    (6, 320, 1, 1),
)

# Channel counts are rounded to multiples of this (reference implementation and torchvision).
ROUND_TO = 8


class MobileNetV2(Classifier):
    """MobileNetV2 with width multiplier ``width`` (any float > 0).

    Every layer's width is ``make_divisible(c·width, 8)``, except the last 1×1 conv, which keeps
    its 1280 channels for ``width < 1`` and grows with ``width > 1`` (paper §4: "for
    multipliers less than one, we apply width multiplier to all layers except the very last
    convolutional layer"). ReLU6 follows every conv except the linear projections.
    """

    def __init__(
        self,
        *,
        width: float = 1.0,
        num_classes: int = 1000,
        in_chans: int = 3,
        drop_rate: float = 0.2,
    ) -> None:
        super().__init__(num_classes=num_classes, in_chans=in_chans, drop_rate=drop_rate)
        self.width = check_positive("width", width)
        chs = make_divisible(STEM_CHANNELS * self.width, ROUND_TO)
        last_chs = make_divisible(LAST_CHANNELS * max(1.0, self.width), ROUND_TO)
        self.stem = ConvNormAct(in_chans, chs, 3, stride=2, act="relu6")
        stages = []
        for t, c, n, s in STAGES:
            out_chs = make_divisible(c * self.width, ROUND_TO)
            blocks = []
            for i in range(n):
                cfg = InvertedResidualConfig(
                    chs, chs * t, out_chs, kernel=3, stride=s if i == 0 else 1, act="relu6"
                )
                blocks.append(InvertedResidual(cfg))
                chs = out_chs
            stages.append(nn.Sequential(*blocks))
        self.stages = nn.Sequential(*stages)
        self.final_conv = ConvNormAct(chs, last_chs, 1, act="relu6")
        self._init_head(last_chs)
        init_weights(self)

    def forward_features(self, x: Tensor) -> Tensor:
        return self.final_conv(self.stages(self.stem(x)))


register_model(
    "mobilenet_v2_100",
    MobileNetV2,
    paper=PAPER,
    family="mobilenet_v2",
    torchvision="mobilenet_v2",
    aliases=("mobilenet_v2",),
    width=1.0,
)
register_model("mobilenet_v2_140", MobileNetV2, paper=PAPER, family="mobilenet_v2", width=1.4)
register_model("mobilenet_v2_075", MobileNetV2, paper=PAPER, family="mobilenet_v2", width=0.75)
register_model("mobilenet_v2_050", MobileNetV2, paper=PAPER, family="mobilenet_v2", width=0.5)
register_model("mobilenet_v2_035", MobileNetV2, paper=PAPER, family="mobilenet_v2", width=0.35)
