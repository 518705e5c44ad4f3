"""One hyperspectral experiment end to end, repeated over seeds.

scene → split → spectral transform (PCA) → network → training → full-scene map → metrics →
run folder. Each run writes ``config.json`` (settings, seed, split, versions, hardware),
``metrics.json`` (``oa``, ``aa``, ``kappa``, ``per_class``, ``overlap``, ``train_seconds``,
``map_seconds``), ``history.csv``, ``model.pt`` (network, PCA, class names: what ``predict``
needs), ``map.png``, ``confusion.png`` and ``report.md``. With several runs, ``summary.json``
and ``summary.md`` give mean ± std over seeds.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

from .._checks import bad_value, check_choice, check_fraction, check_int
from ..models import create_model
from ..runs import environment_info, write_csv, write_json
from . import engine
from .maps import false_colour, save_classification_map, save_confusion_matrix
from .metrics import classification_metrics, summarize_runs
from .predictor import save_predictor
from .preprocessing import SpectralTransform
from .scenes import Scene, load_scene
from .splits import (
    Split,
    block_split,
    fixed_count_split,
    region_split,
    stratified_split,
    with_validation,
)
from .training import FitResult, TrainConfig, fit

SPLITS = ("random", "per-class", "blocks", "regions")


@dataclass
class ExperimentConfig:
    """Everything that defines a run; defaults are the HybridSN paper's Indian Pines protocol."""

    scene: str = "indian_pines"
    data_dir: str | None = None
    gt: str | None = None
    model: str = "hybridsn"
    pca: int | None = 30
    whiten: bool = True
    pca_fit: str = "scene"
    window: int = 25
    split: str = "random"
    train_fraction: float = 0.3
    per_class: int = 50
    block_size: int = 32
    val_fraction: float = 0.0
    epochs: int = 100
    batch_size: int = 256
    lr: float = 1e-3
    path: str = "scene"
    batching: str | None = None
    class_weights: bool = False
    seed: int = 0
    runs: int = 1
    device: str | None = None

    def __post_init__(self) -> None:
        check_choice("split", self.split, SPLITS)
        check_choice("pca_fit", self.pca_fit, ("scene", "train"))
        check_fraction("val_fraction", self.val_fraction)
        check_int("runs", self.runs, minimum=1)
        check_int("seed", self.seed, minimum=0)
        if self.pca is not None:
            check_int("pca", self.pca, minimum=1)
        if self.split != "per-class" and not 0 < self.train_fraction < 1:
            raise bad_value("train_fraction", "a number in (0, 1)", self.train_fraction)
        self.train_config(self.seed)  # checks the optimisation settings before any work

    def train_config(self, seed: int) -> TrainConfig:
        return TrainConfig(
            epochs=self.epochs,
            batch_size=self.batch_size,
            lr=self.lr,
            path=self.path,
            batching=self.batching,
            class_weights=self.class_weights,
            seed=seed,
            device=self.device,
        )


def make_split(scene: Scene, config: ExperimentConfig, seed: int) -> Split:
    """The configured protocol for one seed, with the optional validation carve-out."""
    if config.split == "random":
        split = stratified_split(
            scene.gt, config.train_fraction, seed=seed, class_names=scene.class_names
        )
    elif config.split == "per-class":
        split = fixed_count_split(
            scene.gt, config.per_class, seed=seed, class_names=scene.class_names
        )
    elif config.split == "regions":
        split = region_split(
            scene.gt, train_fraction=config.train_fraction, window=config.window, seed=seed
        )
    else:
        split = block_split(
            scene.gt,
            block_size=config.block_size,
            train_fraction=config.train_fraction,
            window=config.window,
            seed=seed,
        )
    if config.val_fraction > 0:
        split = with_validation(split, scene.gt, config.val_fraction, seed=seed)
    return split


def _positions(split: Split, which: str, gt: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    rows, cols, labels = split.pixels(which, gt)
    return np.stack([rows, cols], axis=1), labels


def run_once(
    scene: Scene,
    config: ExperimentConfig,
    seed: int,
    out: Path,
    *,
    resume: bool = False,
    progress: bool = True,
    log: Callable[[str], None] = print,
) -> dict[str, Any]:
    """Train and evaluate one seed; write the run folder ``out``; return its metrics.

    ``wall_seconds`` in the metrics is the whole protocol: split, PCA, model set-up, training
    (summed over resumed sessions), the full-scene map and scoring; not the output files.
    """
    start = time.perf_counter()
    split = make_split(scene, config, seed)
    k = scene.num_classes
    transform = SpectralTransform(config.pca, whiten=config.whiten, random_state=seed)
    transform.fit(scene.cube, None if config.pca_fit == "scene" else split.train)
    cube = transform.transform(scene.cube).transpose(2, 0, 1)  # bands × H × W for the engine
    bands = cube.shape[0]

    torch.manual_seed(seed)
    model_kwargs = {"num_classes": k, "bands": bands, "window": config.window}
    model = create_model(config.model, **model_kwargs)
    train_pos, train_y = _positions(split, "train", scene.gt)
    val = _positions(split, "val", scene.gt) if split.val.any() else None
    overlap = split.overlap(config.window)
    log(
        f"seed {seed}: {len(train_pos)} training, {int(split.test.sum())} test pixels "
        f"({config.split} split, overlap {overlap:.1%}); {bands} bands; {config.model} "
        f"{sum(p.numel() for p in model.parameters()):,} parameters"
    )

    write_json(
        out / "config.json",
        {
            "experiment": asdict(config),
            "seed": seed,
            "split": split.summary(),
            "model_kwargs": model_kwargs,
            "scene": {"name": scene.name, **_scene_meta(scene)},
            "environment": environment_info(),
        },
    )
    tcfg = config.train_config(seed)
    setup_seconds = time.perf_counter() - start
    result: FitResult = fit(
        model,
        cube,
        train_pos,
        train_y,
        tcfg,
        val=val,
        checkpoint=out / "checkpoint.pt",
        resume=resume,
        progress=progress,
    )

    tic = time.perf_counter()
    logits = engine.predict_scene(model, cube, device=config.device)
    map_seconds = time.perf_counter() - tic
    prediction = logits.argmax(0).numpy().astype(np.int64) + 1
    test_pos, test_y = _positions(split, "test", scene.gt)
    scores = classification_metrics(test_y, prediction[test_pos[:, 0], test_pos[:, 1]] - 1, k)
    wall_seconds = setup_seconds + result.train_seconds + time.perf_counter() - tic
    metrics = {
        "oa": scores["oa"],
        "aa": scores["aa"],
        "kappa": scores["kappa"],
        "per_class": scores["per_class"],
        "overlap": overlap,
        "train_seconds": result.train_seconds,
        "map_seconds": map_seconds,
        "wall_seconds": wall_seconds,
        "epochs": tcfg.epochs,
        "best_epoch": result.best_epoch,
        "train_pixels": len(train_pos),
        "test_pixels": len(test_pos),
        "seed": seed,
    }
    write_json(out / "metrics.json", {**metrics, "confusion": scores["confusion"]})
    write_csv(out / "history.csv", result.history)
    save_predictor(
        out / "model.pt",
        model,
        model_name=config.model,
        model_kwargs=model_kwargs,
        transform=transform,
        class_names=scene.class_names,
        extra={"scene": scene.name, "seed": seed, "metrics": metrics},
    )
    background = false_colour(scene.cube, scene.rgb_bands) if scene.rgb_bands else None
    title = (
        f"{scene.name} · {config.model} · {config.split} split · seed {seed} · "
        f"OA {scores['oa']:.2%}"
    )
    save_classification_map(
        out / "map.png",
        prediction,
        scene.gt,
        scene.class_names,
        test_mask=split.test,
        background=background,
        title=title,
    )
    save_confusion_matrix(
        out / "confusion.png", scores["confusion"], scene.class_names, title=title
    )
    (out / "report.md").write_text(_report(scene, config, metrics, split))
    (out / "checkpoint.pt").unlink(missing_ok=True)  # training state: only needed to resume
    log(
        f"seed {seed}: OA {metrics['oa']:.2%}  AA {metrics['aa']:.2%}  kappa "
        f"{metrics['kappa']:.4f}  train {metrics['train_seconds']:.1f} s  map "
        f"{map_seconds:.2f} s  → {out}"
    )
    return metrics


def run_experiment(
    config: ExperimentConfig,
    out: str | Path,
    *,
    resume: bool = False,
    progress: bool = True,
    log: Callable[[str], None] = print,
    scene: Scene | None = None,
) -> dict[str, Any]:
    """All runs of ``config`` (seeds ``seed, seed+1, …``) under ``out``; returns the summary."""
    out = Path(out)
    if scene is None:
        scene = load_scene(config.scene, gt=config.gt, data_dir=config.data_dir)
    runs = []
    for i in range(config.runs):
        seed = config.seed + i
        run_dir = out if config.runs == 1 else out / f"seed{seed}"
        if (
            resume
            and (run_dir / "metrics.json").exists()
            and not (run_dir / "checkpoint.pt").exists()
        ):
            import json

            runs.append(
                {
                    k: v
                    for k, v in json.loads((run_dir / "metrics.json").read_text()).items()
                    if k != "confusion"
                }
            )
            log(f"seed {seed}: already complete in {run_dir}")
            continue
        runs.append(
            run_once(scene, config, seed, run_dir, resume=resume, progress=progress, log=log)
        )
    summary = {
        "runs": runs,
        "summary": summarize_runs(
            [{k: v for k, v in r.items() if k not in ("best_epoch",)} for r in runs]
        ),
    }
    if config.runs > 1:
        write_json(out / "summary.json", summary)
        (out / "summary.md").write_text(_summary_md(config, summary["summary"], scene))
    return summary


def _scene_meta(scene: Scene) -> dict[str, Any]:
    return {
        "shape": list(scene.cube.shape),
        "classes": list(scene.class_names),
        "source": str(scene.metadata.get("source", "")),
    }


def _pm(stat: dict[str, Any], scale: float = 100.0) -> str:
    return f"{stat['mean'] * scale:.2f} ± {stat['std'] * scale:.2f}"


def _summary_md(config: ExperimentConfig, s: dict[str, Any], scene: Scene) -> str:
    lines = [
        f"# {scene.name}: {config.model}, {config.split} split, {s['oa']['n']} runs",
        "",
        "| OA % | AA % | kappa × 100 | overlap % | train s | map s |",
        "|---:|---:|---:|---:|---:|---:|",
        f"| {_pm(s['oa'])} | {_pm(s['aa'])} | {_pm(s['kappa'])} | {_pm(s['overlap'])} | "
        f"{_pm(s['train_seconds'], 1)} | {_pm(s['map_seconds'], 1)} |",
        "",
        "| class | accuracy % (mean ± std) |",
        "|---|---:|",
    ]
    for name, mean, std in zip(
        scene.class_names, s["per_class"]["mean"], s["per_class"]["std"], strict=True
    ):
        lines.append(f"| {name} | {mean * 100:.2f} ± {std * 100:.2f} |")
    return "\n".join(lines) + "\n"


def _report(scene: Scene, config: ExperimentConfig, m: dict[str, Any], split: Split) -> str:
    rows = "\n".join(
        f"| {i + 1} | {name} | {split.train_counts[i]} | {split.test_counts[i]} | {acc * 100:.2f} |"
        for i, (name, acc) in enumerate(zip(scene.class_names, m["per_class"], strict=True))
    )
    return (
        f"# {scene.name} · {config.model} · seed {m['seed']}\n\n"
        f"OA **{m['oa']:.2%}**, AA **{m['aa']:.2%}**, kappa **{m['kappa']:.4f}** on "
        f"{m['test_pixels']} test pixels ({config.split} split, {m['train_pixels']} training "
        f"pixels; {m['overlap']:.1%} of test windows contain a training pixel).\n\n"
        f"Training {m['train_seconds']:.1f} s ({m['epochs']} epochs), full-scene map "
        f"{m['map_seconds']:.2f} s. Settings in `config.json`; curves in `history.csv`.\n\n"
        "![map](map.png)\n\n| # | class | train | test | accuracy % |\n|---:|---|---:|---:|---:|\n"
        f"{rows}\n"
    )
