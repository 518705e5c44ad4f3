import math

import pytest

from lightnets._checks import check_choice, check_fraction, check_int, check_positive


def test_check_int() -> None:
    assert check_int("n", 3, minimum=1) == 3
    with pytest.raises(ValueError, match=r"^n: expected an integer >= 1, got 0$"):
        check_int("n", 0, minimum=1)
    with pytest.raises(ValueError, match=r"^n: expected an integer, got 2.5$"):
        check_int("n", 2.5)
    with pytest.raises(ValueError, match=r"^n: expected an integer, got True$"):
        check_int("n", True)


@pytest.mark.parametrize("bad", [0, -1.0, math.nan, math.inf, "1", None])
def test_check_positive_rejects(bad: object) -> None:
    with pytest.raises(ValueError, match=r"^width: expected a (finite )?number > 0"):
        check_positive("width", bad)


def test_check_fraction_and_choice() -> None:
    assert check_fraction("p", 0.0) == 0.0
    with pytest.raises(ValueError, match=r"^p: expected a number in \[0, 1\), got 1"):
        check_fraction("p", 1)
    assert check_fraction("p", 1, inclusive_high=True) == 1.0
    with pytest.raises(ValueError, match=r"^mode: expected one of 'a', 'b', got 'c'$"):
        check_choice("mode", "c", ["a", "b"])
