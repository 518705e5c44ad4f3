"""A hyperspectral patch model's full-scene map as one ONNX graph.

The scene path of :mod:`lightnets.hsi.engine` classifies every pixel with one pass of the
convolutions over the zero-padded scene and the dense head applied as convolutions
(``scene_head``). :class:`SceneGraph` is that pass as a module — cube in, logits map out — so
it exports to ONNX with symbolic height and width and a deployed map needs no patch loop.
The graph takes the preprocessed cube (after the PCA and scaling saved in ``model.pt``).
Models whose ``scene_head`` is made of convolutions export (``hybridsn``, ``hybridsn_lite``,
``hamida3d``, ``hu1d``); the attention heads of ``hybridsn_se``/``hybridsn_cbam`` and
``ssftt``'s transformer work per window and export per patch with ``export_onnx``.
"""

from __future__ import annotations

import io
import os
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor, nn

from .._checks import bad_value, check_int, check_positive
from ..runs import atomic_write_bytes
from .onnx import (
    MAX_OPSET,
    MIN_OPSET,
    ExportCheckError,
    ExportResult,
    quiet_export,
    require_export_extra,
)

INPUT_NAME, OUTPUT_NAME = "cube", "logits"


class SceneGraph(nn.Module):
    """``1 × bands × H × W`` cube → ``1 × K × H × W`` logits of every pixel, in one pass.

    Equal to :func:`lightnets.hsi.engine.predict_scene` without tiling: zero padding by
    ``window // 2``, ``forward_features``, then ``scene_head``.
    """

    def __init__(self, model: nn.Module) -> None:
        super().__init__()
        if not hasattr(model, "scene_head") or not hasattr(model, "forward_features"):
            raise bad_value("model", "a patch model with forward_features and scene_head",
                            type(model).__name__)
        self.model = model
        self.radius = model.window // 2

    def forward(self, cube: Tensor) -> Tensor:
        r = self.radius
        return self.model.scene_head(self.model.forward_features(F.pad(cube, (r, r, r, r))))


def export_scene_onnx(
    model: nn.Module,
    path: str | os.PathLike,
    *,
    sample_size: tuple[int, int] = (48, 40),
    opset: int = 17,
    check: bool = True,
    atol: float = 1e-4,
) -> ExportResult:
    """Export ``model``'s full-scene map (:class:`SceneGraph`) with symbolic H and W.

    Traced on a random ``sample_size`` cube; with ``check`` the graph is run in ONNX Runtime
    on a cube of another size and compared with PyTorch: a max abs diff above ``atol`` raises
    :class:`~lightnets.export.onnx.ExportCheckError` and nothing is written. Written
    atomically; the model's training mode is restored.
    """
    onnx, _ = require_export_extra()
    opset = check_int("opset", opset)
    if not MIN_OPSET <= opset <= MAX_OPSET:
        raise bad_value("opset", f"an integer in [{MIN_OPSET}, {MAX_OPSET}]", opset)
    atol = check_positive("atol", atol)
    graph = SceneGraph(model)
    height, width = (check_int("sample_size", s, minimum=1) for s in sample_size)
    bands = model.in_chans
    generator = torch.Generator().manual_seed(0)
    device = next((p.device for p in model.parameters()), torch.device("cpu"))
    was_training = model.training
    try:
        x = torch.randn(1, bands, height, width, generator=generator).to(device)
        try:
            data = _trace(graph.eval(), x, opset)
        except RuntimeError as err:  # e.g. a head built from Unfold, which has no ONNX form
            raise bad_value("model", "a patch model whose scene_head exports to ONNX "
                            "(convolutions; export per patch with export_onnx otherwise)",
                            f"{type(model).__name__}: {str(err).splitlines()[0][:120]}") from err
        onnx.checker.check_model(onnx.load_model_from_string(data))
        diff = None
        if check:
            graph.eval()  # the exporter restores the mode it found; be sure of eval here
            other = torch.randn(1, bands, height + 7, width + 3, generator=generator).to(device)
            diff = scene_onnx_max_abs_diff(graph, data, other)
            if not diff <= atol:
                raise ExportCheckError(
                    f"atol: expected ONNX Runtime to match PyTorch within {atol:g}, "
                    f"got max abs diff {diff:.3g} for the scene map"
                )
    finally:
        model.train(was_training)
    written = atomic_write_bytes(path, data)
    name = f"{type(model).__name__} scene map"
    return ExportResult(written, name, (bands, height, width), opset, False, False, diff)


def _trace(graph: SceneGraph, x: Tensor, opset: int) -> bytes:
    axes = {INPUT_NAME: {2: "height", 3: "width"}, OUTPUT_NAME: {2: "height", 3: "width"}}
    buffer = io.BytesIO()
    with quiet_export():
        torch.onnx.export(graph, (x,), buffer, dynamo=False, opset_version=opset,
                          input_names=[INPUT_NAME], output_names=[OUTPUT_NAME],
                          dynamic_axes=axes)
    return buffer.getvalue()


def scene_onnx_max_abs_diff(graph: SceneGraph, data: bytes, cube: Tensor) -> float:
    """Max |ONNX Runtime − PyTorch| of the logits map of ``cube`` (1 × bands × H × W)."""
    _, ort = require_export_extra()
    session = ort.InferenceSession(data, providers=["CPUExecutionProvider"])
    got = session.run(None, {INPUT_NAME: cube.detach().cpu().numpy()})[0]
    with torch.inference_mode():
        want = graph(cube).float().cpu().numpy()
    if got.shape != want.shape:
        raise ExportCheckError(f"onnx output: expected shape {want.shape}, got {got.shape}")
    return float(np.abs(got.astype(np.float64) - want).max())


def predict_scene_onnx(session: Any, cube: Any) -> np.ndarray:
    """Logits ``K × H × W`` of a ``bands × H × W`` cube through an exported scene graph."""
    array = np.ascontiguousarray(np.asarray(cube, dtype=np.float32))
    if array.ndim != 3:
        raise bad_value("cube", "an array of shape (bands, H, W)", array.shape)
    return session.run(None, {INPUT_NAME: array[None]})[0][0]
