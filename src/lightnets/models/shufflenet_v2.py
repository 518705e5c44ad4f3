"""ShuffleNet V2: channel split and shuffle without group convs (Ma et al., ECCV 2018).

The trunk follows the paper's Table 5: conv1 3×3/2 (24 channels), 3×3/2 max pool, stages 2–4
of 4/8/4 units (the first unit of each stage has stride 2), conv5 1×1, global average pooling
and a linear classifier. Units follow Fig. 3c/3d: a stride-1 unit splits the channels in
half, keeps one half (identity) and passes the other through 1×1 → 3×3 depthwise → 1×1; a
stride-2 unit feeds the whole input to two branches (3×3/2 depthwise → 1×1, and
1×1 → 3×3/2 depthwise → 1×1). Both concatenate the branches and shuffle with two groups.

The layout is torchvision's (parameters in the same order, so its weights load with
:func:`lightnets.models.load_torchvision_state_dict`). It differs from the authors' reference
network (github.com/megvii-model/ShuffleNet-Series) in the first unit of stage 2 only: the
reference keeps the left branch at conv1's 24 channels (3×3/2 depthwise + 1×1 24→24) and gives
the right branch the remaining ``c − 24`` output channels (92 at 1.0×), whereas torchvision
makes both branches ``c/2`` wide (58 at 1.0×). Later stages coincide (their input is already
half the output width), as does 0.5× (48/2 = 24). Multiply-adds at 224×224 (convs and
classifier):

======  ===========  ======================  ============================
scale   torchvision  reference stage-2 unit  paper (Table 5, MFLOPs)
======  ===========  ======================  ============================
0.5×    40.5 M       40.5 M                  41
1.0×    144.9 M      145.8 M                 146
1.5×    295.8 M      299.0 M                 299
2.0×    583.3 M      590.8 M                 591
======  ===========  ======================  ============================

The reference classifier also has no bias.

Dropout: the paper specifies none and torchvision has none, so ``drop_rate`` defaults to 0.
(The authors' released network puts a 0.2 dropout before the classifier of 2.0× only.)
"""

from __future__ import annotations

from collections import OrderedDict

import torch
from torch import Tensor, nn

from .._checks import bad_value, check_choice, check_int, check_positive
from ..layers import ConvNormAct, channel_shuffle
from .base import Classifier, init_weights
from .registry import register_model

# Table 5, output channels of (Conv1, Stage2, Stage3, Stage4, Conv5) per width scale.
WIDTHS: dict[float, tuple[int, int, int, int, int]] = {
    0.5: (24, 48, 96, 192, 1024),
    1.0: (24, 116, 232, 464, 1024),
    1.5: (24, 176, 352, 704, 1024),
    2.0: (24, 244, 488, 976, 2048),
}

# Table 5, stages 2–4: (name, repeats). The first unit of each stage strides 2.
STAGES: tuple[tuple[str, int], ...] = (
    ("stage2", 4),
    ("stage3", 8),
    ("stage4", 4),
)


class ShuffleV2Unit(nn.Module):
    """ShuffleNet V2 unit: Fig. 3c (stride 1, channel split) or Fig. 3d (stride 2).

    Each branch outputs ``out_chs / 2`` channels; the concatenation is shuffled with 2 groups
    so that the next unit's split mixes both branches.
    """

    def __init__(self, in_chs: int, out_chs: int, stride: int) -> None:
        super().__init__()
        check_choice("stride", stride, (1, 2))
        check_int("out_chs", out_chs, minimum=2)
        if out_chs % 2:
            raise bad_value("out_chs", "an even channel count", out_chs)
        if stride == 1 and in_chs != out_chs:
            raise bad_value("out_chs", f"in_chs={in_chs} for a stride-1 unit", out_chs)
        branch_chs = out_chs // 2
        # Registered before ``right`` to keep torchvision's parameter order (branch1, branch2).
        if stride == 2:
            self.left: nn.Module = nn.Sequential(
                ConvNormAct(in_chs, in_chs, 3, 2, groups=in_chs, act=None),
                ConvNormAct(in_chs, branch_chs, 1),
            )
        else:
            self.left = nn.Identity()
        right_in = in_chs if stride == 2 else branch_chs
        self.right = nn.Sequential(
            ConvNormAct(right_in, branch_chs, 1),
            ConvNormAct(branch_chs, branch_chs, 3, stride, groups=branch_chs, act=None),
            ConvNormAct(branch_chs, branch_chs, 1),
        )
        self.stride = stride

    def forward(self, x: Tensor) -> Tensor:
        if self.stride == 1:
            kept, x = x.chunk(2, dim=1)
            out = torch.cat((self.left(kept), self.right(x)), dim=1)
        else:
            out = torch.cat((self.left(x), self.right(x)), dim=1)
        return channel_shuffle(out, 2)


class ShuffleNetV2(Classifier):
    """ShuffleNet V2 at width ``scale`` ∈ {0.5, 1.0, 1.5, 2.0} (Table 5)."""

    def __init__(
        self,
        scale: float = 1.0,
        *,
        num_classes: int = 1000,
        in_chans: int = 3,
        drop_rate: float = 0.0,
    ) -> None:
        super().__init__(num_classes=num_classes, in_chans=in_chans, drop_rate=drop_rate)
        check_choice("scale", check_positive("scale", scale), WIDTHS)
        self.scale = float(scale)
        stem_chs, *stage_chs, last_chs = WIDTHS[self.scale]
        self.stem = ConvNormAct(in_chans, stem_chs, 3, 2)
        self.maxpool = nn.MaxPool2d(3, 2, padding=1)
        stages: OrderedDict[str, nn.Module] = OrderedDict()
        in_chs = stem_chs
        for (name, repeats), out_chs in zip(STAGES, stage_chs, strict=True):
            units = [ShuffleV2Unit(in_chs, out_chs, 2)]
            units += [ShuffleV2Unit(out_chs, out_chs, 1) for _ in range(repeats - 1)]
            stages[name] = nn.Sequential(*units)
            in_chs = out_chs
        self.stages = nn.Sequential(stages)
        self.conv5 = ConvNormAct(in_chs, last_chs, 1)
        self._init_head(last_chs)
        init_weights(self)

    def forward_features(self, x: Tensor) -> Tensor:
        return self.conv5(self.stages(self.maxpool(self.stem(x))))


def _register() -> None:
    for scale, tag in ((0.5, "x0_5"), (1.0, "x1_0"), (1.5, "x1_5"), (2.0, "x2_0")):
        register_model(
            f"shufflenet_v2_{tag}",
            ShuffleNetV2,
            paper="ShuffleNet V2 (Ma et al. 2018)",
            family="shufflenet_v2",
            torchvision=f"shufflenet_v2_{tag}",
            scale=scale,
        )


_register()
