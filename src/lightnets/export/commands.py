"""The ``export`` and ``bench`` subcommands: a registered model or a hyperspectral model.pt to
ONNX (optionally quantized to INT8), and deployment latency against torchvision."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from torch import nn

CHECKPOINT_SUFFIXES = (".pt", ".pth")
RANDOM_CALIBRATION = 32  # random inputs when no --calibration-data is given


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
    from .._checks import bad_value
    from ..hsi.estimator import HSIClassifier

    if not Path(target).is_file():
        raise FileNotFoundError(f"checkpoint: no such file {target!r}")
    clf = HSIClassifier.load(target, argument="checkpoint")
    if clf.network_ is None:
        raise bad_value("checkpoint", "a network's model.pt (an SVM has no graph)", target)
    return clf.network_, str(Path(target).with_suffix(".onnx"))


def _int8_path(path: Path) -> Path:
    """``m.onnx`` → ``m.int8.onnx``."""
    return path.with_name(f"{path.stem}.int8{path.suffix or '.onnx'}")


def _check_int8_args(args: argparse.Namespace) -> None:
    """Reject INT8 options without ``--int8`` and bad counts, before anything is exported."""
    from .._checks import bad_value, check_int

    if not args.int8:
        for name in ("calibration", "calibration_data", "int8_out"):
            value = getattr(args, name)
            if value is not None:
                flag = "--" + name.replace("_", "-")
                raise bad_value(flag, "--int8 alongside it", value)
        return
    if args.calibration is not None:
        check_int("--calibration", args.calibration, minimum=1)
    if args.calibration_data is not None and not Path(args.calibration_data).is_file():
        raise FileNotFoundError(f"--calibration-data: no such file {args.calibration_data}")


def _calibration_inputs(args: argparse.Namespace, shape: tuple[int, ...]) -> tuple[Any, str]:
    """The calibration samples and a note saying where they come from."""
    import numpy as np

    if args.calibration_data is None:
        n = args.calibration or RANDOM_CALIBRATION
        x = np.random.default_rng(0).standard_normal((n, *shape)).astype(np.float32)
        note = (f"calibrated on {n} random normal inputs: fine for size and speed, not for "
                "accuracy (use --calibration-data with training images)")
        return x, note
    from .._checks import bad_value

    path = Path(args.calibration_data)
    try:
        data = np.load(path)
        if hasattr(data, "files"):  # an .npz archive: its first array
            data = data[data.files[0]]
    except (OSError, ValueError, IndexError) as err:
        raise bad_value("--calibration-data", f"a .npy or .npz array ({err})", str(path)) from None
    data = data[: args.calibration] if args.calibration else data
    return data, f"calibrated on {len(data)} samples from {path}"


def _cmd_export(args: argparse.Namespace) -> int:
    from .onnx import export_onnx

    _check_int8_args(args)
    model, default_out = _resolve(args.model)
    if args.scene:
        return _export_scene(args, model, default_out)
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
    if args.int8:
        from .quantize import quantize_onnx

        calibration, note = _calibration_inputs(args, result.input_shape)
        out = Path(args.int8_out) if args.int8_out else _int8_path(result.path)
        print(quantize_onnx(result.path, out, calibration).summary())
        print(note)
    return 0


def _export_scene(args: argparse.Namespace, model: nn.Module | str, default_out: str) -> int:
    """``--scene``: the full-scene map graph of a hyperspectral model.pt."""
    from .._checks import bad_value
    from .scene import export_scene_onnx

    if isinstance(model, str) or args.int8:
        raise bad_value("--scene", "a model.pt from an hsi run, without --int8",
                        args.model)
    out = args.out or str(Path(default_out).with_suffix(".scene.onnx"))
    print(export_scene_onnx(model, out, opset=args.opset, atol=args.atol).summary())
    return 0


def _batches(text: str) -> list[int]:
    """``"1,32"`` → [1, 32]."""
    parts = [p.strip() for p in text.split(",") if p.strip()]
    if not parts or not all(p.isdigit() and int(p) >= 1 for p in parts):
        raise argparse.ArgumentTypeError(f"expected batch sizes such as 1,32, got {text!r}")
    return [int(p) for p in parts]


def add_bench_arguments(p: argparse.ArgumentParser) -> None:
    """The options of ``lightnets bench`` (shared with ``benchmarks/latency.py``)."""
    from .bench import CALIBRATION_IMAGES, DEFAULT_MAX_LOAD

    p.add_argument("pattern", nargs="?", default="*",
                   help="models with a torchvision twin matching this (default: all of them)")
    p.add_argument("--batch", type=_batches, help="batch sizes (default: 1,32; --quick: 1)")
    p.add_argument("--input", type=int, default=224, help="image side (default: 224)")
    p.add_argument("--threads", type=int, help="threads for PyTorch and ONNX Runtime "
                                               "(default: torch's setting)")
    p.add_argument("--repeats", type=int, help="timed rounds (default: 30; --quick: 5)")
    p.add_argument("--warmup", type=int, help="untimed passes per path (default: 5; --quick: 2)")
    p.add_argument("--quick", action="store_true", help="a smoke run: batch 1, few rounds")
    p.add_argument("--no-compile", action="store_true", help="skip torch.compile")
    p.add_argument("--calibration", type=int, default=CALIBRATION_IMAGES,
                   help="random images that calibrate the INT8 graph")
    p.add_argument("--max-load", type=float, default=DEFAULT_MAX_LOAD,
                   help="refuse above this 1-minute load average per logical core "
                        f"(default: {DEFAULT_MAX_LOAD})")
    p.add_argument("--force", action="store_true", help="report even on a busy machine")
    p.add_argument("--same-process", action="store_true",
                   help="time every network in this process (default: each in a fresh one, "
                        "so that no network meets the allocator state another left)")


def bench_from_args(args: argparse.Namespace) -> Any:
    """Run :func:`~lightnets.export.bench.run_bench` with the parsed options."""
    import sys

    from .bench import run_bench

    quick = args.quick
    return run_bench(
        args.pattern,
        args.batch or ([1] if quick else [1, 32]),
        input_size=args.input,
        threads=args.threads,
        repeats=args.repeats if args.repeats is not None else (5 if quick else 30),
        warmup=args.warmup if args.warmup is not None else (2 if quick else 5),
        try_compile=not args.no_compile,
        calibration=args.calibration,
        max_load=args.max_load,
        force=args.force,
        isolate=not args.same_process,
        log=lambda msg: print(msg, file=sys.stderr),
    )


def _cmd_bench(args: argparse.Namespace) -> int:
    import sys

    from .bench import MachineBusyError
    from .bench_report import format_report

    try:
        report = bench_from_args(args)
    except MachineBusyError as err:
        print(f"lightnets bench: refused: {err}", file=sys.stderr)
        return 3
    print(format_report(report))
    return 0


def register(subparsers: Any) -> None:
    """Add the ``export`` and ``bench`` subcommands to an argparse subparsers object."""
    p = subparsers.add_parser(
        "export", help="export a model or a hyperspectral model.pt to ONNX (checked with ORT)"
    )
    p.add_argument("model", metavar="MODEL|CHECKPOINT",
                   help="registered model name, or the model.pt of an hsi run")
    p.add_argument("--format", choices=("onnx",), default="onnx", help="output format")
    p.add_argument("--opset", type=int, default=17, help="ONNX opset version")
    p.add_argument("--dynamic-batch", action="store_true", help="make the batch axis symbolic")
    p.add_argument("--fuse-bn", action="store_true", help="fold BatchNorm into the convs first")
    p.add_argument("--input", type=_parse_size,
                   help="sample size: 224, HxW or CxHxW (default: the model's own)")
    p.add_argument("--atol", type=float, default=1e-4,
                   help="largest accepted |ONNX Runtime − PyTorch| difference")
    p.add_argument("--out", metavar="FILE", help="output file (default: MODEL.onnx)")
    p.add_argument("--int8", action="store_true",
                   help="also write an INT8 copy (ONNX Runtime static quantization, QDQ)")
    p.add_argument("--calibration", type=int, metavar="N",
                   help=f"with --int8: calibration samples (default: all of --calibration-data, "
                        f"else {RANDOM_CALIBRATION} random inputs)")
    p.add_argument("--calibration-data", metavar="FILE.npy",
                   help="with --int8: preprocessed training inputs, an N×C×H×W .npy/.npz array")
    p.add_argument("--int8-out", metavar="FILE", help="INT8 file (default: OUT.int8.onnx)")
    p.add_argument("--scene", action="store_true",
                   help="hsi model.pt: export the full-scene map (cube in, logits map "
                        "out, any height and width) instead of the per-patch network")
    p.set_defaults(func=_cmd_export)

    p = subparsers.add_parser(
        "bench", help="latency of the torchvision twins: eager, folded, compiled, ONNX Runtime"
    )
    add_bench_arguments(p)
    p.set_defaults(func=_cmd_bench)
