"""ONNX export: every image classifier and HybridSN match ONNX Runtime; errors are clear."""

from __future__ import annotations

import sys

import numpy as np
import pytest
import torch

import lightnets
from lightnets.export import ExportCheckError, export_onnx

onnx = pytest.importorskip("onnx")
ort = pytest.importorskip("onnxruntime")

IMAGE_MODELS = lightnets.list_models(task="image")
FAMILY_SAMPLES = [
    "mobilenet_v1_025",
    "mobilenet_v2_035",
    "mobilenet_v3_small_075",
    "mobilenet_v3_large_075",
    "shufflenet_v1_g3_x0_5",
    "shufflenet_v2_x0_5",
    "resnet18",
    "se_resnet18",
    "cbam_resnet18",
]
ATOL = 1e-4
RTOL = 1e-5  # measured: ≤ 2e-7 of the logits' scale for every model at 64×64


@pytest.fixture(autouse=True)
def _one_thread(one_thread):
    """These small passes run faster on one intra-op thread (see tests/conftest.py)."""


def _models() -> list:
    """One variant per family in the fast run; every other image classifier marked slow."""
    slow = pytest.mark.slow
    rest = [pytest.param(n, marks=slow) for n in IMAGE_MODELS if n not in FAMILY_SAMPLES]
    return FAMILY_SAMPLES + rest


def _ort_run(path, x: torch.Tensor) -> np.ndarray:
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    return session.run(None, {"input": x.numpy()})[0]


@pytest.mark.parametrize("name", _models())
def test_image_classifier_matches_onnx_runtime(randomize_bn, name: str, tmp_path) -> None:
    model = randomize_bn(lightnets.create_model(name, num_classes=10)).eval()
    result = export_onnx(model, tmp_path / f"{name}.onnx", input_size=64, atol=ATOL)
    assert result.path.is_file() and result.input_shape == (3, 64, 64)
    x = torch.randn(1, 3, 64, 64)
    with torch.inference_mode():
        want = model(x).numpy()
    got = _ort_run(result.path, x)
    diff = float(np.abs(got - want).max())
    scale = max(float(np.abs(want).max()), 1e-3)
    assert result.max_abs_diff is not None and result.max_abs_diff <= ATOL
    assert diff <= ATOL and diff <= RTOL * scale


def test_fused_export_matches_the_unfused_model(randomize_bn, tmp_path) -> None:
    model = randomize_bn(lightnets.create_model("shufflenet_v2_x0_5", num_classes=10)).eval()
    result = export_onnx(model, tmp_path / "f.onnx", input_size=64, fuse_bn=True)
    graph = onnx.load(str(result.path)).graph
    assert "BatchNormalization" not in {node.op_type for node in graph.node}
    x = torch.randn(1, 3, 64, 64)
    with torch.inference_mode():
        want = model(x).numpy()
    assert np.abs(_ort_run(result.path, x) - want).max() <= ATOL


def test_hybridsn_exports_and_matches(tmp_path) -> None:
    model = lightnets.create_model("hybridsn", bands=30, num_classes=16, window=25)
    model.train()
    result = export_onnx(model, tmp_path / "hybridsn.onnx")
    assert model.training  # the caller's mode is restored
    assert result.input_shape == (30, 25, 25) and result.max_abs_diff <= ATOL
    x = torch.randn(1, 30, 25, 25)
    with torch.inference_mode():
        want = model.eval()(x).numpy()
    got = _ort_run(result.path, x)
    assert got.shape == (1, 16) and np.abs(got - want).max() <= ATOL


def test_dynamic_batch(tmp_path) -> None:
    model = lightnets.create_model("mobilenet_v3_small_075", num_classes=10)
    dyn = export_onnx(model, tmp_path / "dyn.onnx", input_size=64, dynamic_batch=True)
    static = export_onnx(model, tmp_path / "static.onnx", input_size=64)
    x = torch.randn(3, 3, 64, 64)
    with torch.inference_mode():
        want = model.eval()(x).numpy()
    got = _ort_run(dyn.path, x)
    assert got.shape == (3, 10) and np.abs(got - want).max() <= ATOL
    with pytest.raises(Exception, match=r"(?i)dimension|shape"):
        _ort_run(static.path, x)


def test_file_records_opset_and_names(tmp_path) -> None:
    result = export_onnx("mobilenet_v1_025", tmp_path / "sub" / "m.onnx", input_size=64, opset=13)
    proto = onnx.load(str(result.path))
    onnx.checker.check_model(proto)
    assert [o.version for o in proto.opset_import if o.domain in ("", "ai.onnx")] == [13]
    assert [i.name for i in proto.graph.input] == ["input"]
    assert [o.name for o in proto.graph.output] == ["logits"]
    assert result.model_name == "mobilenet_v1_025" and "max abs diff" in result.summary()
    assert not [p for p in result.path.parent.iterdir() if p.name.endswith(".tmp")]


def test_mismatch_above_atol_raises_and_writes_nothing(tmp_path, monkeypatch) -> None:
    import lightnets.export.onnx as mod

    monkeypatch.setattr(mod, "onnx_max_abs_diff", lambda *a: 0.5)
    out = tmp_path / "bad.onnx"
    with pytest.raises(ExportCheckError, match=r"atol: expected .* within 0\.0001, got .* 0\.5"):
        export_onnx("mobilenet_v1_025", out, input_size=64)
    assert not out.exists()


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"opset": 7}, r"opset: expected an integer in \[13, 20\], got 7"),
        ({"opset": "17"}, "opset: expected an integer"),
        ({"atol": 0}, "atol: expected a number > 0"),
        ({"dynamic_batch": "yes"}, "dynamic_batch: expected a bool"),
        ({"input_size": 16}, r"input: expected height and width >= 32"),
        ({"input_size": (64, -1)}, "input_size: expected an int S"),
    ],
)
def test_bad_arguments(kwargs, match, tmp_path) -> None:
    with pytest.raises(ValueError, match=match):
        export_onnx("mobilenet_v1_025", tmp_path / "x.onnx", **kwargs)
    assert not (tmp_path / "x.onnx").exists()


def test_unknown_model_and_wrong_type(tmp_path) -> None:
    with pytest.raises(ValueError, match=r"name: expected a registered model name.*mobilenet"):
        export_onnx("mobilenet_v9", tmp_path / "x.onnx")
    with pytest.raises(ValueError, match="model_or_name: expected a registered model name"):
        export_onnx(3, tmp_path / "x.onnx")


def test_hybridsn_rejects_a_wrong_window(tmp_path) -> None:
    with pytest.raises(ValueError, match=r"input: expected a tensor of shape \(N, 30, 25, 25\)"):
        export_onnx("hybridsn", tmp_path / "h.onnx", input_size=(30, 27, 27))


@pytest.mark.parametrize("missing", ["onnx", "onnxruntime"])
def test_missing_extra_says_how_to_install(missing, tmp_path, monkeypatch) -> None:
    monkeypatch.setitem(sys.modules, missing, None)  # makes `import <missing>` fail
    with pytest.raises(ImportError, match=r'pip install "lightnets\[export\]"'):
        export_onnx("mobilenet_v1_025", tmp_path / "x.onnx", input_size=64)
    assert not (tmp_path / "x.onnx").exists()
