"""An experiment on trained zoo networks.

* :func:`attention_experiment`: does attention help, and does acting on spatial positions
  (CBAM) add to channel attention (SE)? The same network without attention, with SE and with
  CBAM, trained with identical settings over several seeds; a table of accuracy (mean ± std
  over seeds, each run listed), parameters, MACs, measured latency and seconds per epoch,
  and a plot. Runs are interleaved (seed by seed, every variant in turn) so that a change
  in machine load falls on all variants alike; latency is measured interleaved too.

The dropout demonstration is :mod:`lightnets.demos.dropout_images`.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch

from .._checks import bad_value, check_int
from .._table import format_table
from ..models import create_model, get_entry, list_models
from ..runs import atomic_write_bytes, environment_info, write_json
from .datasets import load_dataset
from .trainer import TrainConfig, train

ATTENTIONS = ("none", "se", "cbam")


def attention_variant(model: str, attention: str) -> str:
    """The registered name of ``model`` with ``attention`` (``resnet18`` + ``se`` →
    ``se_resnet18``; ``none`` → the plain network)."""
    base = get_entry(model).name
    for prefix in ("se_", "cbam_"):
        base = base.removeprefix(prefix)
    if attention not in ATTENTIONS:
        raise bad_value("attention", "a list of none, se, cbam", attention)
    name = base if attention == "none" else f"{attention}_{base}"
    if name not in list_models():
        raise bad_value("attention", f"a variant registered for {base} ({name} is not)", attention)
    return name


def _mean_std(values: Sequence[float]) -> tuple[float, float]:
    """Mean and sample standard deviation (0 for one value)."""
    arr = np.asarray(values, dtype=np.float64)
    return float(arr.mean()), float(arr.std(ddof=1)) if len(arr) > 1 else 0.0


def _costs(
    names: Sequence[str], num_classes: int, in_chans: int, img_size: int, repeats: int
) -> dict[str, dict[str, float]]:
    """Parameters, MACs and interleaved median latency (batch 1, CPU) of every variant."""
    from ..profiling import measure_interleaved, profile

    costs: dict[str, dict[str, float]] = {}
    candidates = {}
    for name in names:
        prof = profile(name, img_size, num_classes=num_classes, in_chans=in_chans)
        costs[name] = {"params": prof.params, "macs": prof.macs}
        torch.manual_seed(0)
        module = create_model(name, num_classes=num_classes, in_chans=in_chans)
        candidates[name] = (module, torch.randn(1, in_chans, img_size, img_size))
    timed = measure_interleaved(candidates, warmup=5, repeats=repeats)
    for name, latency in timed.items():
        costs[name]["latency_ms"] = latency.median_ms
        costs[name]["latency_threads"] = latency.threads
    return costs


def attention_table(rows: Sequence[dict[str, Any]]) -> str:
    """The experiment's Markdown table."""
    return format_table(
        [
            "variant",
            "test top-1 (mean ± std)",
            "runs",
            "params",
            "MACs",
            "latency (ms)",
            "s / epoch",
        ],
        [
            (
                r["variant"],
                f"{100 * r['top1_mean']:.2f} ± {100 * r['top1_std']:.2f} %",
                ", ".join(f"{100 * a:.2f}" for a in r["top1_runs"]),
                f"{r['params']:,}",
                f"{r['macs'] / 1e6:.2f} M",
                f"{r['latency_ms']:.2f}",
                f"{r['epoch_seconds_mean']:.2f}",
            )
            for r in rows
        ],
        align="lrlrrrr",
    )


def attention_experiment(
    model: str = "resnet18",
    dataset: str = "digits",
    attentions: Sequence[str] = ATTENTIONS,
    runs: int = 3,
    *,
    epochs: int = 10,
    batch_size: int = 128,
    lr: float | None = None,
    optimizer: str = "sgd",
    schedule: str = "cosine",
    label_smoothing: float = 0.0,
    warmup_epochs: int = 1,
    img_size: int | None = None,
    seed: int = 0,
    subset_size: int | None = None,
    out: str | os.PathLike | None = None,
    resume: bool = False,
    workers: int = 0,
    device: str | None = None,
    data_dir: str | os.PathLike | None = None,
    latency_repeats: int = 30,
    progress: bool = False,
    log: Callable[[str], None] = print,
) -> dict[str, Any]:
    """Train ``model`` with each of ``attentions`` ``runs`` times (seeds ``seed, seed+1, …``).

    Each run is a full :func:`~.trainer.train` run folder ``out/VARIANT/seedS``; with
    ``resume`` finished runs are read back and an interrupted one continues. Writes
    ``results.json``, ``results.md`` and ``attention.png`` to ``out``; returns the results.
    """
    check_int("runs", runs, minimum=1)
    if isinstance(attentions, str) or not attentions:
        raise bad_value("attentions", "a non-empty list of none, se, cbam", attentions)
    names = list(dict.fromkeys(attention_variant(model, a) for a in attentions))
    out_dir = None if out is None else Path(out)
    data = load_dataset(dataset, data_dir=data_dir)
    settings = dict(
        dataset=dataset,
        epochs=epochs,
        batch_size=batch_size,
        lr=lr,
        optimizer=optimizer,
        schedule=schedule,
        label_smoothing=label_smoothing,
        warmup_epochs=warmup_epochs,
        img_size=img_size,
        subset=subset_size,
    )
    results: dict[str, list[dict[str, Any]]] = {name: [] for name in names}
    for i in range(runs):
        run_seed = seed + i
        for name in names[i % len(names) :] + names[: i % len(names)]:
            config = TrainConfig(model=name, seed=run_seed, **settings)
            folder = None if out_dir is None else out_dir / name / f"seed{run_seed}"
            done = folder is not None and (folder / "metrics.json").exists()
            if resume and done:
                results[name].append(json.loads((folder / "metrics.json").read_text()))
                log(f"{name} seed {run_seed}: already complete in {folder}")
                continue
            log(f"{name} seed {run_seed} ({i + 1}/{runs})")
            result = train(
                config,
                folder,
                resume=resume,
                workers=workers,
                device=device,
                data=data,
                progress=progress,
                log=log,
            )
            results[name].append(result.metrics)
    size = img_size or data.img_size
    costs = _costs(names, data.num_classes, data.in_chans, size, latency_repeats)
    rows = []
    for name in names:
        top1 = [m["top1"] for m in results[name]]
        mean, std = _mean_std(top1)
        rows.append(
            {
                "variant": name,
                "top1_mean": mean,
                "top1_std": std,
                "top1_runs": top1,
                "top5_mean": _mean_std([m["top5"] for m in results[name]])[0],
                "epoch_seconds_mean": _mean_std([m["mean_epoch_seconds"] for m in results[name]])[
                    0
                ],
                **costs[name],
            }
        )
    summary = {
        "model": model,
        "attentions": list(attentions),
        "runs": runs,
        "seeds": [seed + i for i in range(runs)],
        "settings": {**settings, "img_size": size},
        "rows": rows,
        "environment": environment_info(),
    }
    table = attention_table(rows)
    log("\n" + table)
    if out_dir is not None:
        from .plots import plot_attention

        write_json(out_dir / "results.json", summary)
        atomic_write_bytes(out_dir / "results.md", (table + "\n").encode())
        plot_attention(
            rows,
            out_dir / "attention.png",
            title=f"{model} on {dataset}: {runs} runs × {epochs} epochs",
        )
    return summary
