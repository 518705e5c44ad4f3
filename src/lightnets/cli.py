"""The ``lightnets`` command line. Subcommands parse arguments and call the library."""

from __future__ import annotations

import argparse
import io
import sys
from collections.abc import Sequence
from pathlib import Path

import numpy as np


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
    from .hsi.demo import run_demo

    run_demo(args.out, progress=not args.quiet)
    return 0


def _cmd_hsi_scenes(args: argparse.Namespace) -> int:
    from .hsi.scenes import scenes_table

    print(scenes_table(data_dir=args.data_dir))
    return 0


def _experiment_config(args: argparse.Namespace):
    from .hsi.experiment import ExperimentConfig

    return ExperimentConfig(
        scene=args.scene,
        data_dir=args.data_dir,
        gt=args.gt,
        model=args.model,
        pca=None if args.pca == 0 else args.pca,
        whiten=not args.no_whiten,
        pca_fit=args.pca_fit,
        window=args.window,
        buffer=args.buffer,
        split=args.split,
        train_fraction=args.train_fraction,
        per_class=args.per_class,
        block_size=args.block_size,
        val_fraction=args.val_fraction,
        epochs=args.epochs,
        batch_size=args.batch_size,
        lr=args.lr,
        path=args.path,
        batching=args.batching,
        class_weights=args.class_weights,
        seed=args.seed,
        runs=args.runs,
        device=args.device,
    )


def _cmd_hsi_train(args: argparse.Namespace) -> int:
    from .hsi.experiment import run_experiment

    config = _experiment_config(args)
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
    settings = {
        "pca": None if args.pca == 0 else args.pca,
        "batch_size": args.batch_size,
        "buffer": args.buffer,
    }
    rows = run_benchmark(
        args.scene,
        out,
        models=args.models or MODELS,
        protocols=args.protocols or tuple(PROTOCOLS),
        runs=args.runs,
        epochs=args.epochs,
        settings={**settings, "device": args.device},
        data_dir=args.data_dir,
        gt=args.gt,
        resume=args.resume,
        progress=not args.quiet,
    )
    print("\n" + markdown_table(rows))
    print(f"outputs: {out} (benchmark.md, benchmark.csv, benchmark.json, maps.png, runs/)")
    return 0


def _cmd_hsi_dropout(args: argparse.Namespace) -> int:
    from .hsi.dropout import dropout_demonstration
    from .hsi.predictor import load_predictor
    from .hsi.readers import read_cube
    from .hsi.scenes import load_scene

    predictor = load_predictor(args.checkpoint)
    if args.cube:
        cube = read_cube(args.cube, variable=args.variable)
    else:
        cube = load_scene(args.scene, data_dir=args.data_dir).cube
    print(dropout_demonstration(predictor, cube, repeats=args.repeats).summary())
    return 0


def _cmd_hsi_predict(args: argparse.Namespace) -> int:
    from .hsi.predictor import load_predictor
    from .hsi.readers import read_cube

    predictor = load_predictor(args.checkpoint)
    cube = read_cube(args.cube, variable=args.variable)
    labels = predictor.predict(cube, device=args.device)
    out = Path(args.out)
    if out.suffix == ".npy":
        from .runs import atomic_write_bytes

        buffer = io.BytesIO()
        np.save(buffer, labels)
        atomic_write_bytes(out, buffer.getvalue())
    elif out.suffix in (".tif", ".tiff"):
        from .hsi.writers import write_geotiff

        write_geotiff(out, labels)
    else:
        from .hsi.maps import save_label_image

        save_label_image(out, labels, len(predictor.class_names))
    counts = np.bincount(labels.ravel(), minlength=len(predictor.class_names) + 1)[1:]
    print(f"classified {labels.size:,} pixels into {len(predictor.class_names)} classes → {out}")
    for name, count in zip(predictor.class_names, counts, strict=True):
        print(f"  {name:32s} {count:8,d}")
    return 0


def build_parser() -> argparse.ArgumentParser:
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
    p.add_argument("--scene", default="indian_pines", help="catalogue name or a cube file")
    p.add_argument("--gt", help="ground-truth file for your own cube (.mat, .npy, .png, ...)")
    p.add_argument("--data-dir", help="folder holding the scenes' published files")
    p.add_argument("--model", default="hybridsn", help="a hyperspectral model, or svm")
    p.add_argument("--pca", type=int, default=30, help="PCA components (0: no PCA)")
    p.add_argument("--no-whiten", action="store_true", help="PCA without whitening")
    p.add_argument(
        "--pca-fit",
        choices=("scene", "train"),
        default="scene",
        help="fit PCA on the whole scene (paper) or on training pixels only",
    )
    p.add_argument(
        "--window",
        type=int,
        default=None,
        help="patch side (default: the model's own; 25 HybridSN, 13 SSFTT, 5 Hamida3D, 1 Hu1D)",
    )
    p.add_argument("--split", choices=("random", "per-class", "blocks", "regions"),
                   default="random",
                   help="random: stratified fraction; per-class: N per class; blocks: whole "
                        "tiles train; regions: one region per class trains (both disjoint, "
                        "test pixels at least a window radius from training)")
    p.add_argument("--train-fraction", type=float, default=0.3)
    p.add_argument("--per-class", type=int, default=50, help="pixels per class (per-class)")
    p.add_argument(
        "--buffer",
        type=int,
        help="blocks/regions: test pixels keep a buffer×buffer box clear of training pixels "
        "(default: the window)",
    )
    p.add_argument("--block-size", type=int, default=32, help="tile side (blocks split)")
    p.add_argument(
        "--val-fraction",
        type=float,
        default=0.0,
        help="share of training pixels kept for validation / model selection",
    )
    p.add_argument("--epochs", type=int, default=100)
    p.add_argument("--batch-size", type=int, default=256)
    p.add_argument("--lr", type=float, default=1e-3)
    p.add_argument("--path", choices=("scene", "patch"), default="scene")
    p.add_argument(
        "--batching",
        choices=("random", "mixed", "spatial"),
        default="random",
        help="random: i.i.d. batches (the paper's); mixed/spatial: compact groups of pixels, "
        "3-6x faster epochs on the scene path but lower accuracy",
    )
    p.add_argument("--class-weights", action="store_true", help="inverse-frequency loss weights")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--runs", type=int, default=1, help="repeats with seeds seed, seed+1, …")
    p.add_argument("--device", help="cpu, cuda, cuda:1 … (default: CUDA when available)")
    p.add_argument("--out", help="run folder (default: runs/SCENE_MODEL_SPLIT)")
    p.add_argument("--resume", action="store_true", help="continue an interrupted run")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(func=_cmd_hsi_train)

    p = hsi.add_parser(
        "benchmark", help="several models under several protocols, several seeds: one table"
    )
    p.add_argument("--scene", default="indian_pines", help="catalogue name or a cube file")
    p.add_argument("--gt", help="ground-truth file for your own cube")
    p.add_argument("--data-dir", help="folder holding the scenes' published files")
    p.add_argument(
        "--models",
        help="comma-separated: svm and hyperspectral models (default: svm, hu1d, hamida3d, "
        "hybridsn, hybridsn_se, hybridsn_cbam, hybridsn_lite, ssftt)",
    )
    p.add_argument("--protocols", help="comma-separated: paper30, paper10, blocks (default: all)")
    p.add_argument("--runs", type=int, default=5, help="seeds 0 … runs-1 per model and protocol")
    p.add_argument(
        "--buffer",
        type=int,
        help="blocks protocol: buffer window shared by all models (default: their largest)",
    )
    p.add_argument("--epochs", type=int, default=100)
    p.add_argument("--pca", type=int, default=30, help="PCA components (0: no PCA)")
    p.add_argument("--batch-size", type=int, default=256)
    p.add_argument("--device", help="cpu, cuda, cuda:1 … (default: CUDA when available)")
    p.add_argument("--out", help="benchmark folder (default: runs/benchmark_SCENE)")
    p.add_argument("--resume", action="store_true", help="reuse finished runs, continue others")
    p.add_argument("--quiet", action="store_true", help="no progress bars")
    p.set_defaults(func=_cmd_hsi_benchmark)

    p = hsi.add_parser("predict", help="classify a cube with a trained model.pt")
    p.add_argument("--checkpoint", required=True, help="model.pt from a training run")
    p.add_argument("--cube", required=True, help=".mat, .npy/.npz, ENVI .hdr or GeoTIFF")
    p.add_argument("--variable", help="array name inside a .mat/.npz holding the cube")
    p.add_argument("--out", default="map.png", help="map.png, map.npy or map.tif")
    p.add_argument("--device")
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
        return args.func(args)
    except (ValueError, FileNotFoundError, ImportError) as err:
        print(f"lightnets: error: {err}", file=sys.stderr)
        return 2
