"""Input validation at the public boundary.

Every error names the argument, what was expected and what was received, so the
message alone says what to fix.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterable, Iterator
from contextvars import ContextVar
from typing import Any

# Who is calling: "python" (a library call) or "cli" (the lightnets command), so that a hint
# names what that caller can type.
_CALLER: ContextVar[str] = ContextVar("lightnets_caller", default="python")


@contextlib.contextmanager
def called_from_command_line() -> Iterator[None]:
    """Within this block, :func:`spell` writes options as the command line spells them."""
    token = _CALLER.set("cli")
    try:
        yield
    finally:
        _CALLER.reset(token)


def spell(name: str, value: Any = None) -> str:
    """How the caller sets the argument ``name`` (to ``value``): ``data_dir=<folder>`` in
    Python, ``--data-dir <folder>`` on the command line; a switch (``value=True``) is
    ``download=True`` or ``--download``."""
    if _CALLER.get() == "cli":
        option = "--" + name.replace("_", "-")
        return option if value is True or value is None else f"{option} {value}"
    return name if value is None else f"{name}={value}"


def bad_value(name: str, expected: str, got: Any) -> ValueError:
    """Build the one error format used across the library."""
    return ValueError(f"{name}: expected {expected}, got {got!r}")


def check_int(name: str, value: Any, *, minimum: int | None = None) -> int:
    """Return ``value`` as an int, rejecting bools, floats and values below ``minimum``."""
    if isinstance(value, bool) or not isinstance(value, int):
        expected = "an integer" if minimum is None else f"an integer >= {minimum}"
        raise bad_value(name, expected, value)
    if minimum is not None and value < minimum:
        raise bad_value(name, f"an integer >= {minimum}", value)
    return value


def check_positive(name: str, value: Any) -> float:
    """Return ``value`` as a float that is finite and > 0."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not value > 0:
        raise bad_value(name, "a number > 0", value)
    if value == float("inf"):
        raise bad_value(name, "a finite number > 0", value)
    return float(value)


def check_fraction(name: str, value: Any, *, inclusive_high: bool = False) -> float:
    """Return ``value`` as a float in [0, 1) (or [0, 1] when ``inclusive_high``)."""
    ok = isinstance(value, (int, float)) and not isinstance(value, bool)
    if ok:
        ok = 0 <= value <= 1 if inclusive_high else 0 <= value < 1
    if not ok:
        interval = "[0, 1]" if inclusive_high else "[0, 1)"
        raise bad_value(name, f"a number in {interval}", value)
    return float(value)


def check_choice(name: str, value: Any, choices: Iterable[Any]) -> Any:
    """Return ``value`` if it is one of ``choices``."""
    options = list(choices)
    if value not in options:
        raise bad_value(name, "one of " + ", ".join(repr(c) for c in options), value)
    return value


def check_divisible(name: str, value: int, divisor: int, divisor_name: str) -> int:
    """Return ``value`` if ``divisor`` divides it."""
    if value % divisor:
        raise bad_value(name, f"a multiple of {divisor_name}={divisor}", value)
    return value
