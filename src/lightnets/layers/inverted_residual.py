"""Inverted residual with linear bottleneck (MobileNetV2 §3.3), optionally with SE (MobileNetV3)."""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass

from torch import Tensor, nn

from .._checks import check_choice, check_int
from .attention import SqueezeExcite
from .conv import ConvNormAct


@dataclass(frozen=True)
class InvertedResidualConfig:
    """One block, as one row of the MobileNetV2/V3 tables, with its input width resolved.

    ``exp_chs`` is the expanded width (V2: t·in_chs; V3: the "exp size" column), ``se`` adds
    squeeze-and-excitation on the expanded features, ``act`` is the non-linearity ("NL").
    """

    in_chs: int
    exp_chs: int
    out_chs: int
    kernel: int = 3
    stride: int = 1
    act: str = "relu6"
    se: bool = False


class InvertedResidual(nn.Module):
    """1×1 expand → k×k depthwise → [SE] → 1×1 linear projection, plus identity when shapes match.

    The projection has no activation (the *linear bottleneck*): ReLU on a narrow
    representation destroys information (MobileNetV2 §3.2).
    """

    def __init__(self, cfg: InvertedResidualConfig) -> None:
        super().__init__()
        for name in ("in_chs", "exp_chs", "out_chs", "kernel"):
            check_int(name, getattr(cfg, name), minimum=1)
        check_choice("stride", cfg.stride, (1, 2))
        layers: OrderedDict[str, nn.Module] = OrderedDict()
        if cfg.exp_chs != cfg.in_chs:
            layers["expand"] = ConvNormAct(cfg.in_chs, cfg.exp_chs, 1, act=cfg.act)
        layers["dw"] = ConvNormAct(
            cfg.exp_chs, cfg.exp_chs, cfg.kernel, cfg.stride, groups=cfg.exp_chs, act=cfg.act
        )
        if cfg.se:
            # MobileNetV3 §5.3: SE width = make_divisible(exp/4, 8), hard-sigmoid gate.
            layers["se"] = SqueezeExcite(cfg.exp_chs, rd_ratio=0.25, divisor=8, gate="hsigmoid")
        layers["project"] = ConvNormAct(cfg.exp_chs, cfg.out_chs, 1, act=None)
        self.block = nn.Sequential(layers)
        self.use_residual = cfg.stride == 1 and cfg.in_chs == cfg.out_chs
        self.cfg = cfg

    def forward(self, x: Tensor) -> Tensor:
        out = self.block(x)
        if self.use_residual:
            out += x  # in place, as torchvision: ``out`` is the projection's fresh output
        return out
