"""Batch-norm statistics that match the weights: a "precise BN" pass before evaluation.

During training, BatchNorm normalises with the batch's own statistics and keeps running
averages for evaluation. With a small momentum (MobileNetV3 uses 0.01, from the paper's decay
of 0.99, meant for ImageNet schedules of hundreds of thousands of steps) those averages lag
far behind weights that change every step: after a short training on a small data set they
describe the network of many epochs ago, and eval-mode accuracy can sit at chance while
train-mode accuracy is high. :func:`recompute_batchnorm` replaces them by the plain average
of the batch statistics of the *current* weights over training batches (Wu & Johnson,
"Rethinking 'Batch' in BatchNorm", 2021: "precise BN"), without touching any weight and
without changing the architecture's momentum.

Only the batch-norm layers run in training mode during the pass; everything else stays in
eval mode (dropout off), so the pass draws nothing from the random generators and a run stays
reproducible. Layers that are frozen (no parameter requires a gradient) keep their statistics.
"""

from __future__ import annotations

from collections.abc import Iterable

import torch
from torch import Tensor, nn
from torch.nn.modules.batchnorm import _BatchNorm

from ..precision import autocast


def trainable_batchnorms(model: nn.Module) -> list[_BatchNorm]:
    """The batch-norm layers of ``model`` that track running statistics and are not frozen."""
    return [
        m
        for m in model.modules()
        if isinstance(m, _BatchNorm)
        and m.track_running_stats
        and m.running_mean is not None
        and any(p.requires_grad for p in m.parameters(recurse=False))
    ]


def recompute_batchnorm(
    model: nn.Module,
    batches: Iterable[tuple[Tensor, Tensor]],
    *,
    device: torch.device,
    max_images: int | None = None,
    precision: str = "fp32",
) -> int:
    """Reset the running statistics of :func:`trainable_batchnorms` and set them to the mean
    of the per-batch statistics over ``batches`` (at most ``max_images`` images, whole batches).

    Returns the number of images used (0 when the model has no such layer or no batch came;
    then nothing changes, as after an exception). The model's mode, the layers' momentum
    and ``num_batches_tracked`` (the count of training steps) are restored afterwards.
    """
    layers = trainable_batchnorms(model)
    if not layers:
        return 0
    saved = [{k: v.clone() for k, v in m.state_dict().items()} for m in layers]
    momenta = [m.momentum for m in layers]
    was_training = model.training
    model.eval()
    for m in layers:
        m.reset_running_stats()
        m.momentum = None  # cumulative average: every batch counts the same
        m.train()
    seen, done = 0, False
    try:
        with torch.no_grad():
            for images, _ in batches:
                if max_images is not None and seen >= max_images:
                    break
                images = images.to(device, non_blocking=True)
                with autocast(precision, device):
                    model(images)
                seen += images.shape[0]
        done = seen > 0
    finally:
        for m, state, momentum in zip(layers, saved, momenta, strict=True):
            m.momentum = momentum
            if done:  # keep the new statistics, but the count of training steps
                m.num_batches_tracked.copy_(state["num_batches_tracked"])  # type: ignore[union-attr]
            else:  # nothing seen, or interrupted: as before
                m.load_state_dict(state)
        model.train(was_training)
    return seen
