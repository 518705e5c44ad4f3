"""One hyperspectral experiment end to end, repeated over seeds.

scene → split → spectral transform (PCA) → classifier → training → full-scene map → metrics →
run folder. Each run writes ``config.json`` (settings, seed, split, versions, hardware),
``metrics.json`` (``oa``, ``aa``, ``kappa``, ``per_class``, ``overlap``, ``train_seconds``,
``map_seconds``, ``wall_seconds``), ``prediction.npy`` (the H×W map, labels 1..K),
``map.png``, ``confusion.png`` and ``report.md``; a network's run adds ``history.csv`` and
``model.pt`` (network, PCA, class names: what ``predict`` needs). With several runs,
``summary.json`` and ``summary.md`` give mean ± std over seeds.

The classifier is any registered hyperspectral model, or ``"svm"``: the RBF SVM of
:mod:`lightnets.hsi.svm` on each pixel's reduced spectrum (no epochs, so no history, model
file or checkpoint). ``window=None`` is the model's own window (25 for HybridSN, 13 SSFTT, 5
Hamida3D, 1 Hu1D and the SVM); the overlap is measured at that window, and the disjoint
splits' buffer is ``buffer`` (default: the window; a larger one lets models of different
windows share one test set). ``resume`` reuses or continues a run folder only when it was made
with the same settings.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

from .._checks import bad_value, check_choice, check_fraction, check_int
from ..models import create_model, list_models
from ..runs import atomic_write_bytes, write_csv, write_json
from . import engine
from .metrics import classification_metrics, summarize_runs
from .predictor import save_predictor
from .preprocessing import SpectralTransform
from .run_files import (
    run_metrics,
    save_outputs,
    summary_markdown,
    write_config,
)
from .scenes import Scene, load_scene
from .splits import (
    Split,
    block_split,
    fixed_count_split,
    region_split,
    stratified_split,
    with_validation,
)
from .svm import SpectralSVM
from .training import FitResult, TrainConfig, fit

SPLITS = ("random", "per-class", "blocks", "regions")
SVM = "svm"


def resolve_window(model: str, window: int | None) -> int:
    """The window a run of ``model`` uses: ``window``, checked as the model checks it, or the
    model's default when ``None``.

    The SVM sees one pixel: its default is 1, and a given (odd) window only sets the split's
    buffer and the overlap measure. Networks are built on ``meta`` for the check (no cost).
    """
    if model == SVM:
        if window is None:
            return 1
        return _odd_at_least("window", window, 1, "1")
    known = list_models(task="hsi")
    if model not in known:
        raise bad_value("model", f"{SVM!r} or a hyperspectral model ({', '.join(known)})", model)
    with torch.device("meta"):
        return create_model(model, window=window).window


def _odd_at_least(name: str, value: Any, minimum: int, what: str) -> int:
    """``value`` when it is an odd integer >= ``minimum`` (described as ``what``), else the
    error naming ``name``."""
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum or value % 2 == 0:
        raise bad_value(name, f"an odd integer >= {what}", value)
    return value


@dataclass
class ExperimentConfig:
    """Everything that defines a run; defaults are the HybridSN paper's Indian Pines protocol.

    ``window`` left at ``None`` becomes the model's own window when the config is made.
    """

    scene: str = "indian_pines"
    data_dir: str | None = None
    gt: str | None = None
    model: str = "hybridsn"
    pca: int | None = 30
    whiten: bool = True
    pca_fit: str = "scene"
    window: int | None = None
    buffer: int | None = None
    split: str = "random"
    train_fraction: float = 0.3
    per_class: int = 50
    block_size: int = 32
    val_fraction: float = 0.0
    epochs: int = 100
    batch_size: int = 256
    lr: float = 1e-3
    path: str = "scene"
    batching: str | None = None
    class_weights: bool = False
    seed: int = 0
    runs: int = 1
    device: str | None = None

    def __post_init__(self) -> None:
        check_choice("split", self.split, SPLITS)
        check_choice("pca_fit", self.pca_fit, ("scene", "train"))
        check_fraction("val_fraction", self.val_fraction)
        check_int("runs", self.runs, minimum=1)
        check_int("seed", self.seed, minimum=0)
        if self.pca is not None:
            check_int("pca", self.pca, minimum=1)
        if self.split != "per-class" and not 0 < self.train_fraction < 1:
            raise bad_value("train_fraction", "a number in (0, 1)", self.train_fraction)
        self.train_config(self.seed)  # checks the optimisation settings before any work
        self.batching = "random" if self.batching is None else self.batching
        self.window = resolve_window(self.model, self.window)
        self.buffer = (
            self.window
            if self.buffer is None
            else _odd_at_least("buffer", self.buffer, self.window, f"the window ({self.window})")
        )

    def train_config(self, seed: int) -> TrainConfig:
        return TrainConfig(
            epochs=self.epochs,
            batch_size=self.batch_size,
            lr=self.lr,
            path=self.path,
            batching=self.batching,
            class_weights=self.class_weights,
            seed=seed,
            device=self.device,
        )


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


def _positions(split: Split, which: str, gt: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    rows, cols, labels = split.pixels(which, gt)
    return np.stack([rows, cols], axis=1), labels


def _prepare(
    scene: Scene, config: ExperimentConfig, seed: int
) -> tuple[Split, SpectralTransform, np.ndarray]:
    """The seed's split, the fitted spectral transform and the reduced cube (bands × H × W)."""
    split = make_split(scene, config, seed)
    transform = SpectralTransform(config.pca, whiten=config.whiten, random_state=seed)
    transform.fit(scene.cube, None if config.pca_fit == "scene" else split.train)
    cube = transform.transform(scene.cube).transpose(2, 0, 1)  # bands × H × W for the engine
    return split, transform, cube


def _score(scene: Scene, split: Split, prediction: np.ndarray) -> tuple[dict[str, Any], np.ndarray]:
    """Scores of the test pixels of a 1..K prediction map, and the test positions."""
    test_pos, test_y = _positions(split, "test", scene.gt)
    predicted = prediction[test_pos[:, 0], test_pos[:, 1]] - 1
    return classification_metrics(test_y, predicted, scene.num_classes), test_pos


def _log_result(log: Callable[[str], None], metrics: dict[str, Any], out: Path) -> None:
    log(
        f"seed {metrics['seed']}: OA {metrics['oa']:.2%}  AA {metrics['aa']:.2%}  kappa "
        f"{metrics['kappa']:.4f}  train {metrics['train_seconds']:.1f} s  map "
        f"{metrics['map_seconds']:.2f} s  → {out}"
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
    """Train and evaluate one seed of a network; write the run folder ``out``; return its
    metrics.

    ``wall_seconds`` in the metrics is the whole protocol: split, PCA, model set-up, training
    (summed over resumed sessions), the full-scene map and scoring; not the output files.
    """
    start = time.perf_counter()
    split, transform, cube = _prepare(scene, config, seed)
    k = scene.num_classes
    bands = cube.shape[0]

    torch.manual_seed(seed)
    model_kwargs = {"num_classes": k, "bands": bands, "window": config.window}
    model = create_model(config.model, **model_kwargs)
    train_pos, train_y = _positions(split, "train", scene.gt)
    val = _positions(split, "val", scene.gt) if split.val.any() else None
    overlap = split.overlap(config.window)
    log(
        f"seed {seed}: {len(train_pos)} training, {int(split.test.sum())} test pixels "
        f"({config.split} split, overlap {overlap:.1%}); {bands} bands; {config.model} "
        f"{sum(p.numel() for p in model.parameters()):,} parameters"
    )

    write_config(out, scene, config, seed, split, model_kwargs)
    tcfg = config.train_config(seed)
    setup_seconds = time.perf_counter() - start
    result: FitResult = fit(
        model,
        cube,
        train_pos,
        train_y,
        tcfg,
        val=val,
        checkpoint=out / "checkpoint.pt",
        resume=resume,
        progress=progress,
    )

    tic = time.perf_counter()
    logits = engine.predict_scene(model, cube, device=config.device)
    map_seconds = time.perf_counter() - tic
    prediction = logits.argmax(0).numpy().astype(np.int64) + 1
    scores, test_pos = _score(scene, split, prediction)
    wall_seconds = setup_seconds + result.train_seconds + time.perf_counter() - tic
    metrics = {
        **run_metrics(scores, overlap, result.train_seconds, map_seconds, wall_seconds),
        "epochs": tcfg.epochs,
        "best_epoch": result.best_epoch,
        "train_pixels": len(train_pos),
        "test_pixels": len(test_pos),
        "seed": seed,
    }
    write_json(out / "metrics.json", {**metrics, "confusion": scores["confusion"]})
    write_csv(out / "history.csv", result.history)
    save_predictor(
        out / "model.pt",
        model,
        model_name=config.model,
        model_kwargs=model_kwargs,
        transform=transform,
        class_names=scene.class_names,
        extra={"scene": scene.name, "seed": seed, "metrics": metrics},
    )
    note = (
        f"Training {metrics['train_seconds']:.1f} s ({metrics['epochs']} epochs), full-scene "
        f"map {map_seconds:.2f} s. Settings in `config.json`; curves in `history.csv`."
    )
    save_outputs(out, scene, config, split, prediction, scores, metrics, note)
    (out / "checkpoint.pt").unlink(missing_ok=True)  # training state: only needed to resume
    _log_result(log, metrics, out)
    return metrics


def run_svm_once(
    scene: Scene,
    config: ExperimentConfig,
    seed: int,
    out: Path,
    *,
    log: Callable[[str], None] = print,
) -> dict[str, Any]:
    """Fit and evaluate the spectral RBF SVM for one seed; write the run folder ``out``.

    The same split, PCA, scoring and files as :func:`run_once`, but no ``history.csv``,
    ``model.pt`` or checkpoint (an SVM has no epochs; ``C`` and ``γ`` are cross-validated on
    the training pixels). ``metrics.json`` adds the support vectors and the chosen pair.
    """
    start = time.perf_counter()
    split, _, cube = _prepare(scene, config, seed)
    bands = cube.shape[0]
    train_pos, train_y = _positions(split, "train", scene.gt)
    overlap = split.overlap(config.window)
    svm = SpectralSVM(seed=seed)
    model_kwargs = {
        "num_classes": scene.num_classes,
        "bands": bands,
        "window": config.window,
        "c_grid": list(svm.c_grid),
        "gamma_grid": list(svm.gamma_grid),
        "folds": svm.folds,
    }
    log(
        f"seed {seed}: {len(train_pos)} training, {int(split.test.sum())} test pixels "
        f"({config.split} split, overlap {overlap:.1%}); {bands} bands; RBF SVM, "
        f"{len(svm.c_grid)} × {len(svm.gamma_grid)} (C, γ) pairs, {svm.folds}-fold CV"
    )
    write_config(out, scene, config, seed, split, model_kwargs)
    setup_seconds = time.perf_counter() - start

    tic = time.perf_counter()
    svm.fit(cube, train_pos, train_y)
    train_seconds = time.perf_counter() - tic
    tic = time.perf_counter()
    prediction = svm.predict_scene(cube) + 1
    map_seconds = time.perf_counter() - tic
    scores, test_pos = _score(scene, split, prediction)
    wall_seconds = setup_seconds + train_seconds + time.perf_counter() - tic
    support_vectors = int(svm.pipeline_.named_steps["svc"].support_vectors_.shape[0])
    metrics = {
        **run_metrics(scores, overlap, train_seconds, map_seconds, wall_seconds),
        "train_pixels": len(train_pos),
        "test_pixels": len(test_pos),
        "seed": seed,
        "support_vectors": support_vectors,
        "best_c": svm.best_params_["C"],
        "best_gamma": svm.best_params_["gamma"],
        "cv_score": svm.cv_score_,
    }
    write_json(out / "metrics.json", {**metrics, "confusion": scores["confusion"]})
    note = (
        f"Training {train_seconds:.1f} s (grid search of C × γ, {svm.folds}-fold "
        f"cross-validation on the training pixels; best C = {metrics['best_c']:g}, "
        f"γ = {metrics['best_gamma']:.3g}, {support_vectors} support vectors), full-scene map "
        f"{map_seconds:.2f} s. Settings in `config.json`. An SVM has no epochs, so this run "
        "writes no `history.csv`, no `model.pt` and no checkpoint."
    )
    save_outputs(out, scene, config, split, prediction, scores, metrics, note)
    _log_result(log, metrics, out)
    return metrics


# Settings that may change between a run and its resumption: they do not change the run.
_RESUMABLE = ("runs", "data_dir", "device")


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
    for key in sorted(set(saved) | set(now)):
        if key in _RESUMABLE or saved.get(key, "(absent)") == now.get(key, "(absent)"):
            continue
        raise ValueError(
            f"resume: {run_dir} was made with {key}={saved.get(key, '(absent)')!r}, this "
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
        scene = load_scene(config.scene, gt=config.gt, data_dir=config.data_dir)
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
        if config.model == SVM:
            runs.append(run_svm_once(scene, config, seed, run_dir, log=log))
        else:
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
        page = summary_markdown(config, summary["summary"], scene)
        atomic_write_bytes(out / "summary.md", page.encode())
    return summary
