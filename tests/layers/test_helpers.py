import pytest
from torch import nn

from lightnets.layers import get_act, make_divisible


@pytest.mark.parametrize(
    ("value", "divisor", "expected"),
    [
        (32, 8, 32),  # already a multiple
        (32 * 1.4, 8, 48),  # 44.8 rounds to 48 (nearest multiple, half up)
        (32 * 0.35, 8, 16),  # 11.2 → 8 would lose >10%, so bumped to 16
        (3, 8, 8),  # never below the divisor
        (100, 8, 104),  # 100 + 4 → 104 (nearest multiple, half up)
        (99, 8, 96),
    ],
)
def test_make_divisible(value: float, divisor: int, expected: int) -> None:
    out = make_divisible(value, divisor)
    assert out == expected
    assert out % divisor == 0
    assert out >= 0.9 * value


def test_get_act_returns_fresh_modules() -> None:
    assert isinstance(get_act("hswish"), nn.Hardswish)
    assert isinstance(get_act("hsigmoid"), nn.Hardsigmoid)
    assert isinstance(get_act("relu6"), nn.ReLU6)
    assert isinstance(get_act(None), nn.Identity)
    assert get_act("relu") is not get_act("relu")


def test_get_act_unknown_names_the_argument() -> None:
    with pytest.raises(ValueError, match=r"^act: expected one of .*got 'gelu6'"):
        get_act("gelu6")
