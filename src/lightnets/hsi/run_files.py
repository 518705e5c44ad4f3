"""What a run folder holds, written atomically: settings, metrics order, maps and reports.

:mod:`lightnets.hsi.experiment` runs the experiments; this module writes their files:
``config.json``, ``prediction.npy``, ``map.png``, ``confusion.png``, ``report.md`` and, over
several runs, ``summary.md``. Networks and the SVM share it, so their folders read alike.
Settings arrive as plain data (``dataclasses.asdict`` of the run's config).
"""

from __future__ import annotations

import io
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from ..runs import atomic_write_bytes, environment_info, write_json
from .maps import false_colour, save_classification_map, save_confusion_matrix
from .scenes import Scene
from .splits import Split


def write_config(
    out: Path,
    scene: Scene,
    settings: Mapping[str, Any],
    seed: int,
    split: Split,
    model_kwargs: dict[str, Any],
) -> None:
    """``config.json``: the settings, seed, split, classifier arguments, scene and machine."""
    write_json(
        out / "config.json",
        {
            "experiment": dict(settings),
            "seed": seed,
            "split": split.summary(),
            "model_kwargs": model_kwargs,
            "scene": {"name": scene.name, **scene_meta(scene)},
            "environment": environment_info(),
        },
    )


def run_metrics(
    scores: dict[str, Any],
    overlap: float,
    train_seconds: float,
    map_seconds: float,
    wall_seconds: float,
) -> dict[str, Any]:
    """The metrics every run reports first, in the order of ``metrics.json``."""
    return {
        "oa": scores["oa"],
        "aa": scores["aa"],
        "kappa": scores["kappa"],
        "per_class": scores["per_class"],
        "overlap": overlap,
        "train_seconds": train_seconds,
        "map_seconds": map_seconds,
        "wall_seconds": wall_seconds,
    }


def save_outputs(
    out: Path,
    scene: Scene,
    settings: Mapping[str, Any],
    split: Split,
    prediction: np.ndarray,
    scores: dict[str, Any],
    metrics: dict[str, Any],
    note: str,
) -> None:
    """The prediction array, the map and confusion figures and ``report.md``."""
    buffer = io.BytesIO()
    np.save(buffer, prediction)
    atomic_write_bytes(out / "prediction.npy", buffer.getvalue())
    background = false_colour(scene.cube, scene.rgb_bands) if scene.rgb_bands else None
    title = (
        f"{scene.name} · {settings['model']} · {settings['split']} split · "
        f"seed {metrics['seed']} · OA {scores['oa']:.2%}"
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
    report = report_markdown(scene, settings, metrics, split, note)
    atomic_write_bytes(out / "report.md", report.encode())


def scene_meta(scene: Scene) -> dict[str, Any]:
    """Shape, class names and source of a scene, as ``config.json`` records them."""
    return {
        "shape": list(scene.cube.shape),
        "classes": list(scene.class_names),
        "source": str(scene.metadata.get("source", "")),
    }


def _pm(stat: dict[str, Any], scale: float = 100.0) -> str:
    return f"{stat['mean'] * scale:.2f} ± {stat['std'] * scale:.2f}"


def summary_markdown(settings: Mapping[str, Any], s: dict[str, Any], scene: Scene) -> str:
    """``summary.md``: mean ± std over the runs, overall and per class."""
    lines = [
        f"# {scene.name}: {settings['model']}, {settings['split']} split, {s['oa']['n']} runs",
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


def report_markdown(
    scene: Scene, settings: Mapping[str, Any], m: dict[str, Any], split: Split, note: str
) -> str:
    """``report.md`` of one run; ``note`` says how it trained and what it wrote."""
    rows = "\n".join(
        f"| {i + 1} | {name} | {split.train_counts[i]} | {split.test_counts[i]} | {acc * 100:.2f} |"
        for i, (name, acc) in enumerate(zip(scene.class_names, m["per_class"], strict=True))
    )
    return (
        f"# {scene.name} · {settings['model']} · seed {m['seed']}\n\n"
        f"OA **{m['oa']:.2%}**, AA **{m['aa']:.2%}**, kappa **{m['kappa']:.4f}** on "
        f"{m['test_pixels']} test pixels ({settings['split']} split, {m['train_pixels']} training "
        f"pixels; {m['overlap']:.1%} of test windows contain a training pixel).\n\n"
        f"{note}\n\n"
        "![map](map.png)\n\n| # | class | train | test | accuracy % |\n|---:|---|---:|---:|---:|\n"
        f"{rows}\n"
    )
