"""Why a network "gives a different classification each test": dropout and batch norm left
in training mode.

In training mode dropout draws new masks at every call and BatchNorm normalises with the
statistics of the batch, so predictions change between calls and depend on the other images
in the batch; in eval mode (what :func:`lightnets.vision.evaluation.predict` uses) they are
identical. A teaching demonstration, reached by ``lightnets experiment dropout``.
"""

from __future__ import annotations

import copy
import os
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import torch
from torch import nn

from .._checks import check_int
from .._table import format_table
from ..models import create_model
from ..runs import atomic_write_bytes, environment_info, write_json
from ..vision.datasets import load_dataset
from ..vision.loaders import Augmented, subset
from ..vision.trainer import TrainConfig, load_classifier, train
from ..vision.transforms import eval_transform


def _disagreement(outputs: Sequence[torch.Tensor]) -> tuple[float, float]:
    """(share of images whose predicted class differs in some call from the first call,
    largest absolute logit difference to the first call)."""
    first = outputs[0]
    changed = torch.zeros(first.shape[0], dtype=torch.bool)
    delta = 0.0
    for other in outputs[1:]:
        changed |= other.argmax(1) != first.argmax(1)
        delta = max(delta, float((other - first).abs().max()))
    return float(changed.float().mean()), delta


def _calls(
    model: nn.Module, images: torch.Tensor, calls: int, *, train_mode: bool
) -> dict[str, Any]:
    """Classify ``images`` ``calls`` times, and image 0 alone, in one mode."""
    net = copy.deepcopy(model)  # training-mode calls update BatchNorm statistics: use a copy
    net.train(train_mode)
    with torch.inference_mode():
        outputs = [net(images) for _ in range(calls)]
        alone = net(images[:2])  # BatchNorm in training mode needs more than one image
    changed, delta = _disagreement(outputs)
    return {
        "mode": "train" if train_mode else "eval",
        "calls": calls,
        "changed": changed,
        "max_logit_change": delta,
        "identical": all(torch.equal(o, outputs[0]) for o in outputs[1:]),
        "batch_effect": float((alone[0] - outputs[0][0]).abs().max()),
    }


def dropout_experiment(
    model: str = "mobilenet_v2_050",
    *,
    drop_rate: float = 0.2,
    dataset: str = "digits",
    epochs: int = 1,
    calls: int = 5,
    images: int = 128,
    seed: int = 0,
    checkpoint: str | os.PathLike | None = None,
    out: str | os.PathLike | None = None,
    log: Callable[[str], None] = print,
) -> dict[str, Any]:
    """Classify the same evaluation images ``calls`` times in training and in eval mode.

    The network is ``checkpoint``'s, or ``model`` with dropout ``drop_rate`` trained for
    ``epochs`` epochs on ``dataset`` (0: untrained). Returns, per mode, the share of images
    whose class changed between calls, the largest logit change, whether all calls were
    bitwise identical, and how much image 0's logits change when it is classified with one
    other image instead of the whole batch (BatchNorm's batch statistics).
    """
    check_int("calls", calls, minimum=2)
    check_int("images", images, minimum=2)
    check_int("epochs", epochs, minimum=0)
    if checkpoint is not None:
        net, meta = load_classifier(checkpoint)
        dataset, size = meta["dataset"], meta["img_size"]
        drop_rate, model = meta.get("drop_rate", 0.0), meta["model_name"]
        data = load_dataset(dataset)
    else:
        data = load_dataset(dataset)
        size = data.img_size
        if epochs:
            config = TrainConfig(
                model=model,
                dataset=dataset,
                epochs=epochs,
                batch_size=64,
                drop_rate=drop_rate,
                seed=seed,
            )
            net = train(config, data=data, progress=False, log=lambda _m: None).model.cpu()
        else:
            torch.manual_seed(seed)
            net = create_model(
                model, num_classes=data.num_classes, in_chans=data.in_chans, drop_rate=drop_rate
            )
    evaluation = Augmented(
        subset(data.eval, images), eval_transform(data.kind, size, data.normalization), seed
    )
    batch = torch.stack([evaluation[i][0] for i in range(len(evaluation))])
    torch.manual_seed(seed)
    rows = [_calls(net, batch, calls, train_mode=True), _calls(net, batch, calls, train_mode=False)]
    result = {
        "model": model,
        "drop_rate": drop_rate,
        "dataset": dataset,
        "epochs": epochs,
        "images": len(batch),
        "rows": rows,
    }
    table = format_table(
        [
            "mode",
            "calls",
            "images whose class changed",
            "largest logit change",
            "bitwise identical",
            "image 0 with 1 other image vs in the batch: logit change",
        ],
        [
            (
                r["mode"],
                r["calls"],
                f"{r['changed']:.1%}",
                f"{r['max_logit_change']:.4f}",
                "yes" if r["identical"] else "no",
                f"{r['batch_effect']:.4f}",
            )
            for r in rows
        ],
        align="lrrrlr",
    )
    log(f"{model} (dropout {drop_rate}) on {len(batch)} {dataset} images:\n{table}")
    if out is not None:
        write_json(Path(out) / "dropout.json", {**result, "environment": environment_info()})
        atomic_write_bytes(Path(out) / "dropout.md", (table + "\n").encode())
    return result
