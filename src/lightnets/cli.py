"""The ``lightnets`` command line. Subcommands parse arguments and call the library."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence


def _cmd_models(args: argparse.Namespace) -> int:
    from ._table import format_table
    from .models.table import model_table

    rows = model_table(args.pattern)
    if not rows:
        print(f"no registered model matches {args.pattern!r}", file=sys.stderr)
        return 1
    print(
        format_table(
            ["model", "params", "torchvision twin", "paper"],
            [(r.name, f"{r.params:,}", r.torchvision or "-", r.paper) for r in rows],
            align="lrll",
        )
    )
    print(f"\n{len(rows)} models")
    return 0


def _cmd_demo(args: argparse.Namespace) -> int:
    print("lightnets model zoo (parameters at 1000 classes, 3 input channels):\n")
    return _cmd_models(argparse.Namespace(pattern="*"))


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="lightnets", description="Efficient CNNs and hyperspectral classification."
    )
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("models", help="list registered models with parameters and paper")
    p.add_argument("pattern", nargs="?", default="*", help="shell-style filter, e.g. 'mobilenet*'")
    p.set_defaults(func=_cmd_models)

    p = sub.add_parser("demo", help="the quick-start demonstration")
    p.set_defaults(func=_cmd_demo)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``lightnets`` command; returns the exit status."""
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except ValueError as err:
        print(f"lightnets: error: {err}", file=sys.stderr)
        return 2
