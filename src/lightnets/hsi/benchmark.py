"""Several classifiers under several protocols on one scene, several seeds each: one table.

Every (protocol, model, recipe) is an ordinary experiment (:func:`run_experiment`, seeds
``0 … runs − 1``) in ``out/runs/<protocol>/<model>`` (``<model>-paper`` for the paper recipe,
``-bf16`` after either for a ``precision="bf16"`` setting); the table gathers OA, AA and
kappa (mean ± std over seeds) beside the published figure of the paper recipe, each
classifier's cost (parameters, multiply-adds per pixel on the scene path and per window on the
patch path, :mod:`lightnets.hsi.costs`) and its seconds, and
:mod:`lightnets.hsi.benchmark_report` writes it as Markdown, CSV and JSON beside a grid of the
first seed's maps. With ``resume`` finished runs are read back, interrupted ones continue.

Recipes (:mod:`lightnets.hsi.recipes`): ``common``, one shared setting (PCA to 30 whitened
components on the scene, Adam 1e-3, batch 256, as the HybridSN paper), and ``paper``, each
model's own. Protocols, defined here once:

* ``paper30``: 30 % of each class's pixels, drawn at random (the HybridSN paper's split);
* ``paper10``: 10 %, the same way;
* ``regions``: 10 % of each class taken as one region (``region_split``), and only test pixels
  at least a window radius from every training pixel kept, so no test window sees a training
  pixel. The buffer is the largest window of the run's models (25 with HybridSN; a
  ``buffer`` setting overrides it), so every model is trained and tested on the same pixels
  whatever its own window;
* ``cv5``: spatial cross-validation (:func:`~lightnets.hsi.folds.spatial_folds`): 5 folds of
  24×24 tiles, each tested once by a model trained on the other folds' pixels minus a buffer
  of the largest window around it (overlap 0); its runs are the 5 folds (seed 0 lays them
  out, run *i* is fold *i*), so its ± is over folds.
"""

from __future__ import annotations

import json
import warnings
from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

from .._checks import bad_value, check_int
from ..models import list_models
from .benchmark_report import BenchmarkRow, write_report
from .config import SVM, ExperimentConfig
from .costs import PixelCost, registered_model_cost, svm_cost
from .experiment import run_experiment
from .recipes import RECIPES, get_recipe, same_as_common
from .scenes import Scene, load_scene

PROTOCOLS: dict[str, dict[str, Any]] = {
    "paper30": {"split": "random", "train_fraction": 0.3},
    "paper10": {"split": "random", "train_fraction": 0.1},
    "regions": {"split": "regions", "train_fraction": 0.1},
    "cv5": {"split": "spatial-cv", "folds": 5, "block_size": 24},
}
MODELS = (
    "svm",
    "hu1d",
    "hamida3d",
    "hybridsn",
    "hybridsn_se",
    "hybridsn_cbam",
    "hybridsn_lite",
    "ssftt",
)
# Precisions whose kept runs a table reads back, in this order, where a row's own are missing.
_READ_PRECISIONS = ("fp32", "bf16")
# Settings a benchmark fixes itself: a protocol, a model, its seeds and its epochs.
_FIXED = {
    "model",
    "recipe",
    "runs",
    "seed",
    "epochs",
    "scene",
    *(k for p in PROTOCOLS.values() for k in p),
}


def parse_names(name: str, value: str | Sequence[str], known: Sequence[str]) -> list[str]:
    """``value`` (a comma-separated string or a sequence) as a list of distinct known names."""
    names = [v.strip() for v in value.split(",")] if isinstance(value, str) else list(value)
    expected = "a comma-separated list of " + ", ".join(repr(k) for k in known)
    unknown = [n for n in names if n not in known]
    if not names or unknown:
        raise bad_value(name, expected, unknown[0] if unknown else value)
    if len(set(names)) != len(names):
        raise bad_value(name, "names without repeats", value)
    return names


def parse_recipes(value: str | Sequence[str], runs: int) -> dict[str, int]:
    """``"common,paper:5"`` (or a sequence of such items) → seeds per recipe,
    ``{"common": runs, "paper": 5}``."""
    items = [v.strip() for v in value.split(",")] if isinstance(value, str) else list(value)
    parsed: dict[str, int] = {}
    for item in items:
        name, _, count = item.partition(":")
        if name not in RECIPES or name in parsed or (count and not count.isdigit()):
            raise bad_value(
                "recipes", "distinct names among common, paper, each with an optional :runs", item
            )
        parsed[name] = check_int("recipes", int(count), minimum=1) if count else runs
    if not parsed:
        raise bad_value("recipes", "at least one recipe", value)
    return parsed


def table_plan(
    models: Sequence[str], recipes: Mapping[str, int]
) -> list[tuple[str, str, str, int]]:
    """(model, label, recipe run, seeds) per table row. A model whose paper recipe trains as
    the common one gets one row for both ("common = paper", with the common recipe's seed
    count when both are asked for: its runs are the common recipe's)."""
    rows = []
    for model in models:
        if "paper" in recipes and same_as_common(model):
            if "common" in recipes:
                rows.append((model, "common = paper", "common", recipes["common"]))
            else:
                rows.append((model, "paper (= common)", "common", recipes["paper"]))
            continue
        rows += [(model, name, name, n) for name, n in recipes.items()]
    return rows


def run_benchmark(
    scene: Scene | str,
    out: str | Path,
    *,
    models: str | Sequence[str] = MODELS,
    protocols: str | Sequence[str] = tuple(PROTOCOLS),
    runs: int = 5,
    epochs: int | None = None,
    recipes: str | Sequence[str] = ("common",),
    settings: Mapping[str, Any] | None = None,
    resume: bool = False,
    only_finished: bool = False,
    progress: bool = False,
    log: Callable[[str], None] = print,
) -> list[BenchmarkRow]:
    """Run every protocol × model × recipe with seeds ``0 … runs − 1`` under ``out``, then
    write the table and the map grid there (:func:`write_report`); one row per triple, in that
    order. ``recipes``: ``"common"``, ``"paper"`` or both, each with its own seed count
    (``"common:3,paper:5"``); the common recipe's runs are in ``runs/<protocol>/<model>``, the
    paper recipe's in ``runs/<protocol>/<model>-paper``. ``epochs``: ``None`` keeps each
    recipe's.

    ``settings`` are further :class:`ExperimentConfig` fields shared by all runs (``pca``,
    ``batch_size``, ``device``, and where a ``scene`` name is loaded from: ``data_dir``,
    ``download``, ``gt`` …); the protocol, model, seeds and epochs are the benchmark's. A
    ``buffer`` setting applies to the ``regions`` and ``cv5`` protocols only (default: the
    largest window). ``only_finished`` trains nothing: a row takes the runs finished in
    ``out`` (seeds 0, 1, … as far as they go, at least 2 when several are asked for; every
    fold of a cross-validation), from the folder of its own precision or, failing that, of
    another (fp32, then bf16: the row is then marked with it), and a row without them is
    left out of the table (and logged).
    Every argument is checked before the first run.
    """
    model_names = parse_names("models", models, [SVM, *list_models(task="hsi")])
    protocol_names = parse_names("protocols", protocols, list(PROTOCOLS))
    runs = check_int("runs", runs, minimum=1)
    seeds = parse_recipes(recipes, runs)
    settings = dict(settings or {})
    buffer = settings.pop("buffer", None)  # the disjoint protocol's alone
    clash = sorted(set(settings) & _FIXED)
    if clash:
        raise bad_value(clash[0], "no value: the benchmark sets it", settings[clash[0]])
    plan = table_plan(model_names, seeds)
    configs = {
        (p, m, label): ExperimentConfig(
            scene=scene if isinstance(scene, str) else scene.name,
            model=m,
            recipe=recipe,
            epochs=epochs,
            runs=PROTOCOLS[p].get("folds", n),  # spatial-cv: one run per fold
            seed=0,
            **PROTOCOLS[p],
            **settings,
        )
        for p in protocol_names
        for m, label, recipe, n in plan
    }
    if buffer is None:
        buffer = max(c.window for c in configs.values())
    configs = {
        key: replace(c, buffer=buffer) if c.split in ("regions", "spatial-cv") else c
        for key, c in configs.items()
    }
    if isinstance(scene, str):
        scene = load_scene(scene, **next(iter(configs.values())).scene_options())
    out = Path(out)
    rows: list[BenchmarkRow] = []
    for (protocol, model, label), config in configs.items():
        log(f"== {protocol} · {model} · {label} ({config.runs} run(s), window {config.window})")
        folder = run_folder(out, protocol, config)
        if only_finished:
            found = _finished(out, protocol, config)
            if found is None:
                log(f"   not finished in {folder}: left out of the table")
                continue
            config, folder = found, run_folder(out, protocol, found)
        result = run_experiment(  # only_finished reads the finished runs back, never trains
            config, folder, scene=scene, resume=resume or only_finished, progress=progress,
            log=log,
        )
        first_run = folder if config.runs == 1 else folder / "seed0"
        summary = result["summary"]
        cost = _cost(model, first_run, summary)
        published = "" if label == "common" else get_recipe(model, "paper").published.get(
            protocol, ""
        )
        rows.append(
            BenchmarkRow(
                protocol, model, label, published, config.window, summary, cost, folder,
                first_run, config.precision,
            )
        )
    meta = {
        "runs": runs,
        "recipe_runs": seeds,
        "epochs": epochs,
        "models": model_names,
        "protocols": protocol_names,
    }
    write_report(out, rows, scene, {**meta, "settings": settings})
    return rows


def run_folder(out: Path, protocol: str, config: ExperimentConfig) -> Path:
    """Where a row's runs go: ``runs/<protocol>/<model>``, ``-paper`` for the paper recipe and
    ``-bf16`` (or ``-fp16``) for a precision other than fp32, so rows of either never mix."""
    name = config.model if config.recipe == "common" else f"{config.model}-paper"
    if config.precision != "fp32":
        name += f"-{config.precision}"
    return out / "runs" / protocol / name


def _finished(out: Path, protocol: str, config: ExperimentConfig) -> ExperimentConfig | None:
    """The row's finished runs as a config (``runs`` cut to them): its own precision's folder
    first, then the others' (a row trained in bf16 where its fp32 runs are missing), ``None``
    where no folder has enough. A row needs its finished seeds, at least 2 of several; a
    cross-validation all its folds."""
    for precision in dict.fromkeys((config.precision, *_READ_PRECISIONS)):
        candidate = _quiet_replace(config, precision=precision)
        done = finished_runs(run_folder(out, protocol, candidate), config.runs)
        if done >= min(config.runs, 2) and (config.split != "spatial-cv" or done == config.runs):
            return _quiet_replace(candidate, runs=done)
    return None


def _quiet_replace(config: ExperimentConfig, **changes: Any) -> ExperimentConfig:
    """``replace`` without the bf16-on-this-CPU warning: reading runs back computes nothing."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        return replace(config, **changes)


def finished_runs(folder: Path, runs: int) -> int:
    """How many of an experiment folder's ``runs`` runs, counted from the first, have their
    metrics."""
    if runs == 1:
        return int((folder / "metrics.json").is_file())
    done = 0
    while done < runs and (folder / f"seed{done}" / "metrics.json").is_file():
        done += 1
    return done


def _cost(model: str, first_run: Path, summary: dict[str, Any]) -> PixelCost:
    """The classifier's cost at the bands, classes and window its runs used."""
    kwargs = json.loads((first_run / "config.json").read_text())["model_kwargs"]
    shape = {k: kwargs[k] for k in ("bands", "num_classes")}
    if model == SVM:
        return svm_cost(round(summary["support_vectors"]["mean"]), **shape)
    return registered_model_cost(model, window=kwargs["window"], **shape)
