"""Training loop for patch models on a scene: epochs, validation, checkpoints, resume.

Defaults follow the HybridSN paper: Adam, learning rate 1e-3, batch 256, 100 epochs; the
recipes of :mod:`lightnets.hsi.recipes` also use SGD (no momentum) with weight decay and a
plateau schedule. Every random step draws from one ``torch.Generator`` seeded by ``seed``
(batches, dropout); its state is saved in the checkpoint with the model, optimizer and schedule
after every epoch, so a resumed run continues exactly where the interrupted one stopped and
ends with the same weights. ``keep="best"`` returns the weights of the best epoch: by
validation OA when a validation set is given, else by training loss — never by test pixels;
``keep="last"`` the final ones; ``keep="train_acc"`` the first epoch of highest running
training accuracy (as a Keras checkpoint on ``acc``).
"""

from __future__ import annotations

import math
import os
import time
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
import torch
from torch import nn

from .._checks import bad_value, check_choice, check_int, check_positive
from ..devices import resolve_device
from ..loop import run_epochs
from ..precision import PRECISIONS, grad_scaler, resolve_precision
from . import engine
from .metrics import overall_accuracy
from .recipes import KEEPS, LAST_BATCHES, OPTIMIZERS, PATHS, SCHEDULES


@dataclass
class FitConfig:
    """Optimisation settings (HybridSN paper defaults)."""

    epochs: int = 100
    batch_size: int = 256
    lr: float = 1e-3
    optimizer: str = "adam"
    weight_decay: float = 0.0
    schedule: str = "none"
    keep: str = "best"
    path: str = "scene"
    batching: str | None = None
    last_batch: str = "keep"
    class_weights: bool = False
    seed: int = 0
    device: str | None = None
    precision: str = "fp32"

    def __post_init__(self) -> None:
        check_int("epochs", self.epochs, minimum=1)
        check_int("batch_size", self.batch_size, minimum=1)
        check_positive("lr", self.lr)
        check_choice("optimizer", self.optimizer, OPTIMIZERS)
        if isinstance(self.weight_decay, bool) or not (
            isinstance(self.weight_decay, (int, float)) and 0 <= self.weight_decay < math.inf
        ):
            raise bad_value("weight_decay", "a number >= 0", self.weight_decay)
        check_choice("schedule", self.schedule, SCHEDULES)
        check_choice("keep", self.keep, KEEPS)
        check_choice("path", self.path, PATHS)
        if self.batching is not None:
            check_choice("batching", self.batching, engine.BATCHINGS)
        check_choice("last_batch", self.last_batch, LAST_BATCHES)
        check_int("seed", self.seed, minimum=0)
        check_choice("precision", self.precision, PRECISIONS)


@dataclass
class FitResult:
    """What a training run produced: per-epoch history, the selected epoch and the time."""

    history: list[dict[str, float]] = field(default_factory=list)
    best_epoch: int | None = None
    train_seconds: float = 0.0


def balanced_class_weights(labels: np.ndarray, num_classes: int) -> torch.Tensor:
    """Inverse-frequency weights ``n / (K · n_k)`` (scikit-learn's "balanced" rule)."""
    counts = np.bincount(labels, minlength=num_classes).astype(np.float64)
    weights = np.where(counts > 0, len(labels) / (num_classes * np.maximum(counts, 1)), 0.0)
    return torch.as_tensor(weights, dtype=torch.float32)


def build_optimizer(model: nn.Module, config: FitConfig) -> torch.optim.Optimizer:
    """Adam, or plain SGD (no momentum, as DeepHyperX's baselines), with ``weight_decay``."""
    if config.optimizer == "sgd":
        return torch.optim.SGD(
            model.parameters(), lr=config.lr, weight_decay=config.weight_decay
        )
    return torch.optim.Adam(model.parameters(), lr=config.lr, weight_decay=config.weight_decay)


def fit(
    model: nn.Module,
    cube: Any,
    positions: np.ndarray,
    labels: np.ndarray,
    config: FitConfig,
    *,
    val: tuple[np.ndarray, np.ndarray] | None = None,
    checkpoint: str | os.PathLike | None = None,
    resume: bool = False,
    extra: Mapping[str, Any] | None = None,
    progress: bool = True,
    on_epoch: Callable[[dict[str, float]], None] | None = None,
) -> FitResult:
    """Train ``model`` on the labelled pixels ``positions`` (n×2) with class indices ``labels``.

    ``cube`` is ``bands × H × W``. With ``config.keep="best"`` the weights kept at the end are
    those of the best epoch: the highest validation OA when ``val`` = (positions, labels) is
    given, else the lowest training loss (the reference HybridSN code likewise checkpoints on
    a training metric), so a loss spike in the last epoch is not what gets scored; with
    ``"last"`` the final weights (SSFTT's and DeepHyperX's protocol). Test pixels are never
    used.
    ``checkpoint`` is rewritten atomically after every epoch (with ``extra``: what ``predict``
    needs, such as preprocessing and class names); with ``resume=True`` an existing checkpoint
    is continued.
    """
    device = resolve_device(config.device)
    precision = resolve_precision(config.precision, device)
    scaler = grad_scaler(precision, device)
    model.to(device)
    optimizer = build_optimizer(model, config)
    scheduler = (
        torch.optim.lr_scheduler.ReduceLROnPlateau(
            optimizer, factor=0.1, patience=max(1, config.epochs // 4)
        )
        if config.schedule == "plateau"
        else None
    )
    generator = torch.Generator().manual_seed(config.seed)
    weights = balanced_class_weights(labels, model.num_classes) if config.class_weights else None
    best: dict[str, Any] = {"best_epoch": None, "best_score": -math.inf, "best_model": None}

    def step(epoch: int) -> dict[str, float]:
        tic = time.perf_counter()
        stats = engine.train_epoch(
            model,
            cube,
            positions,
            labels,
            optimizer,
            batch_size=config.batch_size,
            path=config.path,
            batching=config.batching,
            last_batch=config.last_batch,
            generator=generator,
            class_weights=weights,
            device=device,
            precision=precision,
            scaler=scaler,
        )
        row = {
            "loss": stats.loss,
            "train_acc": stats.accuracy,
            "seconds": time.perf_counter() - tic,
        }
        if scheduler is not None:
            row["lr"] = optimizer.param_groups[0]["lr"]
            scheduler.step(stats.loss)
        score = stats.accuracy if config.keep == "train_acc" else -stats.loss
        if val is not None:
            logits = engine.predict_pixels(model, cube, val[0], device=device, precision=precision)
            pred = logits.argmax(1).numpy()
            row["val_oa"] = overall_accuracy(val[1], pred, model.num_classes)
            if config.keep == "best":
                score = row["val_oa"]
        if config.keep == "last":
            best.update(best_epoch=epoch)
        elif score > best["best_score"]:
            state = {k: v.detach().clone() for k, v in model.state_dict().items()}
            best.update(best_epoch=epoch, best_score=score, best_model=state)
        return row

    loop = run_epochs(
        config.epochs,
        step,
        states={
            "model": model,
            "optimizer": optimizer,
            "generator": generator,
            **({"scheduler": scheduler} if scheduler is not None else {}),
            **({"scaler": scaler} if scaler is not None else {}),
        },
        config=asdict(config),
        checkpoint=checkpoint,
        resume=resume,
        extra=lambda: {**best, **(extra or {})},
        on_resume=lambda saved: best.update({k: saved.get(k, v) for k, v in best.items()}),
        progress=progress,
        on_epoch=on_epoch,
    )
    if best["best_model"] is not None:
        model.load_state_dict(best["best_model"])
    return FitResult(loop.history, best["best_epoch"], loop.train_seconds)
