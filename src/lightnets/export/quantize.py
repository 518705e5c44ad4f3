"""INT8 post-training quantization of an exported ONNX graph, calibrated on sample inputs.

:func:`quantize_onnx` takes the float32 file that :func:`~lightnets.export.export_onnx` wrote
(and checked against PyTorch) and writes an INT8 copy with ONNX Runtime's static quantizer:
activation ranges come from running the calibration inputs through the graph (min/max by
default), weights are quantized per output channel, and the result is in QDQ form
(QuantizeLinear/DequantizeLinear pairs around each quantized operator), which ONNX Runtime's
CPU provider fuses into integer kernels.

Why ONNX Runtime rather than PyTorch's PT2E flow (``torch.export`` + ``prepare_pt2e``): it
works on the graph that was already exported and checked, for every network of the zoo
(channel shuffle, hard-swish, SE and CBAM included) without ``torch.export`` tracing them
again, and the kernels it quantizes for are the ones the deployed model runs, so the
accuracy measured on the INT8 file is the accuracy in deployment.

CPU settings, as ONNX Runtime recommends them: on x86, unsigned 8-bit activations with a
fitted zero point and signed symmetric 8-bit weights (the U8S8 kernels), with weights reduced
to 7 bits on processors without VNNI, whose 16-bit intermediate sums could otherwise
saturate; on ARM, signed symmetric 8-bit activations and weights.
"""

from __future__ import annotations

import contextlib
import io
import os
import platform
import tempfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from .._checks import bad_value, check_choice, check_int
from ..runs import atomic_write_bytes
from .onnx import require_export_extra

CALIBRATION_METHODS = ("minmax", "entropy", "percentile")
ACTIVATION_TYPES = ("auto", "uint8", "int8")
DYNAMIC_BATCH = 32  # calibration batch when the graph's batch axis is symbolic
VNNI_FLAGS = ("avx512_vnni", "avx_vnni", "amx_int8")


@dataclass(frozen=True)
class QuantizeResult:
    """What :func:`quantize_onnx` wrote, from what, and with which settings."""

    path: Path
    fp32_path: Path
    fp32_bytes: int
    int8_bytes: int
    calibration_samples: int
    per_channel: bool
    activation_type: str
    symmetric_activations: bool
    reduce_range: bool
    method: str

    @property
    def ratio(self) -> float:
        """How many times smaller the INT8 file is."""
        return self.fp32_bytes / self.int8_bytes

    def summary(self) -> str:
        """One line for the command line."""
        weights = "per-channel" if self.per_channel else "per-tensor"
        weights += " int7" if self.reduce_range else " int8"
        acts = f"{self.activation_type} {'symmetric' if self.symmetric_activations else 'asym'}"
        return (
            f"wrote {self.path} (INT8 QDQ; weights {weights}, activations {acts}, "
            f"{self.method} calibration on {self.calibration_samples} samples); "
            f"{self.fp32_bytes / 1024:.0f} KB → {self.int8_bytes / 1024:.0f} KB "
            f"({self.ratio:.2f}× smaller)"
        )


def has_vnni() -> bool:
    """Whether this CPU has 8-bit dot-product instructions (read from ``/proc/cpuinfo``)."""
    try:
        text = Path("/proc/cpuinfo").read_text()
    except OSError:
        return False
    for line in text.splitlines():
        if line.startswith("flags"):
            flags = set(line.split(":", 1)[1].split())
            return any(flag in flags for flag in VNNI_FLAGS)
    return False


def is_x86() -> bool:
    """Whether this machine is x86 (the U8S8 recipe) rather than ARM (S8S8)."""
    return platform.machine().lower() in ("x86_64", "amd64", "i386", "i686", "x86")


def _input_spec(model: Any) -> tuple[str, tuple[int | None, ...]]:
    """Name and shape (None for symbolic axes) of the graph's single input."""
    initializers = {t.name for t in model.graph.initializer}
    inputs = [i for i in model.graph.input if i.name not in initializers]
    if len(inputs) != 1:
        raise bad_value("fp32_path", "an ONNX graph with one input", f"{len(inputs)} inputs")
    dims = inputs[0].type.tensor_type.shape.dim
    shape = tuple(d.dim_value if d.HasField("dim_value") else None for d in dims)
    return inputs[0].name, shape


def _as_array(batch: Any, name: str) -> np.ndarray:
    if hasattr(batch, "detach"):  # a torch tensor
        batch = batch.detach().cpu().numpy()
    try:
        array = np.asarray(batch)
    except ValueError as err:  # ragged nested lists
        raise bad_value(name, "numeric arrays", f"{type(batch).__name__} ({err})") from None
    if array.dtype.kind not in "fiu":
        raise bad_value(name, "numeric arrays", f"an array of dtype {array.dtype}")
    return array.astype(np.float32, copy=False)


def as_samples(value: Any, shape: tuple[int | None, ...], name: str = "calibration") -> np.ndarray:
    """All samples of ``value`` as one float32 array, checked against the graph's input shape.

    ``value`` is an array or tensor ``N × C × H × W`` (the graph's input rank), or an iterable
    of such batches; errors name the argument ``name``.
    """
    expected = "an array of inputs or an iterable of batches"
    if value is None or isinstance(value, (str, bytes, dict)):
        raise bad_value(name, expected, value)
    if isinstance(value, np.ndarray) or hasattr(value, "detach"):
        batches = [_as_array(value, name)]
    elif isinstance(value, Iterable):
        batches = [_as_array(b, name) for b in value]
    else:
        raise bad_value(name, expected, value)
    dims = "×".join("N" if d is None or i == 0 else str(d) for i, d in enumerate(shape))
    for batch in batches:
        fits = batch.ndim == len(shape) and all(
            d is None or d == s for d, s in zip(shape[1:], batch.shape[1:], strict=True)
        )
        if not fits:
            raise bad_value(name, f"batches of shape {dims}", batch.shape)
    if not batches or sum(len(b) for b in batches) == 0:
        raise bad_value(name, "at least one sample", "none")
    samples = np.concatenate(batches)
    if not np.isfinite(samples).all():
        raise bad_value(name, "finite values", "NaN or infinity")
    return np.ascontiguousarray(samples)


def batches_for(samples: np.ndarray, batch: int | None) -> list[np.ndarray]:
    """``samples`` cut into the graph's static batch (a remainder that does not fill one is
    left out) or, when the batch axis is symbolic, into batches of up to :data:`DYNAMIC_BATCH`."""
    if batch is None:
        return [samples[i : i + DYNAMIC_BATCH] for i in range(0, len(samples), DYNAMIC_BATCH)]
    if len(samples) < batch:
        raise bad_value("calibration", f"at least {batch} samples (the graph's batch)",
                        len(samples))
    stop = len(samples) - len(samples) % batch
    return [samples[i : i + batch] for i in range(0, stop, batch)]


class _Reader:
    """The calibration data reader ONNX Runtime asks for (it checks for ``get_next`` only)."""

    def __init__(self, name: str, batches: list[np.ndarray]) -> None:
        self.name, self.batches = name, batches
        self._it: Iterator[np.ndarray] = iter(batches)

    def get_next(self) -> dict[str, np.ndarray] | None:
        batch = next(self._it, None)
        return None if batch is None else {self.name: batch}

    def rewind(self) -> None:
        self._it = iter(self.batches)


def _settings(
    activation_type: str, symmetric: bool | None, reduce_range: bool | None
) -> tuple[str, bool, bool]:
    """Resolve ``auto`` choices for this machine (see the module docstring)."""
    if activation_type == "auto":
        activation_type = "uint8" if is_x86() else "int8"
    if symmetric is None:
        symmetric = activation_type == "int8"
    if reduce_range is None:
        reduce_range = is_x86() and not has_vnni()
    return activation_type, symmetric, reduce_range


def quantize_onnx(
    fp32_path: str | os.PathLike,
    out_path: str | os.PathLike,
    calibration: Any,
    *,
    per_channel: bool = True,
    method: str = "minmax",
    activation_type: str = "auto",
    symmetric_activations: bool | None = None,
    reduce_range: bool | None = None,
    preprocess: bool = True,
) -> QuantizeResult:
    """Quantize the float32 ONNX graph ``fp32_path`` to INT8 and write it to ``out_path``.

    ``calibration``: sample inputs (an ``N × C × H × W`` array or tensor, or an iterable of
    such batches), preprocessed as the model expects them and taken from the training data,
    never the test data. ``method``: how activation ranges are set from them (min/max,
    entropy or percentile). ``activation_type``/``symmetric_activations``/``reduce_range``:
    ``auto``/None choose for this CPU (module docstring). ``preprocess`` runs ONNX Runtime's
    shape inference and graph clean-up first, as its quantizer recommends. The file is
    written atomically; the float32 file is left as it was.
    """
    onnx, _ = require_export_extra()
    from onnxruntime import quantization as q

    for name, flag in (("per_channel", per_channel), ("preprocess", preprocess)):
        if not isinstance(flag, bool):
            raise bad_value(name, "a bool", flag)
    for name, flag in (("symmetric_activations", symmetric_activations),
                       ("reduce_range", reduce_range)):
        if flag is not None and not isinstance(flag, bool):
            raise bad_value(name, "a bool or None", flag)
    check_choice("method", method, CALIBRATION_METHODS)
    check_choice("activation_type", activation_type, ACTIVATION_TYPES)
    fp32_path, out_path = Path(fp32_path), Path(out_path)
    if not fp32_path.is_file():
        raise FileNotFoundError(f"fp32_path: no such file {fp32_path}")
    if out_path.resolve() == fp32_path.resolve():
        raise bad_value("out_path", "a file other than fp32_path", str(out_path))
    try:
        model = onnx.load(str(fp32_path))
    except Exception as err:  # protobuf raises its own DecodeError
        raise bad_value("fp32_path", f"an ONNX file ({err})", str(fp32_path)) from None
    input_name, shape = _input_spec(model)
    samples = as_samples(calibration, shape)
    batches = batches_for(samples, shape[0] if shape else None)
    act, symmetric, reduce = _settings(activation_type, symmetric_activations, reduce_range)
    types = {"uint8": q.QuantType.QUInt8, "int8": q.QuantType.QInt8}
    methods = {
        "minmax": q.CalibrationMethod.MinMax,
        "entropy": q.CalibrationMethod.Entropy,
        "percentile": q.CalibrationMethod.Percentile,
    }
    with tempfile.TemporaryDirectory(prefix="lightnets-int8-") as tmp:
        source = fp32_path
        if preprocess:
            source = Path(tmp) / "pre.onnx"
            q.quant_pre_process(str(fp32_path), str(source))
        target = Path(tmp) / "int8.onnx"
        with contextlib.redirect_stdout(io.StringIO()):  # the calibrators print progress
            q.quantize_static(
                str(source),
                str(target),
                _Reader(input_name, batches),
                quant_format=q.QuantFormat.QDQ,
                per_channel=per_channel,
                reduce_range=reduce,
                activation_type=types[act],
                weight_type=q.QuantType.QInt8,
                calibrate_method=methods[method],
                extra_options={"ActivationSymmetric": symmetric, "WeightSymmetric": True},
            )
        data = target.read_bytes()
    written = atomic_write_bytes(out_path, data)
    return QuantizeResult(
        path=written,
        fp32_path=fp32_path,
        fp32_bytes=fp32_path.stat().st_size,
        int8_bytes=len(data),
        calibration_samples=sum(len(b) for b in batches),
        per_channel=per_channel,
        activation_type=act,
        symmetric_activations=symmetric,
        reduce_range=reduce,
        method=method,
    )


def onnx_outputs(path: str | os.PathLike, inputs: Any, *, threads: int | None = None) -> np.ndarray:
    """The graph's first output for ``inputs`` (``N × …``), run in batches the graph accepts.

    A static batch of B runs ``N // B`` full batches (a remainder is padded with zeros and
    cut off again), so any ``N`` works for both static and dynamic graphs.
    """
    onnx, ort = require_export_extra()
    options = ort.SessionOptions()
    if threads is not None:
        options.intra_op_num_threads = check_int("threads", threads, minimum=1)
    session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
    name, shape = _input_spec(onnx.load(str(path), load_external_data=False))
    samples = as_samples(inputs, shape, "inputs")
    size = shape[0] or DYNAMIC_BATCH
    outputs = []
    for start in range(0, len(samples), size):
        chunk = samples[start : start + size]
        n = len(chunk)
        if shape[0] is not None and n < size:
            pad = np.zeros((size - n, *chunk.shape[1:]), np.float32)
            chunk = np.concatenate([chunk, pad])
        outputs.append(session.run(None, {name: chunk})[0][:n])
    return np.concatenate(outputs)
