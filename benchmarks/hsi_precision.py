"""HybridSN's accuracy in bf16 against fp32 on Indian Pines, from kept run folders.

Each protocol pairs two folders of ``lightnets hsi train`` runs (``seed0``, ``seed1``, …) made
with the same settings but the precision: ``paper10`` (10 % stratified, the paper recipe) and
``paper30`` (30 %, the paper's protocol: fp32 runs of ``lightnets hsi train --train-fraction
0.3 --runs 3``, bf16 runs of ``hsi_speed.py --protocol 3``, timed on an otherwise idle CPU).
Printed per protocol: the OA of each seed both have, the means ± sample standard deviations,
the mean paired difference, and the check of the target: bf16's mean within 0.3 points of
fp32's at 30 %, within the seeds' spread (the larger standard deviation) at 10 %. Nothing is
trained here; a folder that is missing is reported as such.

Then the **time to a result**, the whole paper protocol at 30 % end to end (split, PCA, 100
epochs, full-scene map, scoring; ``wall_seconds`` of each run) against the target of ≤ 10
minutes with a mean OA ≥ 99.5 % over 3 seeds on this 2-core CPU, for each kept protocol
folder: bf16 with the paper's i.i.d. batches (``hsi_speed.py --protocol 3``) and bf16 with
``--batching mixed`` (each batch 4 compact groups of neighbouring pixels: ``lightnets hsi
train --train-fraction 0.3 --runs 3 --precision bf16 --batching mixed``), both made on an
otherwise idle CPU; the fp32 runs are listed too (made beside other jobs, so slower than
alone: ``hsi_speed.py``'s epoch rows compare precisions side by side). ``--docs`` writes the
printout as docs/hsi-precision.md.

    python benchmarks/hsi_precision.py [--docs]
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

from _records import Transcript, sample_sd, write_page

RESULTS = Path(__file__).resolve().parent / "results"
PAIRS = {
    "paper10": (
        RESULTS / "hsi_models/runs/paper10/hybridsn",
        RESULTS / "hsi_precision/paper10-bf16",
    ),
    "paper30": (RESULTS / "hsi_precision/paper30-fp32", RESULTS / "hsi_speed/protocol-bf16"),
}
TOLERANCE = {"paper30": 0.3}  # points of OA; paper10: the seeds' spread
PROTOCOLS = {  # the paper protocol at 30 %, end to end
    "bf16, i.i.d. batches (the paper's)": RESULTS / "hsi_speed/protocol-bf16",
    "bf16, mixed batches": RESULTS / "hsi_speed/protocol-bf16-mixed",
    "fp32, i.i.d. batches (beside other jobs)": RESULTS / "hsi_precision/paper30-fp32",
}
TARGET_MINUTES, TARGET_OA = 10.0, 99.5  # issue target on this 2-core CPU
PAPER_MINUTES = 14.1  # HybridSN paper: the Indian Pines protocol on a GTX 1060
DOCS = Path(__file__).resolve().parents[1] / "docs" / "hsi-precision.md"


def finished(folder: Path) -> dict[int, dict]:
    """Seed → (OA %, precision, training seconds, epochs) of the finished runs in ``folder``."""
    runs = {}
    for metrics in sorted(folder.glob("seed*/metrics.json")):
        if (metrics.parent / "checkpoint.pt").exists():
            continue  # interrupted
        m = json.loads(metrics.read_text())
        config = json.loads((metrics.parent / "config.json").read_text())["experiment"]
        env = json.loads((metrics.parent / "config.json").read_text()).get("environment", {})
        runs[int(m["seed"])] = {
            "oa": 100 * m["oa"],
            "precision": config.get("precision", "fp32"),  # runs older than the setting
            "batching": config.get("batching", "random"),
            "train_seconds": m["train_seconds"],
            "wall_seconds": m["wall_seconds"],
            "best_epoch": m["best_epoch"],
            "epochs": m["epochs"],
            "machine": f"{env.get('cpu', '?')}, {env.get('cpu_count', '?')} CPUs, torch "
                       f"{env.get('torch', '?')}, torch threads {env.get('torch_threads', '?')}",
        }
    return runs


def compare_precisions(say) -> None:
    """OA per seed in both precisions, per protocol, with the target check."""
    for protocol, (fp32_dir, bf16_dir) in PAIRS.items():
        fp32, bf16 = finished(fp32_dir), finished(bf16_dir)
        seeds = sorted(set(fp32) & set(bf16))
        say(f"{protocol}: fp32 {fp32_dir.relative_to(RESULTS)} ({len(fp32)} runs), "
            f"bf16 {bf16_dir.relative_to(RESULTS)} ({len(bf16)} runs)")
        if not seeds:
            say("  no seed finished in both: nothing to compare\n")
            continue
        assert {fp32[s]["precision"] for s in seeds} == {"fp32"}, fp32_dir
        assert {bf16[s]["precision"] for s in seeds} == {"bf16"}, bf16_dir
        a = np.array([fp32[s]["oa"] for s in seeds])
        b = np.array([bf16[s]["oa"] for s in seeds])
        for s, x, y in zip(seeds, a, b, strict=True):
            say(f"  seed {s}: fp32 {x:6.2f} %  bf16 {y:6.2f} %  (bf16 − fp32 {y - x:+.2f}); "
                f"training {fp32[s]['train_seconds']:.0f} s / {bf16[s]['train_seconds']:.0f} s")
        diff = b.mean() - a.mean()
        bound = TOLERANCE.get(protocol, max(sample_sd(a), sample_sd(b)))
        what = "0.3 points" if protocol in TOLERANCE else "the seeds' spread"
        verdict = "met" if abs(diff) <= bound else "NOT met"
        say(f"  mean over {len(seeds)} seeds: fp32 {a.mean():.2f} ± {sample_sd(a):.2f} %, "
            f"bf16 {b.mean():.2f} ± {sample_sd(b):.2f} %; bf16 − fp32 {diff:+.2f} points; "
            f"target |difference| ≤ {what} ({bound:.2f}): {verdict}")
        say("  (training seconds are those of the runs as made: other jobs may have shared "
            "the CPU; hsi_speed.py times precisions side by side)\n")


def time_to_result(say) -> None:
    """Minutes end to end and OA per seed of each kept paper-protocol folder, with the target."""
    say(f"time to a result: the paper protocol at 30 % end to end; target ≤ {TARGET_MINUTES:.0f} "
        f"min with mean OA ≥ {TARGET_OA} % over 3 seeds (the paper: {PAPER_MINUTES} min on a "
        "GTX 1060)")
    for name, folder in PROTOCOLS.items():
        runs = finished(folder)
        say(f"  {name}: {folder.relative_to(RESULTS)}")
        if not runs:
            say("    no finished run")
            continue
        for seed, r in sorted(runs.items()):
            say(f"    seed {seed}: {r['wall_seconds'] / 60:6.2f} min end to end, OA "
                f"{r['oa']:.2f} % ({r['precision']}, {r['batching']} batches; {r['machine']})")
        minutes = np.array([r["wall_seconds"] / 60 for r in runs.values()])
        oa = np.array([r["oa"] for r in runs.values()])
        met = len(runs) >= 3 and minutes.max() <= TARGET_MINUTES and oa.mean() >= TARGET_OA
        say(f"    mean {minutes.mean():.2f} min (slowest {minutes.max():.2f}), OA {oa.mean():.2f} "
            f"± {sample_sd(oa):.2f} % over {len(runs)} seeds: target {'met' if met else 'NOT met'}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--docs", nargs="?", const=str(DOCS), help="also write the page")
    args = parser.parse_args(argv)
    say = Transcript()
    compare_precisions(say)
    time_to_result(say)
    if args.docs:
        write_page(
            args.docs,
            "HybridSN in bf16: accuracy against fp32, and the time to a result",
            "From the kept run folders under `benchmarks/results` (each run's machine is printed "
            "beside it). bf16 here is autocast per forward pass with float32 weights, optimiser "
            "state and loss (`lightnets/precision.py`); epoch and map seconds side by side are in "
            "[hsi-speed.md](hsi-speed.md).",
            say,
            argv=argv,
        )
        print(f"wrote {args.docs}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
