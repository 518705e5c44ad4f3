"""Convolution building blocks: conv–norm–activation and depthwise-separable conv."""

from __future__ import annotations

from collections import OrderedDict

from torch import Tensor, nn

from .._checks import check_divisible, check_int
from .helpers import get_act


class ConvNormAct(nn.Sequential):
    """Conv2d (no bias) → BatchNorm2d → activation, with "same" padding for odd kernels.

    A ``Sequential`` so that its children appear in the order conv, norm, act — the order of
    torchvision's ``Conv2dNormActivation`` — which keeps state dicts aligned with it.
    """

    def __init__(
        self,
        in_chs: int,
        out_chs: int,
        kernel_size: int = 3,
        stride: int = 1,
        groups: int = 1,
        act: str | None = "relu",
        norm: bool = True,
    ) -> None:
        check_int("in_chs", in_chs, minimum=1)
        check_int("out_chs", out_chs, minimum=1)
        check_int("groups", groups, minimum=1)
        check_divisible("in_chs", in_chs, groups, "groups")
        check_divisible("out_chs", out_chs, groups, "groups")
        layers: dict[str, nn.Module] = {
            "conv": nn.Conv2d(
                in_chs,
                out_chs,
                kernel_size,
                stride=stride,
                padding=(kernel_size - 1) // 2,
                groups=groups,
                bias=not norm,
            )
        }
        if norm:
            layers["bn"] = nn.BatchNorm2d(out_chs)
        if act is not None:
            layers["act"] = get_act(act)
        super().__init__(OrderedDict(layers))
        self.in_chs, self.out_chs, self.stride, self.groups = in_chs, out_chs, stride, groups


class DepthwiseSeparableConv(nn.Module):
    """Depthwise k×k conv (one filter per channel) then pointwise 1×1 conv (MobileNetV1 Fig. 3).

    Cost per output pixel: ``k²·C_in + C_in·C_out`` multiply-adds instead of ``k²·C_in·C_out``.
    """

    def __init__(
        self,
        in_chs: int,
        out_chs: int,
        kernel_size: int = 3,
        stride: int = 1,
        act: str | None = "relu",
        pw_act: str | None = None,
    ) -> None:
        super().__init__()
        self.dw = ConvNormAct(in_chs, in_chs, kernel_size, stride, groups=in_chs, act=act)
        self.pw = ConvNormAct(in_chs, out_chs, 1, act=act if pw_act is None else pw_act)

    def forward(self, x: Tensor) -> Tensor:
        return self.pw(self.dw(x))
