"""The benchmark's table as Markdown, CSV and JSON, and a grid of its maps, written atomically.

Files under the benchmark's folder: ``benchmark.md`` (a table per protocol), ``benchmark.csv``
(a row per protocol and model, :data:`COLUMNS`), ``benchmark.json`` (the same rows with
per-class accuracy, the settings and the machine) and ``maps.png`` (per protocol, the ground
truth and each model's map of the first seed).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ..runs import atomic_write_bytes, environment_info, write_csv, write_json
from .costs import PixelCost
from .maps import save_map_grid
from .metrics import paired_comparison
from .scenes import Scene

COLUMNS = (
    "protocol",
    "model",
    "recipe",
    "published_oa",
    "runs",
    "window",
    "params",
    "macs_per_pixel",
    "macs_per_window",
    "oa_mean",
    "oa_std",
    "aa_mean",
    "aa_std",
    "kappa_mean",
    "kappa_std",
    "train_seconds_mean",
    "train_seconds_std",
    "map_seconds_mean",
    "map_seconds_std",
    "wall_seconds_mean",
    "wall_seconds_std",
    "overlap",
    "train_pixels",
    "test_pixels",
)
FILES = ("benchmark.md", "benchmark.csv", "benchmark.json", "maps.png")
COST_NOTE = (
    "*MACs / pixel*: multiply-adds to classify one pixel on the scene path (the convolutions "
    "once per feature position, plus one head); *MACs / window*: the patch path, one forward "
    "pass on the pixel's own window. For the SVM, the kernel against every support vector "
    "and the dual coefficients; its parameters are the numbers it stores."
)


@dataclass(frozen=True)
class BenchmarkRow:
    """One (protocol, model, recipe): the summary over seeds, the cost, the run folders and
    the published OA of that recipe and protocol ("" where none)."""

    protocol: str
    model: str
    recipe: str
    published: str
    window: int
    summary: dict[str, Any]
    cost: PixelCost
    folder: Path
    first_run: Path
    precision: str = "fp32"

    @property
    def label(self) -> str:
        """The recipe as the table shows it, with the precision where it is not fp32."""
        return self.recipe if self.precision == "fp32" else f"{self.recipe}, {self.precision}"


def row_record(row: BenchmarkRow) -> dict[str, Any]:
    """One row as a flat record with the keys of :data:`COLUMNS`."""
    s = row.summary
    record: dict[str, Any] = {
        "protocol": row.protocol,
        "model": row.model,
        "recipe": row.label,
        "published_oa": row.published,
        "runs": s["oa"]["n"],
        "window": row.window,
        "params": row.cost.params,
        "macs_per_pixel": row.cost.macs_per_pixel,
        "macs_per_window": row.cost.macs_per_window,
    }
    for key in ("oa", "aa", "kappa", "train_seconds", "map_seconds", "wall_seconds"):
        record[f"{key}_mean"] = s[key]["mean"]
        record[f"{key}_std"] = s[key]["std"]
    record["overlap"] = s["overlap"]["mean"]
    record["train_pixels"] = round(s["train_pixels"]["mean"])
    record["test_pixels"] = round(s["test_pixels"]["mean"])
    return record


def _count(n: int | None) -> str:
    """A count with an SI suffix (5.48 M), or a dash for none."""
    if n is None:
        return "—"
    for scale, suffix in ((1e9, " G"), (1e6, " M"), (1e3, " k")):
        if n >= scale:
            return f"{n / scale:.3g}{suffix}"
    return str(n)


def _pm(mean: float, std: float, scale: float = 100.0, digits: int = 2) -> str:
    return f"{mean * scale:.{digits}f} ± {std * scale:.{digits}f}"


def markdown_table(rows: Sequence[BenchmarkRow]) -> str:
    """A Markdown table per protocol, the models in the order they ran."""
    lines: list[str] = []
    for protocol in dict.fromkeys(r.protocol for r in rows):
        group = [row_record(r) for r in rows if r.protocol == protocol]
        runs = sorted({r["runs"] for r in group})
        lines += [
            f"### {protocol} ({'/'.join(map(str, runs))} run(s) per row)",
            "",
            "| model | recipe | runs | window | params | MACs / pixel | MACs / window | OA % | "
            "published OA % | AA % | kappa × 100 | overlap % | train px | test px | train s | "
            "map s |",
            "|---|---|--:|--:|--:|--:|--:|--:|---|--:|--:|--:|--:|--:|--:|--:|",
        ]
        for r in group:
            lines.append(
                f"| {r['model']} | {r['recipe']} | {r['runs']} | {r['window']} | {r['params']:,} | "
                f"{_count(r['macs_per_pixel'])} | {_count(r['macs_per_window'])} | "
                f"{_pm(r['oa_mean'], r['oa_std'])} | {r['published_oa'] or '—'} | "
                f"{_pm(r['aa_mean'], r['aa_std'])} | "
                f"{_pm(r['kappa_mean'], r['kappa_std'])} | {r['overlap'] * 100:.1f} | "
                f"{r['train_pixels']} | {r['test_pixels']} | "
                f"{_pm(r['train_seconds_mean'], r['train_seconds_std'], 1, 1)} | "
                f"{_pm(r['map_seconds_mean'], r['map_seconds_std'], 1, 2)} |"
            )
        lines.append("")
        if protocol.startswith("cv"):  # the runs are folds: compare rows paired over them
            scored = [(r, fold_scores(r)) for r in rows if r.protocol == protocol]
            lines += _paired_lines(scored) + _variant_lines(scored)
    lines.append(COST_NOTE)
    return "\n".join(lines) + "\n"


def fold_scores(row: BenchmarkRow) -> list[float]:
    """The OA of each run (seed or fold) of a row, in run order, from its metrics.json."""
    paths = sorted(row.folder.glob("seed*/metrics.json"), key=lambda q: int(q.parent.name[4:]))
    if not paths:
        paths = [row.folder / "metrics.json"]
    return [float(json.loads(q.read_text())["oa"]) for q in paths]


Scored = Sequence[tuple[BenchmarkRow, list[float]]]
"""Rows of one fold protocol, each with its OA per fold (:func:`fold_scores`, read once)."""


def _comparison_cells(scores: Sequence[float], base: Sequence[float]) -> str:
    """The mean OA difference in points, the paired t p and the Wilcoxon p, as table cells."""
    c = paired_comparison(scores, base)
    return f"{c['mean_difference'] * 100:+.2f} | {c['t_p']:.3g} | {c['wilcoxon_p']:.3g}"


def _paired_lines(scored: Scored) -> list[str]:
    """Every row against the best SVM row, paired over the folds (mean OA difference, paired
    t-test and Wilcoxon p); no lines where the protocol has no SVM row."""
    svms = [(r, s) for r, s in scored if r.model == "svm"]
    if not svms:
        return []
    # the stronger SVM: the harder bar
    floor, base = max(svms, key=lambda rs: rs[0].summary["oa"]["mean"])
    lines = [
        f"Paired over the {len(base)} folds against the spectral SVM ({floor.label} recipe): "
        "a difference is called only where the paired test says so.",
        "",
        "| model | recipe | OA − SVM (points) | paired t p | Wilcoxon p |",
        "|---|---|--:|--:|--:|",
    ]
    lines += [
        f"| {row.model} | {row.label} | {_comparison_cells(scores, base)} |"
        for row, scores in scored
        if row is not floor and len(scores) == len(base)
    ]
    return [*lines, ""]


def _variant_lines(scored: Scored) -> list[str]:
    """Each variant of a network (``hybridsn_se`` of ``hybridsn``) against its base network
    under the same recipe, paired over the folds, so what an added block (attention, a
    lighter stage) changes is tested on its own."""
    bases = {(r.model, r.label): (r, s) for r, s in scored}
    pairs = []
    for row, scores in scored:
        stem = row.model.rpartition("_")[0]
        base = bases.get((stem, row.label)) if stem else None
        if base is not None and len(scores) == len(base[1]):
            pairs.append((row, scores, *base))
    if not pairs:
        return []
    lines = [
        f"Each variant against its base network, same recipe, paired over the "
        f"{len(pairs[0][1])} folds:",
        "",
        "| variant | base | recipe | OA − base (points) | paired t p | Wilcoxon p |",
        "|---|---|---|--:|--:|--:|",
    ]
    lines += [
        f"| {row.model} | {base.model} | {row.label} | {_comparison_cells(scores, base_scores)} |"
        for row, scores, base, base_scores in pairs
    ]
    return [*lines, ""]


def _first_map(row: BenchmarkRow) -> tuple[str, np.ndarray | None]:
    """The first seed's prediction with its OA as the label; ``None`` if the run has none."""
    path = row.first_run / "prediction.npy"
    if not path.exists():  # a run folder from before prediction.npy was written
        return f"{row.model}\n(no prediction.npy)", None
    oa = json.loads((row.first_run / "metrics.json").read_text())["oa"]
    name = row.model if row.recipe.startswith("common") else f"{row.model} ({row.recipe})"
    if row.precision != "fp32":
        name += f" · {row.precision}"
    return f"{name}\nOA {oa:.1%}", np.load(path)


def write_report(
    out: str | Path, rows: Sequence[BenchmarkRow], scene: Scene, meta: Mapping[str, Any]
) -> dict[str, Path]:
    """Write the table files and the map grid under ``out``; returns them by name."""
    out = Path(out)
    records = [row_record(r) for r in rows]
    paths = {name: out / name for name in FILES}
    atomic_write_bytes(paths["benchmark.md"], markdown_table(rows).encode())
    write_csv(paths["benchmark.csv"], records)
    detailed = [
        {
            **record,
            "per_class_mean": r.summary["per_class"]["mean"],
            "per_class_std": r.summary["per_class"]["std"],
        }
        for record, r in zip(records, rows, strict=True)
    ]
    write_json(
        paths["benchmark.json"],
        {
            "scene": scene.name,
            "class_names": list(scene.class_names),
            **meta,
            "environment": environment_info(),
            "rows": detailed,
        },
    )
    grid = [
        (protocol, [_first_map(r) for r in rows if r.protocol == protocol])
        for protocol in dict.fromkeys(r.protocol for r in rows)
    ]
    save_map_grid(paths["maps.png"], scene.gt, scene.class_names, grid, title=scene.name)
    return paths
