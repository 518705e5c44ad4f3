"""SSFTT and HybridSN at 10 % against their papers: what the kept runs show, from records alone.

Both paper recipes missed their published figure on Indian Pines at 10 % stratified training
pixels. Each table here sets the benchmark row beside runs of the same seeds and splits with one
setting changed, paired by seed. (Pairs recorded with different numbers of torch threads sum in
another order and drift apart after a few epochs: each is two trainings of one seed, not one
training kept at two epochs.) Read here, nothing trained:

* ``hsi_models/superseded/paper10/ssftt-paper-last-batch-keep``: SSFTT's paper recipe as it
  was, the last epoch kept as the official code does, 1025 training pixels cut into 16 batches
  of 64 and one of a single pixel (``--last-batch keep``);
* ``hsi_keep/ssftt-paper-lowest-loss``: the lowest-training-loss epoch kept instead
  (``lightnets hsi train --model ssftt --recipe paper --train-fraction 0.1 --runs 5 --keep best
  --last-batch keep --out …``);
* ``hsi_models/runs/paper10/ssftt-paper``: the recipe now, the last epoch, the batches cut
  evenly (``last_batch="even"``; the benchmark row);
* ``hsi_keep/ssftt-rounding``: the recipe's seed 1 again, its split passed in as masks
  (``stratified_split(gt, 0.1, seed=1)`` saved as ``train_mask.npy``/``test_mask.npy``, then
  ``lightnets hsi train --model ssftt --recipe paper --split masks --train-mask … --test-mask …
  --seed 1``): the same pixels, seed and settings, differing only in rounding;
* ``hsi_models/runs/paper10/hybridsn``: HybridSN's paper recipe, the lowest-training-loss epoch
  kept (the benchmark row);
* ``hsi_keep/hybridsn-train-acc``: the epoch of best training accuracy kept, as the official
  notebook's Keras checkpoint does (``… --model hybridsn --keep train_acc``);
* ``hsi_keep/hybridsn-even``: the batches cut evenly (``… --model hybridsn --last-batch even``);
* ``hsi_keep/published-split``: the split both official codes draw (``hsi_published_split.py``);
* ``hsi_keep/keras-control``: the network and recipe trained by Keras 3 itself on the official
  split (``hsi_keras_control.py``, run from a venv of its own);
* ``hsi_precision/paper30-fp32``: HybridSN at 30 %, the protocol the official code runs
  (``lightnets hsi train --train-fraction 0.3 --runs 3``).

    python benchmarks/hsi_paper_gaps.py
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
from scipy import stats

import hsi_published_split
from _records import sample_sd
from hsi_keras_control import EPOCHS as KERAS_EPOCHS
from hsi_precision import finished
from lightnets.hsi.metrics import paired_comparison
from lightnets.hsi.recipes import get_recipe

RESULTS = Path(__file__).resolve().parent / "results"
SSFTT_LAST = RESULTS / "hsi_models/superseded/paper10/ssftt-paper-last-batch-keep"
SSFTT_LOWEST_LOSS = RESULTS / "hsi_keep/ssftt-paper-lowest-loss"
SSFTT_EVEN = RESULTS / "hsi_models/runs/paper10/ssftt-paper"
SSFTT_ROUNDING = RESULTS / "hsi_keep/ssftt-rounding"
HYBRIDSN_LOWEST_LOSS = RESULTS / "hsi_models/runs/paper10/hybridsn"
HYBRIDSN_TRAIN_ACC = RESULTS / "hsi_keep/hybridsn-train-acc"
HYBRIDSN_EVEN = RESULTS / "hsi_keep/hybridsn-even"
HYBRIDSN_PAPER30 = RESULTS / "hsi_precision/paper30-fp32"
HYBRIDSN_OFFICIAL_SPLIT = hsi_published_split.OUT / "hybridsn"
KERAS_CONTROL = RESULTS / "hsi_keep/keras-control"
# OA % the reproduction is asked to reach (issue targets, beside each paper's figure)
TARGET = {("ssftt", "paper10"): 97.5, ("hybridsn", "paper10"): 97.9,
          ("hybridsn", "paper30"): 99.5}


def _published(model: str, protocol: str) -> tuple[str, float]:
    """The paper's figure for ``protocol`` as the model's recipe cites it, and its mean."""
    text = get_recipe(model, "paper").published[protocol]
    return text, float(text.split()[0])


def _met(model: str, protocol: str, oa: float) -> bool:
    return oa >= TARGET[(model, protocol)]


def _verdict(model: str, protocol: str, oa: float) -> str:
    met = _met(model, protocol, oa)
    return f"target ≥ {TARGET[(model, protocol)]}: {'met' if met else 'missed'}"


def _table(columns: list[tuple[str, dict]]) -> tuple[list[str], list[dict]]:
    """Per-seed OA % (kept epoch) of each column's runs, over the seeds of the first column;
    and each later column against the first, paired over the seeds both hold (the
    comparison's ``oa`` is that column's mean over all its runs)."""
    seeds = sorted(columns[0][1])
    cell = {
        label: {s: f"{runs[s]['oa']:.2f} ({runs[s]['best_epoch']})" for s in runs}
        for label, runs in columns
    }
    lines = [
        "| seed | " + " | ".join(f"OA %, {label} (epoch)" for label, _ in columns) + " |",
        "|--:|" + "--:|" * len(columns),
        *(
            f"| {s} | " + " | ".join(cell[label].get(s, "—") for label, _ in columns) + " |"
            for s in seeds
        ),
    ]
    means = []
    for _, runs in columns:
        oa = np.array([runs[s]["oa"] for s in sorted(runs)])
        means.append(f"{oa.mean():.2f} ± {sample_sd(oa):.2f}" if len(oa) else "—")
    lines += ["| mean ± sd | " + " | ".join(means) + " |", ""]
    base = columns[0][1]
    compared = []
    for _, runs in columns[1:]:
        both = sorted(set(base) & set(runs))
        if len(both) < 2:
            compared.append({})
            continue
        a = np.array([base[s]["oa"] for s in both])
        b = np.array([runs[s]["oa"] for s in both])
        every = np.array([runs[s]["oa"] for s in sorted(runs)])
        compared.append({"n": len(both), "oa": every.mean(), "sd": sample_sd(every),
                         **paired_comparison(b, a)})
    return lines, compared


def _even(folder: Path, batch_size: int) -> str:
    """The even batches of ``folder``'s training pixels, in words."""
    n = hsi_published_split.train_pixels(folder) or 0
    k = -(-n // batch_size)
    sizes = sorted({n // k, -(-n // k)}) if k else []
    return f"{k} batches of {' or '.join(map(str, sizes))}"


def _paired(c: dict) -> str:
    """A paired comparison in words."""
    return (f"{c['mean_difference']:+.2f} points paired over {c['n']} seeds (t p {c['t_p']:.3g}, "
            f"Wilcoxon p {c['wilcoxon_p']:.3g})")


def _history(folder: Path, seed: int) -> np.ndarray:
    """Epoch × (loss, training accuracy) of ``folder``'s run of ``seed``."""
    return np.loadtxt(folder / f"seed{seed}/history.csv", delimiter=",", skiprows=1)[:, 1:3]


def rounding_text() -> str:
    """SSFTT's seed 1 trained twice, differing only in rounding, in words; empty without
    it."""
    again, base = finished(SSFTT_ROUNDING), finished(SSFTT_EVEN)
    both = sorted(set(again) & set(base))
    if not both:
        return ""
    seed = both[0]
    h1, h2 = _history(SSFTT_ROUNDING, seed), _history(SSFTT_EVEN, seed)
    gap = np.abs(h1[:, 0] - h2[:, 0]) / h2[:, 0]
    apart = int(np.argmax(gap > 0.01)) + 1 if (gap > 0.01).any() else None
    return (
        f" Run again with its split passed in as masks (the same pixels, seed and settings; "
        f"the sums differ only in rounding), seed {seed}'s first-epoch loss agrees to a relative "
        f"{gap[0]:.0e}, the losses part by more than 1 % from epoch {apart}, and the last "
        f"epoch scores {again[seed]['oa']:.2f} % instead of {base[seed]['oa']:.2f}: its "
        f"training loss jumps to {h1[-1, 0]:.3f} (training accuracy {100 * h1[-1, 1]:.1f} %) "
        f"at that epoch, where the benchmark's run stays at {h2[-1, 0]:.1e}. Testing the last "
        "epoch of a constant-rate run draws from this spread; the benchmark's five runs "
        f"ended without such a jump (largest loss over their last ten epochs "
        f"{max(_history(SSFTT_EVEN, s)[-10:, 0].max() for s in base):.1e})."
    )


def ssftt_section() -> list[str]:
    """SSFTT: the recipe's row beside the lowest-loss epoch and the even batches. Empty when
    the records are missing."""
    last = finished(SSFTT_LAST)
    low, even = finished(SSFTT_LOWEST_LOSS), finished(SSFTT_EVEN)
    if len(last) < 2:
        return []
    cited, paper = _published("ssftt", "paper10")
    lines, (c_low, c_even) = _table([
        ("last epoch, last batch of 1 pixel", last),
        ("lowest training loss, last batch of 1 pixel", low),
        ("the recipe: last epoch, even batches", even),
    ])
    a = np.array([last[s]["oa"] for s in sorted(last)])
    text = [
        "**SSFTT.** The official code trains 100 epochs at a constant learning rate and tests "
        "the last one; here the training loss of the last epochs jumps between about 0.02 and "
        "0.3 from one epoch to the next (each run's `history.csv`). 1025 training pixels in "
        "batches of 64 leave one pixel alone in the last batch of every epoch: its batch-norm "
        "statistics are one pixel's, and so, for a step, are the running averages that "
        "evaluation uses.",
        "",
        *lines,
        f"Published: {cited}. With the one-pixel batch the runs sit {a.mean() - paper:+.2f} "
        f"points from it ({_verdict('ssftt', 'paper10', a.mean())}).",
    ]
    if c_low:
        text[-1] += (
            f" Keeping the lowest-training-loss epoch (a choice that sees training pixels "
            f"only) changes OA by {_paired(c_low)} to {c_low['oa']:.2f} % "
            f"({_verdict('ssftt', 'paper10', c_low['oa'])})."
        )
    if c_even:
        text[-1] += (
            f" Cutting the same pixels into {_even(SSFTT_EVEN, 64)} (`last_batch='even'`, the "
            f"recipe now), still testing the last epoch as the official code does, changes OA by "
            f"{_paired(c_even)} to {c_even['oa']:.2f} ± {c_even['sd']:.2f} % "
            f"({c_even['oa'] - paper:+.2f} from the published run; "
            f"{_verdict('ssftt', 'paper10', c_even['oa'])})."
        )
        text[-1] += rounding_text()
    return [*text, ""]


def hybridsn_section() -> list[str]:
    """HybridSN: the row beside the official notebook's kept epoch and the even batches,
    and the 30 % check. Empty when the 10 % records are missing."""
    low, acc, even, wide = (finished(HYBRIDSN_LOWEST_LOSS), finished(HYBRIDSN_TRAIN_ACC),
                            finished(HYBRIDSN_EVEN), finished(HYBRIDSN_PAPER30))
    if len(low) < 2:
        return []
    cited10, paper10 = _published("hybridsn", "paper10")
    lines, (c_acc, c_even) = _table([
        ("the recipe: lowest training loss, last batch of 1 pixel", low),
        ("best training accuracy", acc),
        ("even batches, lowest training loss", even),
    ])
    a = np.array([low[s]["oa"] for s in sorted(low)])
    one = stats.ttest_1samp(a, paper10)
    text = [
        "**HybridSN.** It has no batch norm, but 1025 pixels in batches of 256 also end every "
        "epoch with an Adam step on a single pixel (Adam's steps are about as long whatever "
        "the batch):",
        "",
        *lines,
        f"Published: {cited10} (the number of runs is not stated). The row sits "
        f"{a.mean() - paper10:+.2f} points from it (one-sample t p {one.pvalue:.3g}; "
        f"{_verdict('hybridsn', 'paper10', a.mean())}).",
    ]
    if c_acc:
        text[-1] += (
            f" Keeping the epoch of best training accuracy, as the official notebook does, "
            f"changes OA by {_paired(c_acc)}: the kept epoch is not the gap. The network is "
            "initialised as Keras does (Glorot uniform, zero biases; "
            "`lightnets/models/hybridsn.py`), so that is not it either."
        )
    if c_even:
        text[-1] += (
            f" Cutting the pixels into {_even(HYBRIDSN_EVEN, 256)} (`last_batch='even'`) "
            f"changes OA by "
            f"{_paired(c_even)} to {c_even['oa']:.2f} ± {c_even['sd']:.2f} % "
            f"({_verdict('hybridsn', 'paper10', c_even['oa'])})."
        )
    text.append("")
    if len(wide) >= 2:
        cited30, paper30 = _published("hybridsn", "paper30")
        w = np.array([wide[s]["oa"] for s in sorted(wide)])
        text += [
            f"At 30 %, the protocol of the official code, {len(w)} seeds "
            f"({', '.join(f'{x:.2f}' for x in w)}) give {w.mean():.2f} ± {sample_sd(w):.2f} % "
            f"against the published {cited30} ({w.mean() - paper30:+.2f} points; "
            f"{_verdict('hybridsn', 'paper30', w.mean())}); there the training pixels make "
            f"{hsi_published_split.batches(HYBRIDSN_PAPER30, 256)}, the official notebook's "
            "3074 = 12 × 256 + 2 (its printed shapes).",
            "",
        ]
    return text


def split_section() -> list[str]:
    """The split the official codes draw, beside the benchmark's; empty without records."""
    table = hsi_published_split.section()
    if not table:
        return []
    return [
        "**The split the papers drew.** Both official codes split with scikit-learn's "
        "`train_test_split(test_size=0.9, random_state=345, stratify=labels)` "
        "(`benchmarks/hsi_published_split.py` draws it again: its per-class test counts "
        "equal those of SSFTT's published report). Its total rounds down to 1024 pixels, "
        "whole batches for both models; the benchmark's split rounds each class, 1025. The "
        "paper recipes on that split, and on others scikit-learn draws with other random "
        "states, against the benchmark's splits:",
        "",
        *table,
        "The first difference asks whether random_state 345 is a lucky draw, the second "
        "whether scikit-learn's draws (1024 pixels, whole batches) score above the "
        "benchmark's (1025, the recipe's batches); a p under 0.05 is read as a difference "
        "that holds:",
        "",
        *(f"* {line}" for line in hsi_published_split.contrasts()),
        "",
    ]


def keras_runs(folder: Path = KERAS_CONTROL) -> dict[int, dict]:
    """Seed → record (OA in %) of the Keras control's finished seeds in ``folder``."""
    runs = {}
    for path in sorted(folder.glob("seed*.json")):
        record = json.loads(path.read_text())
        runs[int(record["seed"])] = {
            # records before the "epochs" field ran the script's fixed epoch count
            "epochs": KERAS_EPOCHS, **record, "oa": 100 * record["oa"],
            "best_epoch": record["kept_epoch"],
        }
    return runs


def framework_section(
    keras: dict[int, dict] | None = None, torch: dict[int, dict] | None = None
) -> list[str]:
    """HybridSN trained by Keras itself against lightnets' PyTorch runs on the official split
    (unpaired: the two frameworks draw different numbers from one seed); empty without
    two Keras seeds."""
    keras = keras_runs() if keras is None else keras
    torch = finished(HYBRIDSN_OFFICIAL_SPLIT) if torch is None else torch
    if len(keras) < 2 or len(torch) < 2:
        return []
    k = np.array([keras[s]["oa"] for s in sorted(keras)])
    t = np.array([torch[s]["oa"] for s in sorted(torch)])
    cited, paper = _published("hybridsn", "paper10")
    welch = stats.ttest_ind(k, t, equal_var=False).pvalue
    one = stats.ttest_1samp(k, paper).pvalue
    backends = sorted({keras[s]["versions"]["backend"] for s in keras})
    versions = sorted({keras[s]["versions"]["keras"] for s in keras})
    per_epoch = np.mean([keras[s]["train_seconds"] / keras[s]["epochs"] for s in keras])
    torch_epoch = np.mean([torch[s]["train_seconds"] / torch[s]["epochs"] for s in torch])
    table, _ = _table([("lightnets, PyTorch", torch), ("Keras", keras)])  # its pairing unused
    return [
        "**The framework.** The same network (5,122,176 parameters) and recipe trained by "
        f"Keras {', '.join(versions)} itself (backend {', '.join(backends)}; "
        "`benchmarks/hsi_keras_control.py`: Keras's Glorot initialisers, Adam with its "
        "epsilon 1e-7 and inverse-time decay, its shuffling, the epoch of best running "
        "training accuracy kept by `ModelCheckpoint`, as the official notebook) on the "
        "official split, beside lightnets' PyTorch runs of the paper recipe on the same "
        "masks. A seed draws different numbers in each framework, so the columns are not "
        "paired:",
        "",
        *table,
        f"Keras against lightnets: {k.mean() - t.mean():+.2f} points (Welch t p {welch:.3g}, "
        f"{len(k)} against {len(t)} runs). Keras against the published {cited}: "
        f"{k.mean() - paper:+.2f} points (one-sample t p {one:.3g}; "
        f"{_verdict('hybridsn', 'paper10', k.mean())}). Training took {per_epoch:.1f} s per "
        f"epoch in Keras, {torch_epoch:.1f} s in lightnets (each record's training seconds "
        "over its epochs).",
        "",
        _framework_reading(_met("hybridsn", "paper10", k.mean()), welch < 0.05),
        "",
    ]


def _framework_reading(keras_met: bool, differs: bool) -> str:
    """What the framework control says about the HybridSN gap (a p under 0.05 differs)."""
    if not keras_met and not differs:
        return ("Read: the paper's recipe, run by its own framework on its own split, lands "
                "where lightnets does and under the target: its own code does not reach the "
                "published mean here either, so the gap is not a difference of lightnets.")
    if keras_met and differs:
        return ("Read: Keras reaches the target and differs from lightnets: a framework "
                "difference (optimiser epsilon, shuffling, kept epoch) remains to be found.")
    return ("Read: these runs do not settle it (Keras "
            f"{'meets' if keras_met else 'misses'} the target and "
            f"{'differs' if differs else 'does not differ'} from lightnets).")


def section() -> list[str]:
    """The models' sections as markdown lines (each empty without its records)."""
    return [*ssftt_section(), *hybridsn_section(), *split_section(), *framework_section()]


def main() -> int:
    print("\n".join(section()) or "no kept 10 % records")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
