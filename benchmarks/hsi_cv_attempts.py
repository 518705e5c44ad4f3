"""What beats the spectral SVM under spatial cross-validation? Attempts, each paired over folds.

The folds are those of the ``cv5`` protocol of ``benchmarks/hsi_models.py`` (Indian Pines, 5
folds of 24×24 tiles, training pixels within 25×25 of a test pixel removed, overlap 0). The
floor is the RBF SVM on all 200 standardised bands (C, γ cross-validated on the training
pixels). Every attempt below is trained on each fold's training pixels and scored on its test
pixels; the table gives mean ± std over the folds and the difference from the floor paired over
the folds (paired t-test, exact Wilcoxon, whose p cannot go below 0.0625 with 5 folds). No
choice here looks at a test pixel: each attempt is fixed before it runs.

Records: one JSON per attempt and fold under ``--out`` (default:
benchmarks/results/hsi_cv_attempts); ``--resume`` keeps finished folds.

    python benchmarks/hsi_cv_attempts.py --data-dir ../shared/datasets/indian_pines --resume
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
from lightnets.hsi.smoothing import smooth_scores, smoothed_labels, votes
from lightnets.runs import environment_info

RESULTS = Path(__file__).resolve().parent / "results" / "hsi_cv_attempts"
FOLDS, BLOCK, BUFFER = 5, 24, 25
FLOOR = "svm"


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
    smoothed over (0: none; :mod:`lightnets.hsi.smoothing`)."""

    what: str
    params: dict[str, Any]
    transform: Callable[[np.ndarray], np.ndarray] | None = None
    members: int = 1
    smooth: int = 0


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
}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", default=None)
    parser.add_argument("--out", default=str(RESULTS))
    parser.add_argument("--attempts", default=",".join(ATTEMPTS))
    parser.add_argument("--resume", action="store_true")
    args = parser.parse_args(argv)
    out = Path(args.out)
    scene = load_scene("indian_pines", data_dir=args.data_dir)
    folds = spatial_folds(
        scene.gt,
        FOLDS,
        block_size=BLOCK,
        window=BUFFER,
        seed=0,
        on_missing="drop",
        class_names=scene.class_names,
    )
    for name in args.attempts.split(","):
        attempt = ATTEMPTS[name]
        transform = attempt.transform
        cube = scene.cube if transform is None else transform(scene.cube).astype(np.float32)
        for k, split in enumerate(folds):
            record = out / name / f"fold{k}.json"
            if args.resume and record.is_file():
                continue
            ev, seconds = _fit_score(cube, scene, split, attempt)
            write_json(
                record,
                {
                    "attempt": name,
                    "what": attempt.what,
                    "fold": k,
                    "params": attempt.params,
                    "members": attempt.members,
                    "smooth": attempt.smooth,
                    **ev,
                    "train_seconds": seconds,
                    "environment": environment_info(),
                },
            )
            print(f"{name} fold {k}: OA {ev['oa']:.2%} ({seconds:.0f} s)", flush=True)
    print("\n".join(section(out)))
    return 0


def _fit_score(
    cube: np.ndarray, scene: Any, split: Any, attempt: Attempt
) -> tuple[dict[str, Any], float]:
    """Fit the attempt's members (seeds 0…) on the fold's training pixels and score, on the
    test pixels, the argmax of their mean probability (one member: its own output; an SVM's
    labels count as one vote), smoothed over the attempt's window when it has one."""
    k = len(scene.class_names)
    scores, seconds = None, 0.0
    for seed in range(attempt.members):
        clf = HSIClassifier(**attempt.params, random_state=seed)
        clf.fit(
            cube, scene.gt, split.train, class_names=scene.class_names, allow_missing_classes=True
        )
        seconds += clf.train_seconds_
        s = votes(clf.predict(cube), k) if clf.network_ is None else clf.predict_proba(cube)
        scores = s if scores is None else scores + s
    if attempt.smooth > 1:
        prediction = smoothed_labels(scores, attempt.smooth)
    else:
        prediction = scores.argmax(2) + 1
    test = split.test & (scene.gt > 0)
    m = classification_metrics(scene.gt[test] - 1, prediction[test] - 1, k)
    return {"oa": m["oa"], "aa": m["aa"], "kappa": m["kappa"], "n": m["n"]}, seconds


def section(out: Path = RESULTS) -> list[str]:
    """The table of attempts from the records: OA mean ± std over folds and the paired
    difference from the floor (only attempts with all folds)."""

    def scores(name: str) -> list[float]:
        paths = [out / name / f"fold{k}.json" for k in range(FOLDS)]
        return [json.loads(p.read_text())["oa"] for p in paths if p.is_file()]

    floor = scores(FLOOR)
    if len(floor) < FOLDS:
        return []
    lines = [
        "| attempt | what it tries | OA % (5 folds) | − SVM floor (points) | paired t p "
        "| Wilcoxon p |",
        "|---|---|--:|--:|--:|--:|",
    ]
    for name, attempt in ATTEMPTS.items():
        what = attempt.what
        s = scores(name)
        if len(s) < FOLDS:
            lines.append(f"| {name} | {what} | not run yet | | | |")
            continue
        a = np.array(s) * 100
        if name == FLOOR:
            lines.append(f"| {name} | {what} | {a.mean():.2f} ± {sample_sd(a):.2f} | — | — | — |")
            continue
        c = paired_comparison(s, floor)
        lines.append(
            f"| {name} | {what} | {a.mean():.2f} ± {sample_sd(a):.2f} | "
            f"{c['mean_difference'] * 100:+.2f} | {c['t_p']:.3g} | {c['wilcoxon_p']:.3g} |"
        )
    env = json.loads(next((out / FLOOR).glob("fold*.json")).read_text())["environment"]
    command = "python benchmarks/hsi_cv_attempts.py --data-dir DIR --resume"
    return [
        *lines,
        "",
        f"Measured on {env['cpu']} ({env['cpu_count']} cores, torch "
        f"{env['torch']}); `{command.strip()}`; records in "
        "`benchmarks/results/hsi_cv_attempts/`.",
        "",
    ]


if __name__ == "__main__":
    raise SystemExit(main())
