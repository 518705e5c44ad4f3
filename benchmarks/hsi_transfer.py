"""Transfer learning on Indian Pines: pre-train on the west half, fine-tune on the east half.

The scene is cut into two cubes, west (columns 0 … 65) and east (columns 79 … 144), with 13
columns between them (the SSFTT window) that neither uses. A source SSFTT is trained on every
labelled pixel of the west cube (its classes with at least ``--min-source`` pixels there, its
PCA fitted on the west cube alone). On the east cube, for each of 5, 10 and 20 labelled pixels
per class (``--shots``) and each seed, the same training pixels train five classifiers, tested
on every other labelled east pixel:

* ``scratch``: SSFTT from random weights, PCA fitted on the east cube;
* ``fine-tuned``: ``HSIClassifier(init_from=source)``: the source's weights and PCA, a new
  classifier layer for the east classes;
* ``fine-tuned-refit``: the same with a PCA fitted on the east cube (``init_transform=
  "refit"``), as scratch has;
* ``fine-tuned-lr1e-4``: fine-tuned with a learning rate of 1e-4, ten times lower (the usual
  precaution of fine-tuning, so the source's weights move less);
* ``frozen``: fine-tuned with ``freeze_features=True`` (the classifier layer alone trains).

All five use SSFTT's paper recipe (Adam 1e-3 unless said, batch 64, 100 epochs) with the
lowest-training-loss epoch kept (no test pixel chooses anything). East classes are those with
at least ``--min-target`` labelled pixels (so the largest shot leaves as many for testing).
Fine-tuned against scratch is paired over the seeds (paired t-test and exact Wilcoxon p).

Each run is kept as one JSON file under ``--out`` (default: benchmarks/results/hsi_transfer),
so ``--resume`` continues an interrupted table; the page (docs/hsi-transfer.md) and its figure
(docs/figures/hsi_transfer.png) are written from those records.

    python benchmarks/hsi_transfer.py --data-dir ../shared/datasets/indian_pines --resume
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

from _records import sample_sd, write_json
from lightnets.hsi import HSIClassifier, fixed_count_split, load_scene
from lightnets.hsi.metrics import paired_comparison
from lightnets.runs import atomic_write_bytes, environment_info

RESULTS = Path(__file__).resolve().parent / "results" / "hsi_transfer"
MODEL = "ssftt"
# name → HSIClassifier parameters beside the shared ones (the source file added to all but
# scratch)
ARMS: dict[str, dict[str, Any]] = {
    "scratch": {},
    "fine-tuned": {},
    "fine-tuned-refit": {"init_transform": "refit"},
    "fine-tuned-lr1e-4": {"lr": 1e-4},
    "frozen": {"freeze_features": True},
}
WEST_END, EAST_START = 66, 79  # columns [0, 66) and [79, 145): a 13-column gap


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", default=None)
    parser.add_argument("--out", default=str(RESULTS))
    parser.add_argument("--docs", default="docs")
    parser.add_argument("--shots", default="5,10,20", help="labelled pixels per east class")
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--epochs", type=int, default=100)
    parser.add_argument("--min-source", type=int, default=10)
    parser.add_argument("--min-target", type=int, default=40)
    parser.add_argument("--resume", action="store_true", help="keep finished runs in --out")
    args = parser.parse_args(argv)
    out = Path(args.out)
    shots = [int(s) for s in args.shots.split(",")]

    scene = load_scene("indian_pines", data_dir=args.data_dir)
    west = _half(scene, slice(0, WEST_END), args.min_source)
    east = _half(scene, slice(EAST_START, None), args.min_target)
    settings = dict(recipe="paper", keep="best", epochs=args.epochs)

    source_file = out / "source.lnet"
    source_record = out / "source.json"
    if not (args.resume and source_file.is_file() and source_record.is_file()):
        tic = time.perf_counter()
        source = HSIClassifier(MODEL, **settings, random_state=0)
        source.fit(west["cube"], west["gt"], class_names=west["names"])
        source.save(source_file)
        write_json(
            source_record,
            {
                "classes": west["names"],
                "pixels": int((west["gt"] > 0).sum()),
                "train_seconds": source.train_seconds_,
                "final_loss": source.history_[-1]["loss"],
                "best_epoch": source.best_epoch_,
                "wall_seconds": time.perf_counter() - tic,
                "settings": source.settings_,
                "environment": environment_info(),
            },
        )
        print(
            f"source: {MODEL} on {int((west['gt'] > 0).sum())} west pixels, "
            f"{source.train_seconds_:.0f} s",
            flush=True,
        )

    for n in shots:
        for seed in range(args.seeds):
            split = fixed_count_split(east["gt"], n, seed=seed, class_names=east["names"])
            for arm in ARMS:
                record = out / "runs" / f"{arm}-{n}" / f"seed{seed}.json"
                if args.resume and record.is_file():
                    continue
                extra = dict(ARMS[arm])
                if arm != "scratch":
                    extra["init_from"] = str(source_file)
                clf = HSIClassifier(MODEL, **settings, random_state=seed, **extra)
                clf.fit(east["cube"], east["gt"], split.train, class_names=east["names"])
                ev = clf.evaluate(east["cube"], east["gt"], mask=split.test)
                write_json(
                    record,
                    {
                        "arm": arm,
                        "shots": n,
                        "seed": seed,
                        **ev.as_dict(),
                        "train_pixels": int(split.train.sum()),
                        "train_seconds": clf.train_seconds_,
                        "settings": clf.settings_,
                        "environment": environment_info(),
                    },
                )
                print(
                    f"{arm:>10} {n:>2} per class, seed {seed}: OA {ev.oa:.2%} "
                    f"({clf.train_seconds_:.0f} s)",
                    flush=True,
                )

    page = _page(out, Path(args.docs))
    atomic_write_bytes(Path(args.docs) / "hsi-transfer.md", page.encode())
    print(page)
    return 0


def _half(scene: Any, cols: slice, min_pixels: int) -> dict[str, Any]:
    """The cube and ground truth of a column range, its classes with at least ``min_pixels``
    labelled pixels renumbered 1..K (the others unlabelled), and their names."""
    cube, gt = scene.cube[:, cols], scene.gt[:, cols]
    counts = np.bincount(gt.ravel(), minlength=len(scene.class_names) + 1)
    kept = [c for c in range(1, len(counts)) if counts[c] >= min_pixels]
    relabel = np.zeros(len(counts), dtype=np.int64)
    relabel[kept] = np.arange(1, len(kept) + 1)
    return {"cube": cube, "gt": relabel[gt], "names": [scene.class_names[c - 1] for c in kept]}


def _records(out: Path, arm: str, n: int) -> list[dict[str, Any]]:
    paths = sorted((out / "runs" / f"{arm}-{n}").glob("seed*.json"), key=lambda p: int(p.stem[4:]))
    return [json.loads(p.read_text()) for p in paths]


def _page(out: Path, docs: Path) -> str:
    """The page: how it was measured, then :func:`section`."""
    env = json.loads((out / "source.json").read_text())["environment"]
    command = "python benchmarks/hsi_transfer.py " + " ".join(sys.argv[1:])
    return "\n".join(
        [
            "# Transfer learning on Indian Pines: west half → east half",
            "",
            f"Command: `{command.strip()}`. Machine: {env['cpu']} ({env['cpu_count']} cores, "
            f"{env['torch_threads']} torch thread(s), GPU: {env['cuda'] or 'none'}), Python "
            f"{env['python']}, torch {env['torch']}, lightnets {env['lightnets']}; "
            f"source trained {env['utc'][:10]}.",
            "",
            *section(out, docs),
        ]
    )


def section(out: Path = RESULTS, docs: Path = Path("docs")) -> list[str]:
    """The setting, the table (mean ± std over seeds, fine-tuned against scratch paired over
    the seeds) and the figure (written to docs/figures/hsi_transfer.png), from the records in
    ``out`` alone; no lines when there are none."""
    if not (out / "source.json").is_file():
        return []
    source = json.loads((out / "source.json").read_text())
    shots = sorted({int(p.name.split("-")[-1]) for p in (out / "runs").glob("scratch-*")})
    first = _records(out, "scratch", shots[0])[0]
    classes, epochs = list(first["per_class"]), first["settings"]["epochs"]
    rows, curves = [], {arm: [] for arm in ARMS}
    for n in shots:
        oa = {arm: [r["oa"] for r in _records(out, arm, n)] for arm in ARMS}
        cells = []
        for arm in ARMS:
            a = np.array(oa[arm]) * 100
            cells.append(f"{a.mean():.2f} ± {sample_sd(a):.2f} ({len(a)})" if len(a) else "–")
            if len(a):
                curves[arm].append((n, a.mean(), sample_sd(a)))
        k = min(len(oa["fine-tuned"]), len(oa["scratch"]))
        test = "–"
        if k >= 2:
            c = paired_comparison(oa["fine-tuned"][:k], oa["scratch"][:k])
            test = (
                f"{c['mean_difference'] * 100:+.2f} (t p = {c['t_p']:.3g}, "
                f"Wilcoxon p = {c['wilcoxon_p']:.3g})"
            )
        rows.append(f"| {n} | {' | '.join(cells)} | {test} |")
    _figure(curves, docs / "figures" / "hsi_transfer.png")
    return [
        f"The scene is cut into a west cube (columns 0–{WEST_END - 1}) and an east cube "
        f"(columns {EAST_START}–144); the {EAST_START - WEST_END} columns between them are "
        f"used by neither. Source: {MODEL} trained on all {source['pixels']} labelled west "
        f"pixels of {len(source['classes'])} classes ({source['train_seconds']:.0f} s, "
        f"final training loss {source['final_loss']:.4f}), its PCA fitted on the west cube. "
        f"Target: the {len(classes)} east classes with enough labelled pixels for the largest "
        f"N and as many test pixels ({', '.join(classes)}); for each seed, N labelled pixels "
        "per class train and every other labelled east pixel tests. *scratch*: random "
        "weights, PCA fitted on the east cube; *fine-tuned*: "
        "`HSIClassifier(init_from=source)`, the source's weights and PCA with a new "
        "classifier layer; *fine-tuned-refit*: the same but a PCA fitted on the east cube "
        "(`init_transform='refit'`); *fine-tuned-lr1e-4*: fine-tuned with lr 1e-4; "
        "*frozen*: fine-tuned with `freeze_features=True`. All: "
        "SSFTT's paper "
        f"recipe (Adam 1e-3 unless said, batch 64, {epochs} epochs), lowest-training-loss "
        "epoch kept.",
        "",
        "OA (%) on the east test pixels, mean ± std over seeds (seed count in brackets); the "
        "last column is fine-tuned − scratch in points, paired over the seeds:",
        "",
        f"| labelled pixels per class | {' | '.join(ARMS)} | fine-tuned − scratch |",
        "|--:|" + "--:|" * len(ARMS) + "---|",
        *rows,
        "",
        "![OA against labelled pixels per class](figures/hsi_transfer.png)",
        "",
        f"Records: `{_shown(out)}` (one JSON per run: scores, per-class accuracy, confusion, "
        "settings, machine; the source model itself is not kept).",
        "",
    ]


def _shown(path: Path) -> str:
    """``path`` relative to the repository when inside it."""
    root = Path(__file__).resolve().parents[1]
    path = path.resolve()
    return str(path.relative_to(root)) if path.is_relative_to(root) else str(path)


def _figure(curves: dict[str, list[tuple[int, float, float]]], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(5, 3.5), dpi=120)
    for arm, points in curves.items():
        n, mean, std = (np.array(v) for v in zip(*points, strict=True))
        ax.errorbar(n, mean, yerr=std, marker="o", capsize=3, label=arm)
    ax.set_xlabel("labelled east pixels per class")
    ax.set_ylabel("OA on the east test pixels (%)")
    ax.set_xticks(sorted({p[0] for v in curves.values() for p in v}))
    ax.grid(alpha=0.3)
    ax.legend()
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp.png")
    fig.savefig(tmp)
    plt.close(fig)
    tmp.replace(path)


if __name__ == "__main__":
    raise SystemExit(main())
