"""``lightnets profile`` and ``lightnets compare``: argument parsing and printing only.

``register(subparsers)`` adds both subcommands to the ``lightnets`` parser; each sets
``func`` to a function of the parsed namespace that returns the exit status.
"""

from __future__ import annotations

import argparse
import re
import sys
from typing import Any

from .._checks import bad_value


def parse_input(text: str) -> int | tuple[int, ...]:
    """``"224"`` → 224; ``"160x128"`` → (160, 128); ``"30x25x25"`` or ``"30,25,25"`` → a shape."""
    parts = [p for p in re.split(r"[x×,]", text.strip()) if p]
    if not parts or not all(p.isdigit() for p in parts):
        raise argparse.ArgumentTypeError(
            f"expected a size such as 224, 160x128 or 30x25x25, got {text!r}"
        )
    values = tuple(int(p) for p in parts)
    return values[0] if len(values) == 1 else values


def _add_latency_options(p: argparse.ArgumentParser, repeats: int, warmup: int) -> None:
    p.add_argument("--repeats", type=int, default=repeats, help="timed forward passes")
    p.add_argument("--warmup", type=int, default=warmup, help="untimed passes first")
    p.add_argument("--threads", type=int, help="intra-op threads (default: torch's setting)")
    p.add_argument("--channels-last", action="store_true", help="time NHWC tensors")


def _cmd_profile(args: argparse.Namespace) -> int:
    from .api import profile

    result = profile(
        args.name, args.input, args.batch, latency=args.latency, warmup=args.warmup,
        repeats=args.repeats, threads=args.threads, channels_last=args.channels_last,
    )
    print(result.summary())
    if args.layers:
        print()
        print(result.layer_table(top=args.top))
    return 0


def _cmd_compare(args: argparse.Namespace) -> int:
    from .api import compare

    latency = args.latency or args.plot is not None
    comparison = compare(
        args.patterns or ["*"], args.input, args.batch, latency=latency, warmup=args.warmup,
        repeats=args.repeats, threads=args.threads, channels_last=args.channels_last,
        skip_unfit=True,
    )
    for name, reason in comparison.skipped.items():
        print(f"skipped {name}: {reason}", file=sys.stderr)
    if not comparison.results:
        raise bad_value("input", "a size at least one of the models accepts", args.input)
    print(comparison.table(args.format))
    if args.format == "md":
        print(f"\n{len(comparison.results)} models. {_machine(comparison.environment)}")
        from .counting import CONVENTION

        print(CONVENTION)
    if args.plot is not None:
        from .plotting import plot_macs_vs_latency

        path = plot_macs_vs_latency(comparison.results, args.plot)
        print(f"plot: {path}", file=sys.stderr if args.format != "md" else sys.stdout)
    return 0


def _machine(env: dict[str, Any]) -> str:
    threads = env.get("latency_threads", env.get("torch_threads"))
    return (
        f"Machine: {env.get('cpu')}, {env.get('cpu_count')} logical cores, {threads} thread(s); "
        f"torch {env.get('torch')}, lightnets {env.get('lightnets')}."
    )


def register(subparsers: Any) -> None:
    """Add the ``profile`` and ``compare`` subcommands to an argparse subparsers object."""
    p = subparsers.add_parser(
        "profile", help="parameters, MACs, activation memory and latency of one model"
    )
    p.add_argument("name", help="registered model name, e.g. mobilenet_v2_100")
    p.add_argument("--input", type=parse_input,
                   help="sample size: 224, HxW or CxHxW (default: the model's own)")
    p.add_argument("--batch", type=int, default=1, help="batch size")
    p.add_argument("--layers", action="store_true", help="print the per-layer table")
    p.add_argument("--top", type=int, help="with --layers: only the N layers with most MACs")
    p.add_argument("--latency", action="store_true", help="measure CPU latency too")
    _add_latency_options(p, repeats=50, warmup=10)
    p.set_defaults(func=_cmd_profile)

    p = subparsers.add_parser(
        "compare", help="a table of many models (MACs, parameters, memory, latency)"
    )
    p.add_argument("patterns", nargs="*", help="names or shell patterns (default: every model)")
    p.add_argument("--input", type=parse_input, help="sample size: 224, HxW or CxHxW")
    p.add_argument("--batch", type=int, default=1, help="batch size")
    p.add_argument("--latency", action="store_true",
                   help="measure latency, interleaving the models in one run")
    _add_latency_options(p, repeats=20, warmup=5)
    p.add_argument("--format", choices=("md", "csv", "json"), default="md")
    p.add_argument("--plot", metavar="FILE.png",
                   help="scatter plot of MACs against latency (implies --latency)")
    p.set_defaults(func=_cmd_compare)
