"""Reusable blocks of efficient CNNs."""

from .attention import CBAM, ChannelAttention, SpatialAttention, SqueezeExcite
from .conv import ConvNormAct, DepthwiseSeparableConv
from .helpers import get_act, make_divisible
from .inverted_residual import InvertedResidual, InvertedResidualConfig
from .shuffle import ChannelShuffle, channel_shuffle

__all__ = [
    "CBAM",
    "ChannelAttention",
    "ChannelShuffle",
    "ConvNormAct",
    "DepthwiseSeparableConv",
    "InvertedResidual",
    "InvertedResidualConfig",
    "SpatialAttention",
    "SqueezeExcite",
    "channel_shuffle",
    "get_act",
    "make_divisible",
]
