"""ONNX export of the zoo, checked against ONNX Runtime.

The exporter is ``torch.onnx.export(..., dynamo=False)`` (the TorchScript tracer). It exports
every registered network here, channel shuffle, hard-swish, SE and CBAM included, and needs
nothing beyond ``onnx``; the ``torch.export``-based exporter (``dynamo=True``) needs the extra
``onnxscript`` package. Tracing skips the models' Python shape checks (``_skip_checks``), so
:func:`export_onnx` runs ``check_input`` itself before tracing.
"""

from __future__ import annotations

import contextlib
import io
import os
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np
import torch
from torch import nn

from .._checks import bad_value, check_int, check_positive
from ..runs import atomic_write_bytes
from .fuse import fuse_conv_bn

EXPORTER = "torchscript"
MIN_OPSET = 13
MAX_OPSET = 20  # highest opset of torch's TorchScript exporter
INPUT_NAME, OUTPUT_NAME = "input", "logits"
EXTRA_HINT = 'ONNX export needs onnx and onnxruntime: pip install "lightnets[export]"'


class ExportCheckError(ValueError):
    """ONNX Runtime's output differs from PyTorch's by more than the tolerance."""


@dataclass(frozen=True)
class ExportResult:
    """What :func:`export_onnx` wrote and how closely ONNX Runtime matched PyTorch."""

    path: Path
    model_name: str
    input_shape: tuple[int, ...]
    opset: int
    dynamic_batch: bool
    fused_bn: bool
    max_abs_diff: float | None
    exporter: str = EXPORTER

    def summary(self) -> str:
        """One line for the command line."""
        shape = "x".join(str(s) for s in self.input_shape)
        notes = [f"input {shape}", f"opset {self.opset}"]
        notes += ["dynamic batch"] * self.dynamic_batch + ["BN folded"] * self.fused_bn
        diff = "not checked" if self.max_abs_diff is None else f"{self.max_abs_diff:.3g}"
        return (
            f"wrote {self.path} ({self.model_name}; {', '.join(notes)}); "
            f"max abs diff ONNX Runtime vs PyTorch: {diff}"
        )


def require_export_extra() -> tuple[ModuleType, ModuleType]:
    """Import ``onnx`` and ``onnxruntime`` or raise an ImportError saying how to install them."""
    try:
        import onnx
        import onnxruntime
    except ImportError as err:
        raise ImportError(f"{EXTRA_HINT} ({err})") from err
    return onnx, onnxruntime


def _resolve_model(model_or_name: Any) -> tuple[nn.Module, str]:
    if isinstance(model_or_name, str):
        from ..models import create_model, get_entry

        entry = get_entry(model_or_name)
        return create_model(entry.name), entry.name
    if isinstance(model_or_name, nn.Module):
        return model_or_name, type(model_or_name).__name__
    raise bad_value("model_or_name", "a registered model name or a torch.nn.Module", model_or_name)


def _sample_shape(model: nn.Module, input_size: Any) -> tuple[int, ...]:
    """(C, H, W) of one sample: the model's default, or ``input_size`` (S, (H, W) or (C, H, W))."""
    default = tuple(getattr(model, "input_shape", ()))
    if input_size is None:
        if len(default) != 3:
            raise bad_value("input_size", "a (C, H, W) shape for a model without input_shape", None)
        return default
    sizes = (input_size,) if isinstance(input_size, int) else tuple(input_size)
    ok = all(isinstance(s, int) and not isinstance(s, bool) and s >= 1 for s in sizes)
    if not ok or len(sizes) not in (1, 2, 3):
        raise bad_value("input_size", "an int S, (H, W) or (C, H, W) of positive ints", input_size)
    if len(sizes) == 3:
        return sizes
    channels = default[0] if default else getattr(model, "in_chans", 3)
    return (channels, sizes[0], sizes[-1])


def _run_torch(model: nn.Module, x: torch.Tensor) -> np.ndarray:
    with torch.inference_mode():
        return model(x).float().cpu().numpy()


@contextlib.contextmanager
def quiet_export() -> Iterator[None]:
    """Silence the exporter's expected warnings: shape checks in traced code (e.g.
    channel_shuffle's divisibility test) only see static sizes, and the exporter choice is
    deliberate (module docstring)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", torch.jit.TracerWarning)
        warnings.filterwarnings("ignore", category=DeprecationWarning, module=r"torch\.onnx")
        warnings.filterwarnings("ignore", message=".*legacy TorchScript-based ONNX export.*")
        warnings.filterwarnings("ignore", message="The feature will be removed.*")
        warnings.filterwarnings("ignore", message=".*shape_type_inference.*")
        yield


def _trace_to_bytes(model: nn.Module, x: torch.Tensor, opset: int, dynamic_batch: bool) -> bytes:
    axes = {INPUT_NAME: {0: "batch"}, OUTPUT_NAME: {0: "batch"}} if dynamic_batch else None
    buffer = io.BytesIO()
    with quiet_export():
        torch.onnx.export(
            model,
            (x,),
            buffer,
            dynamo=False,
            opset_version=opset,
            input_names=[INPUT_NAME],
            output_names=[OUTPUT_NAME],
            dynamic_axes=axes,
        )
    return buffer.getvalue()


def onnx_max_abs_diff(model: nn.Module, data: bytes, x: torch.Tensor) -> float:
    """Max |ONNX Runtime(x) − model(x)| for serialised ONNX ``data`` (CPU provider, eval)."""
    _, ort = require_export_extra()
    session = ort.InferenceSession(data, providers=["CPUExecutionProvider"])
    got = session.run(None, {INPUT_NAME: x.detach().cpu().numpy()})[0]
    want = _run_torch(model, x)
    if got.shape != want.shape:
        raise ExportCheckError(f"onnx output: expected shape {want.shape}, got {got.shape}")
    return float(np.abs(got.astype(np.float64) - want).max())


def export_onnx(
    model_or_name: nn.Module | str,
    path: str | os.PathLike,
    *,
    input_size: int | tuple[int, ...] | None = None,
    opset: int = 17,
    dynamic_batch: bool = False,
    fuse_bn: bool = False,
    check: bool = True,
    atol: float = 1e-4,
) -> ExportResult:
    """Export a network (a registered name or a module) in eval mode to an ONNX file.

    The input is ``1 × C × H × W`` (``input_size`` defaults to the model's ``input_shape``);
    ``dynamic_batch`` makes the batch axis symbolic. ``fuse_bn`` folds BatchNorm into the
    convs first (:func:`~lightnets.export.fuse_conv_bn`). With ``check`` the graph is run in
    ONNX Runtime on random input (batch 2 when the batch is dynamic) and compared with PyTorch;
    a max abs diff above ``atol`` raises :class:`ExportCheckError` and nothing is written.
    The file is written atomically. The module's own training mode is restored afterwards.
    """
    onnx, _ = require_export_extra()
    opset = check_int("opset", opset)
    if not MIN_OPSET <= opset <= MAX_OPSET:
        raise bad_value("opset", f"an integer in [{MIN_OPSET}, {MAX_OPSET}]", opset)
    atol = check_positive("atol", atol)
    for name, flag in (("dynamic_batch", dynamic_batch), ("fuse_bn", fuse_bn), ("check", check)):
        if not isinstance(flag, bool):
            raise bad_value(name, "a bool", flag)
    model, model_name = _resolve_model(model_or_name)
    shape = _sample_shape(model, input_size)
    device = next((p.device for p in model.parameters()), torch.device("cpu"))
    generator = torch.Generator().manual_seed(0)
    x = torch.randn(1, *shape, generator=generator).to(device)
    check_input = getattr(model, "check_input", None)
    if check_input is not None:
        check_input(x)

    was_training = model.training
    net = fuse_conv_bn(model) if fuse_bn else model.eval()
    try:
        data = _trace_to_bytes(net, x, opset, dynamic_batch)
        onnx.checker.check_model(onnx.load_model_from_string(data))
        diff = None
        if check:
            batch = 2 if dynamic_batch else 1
            sample = torch.randn(batch, *shape, generator=generator).to(device)
            diff = onnx_max_abs_diff(net, data, sample)
            if not diff <= atol:
                raise ExportCheckError(
                    f"atol: expected ONNX Runtime to match PyTorch within {atol:g}, "
                    f"got max abs diff {diff:.3g} for {model_name}"
                )
    finally:
        model.train(was_training)
    written = atomic_write_bytes(path, data)
    return ExportResult(written, model_name, shape, opset, dynamic_batch, fuse_bn, diff)
