"""Running an exported graph: an ONNX Runtime session behind a torch-module interface.

:class:`OrtModule` lets the predictor and the latency benchmark treat an ONNX file like any
other network (tensor in, tensor out), so ONNX Runtime is timed by the same interleaved
loop as PyTorch and its results go through the same code.
"""

from __future__ import annotations

import os
from typing import Any

import numpy as np
import torch
from torch import Tensor, nn

from .._checks import check_choice, check_int
from .onnx import require_export_extra

SPINNING = ("during-run", "always", "never")


def ort_session(
    model: str | os.PathLike | bytes,
    *,
    threads: int | None = None,
    spinning: str = "during-run",
) -> Any:
    """A CPU ``InferenceSession`` with every graph optimisation on.

    ``threads`` sets the intra-op thread pool (default: ONNX Runtime's, one per physical
    core). ``spinning`` says when idle pool threads busy-wait for work instead of sleeping:
    ``"during-run"`` (default) while a run lasts, so that handing work to them costs no
    wake-up, and not after it returns, so that between runs ONNX Runtime takes no CPU time
    from whatever runs next (the latency benchmark interleaves it with PyTorch);
    ``"always"`` is ONNX Runtime's own default, ``"never"`` sleeps at once.
    """
    check_choice("spinning", spinning, SPINNING)
    _, ort = require_export_extra()
    options = ort.SessionOptions()
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    if threads is not None:
        options.intra_op_num_threads = check_int("threads", threads, minimum=1)
        options.inter_op_num_threads = 1
    if spinning == "never":
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    elif spinning == "during-run":
        options.add_session_config_entry("session.force_spinning_stop", "1")
    source = model if isinstance(model, bytes) else os.fspath(model)
    return ort.InferenceSession(source, options, providers=["CPUExecutionProvider"])


class OrtModule(nn.Module):
    """An ONNX Runtime session called like a module: a CPU tensor in, a CPU tensor out.

    Only the first input and first output of the graph are used (the zoo's graphs have one
    of each). ``train``/``eval`` change nothing: the graph was exported in eval mode.
    """

    def __init__(self, session: Any) -> None:
        super().__init__()
        self.session = session
        self.input_name = session.get_inputs()[0].name

    def forward(self, x: Tensor) -> Tensor:
        array = np.ascontiguousarray(x.detach().cpu().numpy(), dtype=np.float32)
        return torch.from_numpy(self.session.run(None, {self.input_name: array})[0])
