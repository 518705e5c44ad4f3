"""Inference with a trained image classifier: preprocessing as in training, the fastest backend.

``lightnets.predictor("mobilenet_v2_050", weights="runs/m/checkpoint.pt")`` rebuilds the
network from a training checkpoint, takes the image size and normalisation it was trained
with, and preprocesses raw images with the training recipe's evaluation transform
(:func:`lightnets.vision.transforms.eval_transform`, not a copy of its constants), so a
prediction here equals the one the trainer's evaluation made.

Backends: ``onnxruntime`` exports the network to ONNX (checked against PyTorch, batch axis
symbolic) and runs it in ONNX Runtime, the fastest CPU path for these networks; ``torch``
runs PyTorch eagerly with BatchNorm folded into the convolutions and channels-last tensors;
``auto`` takes ONNX Runtime when it is installed and the model is on the CPU, else PyTorch.
Either way the network runs in eval mode (dropout off, BatchNorm on its running statistics)
under :func:`torch.inference_mode`, and the outputs are the same within float rounding.
"""

from __future__ import annotations

import copy
import tempfile
import warnings
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import Tensor, nn

from ._checks import bad_value, check_choice, check_int

BACKENDS = ("auto", "torch", "onnxruntime")
# Data set → (transform recipe, normalisation statistics, image size): the trainer's defaults.
PRESETS = {
    "digits": ("digits", "digits", 32),
    "cifar10": ("cifar", "cifar10", 32),
    "cifar100": ("cifar", "cifar100", 32),
    "imagenet": ("folder", "imagenet", 224),
}


class Preprocess:
    """Raw images → the normalised ``N × C × H × W`` float batch the network was trained on.

    Images are ``C × H × W`` tensors or arrays, uint8 in 0..255 or float in [0, 1] (as the
    training data sets hold them), a batch of them (``N × C × H × W``), a sequence of them
    (sizes may differ) or PIL images. The transform is the training recipe's evaluation one.
    """

    def __init__(
        self,
        kind: str,
        img_size: int,
        normalization: Any,
        in_chans: int,
        resize: int | None = None,
    ) -> None:
        from .vision.transforms import eval_transform

        self.kind, self.img_size, self.in_chans = kind, img_size, in_chans
        self.normalization = normalization
        self.transform = eval_transform(kind, img_size, normalization, resize=resize)

    def _image(self, image: Any) -> Tensor:
        if type(image).__module__.startswith("PIL."):
            from torchvision.transforms.v2.functional import pil_to_tensor

            return pil_to_tensor(image.convert("RGB" if self.in_chans == 3 else "L"))
        if isinstance(image, np.ndarray):
            return torch.from_numpy(np.ascontiguousarray(image))
        if isinstance(image, Tensor):
            return image.detach().cpu()
        raise bad_value("images", "tensors, arrays or PIL images", type(image).__name__)

    def _check(self, x: Tensor) -> Tensor:
        grey_ok = self.in_chans == 3 and x.ndim == 4 and x.shape[1] == 1  # repeated on RGB
        if x.ndim != 4 or (x.shape[1] != self.in_chans and not grey_ok):
            expected = f"images of shape {self.in_chans}×H×W (or N×{self.in_chans}×H×W)"
            raise bad_value("images", expected, tuple(x.shape))
        if x.dtype != torch.uint8 and not x.is_floating_point():
            raise bad_value("images", "uint8 (0..255) or float (0..1) pixels", x.dtype)
        if x.is_floating_point() and x.numel() and not (x.min() >= 0 and x.max() <= 1):
            low, high = float(x.min()), float(x.max())
            raise bad_value("images", "float pixels in [0, 1]", f"values in [{low}, {high}]")
        return x

    def __call__(self, images: Any) -> Tensor:
        """The network's input for ``images`` (a single ``C × H × W`` image gives a batch of 1)."""
        if isinstance(images, (Tensor, np.ndarray)) and images.ndim in (3, 4):
            x = self._image(images)
            x = self._check(x.unsqueeze(0) if x.ndim == 3 else x)
            return self.transform(x).float().contiguous()
        if isinstance(images, Sequence) and not isinstance(images, (str, bytes)) and images:
            out = []
            for image in images:
                x = self._check(self._image(image).unsqueeze(0))
                out.append(self.transform(x).float())
            return torch.cat(out).contiguous()
        shape = getattr(images, "shape", None)
        got = f"shape {tuple(shape)}" if shape is not None else type(images).__name__
        raise bad_value("images", "a C×H×W image, an N×C×H×W batch or a list of images", got)


def _torch_runner(model: nn.Module, device: torch.device) -> Callable[[Tensor], Tensor]:
    from .export.fuse import fuse_conv_bn, to_channels_last

    net = to_channels_last(fuse_conv_bn(model).to(device))

    def run(x: Tensor) -> Tensor:
        with torch.inference_mode():
            return net(x.to(device).contiguous(memory_format=torch.channels_last)).float().cpu()

    return run


def _ort_runner(
    model: nn.Module, shape: tuple[int, ...], threads: int | None
) -> Callable[[Tensor], Tensor]:
    from .export.onnx import export_onnx
    from .export.runtime import OrtModule, ort_session

    if any(p.device.type != "cpu" for p in model.parameters()):
        model = copy.deepcopy(model).cpu()
    with tempfile.TemporaryDirectory(prefix="lightnets-predictor-") as tmp:
        result = export_onnx(model, Path(tmp) / "model.onnx", input_size=shape,
                             dynamic_batch=True, fuse_bn=True)
        module = OrtModule(ort_session(result.path.read_bytes(), threads=threads))
    return module


class Predictor:
    """A classifier ready for inference; see :func:`predictor`."""

    def __init__(
        self,
        model: nn.Module,
        preprocess: Preprocess,
        *,
        backend: str,
        device: torch.device,
        threads: int | None,
        batch_size: int,
        classes: list[str] | None = None,
    ) -> None:
        self.preprocess = preprocess
        self.num_classes = int(getattr(model, "num_classes", 0)) or None
        self.classes = classes
        self.batch_size, self.threads, self.device = batch_size, threads, device
        self.backend, self.note = self._pick(backend, device)
        shape = (preprocess.in_chans, preprocess.img_size, preprocess.img_size)
        self._run: Callable[[Tensor], Tensor] | None = None
        if self.backend == "onnxruntime":
            try:
                self._run = _ort_runner(model, shape, threads)
            except Exception as err:  # a failed export or check: PyTorch still works
                if backend != "auto":
                    raise
                self.backend, self.note = "torch", f"ONNX export failed ({err})"
                warnings.warn(f"predictor: using PyTorch, {self.note}", stacklevel=3)
        if self._run is None:
            self._run = _torch_runner(model, device)

    @staticmethod
    def _pick(backend: str, device: torch.device) -> tuple[str, str]:
        if backend == "onnxruntime" and device.type != "cpu":
            raise bad_value("device", "cpu with backend='onnxruntime'", str(device))
        if backend != "auto":
            return backend, "chosen"
        if device.type != "cpu":
            return "torch", f"model on {device}"
        try:
            import onnx  # noqa: F401
            import onnxruntime  # noqa: F401
        except ImportError:
            return "torch", 'ONNX Runtime not installed (pip install "lightnets[export]")'
        return "onnxruntime", "fastest available on the CPU"

    def logits(self, images: Any) -> np.ndarray:
        """Raw class scores, ``N × num_classes`` float32."""
        from .profiling.latency import num_threads

        x = self.preprocess(images)
        assert self._run is not None
        step = self.batch_size
        with num_threads(self.threads), torch.inference_mode():
            parts = [self._run(x[i : i + step]) for i in range(0, len(x), step)]
        return torch.cat(parts).numpy()

    def predict_proba(self, images: Any) -> np.ndarray:
        """Class probabilities (softmax of the logits), ``N × num_classes``."""
        return torch.from_numpy(self.logits(images)).softmax(1).numpy()

    def predict(self, images: Any) -> np.ndarray:
        """The most likely class index of each image, ``N`` int64."""
        return self.logits(images).argmax(1).astype(np.int64)

    def __call__(self, images: Any) -> np.ndarray:
        return self.predict(images)

    def __repr__(self) -> str:
        p = self.preprocess
        return (
            f"Predictor(backend={self.backend!r} ({self.note}), classes={self.num_classes}, "
            f"input {p.in_chans}×{p.img_size}×{p.img_size}, transform: {p.transform!r})"
        )


def _kind_of(dataset: str) -> str:
    """The transform recipe of a trainer data-set name (``digits``, ``cifar10``, ``folder:…``)."""
    if dataset.startswith("folder:"):
        return "folder"
    return "cifar" if dataset.startswith("cifar") else "digits"


def _from_checkpoint(name: str | None, path: Any) -> tuple[nn.Module, dict[str, Any]]:
    from .models import get_entry
    from .vision.trainer import load_classifier

    model, meta = load_classifier(path)
    if name is not None and get_entry(name).name != meta["model_name"]:
        raise bad_value("weights", f"a checkpoint of {get_entry(name).name!r}", meta["model_name"])
    return model, meta


def _build(
    model: Any, weights: Any, model_kwargs: dict[str, Any]
) -> tuple[nn.Module, dict[str, Any]]:
    """The network and what a training checkpoint says about its data (empty otherwise)."""
    if isinstance(model, nn.Module):
        if weights is not None:
            raise bad_value("weights", "None when model is a module (load them first)", weights)
        if model_kwargs:
            key = sorted(model_kwargs)[0]
            raise bad_value(key, "no value when model is a module", model_kwargs[key])
        return model, {}
    if not isinstance(model, str):
        raise bad_value("model", "a registered model name or a torch.nn.Module", model)
    from .models import create_model, get_entry

    if get_entry(model).task != "image":
        raise bad_value("model", "an image classifier (lightnets.list_models())", model)
    if isinstance(weights, (str, Path)):
        if model_kwargs:
            key = sorted(model_kwargs)[0]
            raise bad_value(key, "no value: the checkpoint fixes it", model_kwargs[key])
        return _from_checkpoint(model, weights)
    net = create_model(model, **model_kwargs)
    if isinstance(weights, Mapping):
        net.load_state_dict(weights)
    elif weights is not None:
        raise bad_value("weights", "a checkpoint path or a state dict", type(weights).__name__)
    return net, {}


def _preprocess(
    net: nn.Module, meta: dict[str, Any], dataset: str | None, img_size: int | None
) -> Preprocess:
    from .vision.transforms import STATS, Normalization

    in_chans = int(getattr(net, "in_chans", 3))
    resize = None
    if dataset is not None:
        kind, stats_key, size = PRESETS[check_choice("dataset", dataset, list(PRESETS))]
        stats = STATS[stats_key]
    elif meta:
        kind, size = _kind_of(meta["dataset"]), meta["img_size"]
        n = meta["normalization"]
        stats = Normalization(tuple(n["mean"]), tuple(n["std"]), n.get("source", ""))
        if meta.get("eval_resize") and (img_size is None or img_size == size):
            resize = int(meta["eval_resize"])  # the fine-tuned weights' own resize
    elif in_chans == 3:
        kind, size, stats = "folder", 224, STATS["imagenet"]
    else:
        raise bad_value("dataset", f"one of {', '.join(PRESETS)} for a {in_chans}-channel model "
                        "without a training checkpoint", None)
    size = size if img_size is None else check_int("img_size", img_size, minimum=1)
    minimum = getattr(net, "min_input_size", 1)
    if size < minimum:
        raise bad_value("img_size", f"an integer >= {minimum} for this model", size)
    if len(stats.mean) != in_chans:
        source = dataset or meta.get("dataset")
        raise bad_value("dataset", f"statistics for {in_chans} channel(s)", source)
    return Preprocess(kind, size, stats, in_chans, resize)


def predictor(
    model: str | nn.Module,
    *,
    weights: str | Path | Mapping[str, Tensor] | None = None,
    backend: str = "auto",
    dataset: str | None = None,
    img_size: int | None = None,
    device: str | torch.device = "cpu",
    threads: int | None = None,
    batch_size: int = 64,
    **model_kwargs: Any,
) -> Predictor:
    """An inference object for an image classifier.

    ``model``: a registered name (built with ``model_kwargs``, e.g. ``num_classes``,
    ``pretrained=True``) or a module. ``weights``: a training checkpoint (``checkpoint.pt``
    from ``lightnets train``: network, classes, image size and normalisation) or a state dict.
    ``dataset`` (``digits``, ``cifar10``, ``cifar100``, ``imagenet``) sets the preprocessing
    when no checkpoint does (default for 3-channel models: ImageNet's); ``img_size``
    overrides its size. ``backend``: ``auto``, ``torch`` or ``onnxruntime`` (module
    docstring). ``threads``: intra-op threads per call; ``batch_size``: images per forward.
    """
    check_choice("backend", backend, BACKENDS)
    check_int("batch_size", batch_size, minimum=1)
    if threads is not None:
        check_int("threads", threads, minimum=1)
    net, meta = _build(model, weights, model_kwargs)
    prep = _preprocess(net, meta, dataset, img_size)
    return Predictor(
        net, prep, backend=backend, device=torch.device(device), threads=threads,
        batch_size=batch_size, classes=meta.get("classes"),
    )
