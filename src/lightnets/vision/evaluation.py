"""Evaluation of an image classifier: top-1, top-5, per-class accuracy, confusion matrix.

Always under ``model.eval()`` and ``torch.inference_mode()``: dropout off and BatchNorm on
its running statistics, so a sample's prediction depends on the sample alone. With several
processes each evaluates its share of the images and the predictions are gathered.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor, nn

from ..precision import autocast
from .distributed import Context, gather


@dataclass
class Predictions:
    """Top-k class indices (best first) and true labels of the evaluated images."""

    topk: Tensor  # N × k, int64
    labels: Tensor  # N, int64
    loss_sum: float  # summed cross-entropy (no label smoothing)

    def __len__(self) -> int:
        return len(self.labels)


def predict(
    model: nn.Module,
    batches: Iterable[tuple[Tensor, Tensor]],
    *,
    device: torch.device,
    k: int = 5,
    precision: str = "fp32",
) -> Predictions:
    """Run ``model`` over ``batches`` in eval and inference mode, forward passes in
    ``precision`` (:mod:`lightnets.precision`); restore its mode after."""
    was_training = model.training
    model.eval()
    tops, labels, loss = [], [], 0.0
    try:
        with torch.inference_mode():
            for images, targets in batches:
                images = images.to(device, non_blocking=True)
                targets = targets.to(device, non_blocking=True)
                with autocast(precision, device):
                    logits = model(images)
                logits = logits.float()
                loss += float(F.cross_entropy(logits, targets, reduction="sum"))
                tops.append(logits.topk(min(k, logits.shape[1]), dim=1).indices.cpu())
                labels.append(targets.cpu())
    finally:
        model.train(was_training)
    if not tops:
        return Predictions(
            torch.zeros(0, k, dtype=torch.int64), torch.zeros(0, dtype=torch.int64), 0.0
        )
    return Predictions(torch.cat(tops), torch.cat(labels), loss)


def gather_predictions(local: Predictions, ctx: Context) -> Predictions:
    """The predictions of every process, concatenated (metrics do not depend on the order)."""
    if not ctx.distributed:
        return local
    parts = gather((local.topk, local.labels, local.loss_sum), ctx)
    return Predictions(
        torch.cat([p[0] for p in parts]),
        torch.cat([p[1] for p in parts]),
        sum(p[2] for p in parts),
    )


def scores(pred: Predictions, num_classes: int) -> dict[str, object]:
    """Top-1, top-k, mean loss, per-class accuracy (recall; None for an absent class) and the
    confusion matrix (rows: true class, columns: predicted)."""
    n = len(pred)
    y = pred.labels.numpy()
    top = pred.topk.numpy()
    first = top[:, 0] if n else np.zeros(0, dtype=np.int64)
    confusion = np.bincount(y * num_classes + first, minlength=num_classes**2)
    confusion = confusion.reshape(num_classes, num_classes)
    support = confusion.sum(1)
    per_class = [
        float(confusion[i, i] / support[i]) if support[i] else None for i in range(num_classes)
    ]
    hits_k = (top == y[:, None]).any(1) if n else np.zeros(0, dtype=bool)
    return {
        "top1": float((first == y).mean()) if n else math.nan,
        "top5": float(hits_k.mean()) if n else math.nan,
        "top5_k": int(top.shape[1]) if n else min(5, num_classes),
        "loss": pred.loss_sum / n if n else math.nan,
        "per_class": per_class,
        "support": support.tolist(),
        "confusion": confusion.tolist(),
        "images": n,
    }
