"""``lightnets train`` and ``lightnets experiment {attention,dropout}``: parsing only.

``register(subparsers)`` adds both subcommands to the ``lightnets`` parser; each sets
``func`` to a function of the parsed namespace that returns the exit status. Run as
``python -m lightnets.vision.commands train ...`` (or under ``torchrun -m``) the module is a
stand-alone entry point with the same subcommands.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from ..precision import PRECISIONS
from .datasets import DATASETS


def _csv(text: str) -> list[str]:
    items = [t.strip() for t in text.split(",") if t.strip()]
    if not items:
        raise argparse.ArgumentTypeError(f"expected a comma-separated list, got {text!r}")
    return items


def _threads(args: argparse.Namespace) -> None:
    if args.threads is not None:
        import torch

        torch.set_num_threads(args.threads)


def _default_out(prefix: str, dataset: str, model: str) -> Path:
    name = dataset
    if dataset.startswith("folder:"):
        name = "folder-" + (Path(dataset[len("folder:") :]).name or "data")
    return Path("runs") / f"{prefix}{name}_{model}"


def _cmd_train(args: argparse.Namespace) -> int:
    from .trainer import TrainConfig, train

    _threads(args)
    config = TrainConfig(
        model=args.model,
        dataset=args.dataset,
        epochs=args.epochs,
        batch_size=args.batch_size,
        lr=args.lr,
        optimizer=args.optimizer,
        schedule=args.schedule,
        weight_decay=args.weight_decay,
        label_smoothing=args.label_smoothing,
        warmup_epochs=args.warmup_epochs,
        img_size=args.img_size,
        drop_rate=args.drop_rate,
        seed=args.seed,
        subset=args.subset,
        precise_bn=args.precise_bn,
        classes=args.classes,
        pretrained=args.pretrained,
        weights=args.weights,
        head=args.head,
        freeze_backbone=args.freeze_backbone,
        backbone_lr=args.backbone_lr,
    )
    out = Path(args.out) if args.out else _default_out("", args.dataset, config.model)
    train(
        config,
        out,
        resume=args.resume,
        workers=args.workers,
        device=args.device,
        precision=args.precision,
        data_dir=args.data_dir,
        download=not args.no_download,
        progress=not args.quiet,
    )
    return 0


def _cmd_attention(args: argparse.Namespace) -> int:
    from .experiments import attention_experiment

    _threads(args)
    out = args.out or _default_out("attention_", args.dataset, args.model)
    attention_experiment(
        args.model,
        args.dataset,
        args.attention,
        args.runs,
        epochs=args.epochs,
        batch_size=args.batch_size,
        lr=args.lr,
        optimizer=args.optimizer,
        schedule=args.schedule,
        label_smoothing=args.label_smoothing,
        warmup_epochs=args.warmup_epochs,
        img_size=args.img_size,
        seed=args.seed,
        subset_size=args.subset,
        out=out,
        resume=args.resume,
        workers=args.workers,
        device=args.device,
        data_dir=args.data_dir,
        latency_repeats=args.latency_repeats,
        progress=not args.quiet,
    )
    print(f"results: {out}/results.md, {out}/attention.png")
    return 0


def _cmd_dropout(args: argparse.Namespace) -> int:
    from ..demos.dropout_images import dropout_experiment

    _threads(args)
    dropout_experiment(
        args.model,
        drop_rate=args.drop_rate,
        dataset=args.dataset,
        epochs=args.epochs,
        calls=args.calls,
        images=args.images,
        seed=args.seed,
        checkpoint=args.checkpoint,
        out=args.out,
    )
    return 0


def _add_optimisation(p: argparse.ArgumentParser, epochs: int) -> None:
    p.add_argument("--dataset", default="digits", help=" | ".join(DATASETS) + " (default: digits)")
    p.add_argument("--epochs", type=int, default=epochs)
    p.add_argument(
        "--batch-size",
        type=int,
        default=128,
        help="global batch, split over the processes under torchrun (default: 128)",
    )
    p.add_argument("--lr", type=float, help="learning rate (default: 0.1 sgd, 1e-3 adamw)")
    p.add_argument("--optimizer", choices=("sgd", "adamw"), default="sgd")
    p.add_argument("--schedule", choices=("cosine", "step"), default="cosine")
    p.add_argument("--warmup-epochs", type=int, default=1, help="linear warm-up (default: 1)")
    p.add_argument("--label-smoothing", type=float, default=0.0)
    p.add_argument("--img-size", type=int, help="side in pixels (default: 32; folders 224)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--subset", type=int, help="use at most N training and N evaluation images")
    p.add_argument("--workers", type=int, default=0, help="data-loading processes per process")
    p.add_argument("--device", help="cpu, cuda (default: CUDA when available)")
    p.add_argument(
        "--data-dir", help="where CIFAR is stored (default: $LIGHTNETS_DATA or ~/.cache/lightnets)"
    )
    p.add_argument("--threads", type=int, help="intra-op CPU threads per process")
    p.add_argument("--resume", action="store_true", help="continue the run in --out")
    p.add_argument("--quiet", action="store_true", help="no progress bars")


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add ``train`` and ``experiment`` to the ``lightnets`` command."""
    p = subparsers.add_parser(
        "train",
        help="train a zoo model on digits, CIFAR or an image folder",
        description="Train and evaluate; writes config.json, checkpoint.pt (every epoch), "
        "history.csv, curves.png and metrics.json to --out. Under torchrun --nproc_per_node N "
        "the same command trains with N data-parallel processes.",
    )
    p.add_argument("--model", required=True, help="a registered name (lightnets models)")
    _add_optimisation(p, epochs=30)
    p.add_argument("--weight-decay", type=float, help="default: 5e-4 sgd, 0.05 adamw")
    p.add_argument("--drop-rate", type=float, default=0.0, help="dropout before the classifier")
    p.add_argument(
        "--classes",
        type=_csv,
        help="train on these classes only, e.g. 5,6,7,8,9 (names; new labels in this order)",
    )
    p.add_argument(
        "--precise-bn",
        type=int,
        default=10_000,
        metavar="N",
        help="recompute batch-norm statistics over N training images before every evaluation "
        "(0: keep the running averages; default: 10000)",
    )
    tune = p.add_argument_group("fine-tuning")
    start = tune.add_mutually_exclusive_group()
    start.add_argument(
        "--pretrained",
        action="store_true",
        help="start from torchvision's ImageNet weights (torch.hub's cache; its resize, crop "
        "and mean/std are used)",
    )
    start.add_argument(
        "--weights",
        metavar="FILE",
        help="start from a lightnets checkpoint.pt or a state dict (torchvision's names too)",
    )
    tune.add_argument(
        "--head",
        choices=("auto", "new", "keep"),
        default="auto",
        help="the file's classifier: auto keeps it only for the same classes (default: auto)",
    )
    tune.add_argument("--freeze-backbone", action="store_true", help="train the classifier alone")
    tune.add_argument(
        "--backbone-lr", type=float, help="learning rate of all but the classifier (default: --lr)"
    )
    p.add_argument("--out", help="run folder (default: runs/DATASET_MODEL)")
    p.add_argument(
        "--precision",
        choices=PRECISIONS,
        help="fp32, bf16, fp16 (CUDA) or auto: bf16 where native (default: fp16 on CUDA, "
        "fp32 elsewhere)",
    )
    p.add_argument("--no-download", action="store_true", help="never download CIFAR")
    p.set_defaults(func=_cmd_train)

    experiment = subparsers.add_parser(
        "experiment", help="the attention (none/SE/CBAM) and dropout experiments"
    ).add_subparsers(dest="experiment", required=True)
    p = experiment.add_parser(
        "attention",
        help="a network without attention, with SE and with CBAM, over seeds",
        description="Trains every variant --runs times (interleaved) and writes results.md, "
        "results.json and attention.png to --out.",
    )
    p.add_argument("--model", default="resnet18")
    p.add_argument(
        "--attention",
        type=_csv,
        default=["none", "se", "cbam"],
        help="comma-separated: none,se,cbam",
    )
    p.add_argument("--runs", type=int, default=3, help="seeds seed, seed+1, ...")
    _add_optimisation(p, epochs=10)
    p.add_argument("--latency-repeats", type=int, default=30)
    p.add_argument("--out", help="folder (default: runs/attention_DATASET_MODEL)")
    p.set_defaults(func=_cmd_attention)

    p = experiment.add_parser(
        "dropout",
        help="predictions in training mode change between calls; in eval mode not",
    )
    p.add_argument("--model", default="mobilenet_v2_050")
    p.add_argument("--drop-rate", type=float, default=0.2)
    p.add_argument("--dataset", default="digits")
    p.add_argument("--epochs", type=int, default=1, help="training first (0: untrained)")
    p.add_argument("--calls", type=int, default=5)
    p.add_argument("--images", type=int, default=128)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--checkpoint", help="a trained checkpoint.pt instead of training")
    p.add_argument("--threads", type=int, help="intra-op CPU threads")
    p.add_argument("--out", help="folder for dropout.md and dropout.json")
    p.set_defaults(func=_cmd_dropout)
