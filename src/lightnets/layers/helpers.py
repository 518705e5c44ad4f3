"""Small shared helpers: channel rounding and activation lookup."""

from __future__ import annotations

from collections.abc import Callable

from torch import nn

from .._checks import bad_value


def make_divisible(value: float, divisor: int = 8, min_value: int | None = None) -> int:
    """Round ``value`` to the nearest multiple of ``divisor``, never dropping below 90%.

    This is the rounding rule of the MobileNetV2/V3 reference code (and torchvision), used
    to keep channel counts hardware friendly when a width multiplier is applied.
    """
    if min_value is None:
        min_value = divisor
    rounded = max(min_value, int(value + divisor / 2) // divisor * divisor)
    if rounded < 0.9 * value:
        rounded += divisor
    return rounded


_ACTIVATIONS: dict[str, Callable[[], nn.Module]] = {
    "relu": lambda: nn.ReLU(inplace=True),
    "relu6": lambda: nn.ReLU6(inplace=True),
    "hswish": lambda: nn.Hardswish(inplace=True),
    "hardswish": lambda: nn.Hardswish(inplace=True),
    "hsigmoid": lambda: nn.Hardsigmoid(inplace=True),
    "hardsigmoid": lambda: nn.Hardsigmoid(inplace=True),
    "sigmoid": nn.Sigmoid,
    "silu": lambda: nn.SiLU(inplace=True),
    "identity": nn.Identity,
}


def get_act(name: str | None) -> nn.Module:
    """Return a fresh activation module by name (``None`` or ``"identity"`` for none)."""
    if name is None:
        return nn.Identity()
    key = name.lower()
    if key not in _ACTIVATIONS:
        raise bad_value("act", "one of " + ", ".join(sorted(_ACTIVATIONS)), name)
    return _ACTIVATIONS[key]()
