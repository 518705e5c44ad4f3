"""Channel shuffle (ShuffleNetV1 §3.1): lets information cross the groups of a group conv."""

from __future__ import annotations

from torch import Tensor, nn

from .._checks import bad_value, check_int


def channel_shuffle(x: Tensor, groups: int) -> Tensor:
    """Shuffle the channels of an N×C×H×W tensor across ``groups``.

    Reshape the channel axis to (groups, C/groups), transpose to (C/groups, groups) and
    flatten back: output channel ``j·groups + i`` is input channel ``i·(C/groups) + j``.
    """
    check_int("groups", groups, minimum=1)
    n, c, h, w = x.shape
    if c % groups:
        raise bad_value("groups", f"a divisor of the channel count {c}", groups)
    return x.reshape(n, groups, c // groups, h, w).transpose(1, 2).reshape(n, c, h, w)


class ChannelShuffle(nn.Module):
    """Module form of :func:`channel_shuffle`."""

    def __init__(self, groups: int) -> None:
        super().__init__()
        self.groups = check_int("groups", groups, minimum=1)

    def forward(self, x: Tensor) -> Tensor:
        return channel_shuffle(x, self.groups)

    def extra_repr(self) -> str:
        return f"groups={self.groups}"
