"""HybridSN at 10 % against its paper: what the kept runs rule out, from their records alone.

The paper (Roy et al., IEEE GRSL 2020, Table V) reports 98.39 ± 0.4 % OA on Indian Pines at
10 % stratified training pixels; its official notebook runs the 30 % protocol only. Read here,
nothing trained:

* ``hsi_models/runs/paper10/hybridsn``: the paper recipe at 10 %, the lowest-training-loss
  epoch kept (the benchmark row);
* ``hsi_keep/hybridsn-train-acc``: the same seeds and splits, the epoch of best training
  accuracy kept, as the official notebook's Keras checkpoint does (``lightnets hsi train
  --train-fraction 0.1 --runs 5 --keep train_acc --out …``); the training itself is the same
  (same seed, same losses), only the kept epoch differs;
* ``hsi_precision/paper30-fp32``: the 30 % protocol, the one the official code runs
  (``lightnets hsi train --train-fraction 0.3 --runs 3``).

    python benchmarks/hsi_hybridsn_gap.py
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from scipy import stats

from _records import sample_sd
from hsi_precision import finished
from lightnets.hsi.metrics import paired_comparison
from lightnets.hsi.recipes import get_recipe

RESULTS = Path(__file__).resolve().parent / "results"
LOWEST_LOSS = RESULTS / "hsi_models/runs/paper10/hybridsn"
TRAIN_ACC = RESULTS / "hsi_keep/hybridsn-train-acc"
PAPER30 = RESULTS / "hsi_precision/paper30-fp32"
TARGET = {"paper10": 97.9, "paper30": 99.5}  # OA % the reproduction is asked to reach


def _published(protocol: str) -> tuple[str, float]:
    """The paper's figure for ``protocol`` as the recipe cites it, and its mean."""
    text = get_recipe("hybridsn", "paper").published[protocol]
    return text, float(text.split()[0])


def section() -> list[str]:
    """The per-seed table, the kept-epoch comparison and the 30 % check, as markdown lines;
    empty when the 10 % records are missing."""
    low, acc, wide = finished(LOWEST_LOSS), finished(TRAIN_ACC), finished(PAPER30)
    seeds = sorted(set(low) & set(acc))
    if len(seeds) < 2:
        return []
    cited10, paper10 = _published("paper10")
    a = np.array([low[s]["oa"] for s in seeds])
    b = np.array([acc[s]["oa"] for s in seeds])
    c = paired_comparison(b, a)
    one = stats.ttest_1samp(a, paper10)
    lines = [
        "| seed | OA %, lowest training loss (epoch) | OA %, best training accuracy (epoch) |",
        "|--:|--:|--:|",
        *(
            f"| {s} | {low[s]['oa']:.2f} ({low[s]['best_epoch']}) | "
            f"{acc[s]['oa']:.2f} ({acc[s]['best_epoch']}) |"
            for s in seeds
        ),
        f"| mean ± sd | {a.mean():.2f} ± {sample_sd(a):.2f} | "
        f"{b.mean():.2f} ± {sample_sd(b):.2f} |",
        "",
        f"Published: {cited10} (the number of runs is not stated). The lowest-loss runs sit "
        f"{a.mean() - paper10:+.2f} points from it (one-sample t p {one.pvalue:.3g}; target "
        f"≥ {TARGET['paper10']}: {'met' if a.mean() >= TARGET['paper10'] else 'missed'}). "
        "Keeping the epoch of best training accuracy instead, as the official notebook "
        f"does, changes OA by {c['mean_difference']:+.2f} points paired over the seeds "
        f"(t p {c['t_p']:.3g}, Wilcoxon p {c['wilcoxon_p']:.3g}): the kept epoch does not "
        "close the gap. The network is initialised as Keras does (Glorot uniform, zero "
        "biases; `lightnets/models/hybridsn.py`), so that is not it either.",
        "",
    ]
    if len(wide) >= 2:
        cited30, paper30 = _published("paper30")
        w = np.array([wide[s]["oa"] for s in sorted(wide)])
        lines += [
            f"At 30 %, the protocol of the official code, {len(w)} seeds "
            f"({', '.join(f'{x:.2f}' for x in w)}) give {w.mean():.2f} ± {sample_sd(w):.2f} % "
            f"against the published {cited30} ({w.mean() - paper30:+.2f} points; target "
            f"≥ {TARGET['paper30']}: {'met' if w.mean() >= TARGET['paper30'] else 'missed'}): "
            "where the paper's code was published, the pipeline and network reproduce it. "
            "The 10 % gap stays unexplained by what was measured (our seeds span "
            f"{a.min():.2f}–{a.max():.2f} %).",
            "",
        ]
    return lines


def main() -> int:
    print("\n".join(section()) or "no kept 10 % records")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
