"""HybridSN on Indian Pines under three protocols, several seeds: the table in docs/.

Protocols (``lightnets.hsi.benchmark.PROTOCOLS``; PCA 30 whitened on the scene, 25×25
windows, Adam 1e-3, batch 256):
``paper30`` the HybridSN paper's 30 % stratified random split; ``paper10`` 10 %; ``regions``
spatially disjoint: 10 % of each class taken as one region (``region_split``), test pixels at
least a window radius from any training pixel (overlap 0 %), to compare with ``paper10``.
Each protocol runs once per batching rule in ``--batching`` (``random``: i.i.d. batches, the
paper's; ``mixed``: compact groups, faster), or as listed in ``--rows``. Writes
``docs/hsi-indian-pines.md`` and a map per row under ``docs/figures/``; prints the same table
with the machine and versions.

    python benchmarks/hsi_indian_pines.py --seeds 3 --epochs 100
"""

from __future__ import annotations

import argparse
import shutil
import sys
from datetime import date
from pathlib import Path

from lightnets.hsi.benchmark import PROTOCOLS
from lightnets.hsi.config import ExperimentConfig
from lightnets.hsi.experiment import run_experiment
from lightnets.hsi.scenes import load_scene
from lightnets.runs import environment_info

PAPER = {"paper30": "99.75 ± 0.11 / 99.63 / 99.71", "paper10": "98.39 / 98.01 / 98.16"}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--epochs", type=int, default=100)
    parser.add_argument("--protocols", default=",".join(PROTOCOLS))
    parser.add_argument("--batching", default="random,mixed",
                        help="comma-separated engine batching rules, one row each "
                             "(random: i.i.d. batches as the paper; mixed, spatial: faster)")
    parser.add_argument("--rows", default=None,
                        help="explicit protocol:batching[:seeds] rows, e.g. "
                             "paper30:random,regions:random:2 (instead of every --protocols × "
                             "--batching pair with --seeds seeds)")
    parser.add_argument("--data-dir", default=None)
    parser.add_argument("--runs-dir", default="runs/bench_indian_pines")
    parser.add_argument("--docs", default="docs", help="where the page and figures go")
    parser.add_argument("--resume", action="store_true",
                        help="reuse finished runs in --runs-dir, continue interrupted ones")
    args = parser.parse_args(argv)

    env = environment_info()
    scene = load_scene("indian_pines", data_dir=args.data_dir)
    rows = []
    rows_spec = [(p, b, args.seeds) for p in args.protocols.split(",")
                 for b in args.batching.split(",")]
    if args.rows:
        rows_spec = [_row(item, args.seeds) for item in args.rows.split(",")]
    for name, batching, seeds in rows_spec:
        config = ExperimentConfig(scene="indian_pines", epochs=args.epochs, runs=seeds,
                                  batching=batching, **PROTOCOLS[name])
        out = Path(args.runs_dir) / f"{name}-{batching}"
        result = run_experiment(config, out, scene=scene, progress=False, resume=args.resume)
        rows.append((f"{name} {batching}", config, result["summary"], out))

    page = _page(rows, args, env, scene)
    print(page)
    docs = Path(args.docs)
    (docs / "figures").mkdir(parents=True, exist_ok=True)
    for name, config, _, out in rows:
        first = out if config.runs == 1 else out / "seed0"
        figure = f"indian_pines_{name.replace(' ', '_')}_map.png"
        shutil.copyfile(first / "map.png", docs / "figures" / figure)
    (docs / "hsi-indian-pines.md").write_text(page)
    return 0


def _row(item: str, seeds: int) -> tuple[str, str, int]:
    """``"paper30:random"`` or ``"regions:random:2"`` → (protocol, batching, seeds)."""
    parts = item.split(":")
    if len(parts) not in (2, 3) or parts[0] not in PROTOCOLS:
        raise SystemExit(f"--rows: expected protocol:batching[:seeds] with a protocol in "
                         f"{sorted(PROTOCOLS)}, got {item!r}")
    return parts[0], parts[1], int(parts[2]) if len(parts) == 3 else seeds


def _pm(stat: dict, scale: float = 100.0, digits: int = 2) -> str:
    return f"{stat['mean'] * scale:.{digits}f} ± {stat['std'] * scale:.{digits}f}"


def _page(rows, args, env, scene) -> str:
    command = "python benchmarks/hsi_indian_pines.py " + " ".join(sys.argv[1:])
    lines = [
        "# HybridSN on Indian Pines: accuracy under fair protocols",
        "",
        f"Measured {date.today().isoformat()} on {env['cpu']} ({env['cpu_count']} cores, "
        f"{env['torch_threads']} torch threads), Python {env['python']}, torch {env['torch']}, "
        f"lightnets {env['lightnets']}; seeds 0, 1, … (column *seeds*), "
        f"{args.epochs} epochs; 1-min load "
        f"average {env.get('load_average_1min', 'n/a')} at the start (seconds are rough on a "
        f"shared machine).",
        "",
        f"Command: `{command.strip()}`",
        "",
        "PCA to 30 components whitened on the whole scene (the paper's choice), 25×25 windows, "
        "Adam 1e-3, batch 256, 100 epochs, the lowest-training-loss epoch kept (no test pixel "
        "is used for selection). *Overlap* is the share of test pixels whose 25×25 window "
        "contains a training pixel.",
        "",
        "Protocols: `paper30` and `paper10` are the paper's stratified random splits (30 % and "
        "10 % of each class); `regions` is spatially disjoint: 10 % of each class taken as one "
        "region on one side of a line through the class (`--split regions`), and only test "
        "pixels at least a window radius (12 px) from every training pixel kept, so no test "
        "window sees a training pixel. Classes whose only field is narrower than that buffer "
        "have no test pixels there (blank below).",
        "",
        "Batching: `random` is the paper's i.i.d. batches (the default); `mixed` builds each "
        "batch from 4 compact groups of neighbouring pixels, about 3.5× faster per epoch on "
        "the scene path (`benchmarks/hsi_speed.py`) but a different optimisation: neighbouring "
        "pixels are near-duplicates, so a batch carries less information.",
        "",
        "| protocol, batching | seeds | train px | test px | overlap % | OA % | AA % | "
        "kappa × 100 | train s | map s | wall s | paper (OA / AA / kappa) |",
        "|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|---|",
    ]
    for name, config, s, _out in rows:
        wall = _pm(s["wall_seconds"], 1, 0) if "wall_seconds" in s else "—"
        lines.append(
            f"| {name} | {config.runs} | {s['train_pixels']['mean']:.0f} | "
            f"{s['test_pixels']['mean']:.0f} | "
            f"{_pm(s['overlap'], digits=1)} | {_pm(s['oa'])} | {_pm(s['aa'])} | "
            f"{_pm(s['kappa'])} | {_pm(s['train_seconds'], 1, 0)} | "
            f"{_pm(s['map_seconds'], 1)} | {wall} | {PAPER.get(name.split()[0], '—')} |"
        )
    lines += ["", "Per-class accuracy % (mean ± std over seeds; blank: no test pixels):", "",
              "| # | class | " + " | ".join(r[0] for r in rows) + " |",
              "|--:|---|" + "--:|" * len(rows)]
    for i, cname in enumerate(scene.class_names):
        cells = []
        for _, _, s, _ in rows:
            mean, std = s["per_class"]["mean"][i], s["per_class"]["std"][i]
            cells.append("" if mean != mean else f"{mean * 100:.1f} ± {std * 100:.1f}")
        lines.append(f"| {i + 1} | {cname} | " + " | ".join(cells) + " |")
    lines += [""] + [
        f"![{name}](figures/indian_pines_{name.replace(' ', '_')}_map.png)" for name, *_ in rows
    ]
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    raise SystemExit(main())
