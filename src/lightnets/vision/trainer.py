"""Train a zoo classifier on an image data set: one process, or many under ``torchrun``.

``train(TrainConfig(model=..., dataset=...), out)`` builds the network for the data's classes
and channels, trains it and evaluates it after every epoch on the evaluation split (test for
digits and CIFAR, val for folders; no model selection: the final weights are reported). The
run folder ``out`` receives, from the main process only:

* ``config.json``: settings, data (sizes, classes, normalisation), transforms, versions;
* ``checkpoint.pt``: rewritten atomically after every epoch (model, optimizer, schedule,
  gradient scaler, history, settings and what inference needs); ``resume=True`` continues it;
* ``history.csv`` and ``curves.png``: loss and accuracy per epoch;
* ``metrics.json``: top-1, top-5, per-class accuracy, confusion matrix, seconds per epoch,
  training images per second, and the wall time of the call (data loading included).

Optimisation: SGD (momentum 0.9, Nesterov; lr 0.1, weight decay 5e-4) or AdamW (lr 1e-3,
weight decay 0.05), no weight decay on biases and normalisation weights; the learning rate
rises linearly over ``warmup_epochs`` (default 1), then follows a cosine decay to 0, or
steps ×0.1 at 50 % and 75 % of the epochs.
Mixed precision (float16 autocast and a gradient scaler) on CUDA. Before every evaluation
the batch-norm statistics are recomputed over training images with the current weights
(``precise_bn``, :mod:`.batchnorm`): the running averages of a short training lag behind the
weights, badly so with MobileNetV3's momentum of 0.01.

``batch_size`` is the *global* batch: with P processes each takes batch_size / P, and
gradients are averaged, so the same settings give the same optimisation whatever P. What
differs: BatchNorm normalises with each process's own part of the batch (the recomputed
statistics are averaged over the processes after every epoch). Reproducibility: on the CPU
the same seed gives the same metrics (shuffling, augmentation and dropout are all seeded per
epoch), also across ``workers`` and after a resume.
"""

from __future__ import annotations

import dataclasses
import math
import os
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import torch
from torch import nn
from torch.nn.parallel import DistributedDataParallel

from .._checks import bad_value, check_choice, check_fraction, check_int, check_positive
from .._version import __version__
from ..loop import LoopResult, read_checkpoint, run_epochs
from ..models import Classifier, create_model, get_entry
from ..precision import autocast, resolve_precision
from ..runs import environment_info, write_csv, write_json
from . import distributed
from .batchnorm import recompute_batchnorm
from .datasets import (
    ImageData,
    dataset_name,
    load_dataset,
    parse_spec,
    prepare_cifar,
    select_classes,
)
from .distributed import Context
from .evaluation import Predictions, gather_predictions, predict, scores
from .finetune import (
    HEADS,
    Start,
    freeze_backbone,
    frozen_batchnorm_to_eval,
    head_classes,
    load_start,
    plan_start,
)
from .loaders import (
    DROPOUT_STREAM,
    Augmented,
    derive_seed,
    eval_loader,
    subset,
    train_loader,
)
from .transforms import eval_transform, train_transform

OPTIMIZERS = ("sgd", "adamw")
SCHEDULES = ("cosine", "step")
DEFAULT_LR = {"sgd": 0.1, "adamw": 1e-3}
DEFAULT_WEIGHT_DECAY = {"sgd": 5e-4, "adamw": 0.05}
CHECKPOINT = "checkpoint.pt"


@dataclass
class TrainConfig:
    """The settings that determine a run's result (resuming requires the same ones).

    ``lr`` and ``weight_decay`` default to the optimizer's (see the module docstring);
    ``img_size`` to the data set's (32 for digits and CIFAR, 224 for folders); ``subset``
    keeps that many training and evaluation images (quick checks); ``classes`` trains on
    those classes of the data set only (names, in the order of the new labels). Fine-tuning
    (:mod:`.finetune`): ``pretrained`` (torchvision's ImageNet weights) or ``weights`` (a
    file), ``head`` (``auto``/``new``/``keep``), ``freeze_backbone`` (train the classifier
    alone), ``backbone_lr`` (the learning rate of every layer but the classifier; default
    ``lr``). ``precise_bn``: before
    every evaluation (and so in every saved checkpoint) the batch-norm statistics are
    recomputed over that many training images with the current weights (see
    :mod:`.batchnorm`; 0 keeps the running averages of training).
    """

    model: str
    dataset: str = "digits"
    epochs: int = 30
    batch_size: int = 128
    lr: float | None = None
    optimizer: str = "sgd"
    schedule: str = "cosine"
    weight_decay: float | None = None
    label_smoothing: float = 0.0
    warmup_epochs: int = 1
    img_size: int | None = None
    drop_rate: float = 0.0
    seed: int = 0
    subset: int | None = None
    precise_bn: int = 10_000
    classes: list[str] | None = None
    pretrained: bool = False
    weights: str | None = None
    head: str = "auto"
    freeze_backbone: bool = False
    backbone_lr: float | None = None

    def __post_init__(self) -> None:
        entry = get_entry(self.model)
        if entry.task != "image":
            raise bad_value("model", "an image classifier (lightnets.list_models())", self.model)
        self.model = entry.name
        parse_spec(self.dataset)
        check_int("epochs", self.epochs, minimum=1)
        check_int("batch_size", self.batch_size, minimum=1)
        check_choice("optimizer", self.optimizer, OPTIMIZERS)
        check_choice("schedule", self.schedule, SCHEDULES)
        self.lr = check_positive("lr", DEFAULT_LR[self.optimizer] if self.lr is None else self.lr)
        if self.weight_decay is None:
            self.weight_decay = DEFAULT_WEIGHT_DECAY[self.optimizer]
        wd = self.weight_decay
        if isinstance(wd, bool) or not isinstance(wd, (int, float)) or not 0 <= wd < math.inf:
            raise bad_value("weight_decay", "a finite number >= 0", wd)
        self.weight_decay = float(wd)
        check_fraction("label_smoothing", self.label_smoothing)
        check_int("warmup_epochs", self.warmup_epochs, minimum=0)
        check_fraction("drop_rate", self.drop_rate)
        if self.img_size is not None:
            check_int("img_size", self.img_size, minimum=32)
        check_int("seed", self.seed, minimum=0)
        if self.subset is not None:
            check_int("subset", self.subset, minimum=1)
        check_int("precise_bn", self.precise_bn, minimum=0)
        if self.classes is not None:
            if isinstance(self.classes, str):
                raise bad_value("classes", "a list of class names", self.classes)
            self.classes = [str(c) for c in self.classes]
        if self.pretrained and self.weights is not None:
            raise bad_value("weights", "no file with pretrained=True (one start)", self.weights)
        if self.weights is not None:
            self.weights = os.fspath(self.weights)
        check_choice("head", self.head, HEADS)
        if self.backbone_lr is not None:
            if self.freeze_backbone:
                raise bad_value(
                    "backbone_lr", "no value with freeze_backbone=True", self.backbone_lr
                )
            self.backbone_lr = check_positive("backbone_lr", self.backbone_lr)


@dataclass
class TrainResult:
    """Final metrics, per-epoch history, the trained network and the run folder."""

    metrics: dict[str, Any]
    history: list[dict[str, Any]]
    model: nn.Module
    out: Path | None = None
    extra: dict[str, Any] = field(default_factory=dict)


def build_optimizer(model: nn.Module, config: TrainConfig) -> torch.optim.Optimizer:
    """SGD or AdamW; biases and normalisation weights (1-D tensors) without weight decay;
    the classifier at ``lr``, the rest at ``backbone_lr`` (default ``lr``); fixed parameters
    left out. The classifier's groups come first (the ``lr`` the history records)."""
    head_ids = {id(p) for p in getattr(model, "classifier", nn.Identity()).parameters()}
    groups = []
    for in_head in (True, False):
        lr = config.lr if in_head or config.backbone_lr is None else config.backbone_lr
        for decays in (True, False):
            params = [
                p
                for p in model.parameters()
                if p.requires_grad and (id(p) in head_ids) == in_head and (p.ndim > 1) == decays
            ]
            if params:
                wd = config.weight_decay if decays else 0.0
                groups.append({"params": params, "weight_decay": wd, "lr": lr})
    if config.optimizer == "sgd":
        return torch.optim.SGD(groups, lr=config.lr, momentum=0.9, nesterov=True)
    return torch.optim.AdamW(groups, lr=config.lr)


def lr_factor(
    schedule: str, epochs: int, steps_per_epoch: int, warmup_epochs: int = 0
) -> Callable[[int], float]:
    """Learning-rate multiplier at optimisation step ``t`` (0-based): a linear warm-up over
    ``warmup_epochs``, then a cosine decay to 0 over the remaining steps, or ×0.1 at 50 %
    and 75 % of the epochs."""
    total = epochs * steps_per_epoch
    warm = min(warmup_epochs, epochs) * steps_per_epoch
    milestones = [m for m in (epochs // 2, (3 * epochs) // 4) if m > 0]

    def factor(t: int) -> float:
        if t < warm:
            return (t + 1) / warm
        if schedule == "cosine":
            done = min(t - warm, total - warm) / max(1, total - warm)
            return 0.5 * (1.0 + math.cos(math.pi * done))
        return 0.1 ** sum(t // steps_per_epoch >= m for m in milestones)

    return factor


def _check_checkpoint(state: Mapping[str, Any], model: str, num_classes: int, source: str) -> None:
    """Refuse a checkpoint of another network or another number of classes."""
    if "model_name" not in state or "num_classes" not in state:
        raise bad_value("checkpoint", "a lightnets image-classification checkpoint", source)
    if state["model_name"] != model:
        raise bad_value(
            "checkpoint",
            f"a checkpoint of {model!r} ({source} holds another model)",
            state["model_name"],
        )
    if state["num_classes"] != num_classes:
        raise bad_value(
            "checkpoint",
            f"a checkpoint for {num_classes} classes ({source})",
            state["num_classes"],
        )


def load_classifier(
    path: str | os.PathLike, *, device: str | torch.device = "cpu"
) -> tuple[Classifier, dict[str, Any]]:
    """The network saved in a training checkpoint, in eval mode, and the checkpoint's
    metadata (classes, normalisation, image size, metrics history)."""
    state = read_checkpoint(path)
    if state is None:
        raise FileNotFoundError(f"checkpoint: no file at {path}")
    name = state.get("model_name")
    if not isinstance(name, str):
        raise bad_value("checkpoint", "a lightnets image-classification checkpoint", str(path))
    model = create_model(
        name,
        num_classes=state["num_classes"],
        in_chans=state["in_chans"],
        drop_rate=state.get("drop_rate", 0.0),
    )
    model.load_state_dict(state["model"])
    meta = {
        k: v for k, v in state.items() if k not in ("model", "optimizer", "scheduler", "scaler")
    }
    return model.to(device).eval(), meta


def load_weights(model: Classifier, path: str | os.PathLike, model_name: str) -> None:
    """Load a checkpoint's weights into ``model`` after checking network and classes."""
    state = read_checkpoint(path)
    if state is None:
        raise FileNotFoundError(f"checkpoint: no file at {path}")
    _check_checkpoint(state, get_entry(model_name).name, model.num_classes, str(path))
    model.load_state_dict(state["model"])


def train_epoch(
    net: nn.Module,
    batches: Iterable[tuple[torch.Tensor, torch.Tensor]],
    *,
    optimizer: torch.optim.Optimizer,
    scheduler: torch.optim.lr_scheduler.LRScheduler,
    scaler: torch.amp.GradScaler,
    criterion: nn.Module,
    device: torch.device,
    precision: str,
) -> tuple[float, float, float]:
    """One pass over ``batches`` in training mode, the scheduler stepped after every batch;
    returns this process's (summed loss, correct predictions, images)."""
    net.train()
    frozen_batchnorm_to_eval(net)
    loss_sum = correct = count = 0.0
    for images, labels in batches:
        images = images.to(device, non_blocking=True)
        labels = labels.to(device, non_blocking=True)
        with autocast(precision, device):
            logits = net(images)
        loss = criterion(logits.float(), labels)
        optimizer.zero_grad(set_to_none=True)
        scaler.scale(loss).backward()
        scaler.step(optimizer)
        scaler.update()
        scheduler.step()
        n = labels.shape[0]
        loss_sum += float(loss.detach()) * n
        correct += float((logits.detach().argmax(1) == labels).sum())
        count += n
    return loss_sum, correct, count


def _batch_bar(loader: Any, enabled: bool, epoch: int, epochs: int) -> Any:
    if not enabled:
        return loader
    try:
        from tqdm.auto import tqdm
    except ImportError:  # pragma: no cover
        return loader
    return tqdm(loader, desc=f"epoch {epoch}/{epochs}", leave=False, unit="batch")


def _plan_start(config: TrainConfig, data: ImageData, ctx: Context, progress: bool) -> Start:
    """The initial weights; a download happens once per node, before the others read it."""

    def plan() -> Start:
        return plan_start(
            config.model,
            pretrained=config.pretrained,
            weights=config.weights,
            data_normalization=data.normalization,
            data_chans=data.in_chans,
            progress=progress and ctx.is_main,
        )

    start = plan() if ctx.local_rank == 0 else None
    distributed.barrier(ctx)
    return plan() if start is None else start


def _prepare_data(config: TrainConfig, ctx: Context, data_dir: Any, download: bool) -> ImageData:
    """Load the data; a download happens once per node, before the other processes read."""
    name, _ = parse_spec(config.dataset)
    if name.startswith("cifar") and download and ctx.local_rank == 0:
        prepare_cifar(name, data_dir)
    distributed.barrier(ctx)
    return load_dataset(config.dataset, data_dir=data_dir, download=False)


def train(
    config: TrainConfig,
    out: str | os.PathLike | None = None,
    *,
    resume: bool = False,
    workers: int = 0,
    device: str | torch.device | None = None,
    precision: str | None = None,
    data_dir: str | os.PathLike | None = None,
    download: bool = True,
    data: ImageData | None = None,
    progress: bool = True,
    log: Callable[[str], None] = print,
    on_epoch: Callable[[dict[str, Any]], None] | None = None,
) -> TrainResult:
    """Train ``config.model`` on ``config.dataset``; write the run folder ``out`` (if given).

    ``workers``: data-loading processes per training process. ``device``: ``cpu``, ``cuda``
    (default: CUDA when available). ``precision``: ``fp32``, ``bf16``, ``fp16`` or ``auto``
    (:mod:`lightnets.precision`; default: fp16 on CUDA, fp32 elsewhere).
    ``data``: an already loaded data set (must match ``config.dataset``). Under ``torchrun``
    the processes join one group (see :mod:`.distributed`); only the main one writes or logs.
    ``on_epoch(row)`` runs after every epoch, once its checkpoint is written.
    """
    check_int("workers", workers, minimum=0)
    with distributed.session(device) as ctx:
        return _train(
            config,
            None if out is None else Path(out),
            ctx,
            resume=resume,
            workers=workers,
            precision=precision,
            data_dir=data_dir,
            download=download,
            data=data,
            progress=progress,
            log=log,
            on_epoch=on_epoch,
        )


@dataclass
class _Run:
    """What one training works with, built by :func:`_build_run` before the first epoch."""

    config: TrainConfig  # with img_size resolved
    data: ImageData
    start: Start
    head: str
    model: Classifier
    net: nn.Module  # the model, wrapped for data parallelism under torchrun
    trainable: int
    train_set: Augmented
    eval_set: Augmented
    loader: Any
    sampler: Any
    evaluation: Any
    optimizer: torch.optim.Optimizer
    scheduler: torch.optim.lr_scheduler.LRScheduler
    scaler: torch.amp.GradScaler
    criterion: nn.Module
    meta: dict[str, Any]  # what inference needs, saved in every checkpoint

    @property
    def params(self) -> int:
        return sum(p.numel() for p in self.model.parameters())


def _check_precision(precision: str | None, ctx: Context) -> str:
    """The precision used: fp16 on CUDA and fp32 elsewhere by default, else the one asked for
    (checked against the device, ``auto`` made concrete)."""
    if precision is None:
        return "fp16" if ctx.device.type == "cuda" else "fp32"
    return resolve_precision(precision, ctx.device)


def _data_for(
    config: TrainConfig, ctx: Context, data: ImageData | None, data_dir: Any, download: bool
) -> ImageData:
    """The configured data set (``data`` when given and matching), restricted to
    ``config.classes``."""
    if data is None:
        data = _prepare_data(config, ctx, data_dir, download)
    elif data.name != dataset_name(config.dataset):
        raise bad_value("data", f"the data set {config.dataset!r} of the config", data.name)
    return data if config.classes is None else select_classes(data, config.classes)


def _build_model(
    config: TrainConfig, data: ImageData, start: Start, ctx: Context
) -> tuple[Classifier, nn.Module, str, int]:
    """The network from its starting weights, its head fitted to the data's classes: (model,
    the same wrapped for torchrun, what became of the head, trainable parameters)."""
    torch.manual_seed(config.seed)
    outputs, head = head_classes(start, data.classes, config.head)
    model = create_model(
        config.model, num_classes=outputs, in_chans=start.in_chans, drop_rate=config.drop_rate
    )
    load_start(model, start, model_name=config.model)
    if head == "replaced" or outputs != data.num_classes:
        model.reset_classifier(data.num_classes)
    trainable = (
        freeze_backbone(model)
        if config.freeze_backbone
        else sum(p.numel() for p in model.parameters())
    )
    minimum = getattr(model, "min_input_size", 1)
    if config.img_size < minimum:
        raise bad_value("img_size", f"an integer >= {minimum} for {config.model}", config.img_size)
    model.to(ctx.device)
    if ctx.device.type == "cuda":
        torch.backends.cudnn.benchmark = True
    net: nn.Module = model
    if ctx.distributed:
        ids = [ctx.device.index] if ctx.device.type == "cuda" else None
        net = DistributedDataParallel(model, device_ids=ids)
    return model, net, head, trainable


def _build_run(
    config: TrainConfig,
    data: ImageData,
    ctx: Context,
    *,
    workers: int,
    precision: str,
    progress: bool,
) -> _Run:
    """Starting weights, network, data pipelines, optimiser and schedule of a training."""
    start = _plan_start(config, data, ctx, progress)
    img_size = config.img_size or start.img_size or data.img_size
    config = dataclasses.replace(config, img_size=img_size)
    resize = None
    if start.resize is not None and start.img_size:
        resize = max(img_size, round(start.resize * img_size / start.img_size))
    norm = start.normalization
    model, net, head, trainable = _build_model(config, data, start, ctx)
    train_set = Augmented(
        subset(data.train, config.subset),
        train_transform(data.kind, img_size, norm),
        config.seed,
    )
    eval_set = Augmented(
        subset(data.eval, config.subset),
        eval_transform(data.kind, img_size, norm, resize=resize),
        config.seed,
    )
    loader, sampler = train_loader(
        train_set, config.batch_size, ctx, seed=config.seed, workers=workers
    )
    evaluation = eval_loader(eval_set, config.batch_size, ctx, workers=workers)
    optimizer = build_optimizer(model, config)
    scheduler = torch.optim.lr_scheduler.LambdaLR(
        optimizer, lr_factor(config.schedule, config.epochs, len(loader), config.warmup_epochs)
    )
    meta = {
        "model_name": config.model,
        "num_classes": data.num_classes,
        "in_chans": start.in_chans,
        "img_size": img_size,
        "eval_resize": resize,
        "drop_rate": config.drop_rate,
        "classes": data.classes,
        "dataset": data.name,
        "normalization": asdict(norm),
        "lightnets": __version__,
    }
    return _Run(
        config=config,
        data=data,
        start=start,
        head=head,
        model=model,
        net=net,
        trainable=trainable,
        train_set=train_set,
        eval_set=eval_set,
        loader=loader,
        sampler=sampler,
        evaluation=evaluation,
        optimizer=optimizer,
        scheduler=scheduler,
        scaler=torch.amp.GradScaler(ctx.device.type, enabled=precision == "fp16"),
        criterion=nn.CrossEntropyLoss(label_smoothing=config.label_smoothing),
        meta=meta,
    )


def _describe(run: _Run, ctx: Context, precision: str) -> str:
    """The line printed before the first epoch."""
    config, data, params = run.config, run.data, run.params
    return (
        f"{config.model} ({params:,} parameters) on {data.name}: {len(run.train_set)} training, "
        f"{len(run.eval_set)} {data.eval_split} images, {data.num_classes} classes, "
        f"{config.img_size}×{config.img_size}; {ctx.world_size} process(es) on {ctx.device}, "
        f"global batch {config.batch_size}"
        + ("" if precision == "fp32" else f", mixed precision ({precision})")
        + ("" if run.start.state_dict is None else f"; from {run.start.source}, head {run.head}")
        + ("" if run.trainable == params else f", {run.trainable:,} trainable parameters")
    )


def _write_config(
    out: Path, run: _Run, ctx: Context, *, resume: bool, workers: int, precision: str
) -> None:
    """``config.json``: settings, how the run is executed, data, start, transforms, model."""
    config = run.config
    write_json(
        out / "config.json",
        {
            "train": asdict(config),
            "run": {
                "resume": resume,
                "workers": workers,
                "device": str(ctx.device),
                "precision": precision,
                "world_size": ctx.world_size,
                "per_process_batch": config.batch_size // ctx.world_size,
            },
            "data": run.data.summary(),
            "start": {**run.start.record(), "head": run.head, "trainable_params": run.trainable},
            "transforms": {
                "train": repr(run.train_set.transform),
                run.data.eval_split: repr(run.eval_set.transform),
            },
            "model": {
                "name": config.model,
                "params": run.params,
                "paper": get_entry(config.model).paper,
            },
            "environment": environment_info(),
        },
    )


def _epoch(run: _Run, ctx: Context, epoch: int, *, precision: str, progress: bool
) -> dict[str, Any]:
    """One epoch: train, recompute the batch-norm statistics, evaluate; its history row and
    the evaluation's predictions."""
    config, split = run.config, run.data.eval_split
    run.sampler.set_epoch(epoch)
    run.train_set.set_epoch(epoch)
    torch.manual_seed(derive_seed(config.seed, DROPOUT_STREAM, epoch, ctx.rank))
    lr = run.optimizer.param_groups[0]["lr"]
    tic = time.perf_counter()
    loss_sum, correct, count = train_epoch(
        run.net,
        _batch_bar(run.loader, progress and ctx.is_main, epoch, config.epochs),
        optimizer=run.optimizer,
        scheduler=run.scheduler,
        scaler=run.scaler,
        criterion=run.criterion,
        device=ctx.device,
        precision=precision,
    )
    loss_sum, correct, count = distributed.sum_across([loss_sum, correct, count], ctx)
    seconds = time.perf_counter() - tic
    if not math.isfinite(loss_sum):
        raise bad_value(
            "lr", f"a smaller value (the training loss diverged in epoch {epoch})", config.lr
        )
    tic = time.perf_counter()
    if config.precise_bn:
        recompute_batchnorm(
            run.model,
            run.loader,
            device=ctx.device,
            max_images=-(-config.precise_bn // ctx.world_size),
            precision=precision,
        )
    distributed.average_buffers(run.model, ctx)
    bn_seconds = time.perf_counter() - tic
    tic = time.perf_counter()
    pred = _evaluate(run, ctx, precision)
    s = scores(pred, run.data.num_classes)
    return {
        "lr": lr,
        "train_loss": loss_sum / count,
        "train_top1": correct / count,
        f"{split}_loss": s["loss"],
        f"{split}_top1": s["top1"],
        f"{split}_top5": s["top5"],
        "seconds": seconds,
        "bn_seconds": bn_seconds,
        "eval_seconds": time.perf_counter() - tic,
        "images_per_s": count / seconds,
        "_predictions": pred,
    }


def _evaluate(run: _Run, ctx: Context, precision: str) -> Predictions:
    """Predictions on the evaluation split, gathered from every process."""
    pred = predict(run.model, run.evaluation, device=ctx.device, precision=precision)
    return gather_predictions(pred, ctx)


def _write_outputs(out: Path, run: _Run, loop: LoopResult, metrics: dict[str, Any]) -> None:
    """``history.csv``, ``metrics.json`` and ``curves.png`` of a finished run."""
    write_csv(out / "history.csv", loop.history)
    write_json(out / "metrics.json", metrics)
    from .plots import plot_curves

    plot_curves(
        loop.history,
        out / "curves.png",
        split=run.data.eval_split,
        title=f"{run.config.model} on {run.data.name} (seed {run.config.seed})",
    )


def _train(
    config: TrainConfig,
    out: Path | None,
    ctx: Context,
    *,
    resume: bool,
    workers: int,
    precision: str | None,
    data_dir: Any,
    download: bool,
    data: ImageData | None,
    progress: bool,
    log: Callable[[str], None],
    on_epoch: Callable[[dict[str, Any]], None] | None,
) -> TrainResult:
    started = time.perf_counter()
    say = log if ctx.is_main else (lambda _msg: None)
    precision = _check_precision(precision, ctx)
    data = _data_for(config, ctx, data, data_dir, download)
    run = _build_run(config, data, ctx, workers=workers, precision=precision, progress=progress)
    config = run.config
    say(_describe(run, ctx, precision))
    if ctx.is_main and out is not None:
        _write_config(out, run, ctx, resume=resume, workers=workers, precision=precision)

    last: dict[str, Predictions] = {}

    def step(epoch: int) -> dict[str, Any]:
        row = _epoch(run, ctx, epoch, precision=precision, progress=progress)
        last["pred"] = row.pop("_predictions")
        return row

    path = None if out is None else out / CHECKPOINT

    def load(p: Path) -> dict[str, Any] | None:
        return distributed.broadcast(read_checkpoint(p) if ctx.is_main else None, ctx)

    loop: LoopResult = run_epochs(
        config.epochs,
        step,
        states={
            "model": run.model,
            "optimizer": run.optimizer,
            "scheduler": run.scheduler,
            "scaler": run.scaler,
        },
        config=asdict(config),
        checkpoint=path,
        resume=resume,
        extra=lambda: run.meta,
        on_resume=lambda state: _check_checkpoint(state, config.model, data.num_classes, str(path)),
        load=load,
        write=ctx.is_main,
        progress=progress,
        on_epoch=on_epoch,
    )
    if loop.first_epoch > 1:
        say(f"resumed after epoch {loop.first_epoch - 1} from {path}")
    if "pred" not in last:  # nothing left to train: evaluate the resumed weights
        last["pred"] = _evaluate(run, ctx, precision)
    s = scores(last["pred"], data.num_classes)
    metrics = _metrics(config, data, loop, s, run.params, len(run.loader), ctx, precision)
    metrics["wall_seconds"] = time.perf_counter() - started
    if ctx.is_main and out is not None:
        _write_outputs(out, run, loop, metrics)
    say(
        f"{data.eval_split} top-1 {metrics['top1']:.2%}  top-{metrics['top5_k']} "
        f"{metrics['top5']:.2%}  {metrics['mean_epoch_seconds']:.2f} s/epoch  "
        f"{metrics['images_per_second']:.0f} images/s  training {metrics['train_seconds']:.1f} s"
        f"  wall time {metrics['wall_seconds']:.1f} s" + (f"  → {out}" if out is not None else "")
    )
    return TrainResult(metrics, loop.history, run.model, out, run.meta)


def _metrics(
    config: TrainConfig,
    data: ImageData,
    loop: LoopResult,
    s: dict[str, Any],
    params: int,
    steps: int,
    ctx: Context,
    precision: str,
) -> dict[str, Any]:
    epoch_seconds = [float(row["seconds"]) for row in loop.history]
    images = steps * config.batch_size * len(epoch_seconds)
    return {
        "model": config.model,
        "dataset": data.name,
        "split": data.eval_split,
        "top1": s["top1"],
        "top5": s["top5"],
        "top5_k": s["top5_k"],
        "loss": s["loss"],
        "per_class": dict(zip(data.classes, s["per_class"], strict=True)),
        "support": dict(zip(data.classes, s["support"], strict=True)),
        "confusion": s["confusion"],
        "eval_images": s["images"],
        "epochs": config.epochs,
        "epoch_seconds": epoch_seconds,
        "mean_epoch_seconds": sum(epoch_seconds) / max(1, len(epoch_seconds)),
        "train_seconds": loop.train_seconds,
        "images_per_second": images / loop.train_seconds if loop.train_seconds else math.nan,
        "params": params,
        "seed": config.seed,
        "world_size": ctx.world_size,
        "device": str(ctx.device),
        "precision": precision,
        "skipped_files": len(data.skipped),
    }
