"""What beats the spectral SVM under spatial cross-validation? Attempts, each paired over folds.

The folds are those of the ``cv5`` protocol of ``benchmarks/hsi_models.py`` (Indian Pines, 5
folds of 24×24 tiles, training pixels within 25×25 of a test pixel removed, overlap 0). The
floor is the RBF SVM on all 200 standardised bands (C, γ cross-validated on the training
pixels). Every attempt below is trained on each fold's training pixels and scored on its test
pixels; the table gives mean ± std over the folds and the difference from the floor paired over
the folds (paired t-test, exact Wilcoxon, whose p cannot go below 0.0625 with 5 folds). No
choice here looks at a test pixel: each attempt is fixed before it runs. An attempt chosen
after the others can be rerun on folds drawn afresh (``--layout N``, another tile seed) to see
whether its gain holds beyond the folds it was chosen on.

Records: one JSON per attempt and fold under ``--out`` (default:
benchmarks/results/hsi_cv_attempts; ``--layout N`` under its ``layoutN`` folder); ``--resume``
keeps finished folds.

    python benchmarks/hsi_cv_attempts.py --data-dir ../shared/datasets/indian_pines --resume
    python benchmarks/hsi_cv_attempts.py --data-dir DIR --attempts svm,svm-unit-mode7-self100 \
        --layout 1 --resume
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np

from _records import sample_sd, write_json
from lightnets.hsi import HSIClassifier, load_scene, spatial_folds
from lightnets.hsi.metrics import classification_metrics, paired_comparison
from lightnets.hsi.segments import cluster_regions, region_majority
from lightnets.hsi.selftrain import pseudo_labels
from lightnets.hsi.smoothing import majority_filter, smooth_scores, smoothed_labels, votes
from lightnets.runs import environment_info

RESULTS = Path(__file__).resolve().parent / "results" / "hsi_cv_attempts"
FOLDS, BLOCK, BUFFER = 5, 24, 25
FLOOR = "svm"
TARGET = 0.10  # OA points above the floor, as a fraction
# Windows a nested choice may take. Training pixels lie outside the 25×25 window of every test
# pixel (BUFFER), so a smoothing window up to 25 never reaches the prediction of a training
# pixel (which the model has fitted, and which would carry its label into the test fold).
WINDOWS = (1, 3, 5, 7, 9, 11, 13, 15, 17, 19, 21)
INNER_FOLDS = 4
AGREE = 0.8  # self-training: the share of a pixel's window that must carry its label


def _unit_norm(cube: np.ndarray) -> np.ndarray:
    c = cube.astype(np.float64)
    return c / np.linalg.norm(c, axis=2, keepdims=True)


# Hu1D's training chosen on validation pixels by benchmarks/hsi_select.py.
HU1D_CHOSEN = {
    "optimizer": "adam",
    "lr": 1e-3,
    "schedule": "none",
    "epochs": 200,
    "scaling": "standard",
}


@dataclass(frozen=True)
class Attempt:
    """What it tries; the HSIClassifier parameters; a cube transform applied first; how many
    members (seeds 0…) average their probabilities; the side of the window the predicted map is
    smoothed over (0: none; :mod:`lightnets.hsi.smoothing`; "nested": the window of
    ``WINDOWS`` that scores best in an inner spatial CV on the fold's training pixels); the
    number of k-means clusters whose connected regions vote on the map
    (:mod:`lightnets.hsi.segments`, 0: none; the training pixels cast no vote); self-training:
    up to this many pixels per class whose smoothed label at least ``AGREE`` of their window
    shares join the training pixels with that label, and the attempt is fitted again (0: none;
    transductive: the scene's spectra, never its labels, outside the training pixels), in
    ``rounds`` rounds (each draws its pixels afresh from the last map)."""

    what: str
    params: dict[str, Any]
    transform: Callable[[np.ndarray], np.ndarray] | None = None
    members: int = 1
    smooth: int | str = 0
    regions: int = 0
    self_train: int = 0
    rounds: int = 1


SVM = {"model": "svm", "recipe": "paper"}
HU1D = {"model": "hu1d", "recipe": "paper", **HU1D_CHOSEN}

ATTEMPTS: dict[str, Attempt] = {
    FLOOR: Attempt("the floor: RBF SVM, all bands standardised", SVM),
    "hu1d-chosen": Attempt(
        "spectral-first network: Hu1D, all bands standardised, Adam 1e-3, 200 "
        "epochs (hsi_select.py's choice)",
        HU1D,
    ),
    "svm-mean5": Attempt(
        "spatial smoothing: the SVM on a 5×5 mean of every band",
        SVM,
        partial(smooth_scores, size=5),
    ),
    "svm-unit": Attempt(
        "illumination invariance: the SVM on spectra scaled to unit length", SVM, _unit_norm
    ),
    "hu1d-ensemble5": Attempt(
        "ensemble: the mean probability of 5 Hu1D (seeds 0–4) as hu1d-chosen", HU1D, members=5
    ),
    "ssftt-7": Attempt(
        "smaller window: SSFTT's paper recipe at 7×7 instead of 13×13",
        {"model": "ssftt", "recipe": "paper", "window": 7},
    ),
    "svm-mode7": Attempt(
        "smoothing the map: the SVM's labels, then the majority label of each 7×7 window",
        SVM,
        smooth=7,
    ),
    "svm-unit-mode7": Attempt(
        "both: the SVM on unit-length spectra, then the majority label of each 7×7 window",
        SVM,
        _unit_norm,
        smooth=7,
    ),
    "hu1d-smooth7": Attempt(
        "smoothing the map: hu1d-chosen's probabilities averaged over each 7×7 window",
        HU1D,
        smooth=7,
    ),
    "svm-mode-nested": Attempt(
        "smoothing with a chosen window: the SVM's labels, then the majority of a window "
        "(1–21) chosen by a 4-fold spatial CV inside the fold's training pixels",
        SVM,
        smooth="nested",
    ),
    "svm-unit-mode-nested": Attempt(
        "as svm-mode-nested on unit-length spectra",
        SVM,
        _unit_norm,
        smooth="nested",
    ),
    "svm-regions16": Attempt(
        "regions (Tarabalka et al. 2009): the SVM's labels, then the majority label of each "
        "8-connected region of a 16-cluster k-means of the scene (10 principal components)",
        SVM,
        regions=16,
    ),
    "svm-unit-regions16": Attempt(
        "as svm-regions16 on unit-length spectra", SVM, _unit_norm, regions=16
    ),
    "svm-unit-mode7-regions16": Attempt(
        "all three: svm-unit-mode7's map, then svm-regions16's vote", SVM, _unit_norm, 1, 7, 16
    ),
    "svm-unit-mode7-self100": Attempt(
        "self-training (as Dópido et al., IEEE TGRS 2013): svm-unit-mode7's map; up to 100 "
        "pixels a class outside the training pixels whose 7×7 window agrees at ≥ 80 % with "
        "their label are added as training pixels of that label; fitted again and smoothed",
        SVM,
        _unit_norm,
        smooth=7,
        self_train=100,
    ),
    "svm-unit-mode7-self100x3": Attempt(
        "as svm-unit-mode7-self100 in 3 rounds, each drawing its pixels from the last map",
        SVM,
        _unit_norm,
        smooth=7,
        self_train=100,
        rounds=3,
    ),
    "svm-unit-mode7-self300": Attempt(
        "as svm-unit-mode7-self100 with up to 300 pixels a class",
        SVM,
        _unit_norm,
        smooth=7,
        self_train=300,
    ),
    "svm-unit-mode7-self300x3": Attempt(
        "as svm-unit-mode7-self300 in 3 rounds, each drawing its pixels from the last map",
        SVM,
        _unit_norm,
        smooth=7,
        self_train=300,
        rounds=3,
    ),
}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", default=None)
    parser.add_argument("--out", default=str(RESULTS))
    parser.add_argument("--attempts", default=",".join(ATTEMPTS))
    parser.add_argument("--resume", action="store_true")
    parser.add_argument(
        "--layout",
        type=int,
        default=0,
        help="seed of the folds' tile draw (0: the benchmark's folds; another: a fresh layout "
        "to confirm an attempt chosen on layout 0, records under OUT/layoutN)",
    )
    args = parser.parse_args(argv)
    unknown = sorted(set(args.attempts.split(",")) - set(ATTEMPTS))
    if unknown:
        parser.error(f"--attempts: expected names of {', '.join(ATTEMPTS)}, got {unknown}")
    out = Path(args.out) if args.layout == 0 else Path(args.out) / f"layout{args.layout}"
    scene = load_scene("indian_pines", data_dir=args.data_dir)
    folds = spatial_folds(
        scene.gt,
        FOLDS,
        block_size=BLOCK,
        window=BUFFER,
        seed=args.layout,
        on_missing="drop",
        class_names=scene.class_names,
    )
    for name in args.attempts.split(","):
        attempt = ATTEMPTS[name]
        transform = attempt.transform
        cube = scene.cube if transform is None else transform(scene.cube).astype(np.float32)
        # the regions read the cube alone: the same for every fold
        regions = cluster_regions(scene.cube, attempt.regions, seed=0) if attempt.regions else None
        for k, split in enumerate(folds):
            record = out / name / f"fold{k}.json"
            if args.resume and record.is_file():
                continue
            ev, seconds = _fit_score(cube, scene, split, attempt, regions)
            write_json(
                record,
                {
                    "attempt": name,
                    "what": attempt.what,
                    "fold": k,
                    "params": attempt.params,
                    "members": attempt.members,
                    "smooth": attempt.smooth,
                    "regions_clusters": attempt.regions,
                    "self_train": attempt.self_train,
                    "rounds": attempt.rounds,
                    "layout": args.layout,
                    **ev,
                    "train_seconds": seconds,
                    "environment": environment_info(),
                },
            )
            print(f"{name} fold {k}: OA {ev['oa']:.2%} ({seconds:.0f} s)", flush=True)
    print("\n".join(section(Path(args.out))))
    return 0


def _fit_score(
    cube: np.ndarray, scene: Any, split: Any, attempt: Attempt, regions: np.ndarray | None
) -> tuple[dict[str, Any], float]:
    """Fit the attempt on the fold's training pixels and score its map on the test pixels; a
    nested window is chosen first, from the training pixels alone; ``regions`` (the scene's,
    :func:`~lightnets.hsi.segments.cluster_regions`) then vote on the map."""
    k = len(scene.class_names)
    extra: dict[str, Any] = {}
    size = attempt.smooth
    if size == "nested":
        size, extra = _choose_window(cube, scene, split, attempt)
    scores, labels, seconds = _outputs(cube, scene.gt, split.train, scene, attempt)
    prediction = _label_map(scores, labels, int(size), k)
    for _ in range(attempt.rounds if attempt.self_train else 0):
        gt, train = _pseudo_labelled(scene.gt, split.train, prediction, int(size), attempt)
        scores, labels, more = _outputs(cube, gt, train, scene, attempt)
        seconds += more
        prediction = _label_map(scores, labels, int(size), k)
        extra["pseudo_labels"] = int((train & ~split.train).sum())
    if regions is not None:
        prediction = region_majority(prediction, regions, k, exclude=split.train)
        extra["regions"] = int(regions.max()) + 1
    test = split.test & (scene.gt > 0)
    m = classification_metrics(scene.gt[test] - 1, prediction[test] - 1, k)
    ev = {"oa": m["oa"], "aa": m["aa"], "kappa": m["kappa"], "n": m["n"], **extra}
    return ev, seconds


def _pseudo_labelled(
    gt: np.ndarray, train: np.ndarray, prediction: np.ndarray, size: int, attempt: Attempt
) -> tuple[np.ndarray, np.ndarray]:
    """The ground truth and training mask with :func:`lightnets.hsi.selftrain.pseudo_labels`
    of the map added (``AGREE``, ``attempt.self_train`` a class, seed 0)."""
    pseudo = pseudo_labels(
        prediction, train, size=size, per_class=attempt.self_train, agree=AGREE, seed=0
    )
    return np.where(pseudo > 0, pseudo, gt), train | (pseudo > 0)


def _outputs(
    cube: np.ndarray, gt: np.ndarray, train: np.ndarray, scene: Any, attempt: Attempt
) -> tuple[np.ndarray, np.ndarray | None, float]:
    """The attempt's members (seeds 0…) fitted on the ``train`` pixels of ``gt``: the sum of
    their probabilities over the scene (an SVM's labels count as one vote each), the labels
    themselves when there is one SVM member (None otherwise), and the training seconds."""
    k = len(scene.class_names)
    scores, labels, seconds = None, None, 0.0
    for seed in range(attempt.members):
        clf = HSIClassifier(**attempt.params, random_state=seed)
        clf.fit(cube, gt, train, class_names=scene.class_names, allow_missing_classes=True)
        seconds += clf.train_seconds_
        if clf.network_ is None:
            labels = clf.predict(cube)
            s = votes(labels, k)
        else:
            s = clf.predict_proba(cube)
        scores = s if scores is None else scores + s
    return scores, labels if attempt.members == 1 else None, seconds


def _label_map(scores: np.ndarray, labels: np.ndarray | None, size: int, k: int) -> np.ndarray:
    """Labels 1..K: the argmax of the scores, or, for a window, the majority of one
    classifier's labels (ties to the smallest label) or the largest window-averaged score."""
    if size <= 1:
        return scores.argmax(2) + 1
    if labels is not None:
        return majority_filter(labels, size, k)
    return smoothed_labels(scores, size)


def _choose_window(
    cube: np.ndarray, scene: Any, split: Any, attempt: Attempt
) -> tuple[int, dict[str, Any]]:
    """The window of ``WINDOWS`` with the most correct inner-test pixels over an inner spatial
    CV (``INNER_FOLDS`` folds, same tiles and buffer) of the fold's training pixels; the
    smallest window on ties. Reads no label outside the fold's training pixels."""
    k = len(scene.class_names)
    gt = np.where(split.train, scene.gt, 0)
    inner = spatial_folds(
        gt, INNER_FOLDS, block_size=BLOCK, window=BUFFER, seed=1, on_missing="drop"
    )
    correct = np.zeros(len(WINDOWS))
    total = 0
    for part in inner:
        scores, labels, _ = _outputs(cube, gt, part.train, scene, attempt)
        test = part.test & (gt > 0)
        total += int(test.sum())
        for i, size in enumerate(WINDOWS):
            correct[i] += int((_label_map(scores, labels, size, k)[test] == gt[test]).sum())
    best = int(np.argmax(correct))
    inner_oa = {str(w): float(c / total) for w, c in zip(WINDOWS, correct, strict=True)}
    return WINDOWS[best], {"chosen_window": WINDOWS[best], "inner_oa": inner_oa}


def section(out: Path = RESULTS) -> list[str]:
    """The table of attempts from the records: OA mean ± std over folds and the paired
    difference from the floor (only attempts with all folds)."""

    def records(name: str) -> list[dict[str, Any]]:
        paths = [out / name / f"fold{k}.json" for k in range(FOLDS)]
        return [json.loads(p.read_text()) for p in paths if p.is_file()]

    def scores(name: str) -> list[float]:
        return [r["oa"] for r in records(name)]

    floor = scores(FLOOR)
    if len(floor) < FOLDS:
        return []
    lines = [
        "| attempt | what it tries | OA % (5 folds) | − SVM floor (points) | paired t p "
        "| Wilcoxon p |",
        "|---|---|--:|--:|--:|--:|",
    ]
    compared: dict[str, dict[str, float]] = {}
    for name, attempt in ATTEMPTS.items():
        what = attempt.what
        s = scores(name)
        chosen = [str(r["chosen_window"]) for r in records(name) if "chosen_window" in r]
        if len(chosen) == FOLDS:
            what += f" (windows chosen, folds 0–4: {', '.join(chosen)})"
        if len(s) < FOLDS:
            lines.append(f"| {name} | {what} | not run yet | | | |")
            continue
        a = np.array(s) * 100
        if name == FLOOR:
            lines.append(f"| {name} | {what} | {a.mean():.2f} ± {sample_sd(a):.2f} | — | — | — |")
            continue
        c = compared[name] = paired_comparison(s, floor)
        lines.append(
            f"| {name} | {what} | {a.mean():.2f} ± {sample_sd(a):.2f} | "
            f"{c['mean_difference'] * 100:+.2f} | {c['t_p']:.3g} | {c['wilcoxon_p']:.3g} |"
        )
    env = json.loads(next((out / FLOOR).glob("fold*.json")).read_text())["environment"]
    command = "python benchmarks/hsi_cv_attempts.py --data-dir DIR --resume"
    return [
        *lines,
        "",
        *_verdict(compared),
        "",
        *_confirmations(out),
        f"Measured on {env['cpu']} ({env['cpu_count']} cores, torch "
        f"{env['torch']}); `{command.strip()}`; records in "
        "`benchmarks/results/hsi_cv_attempts/`.",
        "",
    ]


def _confirmations(out: Path) -> list[str]:
    """Attempts rerun on fresh fold layouts (``--layout N``), each against the floor there."""
    lines = []
    for folder in sorted(out.glob("layout*")):

        def oa(name: str, folder: Path = folder) -> list[float]:
            paths = [folder / name / f"fold{k}.json" for k in range(FOLDS)]
            return [json.loads(p.read_text())["oa"] for p in paths if p.is_file()]

        floor = oa(FLOOR)
        done = [n for n in ATTEMPTS if n != FLOOR and len(oa(n)) == FOLDS]
        if len(floor) < FOLDS or not done:
            continue
        f = np.array(floor) * 100
        lines += [
            f"Confirmation on a fresh layout (`--layout {folder.name[6:]}`: the tiles drawn "
            "with another seed, the attempt unchanged):",
            "",
            "| attempt | OA % (5 folds) | SVM floor % | − floor (points) | paired t p "
            "| Wilcoxon p |",
            "|---|--:|--:|--:|--:|--:|",
        ]
        for name in done:
            a = np.array(oa(name)) * 100
            c = paired_comparison(oa(name), floor)
            lines.append(
                f"| {name} | {a.mean():.2f} ± {sample_sd(a):.2f} | {f.mean():.2f} ± "
                f"{sample_sd(f):.2f} | {c['mean_difference'] * 100:+.2f} | {c['t_p']:.3g} | "
                f"{c['wilcoxon_p']:.3g} |"
            )
        lines.append("")
    return lines


def _verdict(compared: dict[str, dict[str, float]]) -> list[str]:
    """Whether an attempt meets the target, and the correction its p-values have not had."""
    if not compared:
        return []
    n = len(compared)
    best = max(compared, key=lambda name: compared[name]["mean_difference"])
    c = compared[best]
    met = [
        name for name, c in compared.items() if c["mean_difference"] >= TARGET and c["t_p"] < 0.05
    ]
    return [
        f"Target ({TARGET * 100:.0f} points above the floor, paired t-test p < 0.05): "
        + (f"met by {', '.join(met)}." if met else "not met.")
        + f" Largest gain: {best}, {c['mean_difference'] * 100:+.2f} points (t p = "
        f"{c['t_p']:.3g}). The attempts were run one after another, each fixed before it ran "
        f"but later ones designed knowing the earlier ones' folds; the p-values are not "
        f"corrected for the {n} comparisons (Bonferroni would ask p < {0.05 / n:.4f} of each).",
    ]


if __name__ == "__main__":
    raise SystemExit(main())
