"""ResNet (He et al. 2016) and its attention variants SE-ResNet (Hu et al. 2018) and CBAM-ResNet
(Woo et al. 2018).

A stage is a row of Table 1 of the ResNet paper; a network is a block type plus the number of
blocks per stage. Attention (SE or CBAM) rescales the residual branch just before it is added
to the shortcut, as in SENet Fig. 3 and CBAM Fig. 3.

Where the stride of a downsampling bottleneck sits changes the cost but not the parameters:

* ``stride_in_1x1=False`` puts it on the 3×3 conv (torchvision's layout; ResNet-50 4.09 GMACs).
  The plain ``resnet*`` variants default to it, so they load torchvision's weights.
* ``stride_in_1x1=True`` puts it on the first 1×1 conv, as in the original Caffe models that the
  SENet and CBAM papers build on and count (ResNet-50 3.86 GMACs, SENet Table 2 and CBAM
  Table 4). The ``se_resnet*`` and ``cbam_resnet*`` variants default to it so that their costs
  are the papers'.

Basic blocks (ResNet-18/34) have no 1×1 conv, so ``stride_in_1x1`` does not change them.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from torch import Tensor, nn

from .._checks import bad_value, check_choice
from ..layers import CBAM, ConvNormAct, SqueezeExcite
from .base import Classifier, init_weights
from .registry import register_model

ATTENTIONS = (None, "se", "cbam")
BLOCKS = ("basic", "bottleneck")


@dataclass(frozen=True)
class Stage:
    """One row of the ResNet table: its name, the width of its 3×3 convs, its first stride."""

    name: str
    width: int
    stride: int


# He et al. 2016, Table 1: conv2_x keeps the 56×56 resolution left by the stem's max pool;
# every later stage halves it in its first block and doubles the width.
STAGES = (
    Stage("conv2_x", 64, 1),
    Stage("conv3_x", 128, 2),
    Stage("conv4_x", 256, 2),
    Stage("conv5_x", 512, 2),
)


@dataclass(frozen=True)
class ResNetArch:
    """A column of the ResNet table: block type and number of blocks in each stage."""

    block: str
    layers: tuple[int, int, int, int]


# He et al. 2016, Table 1 (18-, 34- and 50-layer columns).
ARCHS = {
    18: ResNetArch("basic", (2, 2, 2, 2)),
    34: ResNetArch("basic", (3, 4, 6, 3)),
    50: ResNetArch("bottleneck", (3, 4, 6, 3)),
}

# SENet §3 / Fig. 3 and CBAM §3: reduction ratio r = 16 in the excitation / shared MLP.
ATTENTION_RD_RATIO = 1 / 16
# CBAM §4.1 (Table 2): a 7×7 conv computes the spatial attention map.
CBAM_KERNEL_SIZE = 7


def make_attention(kind: str | None, channels: int) -> nn.Module:
    """The attention module rescaling a residual branch of ``channels`` channels.

    SE: two 1×1 convs *with* bias, as in the released SE-ResNet-50 (its Caffe
    ``conv*_1x1_down`` / ``conv*_1x1_up`` layers keep Caffe's default bias). This gives
    28,088,024 parameters for SE-ResNet-50, the 28.1M of SENet's reduction-ratio table at
    r = 16. Without biases it would be 28,071,976, also within that rounding; the journal
    version of SENet remarks that dropping them helps on ResNets, the released models keep them.

    CBAM: a shared MLP with bias (as the authors' ``ChannelGate``) and a 7×7 spatial conv
    without normalisation, as CBAM eq. (3). This gives 28,089,592 parameters for CBAM-ResNet-50,
    the 28.09M of CBAM Table 4. The authors' code adds a BatchNorm after the 7×7 conv: 2
    parameters per block, 32 in all, below the table's precision.
    """
    if kind is None:
        return nn.Identity()
    if kind == "se":
        return SqueezeExcite(channels, rd_ratio=ATTENTION_RD_RATIO)
    return CBAM(channels, rd_ratio=ATTENTION_RD_RATIO, kernel_size=CBAM_KERNEL_SIZE)


def projection(in_chs: int, out_chs: int, stride: int) -> nn.Module:
    """Shortcut: identity, or a strided 1×1 conv + BN where the shape changes (option B, §3.3)."""
    if stride == 1 and in_chs == out_chs:
        return nn.Identity()
    return ConvNormAct(in_chs, out_chs, 1, stride, act=None)


def _add_shortcut(out: Tensor, shortcut: Tensor, act: nn.Module) -> Tensor:
    """``act(out + shortcut)``, adding in place as torchvision's blocks do (no new batch-sized
    tensor per block): ``out`` is a fresh BN, conv or gating product no backward pass needs."""
    out += shortcut
    return act(out)


class BasicBlock(nn.Module):
    """Two 3×3 convs (Fig. 5 left), [attention], plus the shortcut, then ReLU."""

    expansion = 1

    def __init__(
        self,
        in_chs: int,
        width: int,
        stride: int = 1,
        attention: str | None = None,
        stride_in_1x1: bool = False,
    ) -> None:
        super().__init__()
        self.residual = nn.Sequential(
            OrderedDict(
                conv3x3_a=ConvNormAct(in_chs, width, 3, stride),
                conv3x3_b=ConvNormAct(width, width, 3, act=None),
            )
        )
        self.attention = make_attention(attention, width)
        self.shortcut = projection(in_chs, width, stride)
        self.act = nn.ReLU(inplace=True)

    def forward(self, x: Tensor) -> Tensor:
        return _add_shortcut(self.attention(self.residual(x)), self.shortcut(x), self.act)


class Bottleneck(nn.Module):
    """1×1 reduce → 3×3 → 1×1 increase (Fig. 5 right), [attention], plus the shortcut, then ReLU.

    ``stride_in_1x1`` puts the stride of a downsampling block on the 1×1 reduce conv (Caffe,
    SENet, CBAM) instead of the 3×3 conv (torchvision).
    """

    expansion = 4

    def __init__(
        self,
        in_chs: int,
        width: int,
        stride: int = 1,
        attention: str | None = None,
        stride_in_1x1: bool = False,
    ) -> None:
        super().__init__()
        out_chs = width * self.expansion
        stride_1x1, stride_3x3 = (stride, 1) if stride_in_1x1 else (1, stride)
        self.residual = nn.Sequential(
            OrderedDict(
                reduce=ConvNormAct(in_chs, width, 1, stride_1x1),
                conv3x3=ConvNormAct(width, width, 3, stride_3x3),
                increase=ConvNormAct(width, out_chs, 1, act=None),
            )
        )
        self.attention = make_attention(attention, out_chs)
        self.shortcut = projection(in_chs, out_chs, stride)
        self.act = nn.ReLU(inplace=True)

    def forward(self, x: Tensor) -> Tensor:
        return _add_shortcut(self.attention(self.residual(x)), self.shortcut(x), self.act)


_BLOCK_TYPES: dict[str, type[BasicBlock] | type[Bottleneck]] = {
    "basic": BasicBlock,
    "bottleneck": Bottleneck,
}


def _is_layers(layers: Any) -> bool:
    """Whether ``layers`` is one positive int per stage of :data:`STAGES`."""
    if isinstance(layers, (str, bytes)) or not isinstance(layers, Sequence):
        return False
    ints = all(isinstance(n, int) and not isinstance(n, bool) and n >= 1 for n in layers)
    return ints and len(layers) == len(STAGES)


class ResNet(Classifier):
    """ResNet: 7×7/2 conv + 3×3/2 max pool, four residual stages, global pool, FC.

    ``block`` is ``"basic"`` or ``"bottleneck"``, ``layers`` the number of blocks in each of
    the four stages of :data:`STAGES`. ``attention`` (``None``, ``"se"`` or ``"cbam"``) adds
    SE or CBAM to every block. Modules are registered in torchvision's order (stem, stages,
    classifier; in a block: convs, then shortcut), so that torchvision's state dicts load.
    """

    def __init__(
        self,
        block: str = "bottleneck",
        layers: Sequence[int] = (3, 4, 6, 3),
        *,
        attention: str | None = None,
        stride_in_1x1: bool = False,
        num_classes: int = 1000,
        in_chans: int = 3,
        drop_rate: float = 0.0,
    ) -> None:
        super().__init__(num_classes=num_classes, in_chans=in_chans, drop_rate=drop_rate)
        check_choice("block", block, BLOCKS)
        check_choice("attention", attention, ATTENTIONS)
        if not isinstance(stride_in_1x1, bool):
            raise bad_value("stride_in_1x1", "a bool", stride_in_1x1)
        if not _is_layers(layers):
            raise bad_value("layers", f"{len(STAGES)} integers >= 1 (one per stage)", layers)
        self.attention, self.stride_in_1x1 = attention, stride_in_1x1
        block_type = _BLOCK_TYPES[block]

        self.stem = nn.Sequential(
            OrderedDict(
                conv1=ConvNormAct(in_chans, 64, 7, 2),
                pool=nn.MaxPool2d(3, stride=2, padding=1),
            )
        )
        stages: OrderedDict[str, nn.Module] = OrderedDict()
        in_chs = 64
        for stage, depth in zip(STAGES, layers, strict=True):
            blocks = []
            for i in range(depth):
                stride = stage.stride if i == 0 else 1
                blocks.append(block_type(in_chs, stage.width, stride, attention, stride_in_1x1))
                in_chs = stage.width * block_type.expansion
            stages[stage.name] = nn.Sequential(*blocks)
        self.stages = nn.Sequential(stages)
        self._init_head(in_chs)
        init_weights(self)

    def forward_features(self, x: Tensor) -> Tensor:
        return self.stages(self.stem(x))


def _resnet(depth: int, attention: str | None, kwargs: dict[str, Any]) -> ResNet:
    """Build the named variant; its name fixes the depth and the attention."""
    given = kwargs.pop("attention", attention)
    if given != attention:
        prefix = "resnet" if attention is None else f"{attention}_resnet"
        raise bad_value("attention", f"{attention!r} (fixed by {prefix}{depth})", given)
    arch = ARCHS[depth]
    return ResNet(arch.block, arch.layers, attention=attention, **kwargs)


def resnet18(*, stride_in_1x1: bool = False, **kwargs: Any) -> ResNet:
    """ResNet-18 (Table 1), layer for layer torchvision's ``resnet18``."""
    return _resnet(18, None, {"stride_in_1x1": stride_in_1x1, **kwargs})


def resnet34(*, stride_in_1x1: bool = False, **kwargs: Any) -> ResNet:
    """ResNet-34 (Table 1), layer for layer torchvision's ``resnet34``."""
    return _resnet(34, None, {"stride_in_1x1": stride_in_1x1, **kwargs})


def resnet50(*, stride_in_1x1: bool = False, **kwargs: Any) -> ResNet:
    """ResNet-50 (Table 1), layer for layer torchvision's ``resnet50`` (stride on the 3×3)."""
    return _resnet(50, None, {"stride_in_1x1": stride_in_1x1, **kwargs})


def se_resnet18(*, stride_in_1x1: bool = True, **kwargs: Any) -> ResNet:
    """SE-ResNet-18: ResNet-18 with an SE block (r = 16) on every residual branch."""
    return _resnet(18, "se", {"stride_in_1x1": stride_in_1x1, **kwargs})


def se_resnet34(*, stride_in_1x1: bool = True, **kwargs: Any) -> ResNet:
    """SE-ResNet-34: ResNet-34 with an SE block (r = 16) on every residual branch."""
    return _resnet(34, "se", {"stride_in_1x1": stride_in_1x1, **kwargs})


def se_resnet50(*, stride_in_1x1: bool = True, **kwargs: Any) -> ResNet:
    """SE-ResNet-50 (SENet Table 2: 3.87 GFLOPs; 28.1M parameters), stride on the first 1×1."""
    return _resnet(50, "se", {"stride_in_1x1": stride_in_1x1, **kwargs})


def cbam_resnet18(*, stride_in_1x1: bool = True, **kwargs: Any) -> ResNet:
    """CBAM-ResNet-18: ResNet-18 with CBAM (r = 16, 7×7) on every residual branch."""
    return _resnet(18, "cbam", {"stride_in_1x1": stride_in_1x1, **kwargs})


def cbam_resnet34(*, stride_in_1x1: bool = True, **kwargs: Any) -> ResNet:
    """CBAM-ResNet-34: ResNet-34 with CBAM (r = 16, 7×7) on every residual branch."""
    return _resnet(34, "cbam", {"stride_in_1x1": stride_in_1x1, **kwargs})


def cbam_resnet50(*, stride_in_1x1: bool = True, **kwargs: Any) -> ResNet:
    """CBAM-ResNet-50 (CBAM Table 4: 28.09M parameters, 3.864 GFLOPs), stride on the first 1×1."""
    return _resnet(50, "cbam", {"stride_in_1x1": stride_in_1x1, **kwargs})


_PAPER = "ResNet (He et al. 2016)"
_SE_PAPER = "SENet (Hu et al. 2018) on ResNet (He et al. 2016)"
_CBAM_PAPER = "CBAM (Woo et al. 2018) on ResNet (He et al. 2016)"

for _depth, _plain, _se, _cbam in (
    (18, resnet18, se_resnet18, cbam_resnet18),
    (34, resnet34, se_resnet34, cbam_resnet34),
    (50, resnet50, se_resnet50, cbam_resnet50),
):
    register_model(
        f"resnet{_depth}", _plain, paper=_PAPER, family="resnet", torchvision=f"resnet{_depth}"
    )
    register_model(f"se_resnet{_depth}", _se, paper=_SE_PAPER, family="resnet")
    register_model(f"cbam_resnet{_depth}", _cbam, paper=_CBAM_PAPER, family="resnet")
