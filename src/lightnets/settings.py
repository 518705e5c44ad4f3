"""Settings defined once, as dataclass fields, and the command-line options built from them.

A field made with :func:`setting` carries its help text, its choices and how the command line
spells and parses it. :func:`add_arguments` turns a settings dataclass into ``argparse``
options and :func:`from_arguments` builds the dataclass back from the parsed namespace, so a
setting added to the dataclass appears on the command line, in ``asdict(config)`` (and so in
every ``config.json``) without a second edit.

Spelling on the command line: ``--name-with-dashes VALUE``; a boolean that defaults to False
is a switch (``--class-weights``), one that defaults to True is switched off
(``--no-whiten``), and one that defaults to None (decided later, e.g. by a recipe) is the pair
``--whiten`` / ``--no-whiten``.
"""

from __future__ import annotations

import argparse
import dataclasses
import types
import typing
from collections.abc import Callable, Iterable
from typing import Any, TypeVar

T = TypeVar("T")


def setting(
    default: Any,
    help: str,
    *,
    parse: Callable[[str], Any] | None = None,
    choices: Iterable[str] | None = None,
    metavar: str | None = None,
    cli: bool = True,
) -> Any:
    """A dataclass field with what the command line needs: ``help``, ``choices``, ``parse``
    (turns the typed string into the value; default: the field's type, ``int`` for
    ``int | None``) and ``metavar``. ``cli=False`` keeps a setting out of the command line
    (set by the program itself)."""
    meta = {
        "help": help,
        "parse": parse,
        "choices": None if choices is None else tuple(choices),
        "metavar": metavar,
        "cli": cli,
    }
    return dataclasses.field(default=default, metadata=meta)


def flag(name: str, default: Any) -> str:
    """The option that sets ``name``: ``--no-NAME`` for a boolean that defaults to True."""
    dashed = name.replace("_", "-")
    return f"--no-{dashed}" if default is True else f"--{dashed}"


def cli_fields(cls: type) -> list[dataclasses.Field]:
    """The fields of the settings dataclass ``cls`` that the command line sets."""
    return [f for f in dataclasses.fields(cls) if f.metadata.get("cli", False)]


def add_arguments(
    parser: argparse.ArgumentParser,
    cls: type,
    *,
    only: Iterable[str] | None = None,
) -> None:
    """Add one option per setting of ``cls`` (or of those named in ``only``)."""
    wanted = None if only is None else set(only)
    hints = typing.get_type_hints(cls)
    for f in cli_fields(cls):
        if wanted is not None and f.name not in wanted:
            continue
        meta = f.metadata
        default = f.default
        if isinstance(default, bool):
            action = "store_false" if default else "store_true"
            parser.add_argument(
                flag(f.name, default), dest=f.name, action=action, help=meta["help"]
            )
            continue
        parse = meta["parse"] or _plain_type(hints[f.name])
        if parse is bool:  # bool | None: --name / --no-name, None when neither is given
            parser.add_argument(
                flag(f.name, default),
                dest=f.name,
                action=argparse.BooleanOptionalAction,
                default=None,
                help=meta["help"],
            )
            continue
        shown = "" if default is None else f" (default: {default})"
        parser.add_argument(
            flag(f.name, default),
            dest=f.name,
            type=parse,
            default=default,
            choices=meta["choices"],
            metavar=meta["metavar"],
            help=meta["help"] + shown,
        )


def _plain_type(hint: Any) -> Callable[[str], Any]:
    """``int`` for ``int`` and ``int | None``; the type that parses a typed value (``bool``
    for ``bool | None``: a pair of switches)."""
    if isinstance(hint, types.UnionType) or typing.get_origin(hint) is typing.Union:
        kinds = [a for a in typing.get_args(hint) if a is not type(None)]
        if len(kinds) == 1:
            return _plain_type(kinds[0])
    if hint in (int, float, str, bool):
        return hint
    raise TypeError(f"a setting of type {hint} needs parse= to be set from the command line")


def from_arguments(cls: type[T], args: argparse.Namespace, **fixed: Any) -> T:
    """``cls`` built from the settings found in ``args`` (and ``fixed``, which win)."""
    values = {f.name: getattr(args, f.name) for f in cli_fields(cls) if hasattr(args, f.name)}
    return cls(**{**values, **fixed})
