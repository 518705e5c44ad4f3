"""Every setting of a hyperspectral run, defined once: :class:`ExperimentConfig`.

Each field is a :func:`lightnets.settings.setting` with its help text: ``lightnets hsi
train`` builds its options from these fields, ``config.json`` records them
(``dataclasses.asdict``), and the fields named in :data:`ESTIMATOR_SETTINGS` are passed as
they are to :class:`~lightnets.hsi.estimator.HSIClassifier` (``seed`` as ``random_state``); a
test checks that the estimator takes exactly those, with the same defaults. Defaults are the
HybridSN paper's Indian Pines protocol: the ``common`` recipe of :mod:`lightnets.hsi.recipes`.
A setting of the recipe left at ``None`` takes the recipe's value when the config is made
(``recipe="paper"``: the model's own paper's), so ``config.json`` records the values used.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

from .._checks import bad_value, check_choice, check_fraction, check_int
from ..devices import resolve_device
from ..models import create_model, list_models
from ..precision import PRECISIONS, resolve_precision
from ..settings import setting
from . import recipes
from .engine import BATCHINGS
from .preprocessing import SCALINGS
from .recipes import KEEPS, LAST_BATCHES, OPTIMIZERS, PATHS, RECIPE_SETTINGS, RECIPES, SCHEDULES
from .training import FitConfig
from .transfer import INIT_TRANSFORMS, check_settings

SVM = "svm"
SPLITS = ("random", "per-class", "blocks", "regions", "masks", "spatial-cv")
PCA_FITS = ("scene", "train")

# The settings HSIClassifier takes under the same name (and ``seed`` as ``random_state``).
ESTIMATOR_SETTINGS = (
    "model",
    "recipe",
    *RECIPE_SETTINGS,
    "batching",
    "class_weights",
    "device",
    "precision",
    "model_kwargs",
    "init_from",
    "init_transform",
    "freeze_features",
)


def _pca(text: str) -> int:
    """``--pca``: a number of components; 0 (or ``none``) keeps every band."""
    return 0 if text.strip().lower() == "none" else int(text)


@dataclass
class ExperimentConfig:
    """Everything that defines a run; defaults are the HybridSN paper's Indian Pines protocol.

    ``window`` left at ``None`` becomes the model's own window when the config is made, and
    ``buffer`` the window.
    """

    # -- data
    scene: str = setting("indian_pines", "catalogue name or a cube file", metavar="NAME|FILE")
    data_dir: str | None = setting(None, "folder holding the scenes' published files")
    download: bool = setting(
        False, "fetch a missing catalogue scene's published files (with checksums)"
    )
    gt: str | None = setting(None, "ground-truth file of your own cube (.mat, .npy, .png, ...)")
    variable: str | None = setting(None, "name of the cube's array in a .mat/.npz file")
    gt_variable: str | None = setting(None, "name of the ground truth's array in a .mat/.npz")
    class_names: str | None = setting(
        None, "names of your classes 1..K: a text file (one per line) or comma-separated"
    )
    # -- split
    split: str = setting(
        "random",
        "random: stratified fraction; per-class: N per class; blocks: whole tiles train; "
        "regions: one region per class trains (both disjoint: test pixels a buffer away from "
        "training); masks: your --train-mask and --test-mask; spatial-cv: --folds folds of "
        "whole tiles, each tested once (run i tests fold i)",
        choices=SPLITS,
    )
    train_fraction: float = setting(0.3, "share of each class's pixels that trains")
    per_class: int = setting(50, "training pixels per class (per-class split)")
    block_size: int = setting(32, "tile side (blocks and spatial-cv splits)")
    folds: int = setting(5, "folds of the spatial-cv split (its runs: one per fold)")
    buffer: int | None = setting(
        None,
        "blocks/regions/spatial-cv: test pixels keep a buffer×buffer box clear of training pixels "
        "(default: the window)",
    )
    train_mask: str | None = setting(None, "file of an H×W boolean mask of training pixels")
    test_mask: str | None = setting(None, "file of an H×W boolean mask of test pixels")
    val_fraction: float = setting(
        0.0, "share of training pixels kept for validation / model selection"
    )
    # -- classifier and its recipe
    model: str = setting("hybridsn", "a hyperspectral model (lightnets models), or svm")
    recipe: str = setting(
        "common",
        "common: one shared setting for all models (HybridSN's); paper: the model's own paper's; "
        "the options below left out take the recipe's values",
        choices=RECIPES,
    )
    # -- spectral transform (default: the recipe's)
    pca: int | None = setting(
        None, "PCA components (0: no PCA, all bands; default: the recipe's)", parse=_pca
    )
    whiten: bool | None = setting(None, "whiten the PCA components (default: the recipe's)")
    scaling: str | None = setting(
        None,
        "before the PCA: none, standard (per band), minmax (whole cube); default: the recipe's",
        choices=SCALINGS,
    )
    pca_fit: str | None = setting(
        None,
        "fit the PCA on the whole scene or on training pixels (default: the recipe's)",
        choices=PCA_FITS,
    )
    window: int | None = setting(
        None, "patch side (default: the model's own; 25 HybridSN, 13 SSFTT, 5 Hamida3D, 1 Hu1D)"
    )
    model_kwargs: dict[str, Any] | None = setting(
        None, "further constructor arguments of the network (or the SVM's grids)", cli=False
    )
    # -- fine-tuning
    init_from: str | None = setting(
        None,
        "fine-tune from a trained network's file (a run's model.pt): its architecture and "
        "weights, a new classifier layer when the classes differ",
        metavar="FILE",
    )
    init_transform: str = setting(
        "source",
        "with --init-from: source: its fitted spectral transform (same band count); refit: the "
        "recipe's fitted on this cube with the same number of components (another sensor)",
        choices=INIT_TRANSFORMS,
    )
    freeze_features: bool = setting(
        False, "with --init-from: train the classifier layer only, the rest frozen"
    )
    # -- training (default: the recipe's)
    optimizer: str | None = setting(
        None, "adam or sgd (no momentum; default: the recipe's)", choices=OPTIMIZERS
    )
    lr: float | None = setting(None, "learning rate (default: the recipe's)")
    weight_decay: float | None = setting(None, "weight decay (default: the recipe's)")
    batch_size: int | None = setting(None, "pixels per batch (default: the recipe's)")
    epochs: int | None = setting(None, "training epochs (default: the recipe's)")
    schedule: str | None = setting(
        None,
        "none, or plateau: lr / 10 when the training loss stalls (default: the recipe's)",
        choices=SCHEDULES,
    )
    keep: str | None = setting(
        None,
        "best: the epoch of best validation OA (or lowest training loss); last: the final one; "
        "train_acc: the first epoch of highest training accuracy (default: the recipe's)",
        choices=KEEPS,
    )
    path: str | None = setting(
        None,
        "scene: one convolution pass per region; patch: window by window (the same gradients "
        "but for batch-norm statistics; default: the recipe's)",
        choices=PATHS,
    )
    batching: str = setting(
        "random",
        "random: i.i.d. batches (the paper's); mixed/spatial: compact groups of pixels, "
        "faster epochs on the scene path but lower accuracy",
        choices=BATCHINGS,
    )
    last_batch: str | None = setting(
        None,
        "random batching: keep: the pixels left over by the batch size form a short last "
        "batch (PyTorch's DataLoader); even: they are spread over the batches, so that none "
        "holds only a few pixels (default: the recipe's)",
        choices=LAST_BATCHES,
    )
    class_weights: bool = setting(False, "inverse-frequency loss weights")
    device: str | None = setting(None, "cpu, cuda, cuda:1 … (default: CUDA when available)")
    precision: str = setting(
        "fp32",
        "fp32; bf16 (autocast, float32 weights; CPU or CUDA); fp16 (CUDA, with loss scaling); "
        "auto: bf16 where the hardware runs it natively, else fp32 (config.json records the "
        "one used)",
        choices=PRECISIONS,
    )
    # -- repeats
    seed: int = setting(0, "seed of the first run (split, PCA, weights, batches)")
    runs: int = setting(1, "repeats with seeds seed, seed+1, …")

    def __post_init__(self) -> None:
        check_choice("split", self.split, SPLITS)
        check_choice("batching", self.batching, BATCHINGS)
        check_fraction("val_fraction", self.val_fraction)
        check_int("runs", self.runs, minimum=1)
        check_int("folds", self.folds, minimum=2)
        if self.split == "spatial-cv":
            if self.runs == 1:
                self.runs = self.folds
            elif self.runs != self.folds:
                expected = f"1 or folds ({self.folds}) with split='spatial-cv'"
                raise bad_value("runs", expected, self.runs)
        check_int("seed", self.seed, minimum=0)
        _check_model(self.model)
        for name, value in recipes.resolve(self.model, self.recipe, vars(self)).items():
            setattr(self, name, value)
        check_choice("pca_fit", self.pca_fit, PCA_FITS)
        check_choice("path", self.path, PATHS)
        check_choice("scaling", self.scaling, SCALINGS)
        check_int("pca", self.pca, minimum=0)
        FitConfig(  # checks the optimisation settings before any work
            epochs=self.epochs,
            batch_size=self.batch_size,
            lr=self.lr,
            optimizer=self.optimizer,
            weight_decay=self.weight_decay,
            schedule=self.schedule,
            keep=self.keep,
            last_batch=self.last_batch,
        )
        if self.split in ("random", "blocks", "regions") and not 0 < self.train_fraction < 1:
            raise bad_value("train_fraction", "a number in (0, 1)", self.train_fraction)
        masks = {"train_mask": self.train_mask, "test_mask": self.test_mask}
        for name, value in masks.items():
            if self.split == "masks" and value is None:
                raise bad_value(name, "a mask file with split='masks'", None)
            if self.split != "masks" and value is not None:
                raise bad_value("split", f"'masks' when {name} is given", self.split)
        check_settings(self.init_from, self.init_transform, self.freeze_features)
        if self.init_from is not None and self.model == SVM:
            raise bad_value("init_from", "None for the SVM (a network's file fine-tunes a network)",
                            self.init_from)
        # a device that is not here fails before any work; "auto" is recorded as what it chose
        self.precision = resolve_precision(self.precision, resolve_device(self.device))
        if self.model_kwargs is not None and not isinstance(self.model_kwargs, Mapping):
            raise bad_value("model_kwargs", "a dict of constructor arguments", self.model_kwargs)
        self.window = resolve_window(self.model, self.window)
        self.buffer = (
            self.window
            if self.buffer is None
            else _odd_at_least("buffer", self.buffer, self.window, f"the window ({self.window})")
        )

    def estimator_params(self, seed: int) -> dict[str, Any]:
        """The :class:`HSIClassifier` parameters of this config's run with ``seed``."""
        return {
            **{name: getattr(self, name) for name in ESTIMATOR_SETTINGS},
            "random_state": seed,
        }

    def scene_options(self) -> dict[str, Any]:
        """The keyword arguments of :func:`~lightnets.hsi.scenes.load_scene` (own files only
        where given, so that a catalogue scene gets none of them)."""
        own = {
            "gt": self.gt,
            "variable": self.variable,
            "gt_variable": self.gt_variable,
            "class_names": None if self.class_names is None else read_class_names(self.class_names),
        }
        return {
            "data_dir": self.data_dir,
            "download": self.download,
            **{k: v for k, v in own.items() if v is not None},
        }


def read_class_names(value: str) -> list[str]:
    """Class names from a text file (one per line, blank lines skipped) or a comma-separated
    list."""
    path = Path(value).expanduser()
    if path.is_file():
        names = [line.strip() for line in path.read_text().splitlines() if line.strip()]
    else:
        names = [n.strip() for n in value.split(",") if n.strip()]
    if not names:
        raise bad_value("class_names", "a file of names or comma-separated names", value)
    return names


def resolve_window(model: str, window: int | None) -> int:
    """The window a run of ``model`` uses: ``window``, checked as the model checks it, or the
    model's default when ``None``.

    The SVM sees one pixel: its default is 1, and a given (odd) window only sets the split's
    buffer and the overlap measure. Networks are built on ``meta`` for the check (no cost).
    """
    _check_model(model)
    if model == SVM:
        if window is None:
            return 1
        return _odd_at_least("window", window, 1, "1")
    with torch.device("meta"):
        return create_model(model, window=window).window


def _check_model(model: Any) -> None:
    known = list_models(task="hsi")
    if model != SVM and model not in known:
        raise bad_value("model", f"{SVM!r} or a hyperspectral model ({', '.join(known)})", model)


def _odd_at_least(name: str, value: Any, minimum: int, what: str) -> int:
    """``value`` when it is an odd integer >= ``minimum`` (described as ``what``), else the
    error naming ``name``."""
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum or value % 2 == 0:
        raise bad_value(name, f"an odd integer >= {what}", value)
    return value
