"""HybridSN's accuracy in bf16 against fp32 on Indian Pines, from kept run folders.

Each protocol pairs two folders of ``lightnets hsi train`` runs (``seed0``, ``seed1``, …) made
with the same settings but the precision: ``paper10`` (10 % stratified, the paper recipe) and
``paper30`` (30 %, the paper's protocol: fp32 runs of ``lightnets hsi train --train-fraction
0.3 --runs 3``, bf16 runs of ``hsi_speed.py --protocol 3``, timed on an otherwise idle CPU).
Printed per protocol: the OA of each seed both have, the means ± sample standard deviations,
the mean paired difference, and the check of the target: bf16's mean within 0.3 points of
fp32's at 30 %, within the seeds' spread (the larger standard deviation) at 10 %. Nothing is
trained here; a folder that is missing is reported as such.

    python benchmarks/hsi_precision.py
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

from _records import sample_sd

RESULTS = Path(__file__).resolve().parent / "results"
PAIRS = {
    "paper10": (
        RESULTS / "hsi_models/runs/paper10/hybridsn",
        RESULTS / "hsi_precision/paper10-bf16",
    ),
    "paper30": (RESULTS / "hsi_precision/paper30-fp32", RESULTS / "hsi_speed/protocol-bf16"),
}
TOLERANCE = {"paper30": 0.3}  # points of OA; paper10: the seeds' spread


def finished(folder: Path) -> dict[int, dict]:
    """Seed → (OA %, precision, training seconds) of the finished runs in ``folder``."""
    runs = {}
    for metrics in sorted(folder.glob("seed*/metrics.json")):
        if (metrics.parent / "checkpoint.pt").exists():
            continue  # interrupted
        m = json.loads(metrics.read_text())
        config = json.loads((metrics.parent / "config.json").read_text())["experiment"]
        runs[int(m["seed"])] = {
            "oa": 100 * m["oa"],
            "precision": config.get("precision", "fp32"),  # runs older than the setting
            "train_seconds": m["train_seconds"],
        }
    return runs


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.parse_args(argv)
    for protocol, (full_dir, mixed_dir) in PAIRS.items():
        full, mixed = finished(full_dir), finished(mixed_dir)
        seeds = sorted(set(full) & set(mixed))
        print(f"\n{protocol}: fp32 {full_dir.relative_to(RESULTS)} ({len(full)} runs), "
              f"bf16 {mixed_dir.relative_to(RESULTS)} ({len(mixed)} runs)")
        if not seeds:
            print("  no seed finished in both: nothing to compare")
            continue
        assert {full[s]["precision"] for s in seeds} == {"fp32"}, full_dir
        assert {mixed[s]["precision"] for s in seeds} == {"bf16"}, mixed_dir
        a = np.array([full[s]["oa"] for s in seeds])
        b = np.array([mixed[s]["oa"] for s in seeds])
        for s, x, y in zip(seeds, a, b, strict=True):
            print(f"  seed {s}: fp32 {x:6.2f} %  bf16 {y:6.2f} %  (bf16 − fp32 {y - x:+.2f}); "
                  f"training {full[s]['train_seconds']:.0f} s / {mixed[s]['train_seconds']:.0f} s")
        diff = b.mean() - a.mean()
        bound = TOLERANCE.get(protocol, max(sample_sd(a), sample_sd(b)))
        what = "0.3 points" if protocol in TOLERANCE else "the seeds' spread"
        verdict = "met" if abs(diff) <= bound else "NOT met"
        print(f"  mean over {len(seeds)} seeds: fp32 {a.mean():.2f} ± {sample_sd(a):.2f} %, "
              f"bf16 {b.mean():.2f} ± {sample_sd(b):.2f} %; bf16 − fp32 {diff:+.2f} points; "
              f"target |difference| ≤ {what} ({bound:.2f}): {verdict}")
        print("  (training seconds are those of the runs as made: other jobs may have shared "
              "the CPU; hsi_speed.py times precisions side by side)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
