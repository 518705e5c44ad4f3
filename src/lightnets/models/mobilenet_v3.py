"""MobileNetV3 (Howard et al. 2019): searched inverted residuals with SE and h-swish.

The blocks are MobileNetV2's inverted residuals, some with squeeze-and-excitation (hard-sigmoid
gate, bottleneck ``make_divisible(exp/4, 8)``) and h-swish in the deeper layers. The last stage
is redesigned (paper §5.1, Fig. 5): a 1×1 conv to 960 (Large) or 576 (Small) channels, global
pooling, then a 1×1 layer without batch norm to 1280 or 1024 features with h-swish, applied to
the pooled vector, so it costs almost nothing. Widths follow torchvision's rounding, which
makes every variant a weight-compatible twin of ``torchvision.models.mobilenet_v3_*``.
"""

from __future__ import annotations

from torch import Tensor, nn

from .._checks import check_choice, check_positive
from ..layers import ConvNormAct, InvertedResidual, InvertedResidualConfig, make_divisible
from .base import Classifier, init_weights
from .registry import register_model

PAPER = "MobileNetV3 (Howard et al. 2019)"

# Row of Tables 1 and 2: (kernel, exp size, #out, SE, NL, stride); NL "RE" = ReLU, "HS" = h-swish.
Row = tuple[int, int, int, bool, str, int]
RE, HS = "relu", "hswish"

# MobileNetV3 paper, Table 1 (MobileNetV3-Large), the bneck rows.
LARGE: tuple[Row, ...] = (
    (3, 16, 16, False, RE, 1),
    (3, 64, 24, False, RE, 2),
    (3, 72, 24, False, RE, 1),
    (5, 72, 40, True, RE, 2),
    (5, 120, 40, True, RE, 1),
    (5, 120, 40, True, RE, 1),
    (3, 240, 80, False, HS, 2),
    (3, 200, 80, False, HS, 1),
    (3, 184, 80, False, HS, 1),
    (3, 184, 80, False, HS, 1),
    (3, 480, 112, True, HS, 1),
    (3, 672, 112, True, HS, 1),
    (5, 672, 160, True, HS, 2),
    (5, 960, 160, True, HS, 1),
    (5, 960, 160, True, HS, 1),
)

# MobileNetV3 paper, Table 2 (MobileNetV3-Small), the bneck rows.
SMALL: tuple[Row, ...] = (
    (3, 16, 16, True, RE, 2),
    (3, 72, 24, False, RE, 2),
    (3, 88, 24, False, RE, 1),
    (5, 96, 40, True, HS, 2),
    (5, 240, 40, True, HS, 1),
    (5, 240, 40, True, HS, 1),
    (5, 120, 48, True, HS, 1),
    (5, 144, 48, True, HS, 1),
    (5, 288, 96, True, HS, 2),
    (5, 576, 96, True, HS, 1),
    (5, 576, 96, True, HS, 1),
)

# Tables 1 and 2: the 3×3 stride-2 stem conv (16 filters, h-swish) and, per architecture, the
# bneck rows and the width of the pre-classifier layer (1280 Large, 1024 Small). The 1×1 conv
# after the last bneck has 6× the last bneck's output channels (960 and 576).
STEM_CHANNELS = 16
LAST_CONV_FACTOR = 6
ARCHS: dict[str, tuple[tuple[Row, ...], int]] = {"large": (LARGE, 1280), "small": (SMALL, 1024)}

# §6.1.1: "batch-normalization layers with average decay of 0.99", i.e. PyTorch momentum 0.01;
# eps 1e-3 as the reference TensorFlow implementation (and torchvision).
BN_MOMENTUM = 0.01
BN_EPS = 1e-3


def _scale(channels: int, width: float) -> int:
    """Width-multiplied channel count, rounded to a multiple of 8 as in torchvision."""
    return make_divisible(channels * width, 8)


class MobileNetV3(Classifier):
    """MobileNetV3-Large (``arch="large"``) or -Small (``arch="small"``) at width ``width``.

    All channel counts, including the stem, the last 1×1 conv and the 1280/1024 layer, are
    ``make_divisible(c·width, 8)`` (torchvision's rule). ``forward_head(x, pre_logits=True)``
    returns the features after the 1280/1024-wide h-swish layer, before dropout and the
    classifier (timm's convention), so ``num_features`` is 1280/1024 at width 1 and
    :meth:`reset_classifier` replaces only the final linear layer.

    At width 0.75 this rule gives 3.38M (Large) and 1.65M (Small) parameters, below the 4.0M
    and 2.0M of the paper's Table 3, whose figures fit a 1280/1024 layer kept at full width
    (3.93M and 2.02M); the torchvision rule is kept for weight compatibility.
    """

    def __init__(
        self,
        *,
        arch: str = "large",
        width: float = 1.0,
        num_classes: int = 1000,
        in_chans: int = 3,
        drop_rate: float = 0.2,
    ) -> None:
        super().__init__(num_classes=num_classes, in_chans=in_chans, drop_rate=drop_rate)
        self.arch = check_choice("arch", arch, ARCHS)
        self.width = check_positive("width", width)
        rows, head_chs = ARCHS[arch]
        chs = _scale(STEM_CHANNELS, self.width)
        self.stem = ConvNormAct(in_chans, chs, 3, stride=2, act=HS)
        blocks = []
        for kernel, exp, out, se, act, stride in rows:
            out_chs = _scale(out, self.width)
            cfg = InvertedResidualConfig(
                chs, _scale(exp, self.width), out_chs, kernel, stride, act=act, se=se
            )
            blocks.append(InvertedResidual(cfg))
            chs = out_chs
        self.blocks = nn.Sequential(*blocks)
        self.final_conv = ConvNormAct(chs, LAST_CONV_FACTOR * chs, 1, act=HS)
        # The 1×1 "conv2d, NBN" of the tables acts on a 1×1 map: a linear layer with bias.
        head_chs = _scale(head_chs, self.width)
        self.head_fc = nn.Linear(LAST_CONV_FACTOR * chs, head_chs)
        self.head_act = nn.Hardswish(inplace=True)
        self._init_head(head_chs)
        init_weights(self)
        for m in self.modules():
            if isinstance(m, nn.BatchNorm2d):
                m.momentum, m.eps = BN_MOMENTUM, BN_EPS

    def forward_features(self, x: Tensor) -> Tensor:
        return self.final_conv(self.blocks(self.stem(x)))

    def forward_head(self, x: Tensor, pre_logits: bool = False) -> Tensor:
        """Pool, the 1280/1024-wide h-swish layer, then (unless ``pre_logits``) classify."""
        x = self.head_act(self.head_fc(x.mean((2, 3))))
        if pre_logits:
            return x
        return self.classifier(self.head_drop(x))


register_model(
    "mobilenet_v3_large_100",
    MobileNetV3,
    paper=PAPER,
    family="mobilenet_v3",
    torchvision="mobilenet_v3_large",
    aliases=("mobilenet_v3_large",),
    arch="large",
    width=1.0,
)
register_model(
    "mobilenet_v3_large_075",
    MobileNetV3,
    paper=PAPER,
    family="mobilenet_v3",
    arch="large",
    width=0.75,
)
register_model(
    "mobilenet_v3_small_100",
    MobileNetV3,
    paper=PAPER,
    family="mobilenet_v3",
    torchvision="mobilenet_v3_small",
    aliases=("mobilenet_v3_small",),
    arch="small",
    width=1.0,
)
register_model(
    "mobilenet_v3_small_075",
    MobileNetV3,
    paper=PAPER,
    family="mobilenet_v3",
    arch="small",
    width=0.75,
)
