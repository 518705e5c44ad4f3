"""One registry for every network: register, list, create.

A registered *variant* is a builder function plus fixed keyword arguments (e.g. the width of
``mobilenet_v2_050``), with the paper it follows and, where torchvision builds the same network,
torchvision's name for it.
"""

from __future__ import annotations

import difflib
import fnmatch
from collections.abc import Callable
from typing import Any

from torch import nn

from .._checks import bad_value
from .entry import ModelEntry

_ENTRIES: dict[str, ModelEntry] = {}
_ALIASES: dict[str, str] = {}


def register_model(
    name: str,
    builder: Callable[..., nn.Module],
    *,
    paper: str,
    family: str,
    task: str = "image",
    torchvision: str | None = None,
    aliases: tuple[str, ...] = (),
    **kwargs: Any,
) -> None:
    """Register ``builder(**kwargs)`` under ``name`` (and ``aliases``)."""
    for key in (name, *aliases):
        if key in _ENTRIES or key in _ALIASES:
            raise ValueError(f"model name {key!r} is already registered")
    _ENTRIES[name] = ModelEntry(name, builder, paper, family, task, torchvision, aliases, kwargs)
    for alias in aliases:
        _ALIASES[alias] = name


def list_models(pattern: str = "*", *, task: str | None = None) -> list[str]:
    """Sorted canonical names matching the shell-style ``pattern`` (e.g. ``"mobilenet*"``)."""
    if not isinstance(pattern, str):
        raise bad_value("pattern", "a shell-style pattern string such as 'mobilenet*'", pattern)
    return sorted(
        name
        for name, entry in _ENTRIES.items()
        if fnmatch.fnmatchcase(name, pattern) and (task is None or entry.task == task)
    )


def get_entry(name: str) -> ModelEntry:
    """The entry for a canonical name or alias; unknown names list the closest ones."""
    if not isinstance(name, str):
        raise bad_value("name", "a registered model name (str)", name)
    key = _ALIASES.get(name, name)
    if key not in _ENTRIES:
        known = list(_ENTRIES) + list(_ALIASES)
        close = difflib.get_close_matches(name, known, n=5, cutoff=0.5)
        hint = ", ".join(close) if close else "see lightnets.list_models()"
        raise ValueError(f"name: expected a registered model name, got {name!r}; closest: {hint}")
    return _ENTRIES[key]


def pretrained_entry(name: str) -> ModelEntry:
    """The entry of ``name`` when torchvision publishes ImageNet weights for it; else a
    ValueError naming the models that have them."""
    entry = get_entry(name)
    if entry.torchvision is None:
        have = [n for n, e in _ENTRIES.items() if e.torchvision is not None]
        raise ValueError(
            f"pretrained: expected a model with torchvision's published ImageNet weights "
            f"({', '.join(sorted(have))}), got {entry.name!r}"
        )
    return entry


def create_model(
    name: str,
    *,
    num_classes: int | None = None,
    in_chans: int | None = None,
    pretrained: bool = False,
    **kwargs: Any,
) -> nn.Module:
    """Build a registered network.

    ``num_classes``/``in_chans`` default to the model's own defaults (1000 and 3 for the image
    classifiers). ``pretrained=True`` loads torchvision's published ImageNet weights (needs a
    connection or torchvision's cache) and then resets the classifier if ``num_classes`` differs.
    """
    entry = pretrained_entry(name) if pretrained else get_entry(name)
    fixed = set(kwargs) & set(entry.kwargs)
    if fixed:
        key = sorted(fixed)[0]
        raise bad_value(
            key, f"no value: {entry.name} fixes {key}={entry.kwargs[key]!r}", kwargs[key]
        )
    args = {**entry.kwargs, **kwargs}
    if num_classes is not None:
        args["num_classes"] = num_classes
    if in_chans is not None:
        args["in_chans"] = in_chans
    if not pretrained:
        return entry.builder(**args)
    from .torchvision_compat import load_pretrained

    return load_pretrained(entry, args)
