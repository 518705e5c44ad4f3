"""``HSIClassifier``: a scikit-learn estimator that classifies every pixel of a cube.

One convention at its boundary: a cube is an ``H × W × B`` array, a ground truth an ``H × W``
integer array (0 = unlabelled, classes 1..K), a mask an ``H × W`` boolean array, and a
prediction an ``H × W`` map of labels 1..K. Bands-first tensors and 0-based targets exist only
inside the engine.

The estimator owns what a prediction needs: the fitted spectral transform (standardisation,
PCA), the network (any hyperspectral model of the registry) or the spectral RBF SVM
(``model="svm"``), the window and the class names; :meth:`HSIClassifier.save` writes all of it
to one file of tensors, numbers and strings that :meth:`HSIClassifier.load` reads with
``weights_only=True`` (a crafted file runs nothing).

Randomness: ``random_state`` seeds the PCA solver, the network's initial weights, the batches
and dropout (and the SVM's cross-validation folds), so the same settings and data give the same
model. Evaluation runs in eval mode under ``torch.inference_mode()``.
"""

from __future__ import annotations

import os
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch

from .._checks import bad_value, check_choice, check_int
from ..devices import resolve_device
from ..models import create_model, list_models
from ..precision import resolve_precision
from ..runs import load_torch, save_torch
from . import engine, recipes, transfer
from .config import BATCHINGS, PATHS, PCA_FITS, SVM
from .metrics import classification_metrics
from .preprocessing import SCALINGS, SpectralTransform
from .readers import check_cube, check_ground_truth, check_mask, require
from .svm import SpectralSVM
from .training import FitConfig, fit

FORMAT = "lightnets-hsi-classifier"
FORMAT_VERSION = 2
# The recipe settings that describe the fitted spectral transform.
TRANSFORM_SETTINGS = ("pca", "whiten", "scaling", "pca_fit")


@dataclass
class HSIEvaluation:
    """Scores of a prediction on the labelled pixels of a mask: OA, AA, kappa (fractions),
    per-class accuracy by class name (NaN for a class without test pixels), the confusion
    matrix (rows: true class 1..K, columns: predicted) and the number of pixels scored."""

    oa: float
    aa: float
    kappa: float
    per_class: dict[str, float]
    confusion: np.ndarray = field(repr=False)
    n_pixels: int

    def as_dict(self) -> dict[str, Any]:
        """Plain values (the confusion matrix as nested lists), for JSON."""
        return {
            "oa": self.oa,
            "aa": self.aa,
            "kappa": self.kappa,
            "per_class": dict(self.per_class),
            "confusion": self.confusion.tolist(),
            "n_pixels": self.n_pixels,
        }

    def __str__(self) -> str:
        return (
            f"OA {self.oa:.2%}  AA {self.aa:.2%}  kappa {self.kappa:.4f}  ({self.n_pixels} pixels)"
        )


def _base_classes() -> tuple[type, type]:
    base = require("sklearn.base", "hsi")
    return base.ClassifierMixin, base.BaseEstimator


_ClassifierMixin, _BaseEstimator = _base_classes()


class HSIClassifier(_ClassifierMixin, _BaseEstimator):
    """Classify every pixel of a hyperspectral cube with a network or an RBF SVM.

    ``recipe`` (``"common"`` or ``"paper"``, :mod:`lightnets.hsi.recipes`) sets the spectral
    transform and the training; every parameter of the recipe left at ``None`` takes the
    recipe's value, one given overrides it (``settings_`` holds the values used). Spectral
    transform: ``pca`` components (0: all bands), ``whiten``, ``scaling`` (``"none"``,
    ``"standard"`` per band, ``"minmax"`` for the whole cube; before the PCA), fitted on the
    whole cube (``pca_fit="scene"``, HybridSN's protocol) or on the training pixels only
    (``"train"``). Classifier: ``model`` (a name of ``lightnets.list_models(task="hsi")`` or
    ``"svm"``), ``window`` (the model's own by default), ``model_kwargs`` (the network's
    constructor arguments, or the SVM's ``c_grid``, ``gamma_grid``, ``folds``, ``n_jobs``).
    Training of a network: ``optimizer`` (``adam``, ``sgd``), ``lr``, ``weight_decay``,
    ``batch_size``, ``epochs``, ``schedule`` (``none``, ``plateau``), ``keep`` (``best``: the
    lowest training loss, or the best validation OA with ``fit(..., val_mask=...)``;
    ``last``; ``train_acc``: the first epoch of highest training accuracy), ``batching``
    (``random``: i.i.d. batches; ``mixed``/``spatial``), ``last_batch`` (``keep``: the
    remainder of ``batch_size`` is a short last batch, as PyTorch's DataLoader; ``even``: spread
    over the batches; default: the recipe's), ``path``
    (``scene``: one convolution pass per region; ``patch``: window by window, the reference),
    ``class_weights``, ``device``, ``precision`` (``fp32``, ``bf16``, ``fp16``, ``auto``:
    :mod:`lightnets.precision`; training and prediction). Fine-tuning
    (:mod:`lightnets.hsi.transfer`): ``init_from``, a network classifier's file whose
    architecture and weights the new network starts from (its classifier layer replaced when the
    classes differ), ``init_transform`` (``"source"``: its fitted spectral transform;
    ``"refit"``: the recipe's, fitted on the new cube with the same number of components, for
    another sensor) and ``freeze_features`` (train the classifier
    layer only). ``verbose`` shows a progress bar. The parameters are the
    settings of :class:`~lightnets.hsi.config.ExperimentConfig` of the same names
    (``random_state`` is its ``seed``).

    After :meth:`fit`: ``settings_`` (the recipe's settings as used), ``classes_`` (labels
    1..K), ``class_names_``, ``n_bands_in_``, ``window_``, ``transform_``, ``network_`` or
    ``svm_``, ``history_`` (per-epoch loss), ``best_epoch_``, ``train_seconds_`` (the training
    alone, summed over resumed sessions) and ``fit_seconds_`` (transform and training, the
    same way); with ``init_from``, ``head_replaced_`` (whether the classifier layer started
    fresh).
    """

    def __init__(
        self,
        model: str = "hybridsn",
        *,
        recipe: str = "common",
        pca: int | None = None,
        whiten: bool | None = None,
        scaling: str | None = None,
        pca_fit: str | None = None,
        window: int | None = None,
        optimizer: str | None = None,
        lr: float | None = None,
        weight_decay: float | None = None,
        batch_size: int | None = None,
        epochs: int | None = None,
        schedule: str | None = None,
        keep: str | None = None,
        batching: str = "random",
        last_batch: str | None = None,
        path: str | None = None,
        class_weights: bool = False,
        device: str | None = None,
        precision: str = "fp32",
        random_state: int = 0,
        model_kwargs: Mapping[str, Any] | None = None,
        init_from: str | os.PathLike | None = None,
        init_transform: str = "source",
        freeze_features: bool = False,
        verbose: bool = False,
    ) -> None:
        self.model = model
        self.recipe = recipe
        self.pca = pca
        self.whiten = whiten
        self.scaling = scaling
        self.pca_fit = pca_fit
        self.window = window
        self.optimizer = optimizer
        self.lr = lr
        self.weight_decay = weight_decay
        self.batch_size = batch_size
        self.epochs = epochs
        self.schedule = schedule
        self.keep = keep
        self.batching = batching
        self.last_batch = last_batch
        self.path = path
        self.class_weights = class_weights
        self.device = device
        self.precision = precision
        self.random_state = random_state
        self.model_kwargs = model_kwargs
        self.init_from = init_from
        self.init_transform = init_transform
        self.freeze_features = freeze_features
        self.verbose = verbose

    # -- fitting -------------------------------------------------------------------------------

    def _settings(self) -> dict[str, Any]:
        """The recipe's settings with the given parameters in their place, checked."""
        known = list_models(task="hsi")
        if self.model != SVM and self.model not in known:
            raise bad_value("model", f"{SVM!r} or one of {', '.join(known)}", self.model)
        settings = recipes.resolve(
            self.model, self.recipe, {k: getattr(self, k) for k in recipes.RECIPE_SETTINGS}
        )
        check_int("pca", settings["pca"], minimum=0)
        check_choice("scaling", settings["scaling"], SCALINGS)
        check_choice("pca_fit", settings["pca_fit"], PCA_FITS)
        check_int("random_state", self.random_state, minimum=0)
        resolve_precision(self.precision, resolve_device(self.device))
        if self.model_kwargs is not None and not isinstance(self.model_kwargs, Mapping):
            raise bad_value("model_kwargs", "a dict of constructor arguments", self.model_kwargs)
        transfer.check_settings(self.init_from, self.init_transform, self.freeze_features)
        if self.model != SVM:
            check_choice("batching", self.batching, BATCHINGS)
            check_choice("path", settings["path"], PATHS)
            self._fit_config(settings)  # checks the optimisation settings before any work
        return settings

    def _fit_config(self, settings: Mapping[str, Any]) -> FitConfig:
        return FitConfig(
            epochs=settings["epochs"],
            batch_size=settings["batch_size"],
            lr=settings["lr"],
            optimizer=settings["optimizer"],
            weight_decay=settings["weight_decay"],
            schedule=settings["schedule"],
            keep=settings["keep"],
            path=settings["path"],
            batching=self.batching,
            last_batch=settings["last_batch"],
            class_weights=self.class_weights,
            seed=self.random_state,
            device=self.device,
            precision=resolve_precision(self.precision, resolve_device(self.device)),
        )

    def _model_kwargs(self) -> dict[str, Any]:
        """The recipe's constructor arguments, with ``model_kwargs`` in their place."""
        own = recipes.get_recipe(self.model, self.recipe).model_kwargs
        return {**own, **(self.model_kwargs or {})}

    def classifier_arguments(self, n_bands: int, n_classes: int) -> dict[str, Any]:
        """The constructor arguments :meth:`fit` gives the network for a cube of ``n_bands``
        bands and ``n_classes`` classes (for the SVM: its search grid and folds)."""
        return self._arguments(self._settings(), n_bands, n_classes)

    def _arguments(
        self, settings: Mapping[str, Any], n_bands: int, n_classes: int
    ) -> dict[str, Any]:
        if self.model == SVM:
            svm = _svm(self._model_kwargs(), self.random_state)
            return {"c_grid": list(svm.c_grid), "gamma_grid": list(svm.gamma_grid),
                    "folds": svm.folds}
        bands = settings["pca"] or n_bands
        kwargs = {**self._model_kwargs(), "num_classes": n_classes, "bands": bands}
        if settings["window"] is not None:
            kwargs["window"] = settings["window"]
        return kwargs

    def fit(
        self,
        X: Any,
        y: Any = None,
        train_mask: Any = None,
        *,
        class_names: Sequence[str] | None = None,
        val_mask: Any = None,
        checkpoint: str | os.PathLike | None = None,
        resume: bool = False,
        allow_missing_classes: bool = False,
    ) -> HSIClassifier:
        """Fit on a ``Scene`` (``y`` left out) or an H×W×B cube ``X`` with its H×W ground
        truth ``y``; ``train_mask`` (H×W booleans) selects the training pixels among the
        labelled ones (default: all of them); ``class_names`` name the classes 1..K of a
        ground truth (a Scene has its own; default ``class 1``, …). Returns ``self``.

        A network also takes ``val_mask``: validation pixels that choose the kept epoch (by
        their OA; without them, the lowest training loss), and ``checkpoint``: a file
        rewritten after every epoch, continued with ``resume=True``.

        A class without training pixels is an error, unless ``allow_missing_classes`` (a fold
        of spatial cross-validation may leave one out): it is then never predicted.
        """
        settings = self._settings()
        cube, gt, names = _inputs(X, y, class_names)
        k = len(names)
        train = gt > 0
        if train_mask is not None:
            train &= check_mask("train_mask", train_mask, gt.shape)
        val = None if val_mask is None else (gt > 0) & check_mask("val_mask", val_mask, gt.shape)
        if val is not None and (val & train).any():
            raise bad_value("val_mask", "pixels apart from train_mask", "shared pixels")
        counts = np.bincount(gt[train], minlength=k + 1)[1:]
        missing = [names[i] for i in range(k) if counts[i] == 0]
        if len(missing) == k:
            raise bad_value("train_mask", "at least one labelled training pixel", "none")
        if missing and not allow_missing_classes:
            raise bad_value(
                "train_mask",
                f"training pixels of every class 1..{k}",
                f"none of {', '.join(missing)}",
            )
        source = self._source(settings, cube.shape[2])
        tic = time.perf_counter()
        # The classifier is built first, so a bad model_kwargs fails before any work.
        svm = network = None
        if self.model == SVM:
            given = settings["window"]
            window = 1 if given is None else check_int("window", given, minimum=1)
            svm = _svm(self._model_kwargs(), self.random_state)
        else:
            torch.manual_seed(self.random_state)
            if source is None:
                kwargs = self._arguments(settings, cube.shape[2], k)
            else:  # the source's architecture, with this data's classes
                kwargs = {**source.network_kwargs_, "num_classes": k}
            network = _network(self.model, kwargs)
            window = int(network.window)
            if source is not None:
                self.head_replaced_ = transfer.init_network(network, source, names)
            if self.freeze_features:
                transfer.freeze_features(network)
        if source is not None and self.init_transform == "source":
            transform = SpectralTransform.from_state_dict(source.transform_.state_dict())
            settings.update({k: source.settings_[k] for k in TRANSFORM_SETTINGS})
        else:
            transform = SpectralTransform(
                settings["pca"] or None,
                scaling=settings["scaling"],
                whiten=settings["whiten"],
                random_state=self.random_state,
            ).fit(cube, None if settings["pca_fit"] == "scene" else train)
        reduced = transform.transform(cube).transpose(2, 0, 1)  # bands × H × W for the engine
        positions, labels = _pixels(train, gt)
        self.history_: list[dict[str, float]] = []
        self.best_epoch_: int | None = None
        if svm is not None:
            started = time.perf_counter()
            svm.fit(reduced, positions, labels)
            self.train_seconds_ = time.perf_counter() - started
        else:
            assert network is not None
            started = time.perf_counter()
            result = fit(
                network,
                reduced,
                positions,
                labels,
                self._fit_config(settings),
                val=None if val is None or not val.any() else _pixels(val, gt),
                checkpoint=checkpoint,
                resume=resume,
                progress=bool(self.verbose),
            )
            network.eval()
            self.network_kwargs_ = {**kwargs, "window": window}
            self.history_ = result.history
            self.best_epoch_ = result.best_epoch
            self.train_seconds_ = result.train_seconds
            tic += time.perf_counter() - started - result.train_seconds  # earlier sessions too
        self.settings_ = settings
        self.network_, self.svm_, self.window_ = network, svm, window
        self.transform_ = transform
        self.classes_ = np.arange(1, k + 1, dtype=np.int64)
        self.class_names_ = tuple(names)
        self.n_bands_in_ = int(cube.shape[2])
        self.fit_seconds_ = time.perf_counter() - tic
        return self

    def _source(self, settings: Mapping[str, Any], n_bands: int) -> HSIClassifier | None:
        """The classifier of ``init_from``, checked against this fit (None without one)."""
        if self.init_from is None:
            return None
        source = HSIClassifier.load(self.init_from, argument="init_from")
        transfer.check_source(
            source,
            self.init_from,
            model=self.model,
            settings=settings,
            init_transform=self.init_transform,
            n_bands=n_bands,
        )
        return source

    # -- prediction ----------------------------------------------------------------------------

    def _check_fitted(self, method: str) -> None:
        if not hasattr(self, "classes_"):
            exceptions = require("sklearn.exceptions", "hsi")
            raise exceptions.NotFittedError(
                f"{method}: expected a fitted HSIClassifier, got one that was never fitted "
                "(call fit first)"
            )

    def _reduced(self, X: Any, method: str) -> np.ndarray:
        self._check_fitted(method)
        cube = check_cube(_cube_of(X), name="X")
        if cube.shape[2] != self.n_bands_in_:
            raise bad_value(
                "X", f"a cube with {self.n_bands_in_} bands (as fitted)", f"{cube.shape[2]} bands"
            )
        return self.transform_.transform(cube).transpose(2, 0, 1)

    def _logits(self, X: Any, method: str) -> torch.Tensor:
        reduced = self._reduced(X, method)
        return engine.predict_scene(
            self.network_, reduced, device=self.device, precision=self.precision
        )

    def predict(self, X: Any) -> np.ndarray:
        """The H×W map of labels 1..K of every pixel of the H×W×B cube ``X`` (or Scene)."""
        self._check_fitted("predict")
        if self.svm_ is not None:
            return self.svm_.predict_scene(self._reduced(X, "predict")) + 1
        return self._logits(X, "predict").argmax(0).numpy().astype(np.int64) + 1

    def predict_proba(self, X: Any) -> np.ndarray:
        """H×W×K class probabilities (softmax of the network's logits); the SVM has none."""
        self._check_fitted("predict_proba")
        if self.network_ is None:
            raise bad_value("model", "a network for predict_proba (the SVM only votes)", SVM)
        logits = self._logits(X, "predict_proba")
        return logits.softmax(0).permute(1, 2, 0).numpy()

    def evaluate(self, X: Any, y: Any = None, mask: Any = None) -> HSIEvaluation:
        """OA, AA, kappa, per-class accuracy and confusion on the labelled pixels of ``y``
        (within ``mask`` when given): typically the test pixels of a split."""
        cube, gt, _ = _inputs(X, y)
        self._check_fitted("evaluate")
        scored = gt > 0
        if mask is not None:
            scored &= check_mask("mask", mask, gt.shape)
        k = len(self.classes_)
        if gt.max() > k:
            raise bad_value("y", f"labels 0..{k} (as fitted)", f"labels up to {int(gt.max())}")
        prediction = self.predict(cube)
        m = classification_metrics(gt[scored] - 1, prediction[scored] - 1, k)
        return HSIEvaluation(
            oa=m["oa"],
            aa=m["aa"],
            kappa=m["kappa"],
            per_class=dict(zip(self.class_names_, m["per_class"], strict=True)),
            confusion=m["confusion"],
            n_pixels=m["n"],
        )

    def score(self, X: Any, y: Any = None, mask: Any = None) -> float:
        """Overall accuracy on the labelled pixels of ``y`` within ``mask`` (scikit-learn's
        ``score``: higher is better)."""
        return self.evaluate(X, y, mask).oa

    # -- files ---------------------------------------------------------------------------------

    def save(self, path: str | os.PathLike) -> Path:
        """Write the fitted classifier to one file (atomically)."""
        self._check_fitted("save")
        state: dict[str, Any] = {
            "format": FORMAT,
            "format_version": FORMAT_VERSION,
            "params": _plain(self.get_params()),
            "settings": _plain(self.settings_),
            "class_names": list(self.class_names_),
            "n_bands_in": self.n_bands_in_,
            "window": self.window_,
            "transform": _tensors(self.transform_.state_dict()),
            "history": self.history_,
            "best_epoch": self.best_epoch_,
            "fit_seconds": self.fit_seconds_,
            "train_seconds": self.train_seconds_,
        }
        if self.network_ is not None:
            state["network"] = {
                "name": self.model,
                "kwargs": _plain(self.network_kwargs_),
                "state_dict": {k: v.detach().cpu() for k, v in self.network_.state_dict().items()},
            }
        else:
            state["svm"] = self.svm_.state_dict()
        return save_torch(path, state)

    @classmethod
    def load(cls, path: str | os.PathLike, *, argument: str = "path") -> HSIClassifier:
        """A classifier saved by :meth:`save`; refuses other files with one error, which names
        ``argument`` (the caller's name for the file)."""
        what = f"a lightnets {FORMAT!r} file saved by HSIClassifier.save"
        state = load_torch(path, argument)
        if state.get("format") != FORMAT:
            raise bad_value(argument, what, f"{path} (another file)")
        version = state.get("format_version")
        if not isinstance(version, int) or version > FORMAT_VERSION:
            raise bad_value(
                argument,
                f"a file of format version <= {FORMAT_VERSION} (upgrade lightnets to read newer)",
                f"{path} (version {version})",
            )
        params = dict(state["params"])
        if version == 1:  # before recipes: a standardize switch, every setting given
            params["scaling"] = "standard" if params.pop("standardize", False) else "none"
            params["pca"] = params["pca"] or 0
        clf = cls(**params)
        clf.settings_ = dict(state["settings"]) if "settings" in state else clf._settings()
        clf.class_names_ = tuple(state["class_names"])
        clf.classes_ = np.arange(1, len(clf.class_names_) + 1, dtype=np.int64)
        clf.n_bands_in_ = int(state["n_bands_in"])
        clf.window_ = int(state["window"])
        clf.transform_ = SpectralTransform.from_state_dict(state["transform"])
        clf.history_ = list(state["history"])
        clf.best_epoch_ = state["best_epoch"]
        clf.fit_seconds_ = float(state["fit_seconds"])
        clf.train_seconds_ = float(state.get("train_seconds", clf.fit_seconds_))
        clf.network_ = clf.svm_ = None
        if "network" in state:
            net = state["network"]
            clf.network_kwargs_ = dict(net["kwargs"])
            clf.network_ = create_model(net["name"], **clf.network_kwargs_)
            clf.network_.load_state_dict(net["state_dict"])
            clf.network_.eval()
        else:
            clf.svm_ = SpectralSVM.from_state_dict(state["svm"])
        return clf


# -- helpers -----------------------------------------------------------------------------------


def _cube_of(X: Any) -> Any:
    return X.cube if _is_scene(X) else X


def _is_scene(X: Any) -> bool:
    return all(hasattr(X, a) for a in ("cube", "gt", "class_names"))


def _inputs(
    X: Any, y: Any, class_names: Sequence[str] | None = None
) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """(cube H×W×B, ground truth H×W, class names) of a Scene or a cube and its ground truth."""
    if _is_scene(X):
        if y is not None:
            raise bad_value("y", "None when X is a Scene (it holds its ground truth)", "an array")
        cube, gt, names = X.cube, X.gt, [str(n) for n in X.class_names]
    else:
        if y is None:
            raise bad_value("y", "the H×W ground truth of the cube X", None)
        cube, gt = X, y
        names = None if class_names is None else [str(n) for n in class_names]
    cube = check_cube(cube, name="X")
    gt_arr = np.asarray(gt)
    if gt_arr.shape != cube.shape[:2]:
        raise bad_value(
            "y", f"a ground truth of the cube's spatial shape {cube.shape[:2]}", gt_arr.shape
        )
    gt_arr = check_ground_truth(gt_arr, shape=cube.shape[:2])
    k = int(gt_arr.max())
    if names is None:
        names = [f"class {i}" for i in range(1, k + 1)]
    elif k > len(names):
        raise bad_value("y", f"labels 0..{len(names)}", f"labels up to {k}")
    if len(names) < 2:
        raise bad_value("y", "labels of at least 2 classes (1..K, 0 = unlabelled)", f"K = {k}")
    return cube, gt_arr, names


def _pixels(mask: np.ndarray, gt: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Row/column positions (n×2) and 0-based classes of the pixels of ``mask``."""
    rows, cols = np.nonzero(mask)
    return np.stack([rows, cols], axis=1), gt[rows, cols] - 1


def _network(name: str, kwargs: dict[str, Any]) -> torch.nn.Module:
    """The network, with a ``model_kwargs`` key it does not take named in the error."""
    try:
        return create_model(name, **kwargs)
    except TypeError as err:
        raise bad_value(
            "model_kwargs", f"arguments that {name} takes ({err})", sorted(kwargs)
        ) from None


def _svm(kwargs: Mapping[str, Any] | None, seed: int) -> SpectralSVM:
    allowed = ("c_grid", "gamma_grid", "folds", "n_jobs")
    unknown = sorted(set(kwargs or {}) - set(allowed))
    if unknown:
        raise bad_value("model_kwargs", f"keys among {', '.join(allowed)} for the SVM", unknown)
    return SpectralSVM(seed=seed, **(kwargs or {}))


def _plain(value: Any) -> Any:
    """Tuples as lists, numpy scalars as numbers, paths as strings: what ``weights_only``
    loading accepts."""
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, os.PathLike):
        return os.fspath(value)
    return value


def _tensors(state: Mapping[str, Any]) -> dict[str, Any]:
    return {k: torch.from_numpy(v) if isinstance(v, np.ndarray) else v for k, v in state.items()}
