"""SSFTT and HybridSN at 10 % against their papers: what the kept runs show, from records alone.

Both paper recipes miss their published figure on Indian Pines at 10 % stratified training
pixels. Each comparison here reruns the same seeds and splits with only the kept epoch changed
(the training is the same: same seed, same losses, ``history.csv``), so a paired difference
measures the epoch choice and nothing else. Read here, nothing trained:

* ``hsi_models/runs/paper10/ssftt-paper``: SSFTT's paper recipe, the last epoch kept as the
  official code does (the benchmark row);
* ``hsi_keep/ssftt-paper-lowest-loss``: the same runs, the lowest-training-loss epoch kept
  (``lightnets hsi train --model ssftt --recipe paper --train-fraction 0.1 --runs 5 --keep best
  --out …``);
* ``hsi_models/runs/paper10/hybridsn``: HybridSN's paper recipe, the lowest-training-loss epoch
  kept (the benchmark row);
* ``hsi_keep/hybridsn-train-acc``: the same runs, the epoch of best training accuracy kept, as
  the official notebook's Keras checkpoint does (``… --model hybridsn --keep train_acc``);
* ``hsi_precision/paper30-fp32``: HybridSN at 30 %, the protocol the official code runs
  (``lightnets hsi train --train-fraction 0.3 --runs 3``).

    python benchmarks/hsi_paper_gaps.py
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
SSFTT_LAST = RESULTS / "hsi_models/runs/paper10/ssftt-paper"
SSFTT_LOWEST_LOSS = RESULTS / "hsi_keep/ssftt-paper-lowest-loss"
HYBRIDSN_LOWEST_LOSS = RESULTS / "hsi_models/runs/paper10/hybridsn"
HYBRIDSN_TRAIN_ACC = RESULTS / "hsi_keep/hybridsn-train-acc"
HYBRIDSN_PAPER30 = RESULTS / "hsi_precision/paper30-fp32"
# OA % the reproduction is asked to reach (issue targets, beside each paper's figure)
TARGET = {("ssftt", "paper10"): 97.5, ("hybridsn", "paper10"): 97.9,
          ("hybridsn", "paper30"): 99.5}


def _published(model: str, protocol: str) -> tuple[str, float]:
    """The paper's figure for ``protocol`` as the model's recipe cites it, and its mean."""
    text = get_recipe(model, "paper").published[protocol]
    return text, float(text.split()[0])


def _verdict(model: str, protocol: str, oa: float) -> str:
    target = TARGET[(model, protocol)]
    return f"target ≥ {target}: {'met' if oa >= target else 'missed'}"


def _kept_epochs(row: dict, other: dict, labels: tuple[str, str]) -> tuple[list[str], dict]:
    """Per-seed OA (and kept epoch) of the row's runs and of the same runs keeping another
    epoch, with the paired comparison (other − row)."""
    seeds = sorted(set(row) & set(other))
    a = np.array([row[s]["oa"] for s in seeds])
    b = np.array([other[s]["oa"] for s in seeds])
    lines = [
        f"| seed | OA %, {labels[0]} (epoch) | OA %, {labels[1]} (epoch) |",
        "|--:|--:|--:|",
        *(
            f"| {s} | {row[s]['oa']:.2f} ({row[s]['best_epoch']}) | "
            f"{other[s]['oa']:.2f} ({other[s]['best_epoch']}) |"
            for s in seeds
        ),
        f"| mean ± sd | {a.mean():.2f} ± {sample_sd(a):.2f} | "
        f"{b.mean():.2f} ± {sample_sd(b):.2f} |",
        "",
    ]
    return lines, {"row": a, "other": b, **paired_comparison(b, a)}


def ssftt_section() -> list[str]:
    """SSFTT: the official code keeps its last epoch; the same runs keeping the
    lowest-training-loss epoch instead. Empty when either set of records is missing."""
    last, low = finished(SSFTT_LAST), finished(SSFTT_LOWEST_LOSS)
    if len(set(last) & set(low)) < 2:
        return []
    cited, paper = _published("ssftt", "paper10")
    lines, c = _kept_epochs(last, low, ("the recipe's last epoch", "lowest training loss"))
    a, b = c["row"], c["other"]
    return [
        "**SSFTT.** The official code trains 100 epochs at a constant learning rate and tests "
        "the last one; here the training loss of the last epochs jumps between about 0.02 and "
        "0.3 from one epoch to the next (each run's `history.csv`), so which epoch is tested "
        "matters:",
        "",
        *lines,
        f"Published: {cited}. The recipe's last epoch sits {a.mean() - paper:+.2f} points from "
        f"it ({_verdict('ssftt', 'paper10', a.mean())}). Keeping the lowest-training-loss "
        f"epoch of the same runs, a choice that sees training pixels only, changes OA by "
        f"{c['mean_difference']:+.2f} points paired over the seeds (t p {c['t_p']:.3g}, "
        f"Wilcoxon p {c['wilcoxon_p']:.3g}) to {b.mean():.2f} % ({b.mean() - paper:+.2f} "
        f"from the published run; {_verdict('ssftt', 'paper10', b.mean())}) and narrows the "
        f"spread over seeds from {sample_sd(a):.2f} to {sample_sd(b):.2f}. The last epoch is "
        "part of the gap, not all of it: no run of either column reaches the published one "
        f"(highest {max(a.max(), b.max()):.2f} %), and a single published run does not say "
        "how far its seed lies from the mean.",
        "",
    ]


def hybridsn_section() -> list[str]:
    """HybridSN: the kept-epoch comparison and the 30 % check. Empty when the 10 % records
    are missing."""
    low, acc, wide = (finished(HYBRIDSN_LOWEST_LOSS), finished(HYBRIDSN_TRAIN_ACC),
                      finished(HYBRIDSN_PAPER30))
    if len(set(low) & set(acc)) < 2:
        return []
    cited10, paper10 = _published("hybridsn", "paper10")
    lines, c = _kept_epochs(low, acc, ("lowest training loss", "best training accuracy"))
    a = c["row"]
    one = stats.ttest_1samp(a, paper10)
    lines = [
        "**HybridSN.** The benchmark row keeps the lowest-training-loss epoch; the official "
        "notebook keeps the epoch of best training accuracy:",
        "",
        *lines,
        f"Published: {cited10} (the number of runs is not stated). The lowest-loss runs sit "
        f"{a.mean() - paper10:+.2f} points from it (one-sample t p {one.pvalue:.3g}; "
        f"{_verdict('hybridsn', 'paper10', a.mean())}). Keeping the epoch of best training "
        f"accuracy instead, as the official notebook does, changes OA by "
        f"{c['mean_difference']:+.2f} points paired over the seeds (t p {c['t_p']:.3g}, "
        f"Wilcoxon p {c['wilcoxon_p']:.3g}): the kept epoch does not close the gap. The "
        "network is initialised as Keras does (Glorot uniform, zero biases; "
        "`lightnets/models/hybridsn.py`), so that is not it either.",
        "",
    ]
    if len(wide) >= 2:
        cited30, paper30 = _published("hybridsn", "paper30")
        w = np.array([wide[s]["oa"] for s in sorted(wide)])
        lines += [
            f"At 30 %, the protocol of the official code, {len(w)} seeds "
            f"({', '.join(f'{x:.2f}' for x in w)}) give {w.mean():.2f} ± {sample_sd(w):.2f} % "
            f"against the published {cited30} ({w.mean() - paper30:+.2f} points; "
            f"{_verdict('hybridsn', 'paper30', w.mean())}): where the paper's code was "
            "published, the pipeline and network reproduce it. The 10 % gap stays unexplained "
            f"by what was measured (our seeds span {a.min():.2f}–{a.max():.2f} %).",
            "",
        ]
    return lines


def section() -> list[str]:
    """Both models' sections as markdown lines (each empty without its records)."""
    return [*ssftt_section(), *hybridsn_section()]


def main() -> int:
    print("\n".join(section()) or "no kept 10 % records")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
