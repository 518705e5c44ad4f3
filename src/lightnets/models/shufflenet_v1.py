"""ShuffleNet (V1): pointwise group convolutions plus channel shuffle (Zhang et al., CVPR 2018).

The trunk follows the paper's Table 1: conv1 3×3/2 (24 channels), 3×3/2 max pool, then
stages 2–4 of 4/8/4 ShuffleNet units (the first unit of each stage has stride 2), global
average pooling and a linear classifier. The stage-2 width depends on the group count g and
doubles in each later stage.

Width rule for the scale s ("ShuffleNet s×" scales every filter count by s, §3.3), chosen
so every group conv divides evenly:

* stage-2 width ``w = make_divisible(s · Table1[g], 4·g)`` — a multiple of 4·g, so that the
  bottleneck ``w/4`` is a multiple of g; stages 3 and 4 are 2w and 4w;
* conv1 width ``make_divisible(24·s, g)`` — a multiple of g, so that the stride-2 branch of
  stage 2 (``w − conv1`` channels) splits into g groups.

At s = 1 both rules leave the paper's numbers unchanged. ``make_divisible`` rounds to the
nearest multiple (halves up) and never below 90 % of the exact value. Resulting widths
(conv1 / stage2 / stage3 / stage4):

====  ==================  ==================  ==================  ===================
g     0.5×                1.0×                1.5×                2.0×
====  ==================  ==================  ==================  ===================
1     12 / 72/144/288     24 / 144/288/576    36 / 216/432/864    48 / 288/576/1152
2     12 / 104/208/416    24 / 200/400/800    36 / 304/608/1216   48 / 400/800/1600
3     12 / 120/240/480    24 / 240/480/960    36 / 360/720/1440   48 / 480/960/1920
4     12 / 144/288/576    24 / 272/544/1088   36 / 416/832/1664   48 / 544/1088/2176
8     16 / 192/384/768    24 / 384/768/1536   40 / 576/1152/2304  48 / 768/1536/3072
====  ==================  ==================  ==================  ===================

Complexity at 224×224, 1.0× (multiply-adds of convs and the classifier): g = 1/2/3/4/8 give
143.1/140.8/137.5/134.3/138.4 M against the paper's 143/140/137/133/137 MFLOPs (Table 1),
all within 1.1 %. Parameters at 1.0×: 1.87 M (g = 3) and 2.43 M (g = 8), the 1.9 M / 2.4 M
of the authors' released models (github.com/megvii-model/ShuffleNet-Series, ShuffleNetV1
README). At 2.0× the widths equal the released ones (524.1 M MACs and 5.45 M parameters for
g = 3; paper and release: 524 MFLOPs, 5.4 M). At 1.5× the release keeps conv1 at 24 channels
where this rule gives 36 (g = 3), so g = 3 costs 299.6 M MACs here against the 292 MFLOPs
reported for ShuffleNet 1.5× (g = 3); the stages are the same.
"""

from __future__ import annotations

from collections import OrderedDict

import torch
from torch import Tensor, nn

from .._checks import bad_value, check_choice, check_int, check_positive
from ..layers import ChannelShuffle, ConvNormAct, make_divisible
from .base import Classifier, init_weights
from .registry import register_model

# Table 1, "Output channels" of Stage 2 per number of groups g (stage 3 = 2×, stage 4 = 4×).
STAGE2_CHANNELS: dict[int, int] = {1: 144, 2: 200, 3: 240, 4: 272, 8: 384}
STEM_CHANNELS = 24  # Table 1, Conv1.

# Table 1, stages 2–4: (name, repeats, width relative to stage 2). The first unit strides 2.
STAGES: tuple[tuple[str, int, int], ...] = (
    ("stage2", 4, 1),
    ("stage3", 8, 2),
    ("stage4", 4, 4),
)

SCALES = (0.5, 1.0, 1.5, 2.0)


def shufflenet_v1_widths(groups: int, scale: float = 1.0) -> tuple[int, list[int]]:
    """(conv1 width, [stage2, stage3, stage4] widths) for ``groups`` and ``scale``."""
    check_choice("groups", check_int("groups", groups), STAGE2_CHANNELS)
    scale = check_positive("scale", scale)
    stem = make_divisible(STEM_CHANNELS * scale, groups)
    stage2 = make_divisible(STAGE2_CHANNELS[groups] * scale, 4 * groups)
    return stem, [stage2 * mult for _, _, mult in STAGES]


class ShuffleUnit(nn.Module):
    """ShuffleNet unit (Fig. 2b/2c): 1×1 GConv → shuffle → 3×3 DWConv → 1×1 GConv.

    Stride 1: the branch output is added to the input. Stride 2: the input goes through a
    3×3/2 average pool and is concatenated with the branch, which therefore produces only
    ``out_chs − in_chs`` channels. ReLU follows the add/concat; the depthwise conv and the
    second GConv have no activation of their own. The bottleneck is ``out_chs / 4`` (§3.3).
    ``first_groups`` sets the groups of the first pointwise conv (1 where the input is too
    narrow to split, §3.3).
    """

    def __init__(
        self, in_chs: int, out_chs: int, stride: int, groups: int, first_groups: int
    ) -> None:
        super().__init__()
        check_choice("stride", stride, (1, 2))
        if stride == 1 and in_chs != out_chs:
            raise bad_value("out_chs", f"in_chs={in_chs} for a stride-1 unit", out_chs)
        if stride == 2 and out_chs <= in_chs:
            raise bad_value("out_chs", f"more than in_chs={in_chs} for a stride-2 unit", out_chs)
        mid_chs = out_chs // 4
        branch_chs = out_chs - in_chs if stride == 2 else out_chs
        self.branch = nn.Sequential(
            OrderedDict(
                gconv1=ConvNormAct(in_chs, mid_chs, 1, groups=first_groups),
                shuffle=ChannelShuffle(groups),
                dwconv=ConvNormAct(mid_chs, mid_chs, 3, stride, groups=mid_chs, act=None),
                gconv2=ConvNormAct(mid_chs, branch_chs, 1, groups=groups, act=None),
            )
        )
        self.shortcut = nn.AvgPool2d(3, 2, padding=1) if stride == 2 else nn.Identity()
        self.act = nn.ReLU(inplace=True)
        self.stride = stride

    def forward(self, x: Tensor) -> Tensor:
        out = self.branch(x)
        if self.stride == 2:
            return self.act(torch.cat((self.shortcut(x), out), dim=1))
        return self.act(out + x)


class ShuffleNetV1(Classifier):
    """ShuffleNet with ``groups`` ∈ {1, 2, 3, 4, 8} and width ``scale`` (module docstring)."""

    def __init__(
        self,
        groups: int = 3,
        scale: float = 1.0,
        *,
        num_classes: int = 1000,
        in_chans: int = 3,
        drop_rate: float = 0.0,
    ) -> None:
        super().__init__(num_classes=num_classes, in_chans=in_chans, drop_rate=drop_rate)
        stem_chs, widths = shufflenet_v1_widths(groups, scale)
        self.groups, self.scale = groups, float(scale)
        self.stem = ConvNormAct(in_chans, stem_chs, 3, 2)
        self.maxpool = nn.MaxPool2d(3, 2, padding=1)
        stages: OrderedDict[str, nn.Module] = OrderedDict()
        in_chs = stem_chs
        for (name, repeats, _), out_chs in zip(STAGES, widths, strict=True):
            units = []
            for i in range(repeats):
                # §3.3: the first pointwise layer of stage 2 sees only conv1's narrow output,
                # so it is not grouped.
                first_groups = 1 if (name == "stage2" and i == 0) else groups
                units.append(ShuffleUnit(in_chs, out_chs, 2 if i == 0 else 1, groups, first_groups))
                in_chs = out_chs
            stages[name] = nn.Sequential(*units)
        self.stages = nn.Sequential(stages)
        self._init_head(in_chs)
        init_weights(self)

    def forward_features(self, x: Tensor) -> Tensor:
        return self.stages(self.maxpool(self.stem(x)))


def _scale_tag(scale: float) -> str:
    """Torchvision-style width tag: 0.5 → ``x0_5``."""
    return "x" + f"{scale:.1f}".replace(".", "_")


def _register() -> None:
    for g in STAGE2_CHANNELS:
        for s in SCALES:
            name = f"shufflenet_v1_g{g}_{_scale_tag(s)}"
            register_model(
                name,
                ShuffleNetV1,
                paper="ShuffleNet (Zhang et al. 2018)",
                family="shufflenet_v1",
                aliases=("shufflenet_v1",) if (g, s) == (3, 1.0) else (),
                groups=g,
                scale=s,
            )


_register()
