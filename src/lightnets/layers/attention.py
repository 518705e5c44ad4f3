"""Attention blocks: squeeze-and-excitation (SENet, MobileNetV3) and CBAM.

SE re-weights channels from globally pooled statistics. CBAM adds a second, spatial step: a
7×7 conv over the channel-mean and channel-max maps decides *where* to attend, answering "can
attention act on spatial positions".
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

from .._checks import check_int, check_positive
from .helpers import get_act, make_divisible


class SqueezeExcite(nn.Module):
    """Squeeze (global average pool) → excite (two 1×1 convs) → gate → rescale channels.

    ``rd_ratio`` sets the bottleneck width ``channels · rd_ratio`` (SENet: 1/16; MobileNetV3:
    1/4, rounded with ``make_divisible(·, 8)``). ``gate`` is ``"sigmoid"`` for SENet and
    ``"hsigmoid"`` for MobileNetV3. The 1×1 convs with bias are the paper's FC layers.
    """

    def __init__(
        self,
        channels: int,
        rd_ratio: float = 1 / 16,
        rd_channels: int | None = None,
        act: str = "relu",
        gate: str = "sigmoid",
        divisor: int = 1,
    ) -> None:
        super().__init__()
        check_int("channels", channels, minimum=1)
        if rd_channels is None:
            check_positive("rd_ratio", rd_ratio)
            rd_channels = (
                make_divisible(channels * rd_ratio, divisor)
                if divisor > 1
                else max(1, round(channels * rd_ratio))
            )
        check_int("rd_channels", rd_channels, minimum=1)
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.fc1 = nn.Conv2d(channels, rd_channels, 1)
        self.act = get_act(act)
        self.fc2 = nn.Conv2d(rd_channels, channels, 1)
        self.gate = get_act(gate)

    def forward(self, x: Tensor) -> Tensor:
        scale = self.gate(self.fc2(self.act(self.fc1(self.pool(x)))))
        return x * scale


class ChannelAttention(nn.Module):
    """CBAM channel attention: one shared MLP over the average- and max-pooled descriptors."""

    def __init__(self, channels: int, rd_ratio: float = 1 / 16) -> None:
        super().__init__()
        check_int("channels", channels, minimum=1)
        check_positive("rd_ratio", rd_ratio)
        rd_channels = max(1, round(channels * rd_ratio))
        self.fc1 = nn.Conv2d(channels, rd_channels, 1)
        self.act = nn.ReLU(inplace=True)
        self.fc2 = nn.Conv2d(rd_channels, channels, 1)

    def forward(self, x: Tensor) -> Tensor:
        avg = self.fc2(self.act(self.fc1(x.mean((2, 3), keepdim=True))))
        mx = self.fc2(self.act(self.fc1(x.amax((2, 3), keepdim=True))))
        return x * torch.sigmoid(avg + mx)


class SpatialAttention(nn.Module):
    """CBAM spatial attention: sigmoid(conv k×k([mean_c(x); max_c(x)])) rescales each position."""

    def __init__(self, kernel_size: int = 7) -> None:
        super().__init__()
        check_int("kernel_size", kernel_size, minimum=1)
        # CBAM eq. (3): one k×k conv from the 2 pooled maps to 1 attention map.
        self.conv = nn.Conv2d(2, 1, kernel_size, padding=(kernel_size - 1) // 2, bias=False)

    def forward(self, x: Tensor) -> Tensor:
        pooled = torch.cat([x.mean(1, keepdim=True), x.amax(1, keepdim=True)], dim=1)
        return x * torch.sigmoid(self.conv(pooled))


class CBAM(nn.Module):
    """Convolutional Block Attention Module: channel attention, then spatial attention."""

    def __init__(self, channels: int, rd_ratio: float = 1 / 16, kernel_size: int = 7) -> None:
        super().__init__()
        self.channel = ChannelAttention(channels, rd_ratio)
        self.spatial = SpatialAttention(kernel_size)

    def forward(self, x: Tensor) -> Tensor:
        return self.spatial(self.channel(x))
