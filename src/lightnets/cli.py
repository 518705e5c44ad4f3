"""The ``lightnets`` command line. Subcommands parse arguments and call the library."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from ._checks import called_from_command_line


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
    from .demos.quickstart import run_demo

    run_demo(args.out, progress=not args.quiet)
    return 0


def _cmd_hsi_scenes(args: argparse.Namespace) -> int:
    from .hsi.scenes import scenes_table

    print(scenes_table(data_dir=args.data_dir))
    return 0


def _cmd_hsi_train(args: argparse.Namespace) -> int:
    from .hsi.config import ExperimentConfig
    from .hsi.experiment import run_experiment
    from .settings import from_arguments

    config = from_arguments(ExperimentConfig, args)
    out = Path(args.out or f"runs/{config.scene}_{config.model}_{config.split}")
    result = run_experiment(config, out, resume=args.resume, progress=not args.quiet)
    s = result["summary"]
    print(f"\n{config.scene} · {config.model} · {config.split} split · {config.runs} run(s)")
    for key in ("oa", "aa", "kappa"):
        print(f"  {key.upper():5s} {s[key]['mean'] * 100:6.2f} ± {s[key]['std'] * 100:.2f}")
    print(
        f"  overlap {s['overlap']['mean']:.1%}   train {s['train_seconds']['mean']:.1f} s"
        f"   map {s['map_seconds']['mean']:.2f} s"
    )
    print(f"  outputs: {out}")
    return 0


def _cmd_hsi_benchmark(args: argparse.Namespace) -> int:
    from .hsi.benchmark import MODELS, PROTOCOLS, run_benchmark
    from .hsi.benchmark_report import markdown_table

    out = Path(args.out or f"runs/benchmark_{Path(args.scene).stem}")
    shared = ("data_dir", "download", "gt", "variable", "gt_variable", "class_names")
    settings = {k: getattr(args, k) for k in (*shared, "pca", "batch_size", "device", "buffer")}
    rows = run_benchmark(
        args.scene,
        out,
        models=args.models or MODELS,
        protocols=args.protocols or tuple(PROTOCOLS),
        runs=args.runs,
        epochs=args.epochs,
        recipes=args.recipes,
        settings=settings,
        resume=args.resume,
        progress=not args.quiet,
    )
    print("\n" + markdown_table(rows))
    print(f"outputs: {out} (benchmark.md, benchmark.csv, benchmark.json, maps.png, runs/)")
    return 0


def _cmd_hsi_dropout(args: argparse.Namespace) -> int:
    from .demos.dropout_hsi import dropout_demonstration
    from .hsi.estimator import HSIClassifier
    from .hsi.readers import read_cube
    from .hsi.scenes import load_scene

    clf = HSIClassifier.load(args.checkpoint, argument="checkpoint")
    if args.cube:
        cube = read_cube(args.cube, variable=args.variable)
    else:
        cube = load_scene(args.scene, data_dir=args.data_dir).cube
    print(dropout_demonstration(clf, cube, repeats=args.repeats).summary())
    return 0


def _cmd_hsi_predict(args: argparse.Namespace) -> int:
    from .hsi.mapjob import map_cube_file

    result = map_cube_file(
        args.checkpoint,
        args.cube,
        args.out,
        variable=args.variable,
        tile=args.tile,
        confidence=args.confidence,
        resume=args.resume,
        device=args.device,
        precision=args.precision,
        progress=not args.quiet,
        smooth=args.smooth,
    )
    if result.rank != 0:
        return 0
    counts, names = result.counts, result.class_names
    processes = f" by {result.world_size} processes" if result.world_size > 1 else ""
    print(
        f"classified {int(counts.sum()):,} pixels into {len(names)} classes{processes} in "
        f"{result.seconds:.1f} s → {', '.join(str(p) for p in result.outputs)}"
    )
    if result.png_step > 1:
        print(f"  the PNG keeps one pixel in {result.png_step} along each axis")
    for name, count in zip(names, counts[1:], strict=True):
        print(f"  {name:32s} {count:8,d}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    from .hsi.config import ExperimentConfig
    from .hsi.mapjob import PREVIEW_SIDE
    from .hsi.streaming import DEFAULT_TILE
    from .settings import add_arguments

    parser = argparse.ArgumentParser(
        prog="lightnets", description="Efficient CNNs and hyperspectral classification."
    )
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("models", help="list registered models with parameters and paper")
    p.add_argument("pattern", nargs="?", default="*", help="shell-style filter, e.g. 'mobilenet*'")
    p.set_defaults(func=_cmd_models)

    p = sub.add_parser("demo", help="HybridSN on Indian Pines, offline, in a few minutes")
    p.add_argument("--out", default="runs/demo", help="run folder (default: runs/demo)")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(func=_cmd_demo)

    hsi = sub.add_parser("hsi", help="hyperspectral classification").add_subparsers(
        dest="hsi_command", required=True
    )
    p = hsi.add_parser("scenes", help="the scene catalogue and which scenes are available here")
    p.add_argument("--data-dir", help="folder holding the scenes' published files")
    p.set_defaults(func=_cmd_hsi_scenes)

    p = hsi.add_parser("train", help="train and evaluate on a scene (defaults: HybridSN paper)")
    add_arguments(p, ExperimentConfig)
    p.add_argument("--out", help="run folder (default: runs/SCENE_MODEL_SPLIT)")
    p.add_argument("--resume", action="store_true", help="continue an interrupted run")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(func=_cmd_hsi_train)

    p = hsi.add_parser(
        "benchmark", help="several models under several protocols, several seeds: one table"
    )
    shared = ("scene", "data_dir", "download", "gt", "variable", "gt_variable", "class_names")
    add_arguments(p, ExperimentConfig, only=(*shared, "pca", "epochs", "batch_size", "device"))
    p.add_argument(
        "--models",
        help="comma-separated: svm and hyperspectral models (default: svm, hu1d, hamida3d, "
        "hybridsn, hybridsn_se, hybridsn_cbam, hybridsn_lite, ssftt)",
    )
    p.add_argument(
        "--protocols", help="comma-separated: paper30, paper10, regions, cv5 (default: all)"
    )
    p.add_argument(
        "--recipes",
        default="common",
        help="common, paper or both, each with an optional seed count: common:3,paper:5 "
        "(default: common)",
    )
    p.add_argument("--runs", type=int, default=5, help="seeds 0 … runs-1 per model and protocol")
    p.add_argument(
        "--buffer",
        type=int,
        help="regions protocol: buffer window shared by all models (default: their largest)",
    )
    p.add_argument("--out", help="benchmark folder (default: runs/benchmark_SCENE)")
    p.add_argument("--resume", action="store_true", help="reuse finished runs, continue others")
    p.add_argument("--quiet", action="store_true", help="no progress bars")
    p.set_defaults(func=_cmd_hsi_benchmark)

    p = hsi.add_parser("predict", help="classify a cube with a trained model.pt")
    p.add_argument(
        "--checkpoint", required=True, help="model.pt of a run, or a file of HSIClassifier.save"
    )
    p.add_argument("--cube", required=True, help=".mat, .npy/.npz, ENVI .hdr or GeoTIFF")
    p.add_argument("--variable", help="array name inside a .mat/.npz holding the cube")
    p.add_argument(
        "--out",
        default="map.png",
        help="map.png, map.npy or map.tif (GeoTIFF: the input's CRS and transform, a colour "
        f"table, class names); .npy and .tif maps get a preview PNG of at most {PREVIEW_SIDE} "
        "pixels a side",
    )
    p.add_argument(
        "--tile",
        type=int,
        default=DEFAULT_TILE,
        help="output pixels per tile side: the cube is read and classified tile by tile (.npy "
        "through a memory map, ENVI through spectral, GeoTIFF through rasterio windows, MATLAB "
        "v7.3 through HDF5 slices; MATLAB v5 .mat and .npz are read whole), each finished tile "
        f"kept until the map is assembled (default {DEFAULT_TILE})",
    )
    p.add_argument(
        "--confidence",
        action="store_true",
        help="also write the probability the network gives each pixel's label (without "
        "--smooth: its largest class probability): map.confidence.npy|.tif|.png",
    )
    p.add_argument(
        "--smooth",
        type=int,
        default=1,
        metavar="N",
        help="replace each label by the majority label of the N×N window around it (odd N; "
        "default 1: no smoothing); it removes isolated errors inside fields "
        "(docs/hsi-benchmark.md: +5.7 points of OA for the SVM under spatial "
        "cross-validation with N=7)",
    )
    p.add_argument(
        "--resume",
        action="store_true",
        help="continue an interrupted map from its finished tiles (refused for another model, "
        "cube shape, tile size or smoothing)",
    )
    add_arguments(p, ExperimentConfig, only=("device", "precision"))
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(func=_cmd_hsi_predict)

    p = hsi.add_parser("dropout", help="show why predictions change when dropout is left on")
    p.add_argument("--checkpoint", required=True, help="model.pt from a training run")
    p.add_argument("--scene", default="indian_pines", help="catalogue scene to predict")
    p.add_argument("--data-dir")
    p.add_argument("--cube", help="a cube file instead of a catalogue scene")
    p.add_argument("--variable", help="array name inside a .mat/.npz holding the cube")
    p.add_argument("--repeats", type=int, default=3)
    p.set_defaults(func=_cmd_hsi_dropout)

    from .profiling.commands import register as register_profiling

    register_profiling(sub)

    from .vision.commands import register as register_vision

    register_vision(sub)

    from .export.commands import register as register_export

    register_export(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``lightnets`` command; returns the exit status."""
    args = build_parser().parse_args(argv)
    try:
        with called_from_command_line():
            return args.func(args)
    except (ValueError, OSError, ImportError) as err:
        print(f"lightnets: error: {err}", file=sys.stderr)
        return 2
