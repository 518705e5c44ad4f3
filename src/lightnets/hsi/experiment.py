"""One hyperspectral experiment end to end, repeated over seeds: a thin loop over
:class:`~lightnets.hsi.estimator.HSIClassifier`.

scene → split → ``HSIClassifier(**config.estimator_params(seed)).fit`` (spectral transform and
network or SVM) → full-scene map → metrics → run folder. Each run writes ``config.json``
(settings, seed, split, versions, hardware), ``metrics.json`` (``oa``, ``aa``, ``kappa``,
``per_class``, ``overlap``, ``train_seconds``, ``map_seconds``, ``wall_seconds``),
``prediction.npy`` (the H×W map, labels 1..K), ``map.png``, ``confusion.png``, ``report.md``
and ``model.pt`` (the fitted estimator: what ``predict`` needs); a network's run adds
``history.csv``. With several runs, ``summary.json`` and ``summary.md`` give mean ± std over
seeds.

The classifier is any registered hyperspectral model, or ``"svm"``: the RBF SVM of
:mod:`lightnets.hsi.svm` on each pixel's reduced spectrum (no epochs, so no history or
checkpoint). ``window=None`` is the model's own window (25 for HybridSN, 13 SSFTT, 5
Hamida3D, 1 Hu1D and the SVM); the overlap is measured at that window, and the disjoint
splits' buffer is ``buffer`` (default: the window; a larger one lets models of different
windows share one test set). ``resume`` reuses or continues a run folder only when it was made
with the same settings.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import asdict, fields
from pathlib import Path
from typing import Any

import numpy as np
import torch

from ..models import create_model
from ..runs import atomic_write_bytes, write_csv, write_json
from .config import SVM, ExperimentConfig
from .estimator import HSIClassifier
from .folds import spatial_folds
from .metrics import classification_metrics, summarize_runs
from .readers import read_mask
from .recipes import COMMON
from .run_files import run_metrics, save_outputs, summary_markdown, write_config
from .scenes import Scene, load_scene
from .splits import (
    Split,
    block_split,
    fixed_count_split,
    masks_split,
    region_split,
    stratified_split,
    with_validation,
)
from .streaming import ArraySource, predict_source


def make_split(scene: Scene, config: ExperimentConfig, seed: int) -> Split:
    """The configured protocol for one seed, with the optional validation carve-out."""
    if config.split == "random":
        split = stratified_split(
            scene.gt, config.train_fraction, seed=seed, class_names=scene.class_names
        )
    elif config.split == "per-class":
        split = fixed_count_split(
            scene.gt, config.per_class, seed=seed, class_names=scene.class_names
        )
    elif config.split == "regions":
        split = region_split(
            scene.gt, train_fraction=config.train_fraction, window=config.buffer, seed=seed
        )
    elif config.split == "spatial-cv":
        fold = (seed - config.seed) % config.folds
        split = spatial_folds(
            scene.gt,
            config.folds,
            block_size=config.block_size,
            window=config.buffer,
            seed=config.seed,
            on_missing="drop",
        )[fold]
    elif config.split == "masks":
        assert config.train_mask is not None and config.test_mask is not None
        shape = scene.gt.shape
        split = masks_split(
            scene.gt,
            read_mask(config.train_mask, shape=shape, name="train_mask"),
            read_mask(config.test_mask, shape=shape, name="test_mask"),
        )
    else:
        split = block_split(
            scene.gt,
            block_size=config.block_size,
            train_fraction=config.train_fraction,
            window=config.buffer,
            seed=seed,
        )
    if config.val_fraction > 0:
        split = with_validation(split, scene.gt, config.val_fraction, seed=seed)
    return split


def _score(scene: Scene, split: Split, prediction: np.ndarray) -> dict[str, Any]:
    """Scores of the test pixels of a 1..K prediction map."""
    rows, cols, test_y = split.pixels("test", scene.gt)
    return classification_metrics(test_y, prediction[rows, cols] - 1, scene.num_classes)


def _describe(config: ExperimentConfig, kwargs: dict[str, Any]) -> str:
    """The classifier in a few words, before it is fitted."""
    if config.model == SVM:
        return (
            f"RBF SVM, {len(kwargs['c_grid'])} × {len(kwargs['gamma_grid'])} (C, γ) pairs, "
            f"{kwargs['folds']}-fold CV"
        )
    with torch.device("meta"):
        network = create_model(config.model, **kwargs)
    return f"{config.model} {sum(p.numel() for p in network.parameters()):,} parameters"


def _svm_record(clf: HSIClassifier) -> dict[str, Any]:
    """What ``metrics.json`` adds for the SVM: support vectors and the chosen (C, γ)."""
    svm = clf.svm_
    return {
        "support_vectors": int(svm.pipeline_.named_steps["svc"].support_vectors_.shape[0]),
        "best_c": svm.best_params_["C"],
        "best_gamma": svm.best_params_["gamma"],
        "cv_score": svm.cv_score_,
    }


def _note(config: ExperimentConfig, metrics: dict[str, Any], folds: int) -> str:
    """The sentence of ``report.md`` that says how the run trained and what it wrote."""
    if config.model != SVM:
        return (
            f"Training {metrics['train_seconds']:.1f} s ({metrics['epochs']} epochs), "
            f"full-scene map {metrics['map_seconds']:.2f} s. Settings in `config.json`; curves "
            "in `history.csv`."
        )
    return (
        f"Training {metrics['train_seconds']:.1f} s (grid search of C × γ, {folds}-fold "
        f"cross-validation on the training pixels; best C = {metrics['best_c']:g}, "
        f"γ = {metrics['best_gamma']:.3g}, {metrics['support_vectors']} support vectors), "
        f"full-scene map {metrics['map_seconds']:.2f} s. Settings in `config.json`. An SVM has "
        "no epochs, so this run writes no `history.csv`."
    )


def run_once(
    scene: Scene,
    config: ExperimentConfig,
    seed: int,
    out: Path,
    *,
    resume: bool = False,
    progress: bool = True,
    log: Callable[[str], None] = print,
) -> dict[str, Any]:
    """Fit and evaluate one seed of a network or the SVM; write the run folder ``out``;
    return its metrics.

    ``wall_seconds`` in the metrics is the whole protocol: split, PCA, model set-up, training
    (summed over resumed sessions), the full-scene map and scoring; not the output files.
    """
    start = time.perf_counter()
    split = make_split(scene, config, seed)
    clf = HSIClassifier(**config.estimator_params(seed), verbose=progress)
    kwargs = clf.classifier_arguments(scene.cube.shape[2], scene.num_classes)
    bands = config.pca or scene.cube.shape[2]
    recorded = {"num_classes": scene.num_classes, "bands": bands, "window": config.window, **kwargs}
    overlap = split.overlap(config.window)
    fold = f" fold {split.info['fold']} of {config.folds}," if "fold" in split.info else ""
    left_out = sum(n for _, n in split.info.get("dropped", []))
    untested = (
        f" ({left_out} test pixels left out: their classes have no training pixels)"
        if left_out
        else ""
    )
    log(
        f"seed {seed}: {int(split.train.sum())} training, {int(split.test.sum())} test pixels"
        f"{untested} ({config.split} split,{fold} overlap {overlap:.1%}); {bands} bands; "
        + _describe(config, kwargs)
    )
    write_config(out, scene, asdict(config), seed, split, recorded)
    tic = time.perf_counter()
    clf.fit(
        scene,
        train_mask=split.train,
        val_mask=split.val if split.val.any() else None,
        checkpoint=out / "checkpoint.pt" if config.model != SVM else None,
        resume=resume,
        allow_missing_classes=config.split == "spatial-cv",  # its folds may leave one out
    )
    before_map = tic - start + clf.fit_seconds_  # the fit's time summed over resumed sessions

    tic = time.perf_counter()
    # tile by tile, with a progress bar (labels equal to clf.predict: tests/hsi/test_streaming)
    prediction = predict_source(clf, ArraySource(scene.cube), progress=progress)
    map_seconds = time.perf_counter() - tic
    scores = _score(scene, split, prediction)
    wall_seconds = before_map + time.perf_counter() - tic
    network = config.model != SVM
    metrics = {
        **run_metrics(scores, overlap, clf.train_seconds_, map_seconds, wall_seconds),
        **({"epochs": config.epochs, "best_epoch": clf.best_epoch_} if network else {}),
        "train_pixels": int(split.train.sum()),
        "test_pixels": scores["n"],
        "seed": seed,
        **({} if network else _svm_record(clf)),
    }
    write_json(out / "metrics.json", {**metrics, "confusion": scores["confusion"]})
    if network:
        write_csv(out / "history.csv", clf.history_)
    clf.save(out / "model.pt")
    note = _note(config, metrics, kwargs.get("folds", 0))
    save_outputs(out, scene, asdict(config), split, prediction, scores, metrics, note)
    (out / "checkpoint.pt").unlink(missing_ok=True)  # training state: only needed to resume
    log(
        f"seed {seed}: OA {metrics['oa']:.2%}  AA {metrics['aa']:.2%}  kappa "
        f"{metrics['kappa']:.4f}  train {metrics['train_seconds']:.1f} s  map "
        f"{metrics['map_seconds']:.2f} s  → {out}"
    )
    return metrics


# Settings that may change between a run and its resumption: they do not change the run.
_RESUMABLE = ("runs", "data_dir", "download", "device")


def check_same_settings(run_dir: Path, config: ExperimentConfig) -> None:
    """Refuse to resume ``run_dir`` when its ``config.json`` records other settings than
    ``config`` (else a finished run of another protocol would be reported as this one's)."""
    path = run_dir / "config.json"
    if not path.exists():
        return
    try:
        saved = json.loads(path.read_text())["experiment"]
    except (ValueError, KeyError, TypeError) as err:
        raise ValueError(f"resume: {path} is not a run's config.json ({err})") from None
    now = asdict(config)
    # a setting added after the run was made is recorded as absent: it had the value of the
    # common recipe (today's defaults) then
    defaults = {f.name: f.default for f in fields(ExperimentConfig)}
    defaults.update(COMMON.settings(), recipe="common")
    if "standardize" in saved:  # a switch that became the scaling setting
        saved = {**saved, "scaling": "standard" if saved["standardize"] else "none"}
        del saved["standardize"]
    if saved.get("pca", 0) is None:  # all bands were pca None before recipes, now 0
        saved = {**saved, "pca": 0}
    for key in sorted(set(saved) | set(now)):
        before = saved.get(key, defaults.get(key, "(absent)"))
        if key in _RESUMABLE or before == now.get(key, "(absent)"):
            continue
        raise ValueError(
            f"resume: {run_dir} was made with {key}={before!r}, this "
            f"run asks for {key}={now.get(key, '(absent)')!r}; use another output folder or "
            "run without resume"
        )


def run_experiment(
    config: ExperimentConfig,
    out: str | Path,
    *,
    resume: bool = False,
    progress: bool = True,
    log: Callable[[str], None] = print,
    scene: Scene | None = None,
) -> dict[str, Any]:
    """All runs of ``config`` (seeds ``seed, seed+1, …``) under ``out``; returns the summary."""
    out = Path(out)
    if scene is None:
        scene = load_scene(config.scene, **config.scene_options())
    runs = []
    for i in range(config.runs):
        seed = config.seed + i
        run_dir = out if config.runs == 1 else out / f"seed{seed}"
        if resume:
            check_same_settings(run_dir, config)
        if (
            resume
            and (run_dir / "metrics.json").exists()
            and not (run_dir / "checkpoint.pt").exists()
        ):
            runs.append(
                {
                    k: v
                    for k, v in json.loads((run_dir / "metrics.json").read_text()).items()
                    if k != "confusion"
                }
            )
            log(f"seed {seed}: already complete in {run_dir}")
            continue
        runs.append(
            run_once(scene, config, seed, run_dir, resume=resume, progress=progress, log=log)
        )
    summary = {
        "runs": runs,
        "summary": summarize_runs(
            [{k: v for k, v in r.items() if k not in ("best_epoch",)} for r in runs]
        ),
    }
    if config.runs > 1:
        write_json(out / "summary.json", summary)
        page = summary_markdown(asdict(config), summary["summary"], scene)
        atomic_write_bytes(out / "summary.md", page.encode())
    return summary
