"""Turn ``profile``'s arguments into a module, a sample shape and a batch size, or one clear error.

Names go through the registry; sizes are checked against the model (``check_input`` where it
has one, a forward pass on the ``meta`` device otherwise) before anything is counted or timed.
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping, Sequence
from typing import Any

import torch
from torch import nn

from .._checks import bad_value, check_int
from ..models import create_model, get_entry, list_models

# The image classifiers' default sample; models with an ``input_shape`` property use their own.
DEFAULT_INPUT = (3, 224, 224)


def registered_name(name: str) -> str:
    """The canonical registry name for ``name`` (or an alias); unknown names list close ones."""
    try:
        return get_entry(name).name
    except ValueError:
        known = [key for n in list_models() for key in (n, *get_entry(n).aliases)]
        close = difflib.get_close_matches(name, known, n=5, cutoff=0.5)
        hint = ", ".join(close) if close else "see lightnets.list_models()"
        message = str(bad_value("model", "a registered model name or an nn.Module", name))
        raise ValueError(f"{message}; closest: {hint}") from None


def resolve_model(
    model: nn.Module | str, model_kwargs: Mapping[str, Any], *, meta: bool
) -> tuple[nn.Module, str]:
    """The module to profile and its label; names are built on ``meta`` when ``meta`` is true."""
    if isinstance(model, str):
        name = registered_name(model)
        if meta:
            with torch.device("meta"):
                return create_model(name, **model_kwargs), name
        return create_model(name, **model_kwargs), name
    if not isinstance(model, nn.Module):
        raise bad_value("model", "a registered model name or an nn.Module", model)
    if model_kwargs:
        key = sorted(model_kwargs)[0]
        raise bad_value(key, "no model keyword arguments when an nn.Module is given", key)
    return model, type(model).__name__


def input_shape_of(model: nn.Module, input_size: int | Sequence[int] | None) -> tuple[int, ...]:
    """One sample's shape: ``None`` → the model's ``input_shape`` (else 3×224×224); an int ``s``
    → ``(C, s, s)`` with ``C`` the model's ``in_chans`` (3 when it has none); ``(H, W)`` →
    ``(C, H, W)`` for models with ``in_chans`` (the zoo); any other tuple as given."""
    default = tuple(getattr(model, "input_shape", DEFAULT_INPUT))
    if input_size is None:
        return default
    channels = getattr(model, "in_chans", default[0])
    if isinstance(input_size, int) and not isinstance(input_size, bool):
        shape: tuple[Any, ...] = (channels, input_size, input_size)
    elif isinstance(input_size, Sequence) and not isinstance(input_size, str) and input_size:
        shape = tuple(input_size)
        if len(shape) == 2 and hasattr(model, "in_chans"):
            shape = (channels, *shape)
    else:
        raise bad_value("input_size", "an int or a tuple of positive ints", input_size)
    if not all(isinstance(v, int) and not isinstance(v, bool) and v > 0 for v in shape):
        raise bad_value("input_size", "an int or a tuple of positive ints", input_size)
    return shape


def check_batch_size(batch_size: Any) -> int:
    """A batch is at least one sample."""
    return check_int("batch_size", batch_size, minimum=1)


def check_accepts(model: nn.Module, label: str, shape: tuple[int, ...], input_size: Any) -> None:
    """Raise one ``ValueError`` naming ``input_size`` when ``model`` cannot take ``shape``.

    Uses the model's own ``check_input`` when it has one (every model of the zoo does); the
    forward pass on ``meta`` that follows catches what other modules reject.
    """
    check = getattr(model, "check_input", None)
    if check is None:
        return
    try:
        check(torch.empty(1, *shape, device="meta"))
    except ValueError as err:
        raise bad_value("input_size", f"a size {label} accepts ({err})", input_size) from None
