"""ONNX Runtime sessions: the spinning policy reaches the session; a bad one is refused."""

from __future__ import annotations

import pytest
import torch

from lightnets.export.onnx import export_onnx
from lightnets.export.runtime import OrtModule, ort_session

pytest.importorskip("onnxruntime")

KEYS = ("session.intra_op.allow_spinning", "session.force_spinning_stop")


@pytest.fixture(scope="module")
def graph(tmp_path_factory) -> bytes:
    net = torch.nn.Sequential(torch.nn.Conv2d(3, 4, 3), torch.nn.ReLU()).eval()
    path = tmp_path_factory.mktemp("rt") / "net.onnx"
    return export_onnx(net, path, input_size=(3, 8, 8)).path.read_bytes()


def _entry(options, key: str) -> str:
    """A session config entry, or "" where it was never set (ONNX Runtime raises then)."""
    try:
        return options.get_session_config_entry(key)
    except RuntimeError:
        return ""


@pytest.mark.parametrize(
    ("spinning", "entries"),
    [("during-run", ("", "1")), ("never", ("0", "")), ("always", ("", ""))],
)
def test_spinning_policy_is_set_on_the_session(graph, spinning, entries) -> None:
    session = ort_session(graph, threads=2, spinning=spinning)
    options = session.get_session_options()
    assert tuple(_entry(options, k) for k in KEYS) == entries
    assert options.intra_op_num_threads == 2
    out = OrtModule(session)(torch.zeros(1, 3, 8, 8))
    assert out.shape == (1, 4, 6, 6)


def test_unknown_spinning_policy_is_refused(graph) -> None:
    with pytest.raises(ValueError, match=r"^spinning: expected one of .*'during-run'.*got True"):
        ort_session(graph, spinning=True)
