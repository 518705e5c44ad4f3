"""The ``export`` subcommand: a registered model or an hsi predictor file to ONNX."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from torch import nn

CHECKPOINT_SUFFIXES = (".pt", ".pth")


def _parse_size(text: str) -> int | tuple[int, ...]:
    from ..profiling.commands import parse_input

    return parse_input(text)


def _is_checkpoint(target: str) -> bool:
    """A path to a file (or anything ending in .pt/.pth) is a checkpoint; else a model name."""
    return Path(target).is_file() or target.endswith(CHECKPOINT_SUFFIXES)


def _resolve(target: str) -> tuple[nn.Module | str, str]:
    """The model (or registered name) to export and the default output file."""
    if not _is_checkpoint(target):
        return target, f"{target}.onnx"
    from ..hsi.predictor import load_predictor

    predictor = load_predictor(target)
    return predictor.model, str(Path(target).with_suffix(".onnx"))


def _cmd_export(args: argparse.Namespace) -> int:
    from .onnx import export_onnx

    model, default_out = _resolve(args.model)
    result = export_onnx(
        model,
        args.out or default_out,
        input_size=args.input,
        opset=args.opset,
        dynamic_batch=args.dynamic_batch,
        fuse_bn=args.fuse_bn,
        atol=args.atol,
    )
    print(result.summary())
    return 0


def register(subparsers: Any) -> None:
    """Add the ``export`` subcommand to an argparse subparsers object."""
    p = subparsers.add_parser(
        "export", help="export a model or an hsi predictor file to ONNX (checked with ORT)"
    )
    p.add_argument("model", metavar="MODEL|CHECKPOINT",
                   help="registered model name, or a model.pt predictor file from an hsi run")
    p.add_argument("--format", choices=("onnx",), default="onnx", help="output format")
    p.add_argument("--opset", type=int, default=17, help="ONNX opset version")
    p.add_argument("--dynamic-batch", action="store_true", help="make the batch axis symbolic")
    p.add_argument("--fuse-bn", action="store_true", help="fold BatchNorm into the convs first")
    p.add_argument("--input", type=_parse_size,
                   help="sample size: 224, HxW or CxHxW (default: the model's own)")
    p.add_argument("--atol", type=float, default=1e-4,
                   help="largest accepted |ONNX Runtime − PyTorch| difference")
    p.add_argument("--out", metavar="FILE", help="output file (default: MODEL.onnx)")
    p.set_defaults(func=_cmd_export)
