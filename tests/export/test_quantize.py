"""INT8 quantization with ONNX Runtime: the quantized graph runs, is smaller, agrees with the
float graph, and bad input is refused with the argument named."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import lightnets
from lightnets.export import export_onnx
from lightnets.export.quantize import (
    QuantizeResult,
    as_samples,
    batches_for,
    onnx_outputs,
    quantize_onnx,
)

onnx = pytest.importorskip("onnx")
ort = pytest.importorskip("onnxruntime")

SHAPE = (1, 32, 32)


def _inputs(n: int, seed: int) -> np.ndarray:
    return np.random.default_rng(seed).standard_normal((n, *SHAPE)).astype(np.float32)


@pytest.fixture(scope="module")
def fp32(tmp_path_factory) -> object:
    """ResNet-18 (1 channel, 10 classes) with trained-like BatchNorm and a classifier that
    spreads random inputs over the classes, exported with a symbolic batch axis.

    A fresh network's logits hardly depend on a random input: the mean feature dominates
    and every input gets the same top class, which any graph would "agree" with. Centring
    the classifier on the features of random inputs and scaling it to logits of standard
    deviation ~1 makes the top class vary from input to input.
    """
    torch.manual_seed(0)
    model = lightnets.create_model("resnet18", num_classes=10, in_chans=1).eval()
    g = torch.Generator().manual_seed(0)
    with torch.no_grad():
        for m in model.modules():  # non-trivial statistics, so folding and ranges matter
            if isinstance(m, torch.nn.BatchNorm2d):
                m.running_mean.copy_(torch.randn(m.num_features, generator=g) * 0.1)
                m.running_var.copy_(torch.rand(m.num_features, generator=g) * 0.5 + 0.75)
        x = torch.from_numpy(_inputs(256, 9))
        feats = model.forward_head(model.forward_features(x), pre_logits=True)
        head = torch.randn(10, feats.shape[1], generator=g)
        head /= float(((feats - feats.mean(0)) @ head.T).std())
        model.classifier.weight.copy_(head)
        model.classifier.bias.copy_(-head @ feats.mean(0))
    path = tmp_path_factory.mktemp("q") / "fp32.onnx"
    return export_onnx(model, path, input_size=SHAPE, dynamic_batch=True).path


def test_quantized_graph_runs_is_smaller_and_agrees(fp32, tmp_path) -> None:
    result = quantize_onnx(fp32, tmp_path / "int8.onnx", _inputs(64, 0))
    assert isinstance(result, QuantizeResult)
    assert result.path.is_file() and result.int8_bytes == result.path.stat().st_size
    assert result.fp32_bytes == fp32.stat().st_size
    # ResNet-18's weights are ~all of the file: int8 instead of float32 is close to 4×.
    assert result.ratio > 3.5
    assert result.calibration_samples == 64 and result.per_channel
    assert "INT8 QDQ" in result.summary() and "smaller" in result.summary()
    ops = {node.op_type for node in onnx.load(str(result.path)).graph.node}
    assert {"QuantizeLinear", "DequantizeLinear"} <= ops

    x = _inputs(100, 1)  # not the calibration inputs
    want, got = onnx_outputs(fp32, x), onnx_outputs(result.path, x)
    assert got.shape == want.shape == (100, 10)
    # Bound: measured here, 89 % top-1 agreement and a mean error of 0.16 logit standard
    # deviations (a random network is harder to quantize than a trained one, whose features
    # have structure). Calibrating on inputs 20× too small, i.e. wrong ranges, gives 14 %
    # agreement (chance: 10 %) and an error of 2.9, so the loose bounds below still fail
    # for a broken graph while leaving room for other CPUs' kernels.
    agreement = float((got.argmax(1) == want.argmax(1)).mean())
    assert agreement >= 0.75, agreement
    assert np.abs(got - want).mean() < 0.3 * want.std()


def test_calibration_as_batches_or_tensor(fp32, tmp_path) -> None:
    batches = [torch.from_numpy(_inputs(5, s)) for s in range(3)]
    result = quantize_onnx(fp32, tmp_path / "a.onnx", iter(batches), per_channel=False,
                           method="percentile", activation_type="int8")
    assert result.calibration_samples == 15 and not result.per_channel
    assert result.activation_type == "int8" and result.symmetric_activations


def test_batches_follow_the_graph() -> None:
    samples = np.zeros((70, 1, 4, 4), np.float32)
    assert [len(b) for b in batches_for(samples, None)] == [32, 32, 6]
    assert [len(b) for b in batches_for(samples, 1)] == [1] * 70
    assert [len(b) for b in batches_for(samples, 32)] == [32, 32]  # remainder left out
    with pytest.raises(ValueError, match=r"calibration: expected at least 100 samples"):
        batches_for(samples, 100)


@pytest.mark.parametrize(
    ("calibration", "message"),
    [
        (np.zeros((4, 3, 32, 32), np.float32), r"calibration: expected batches of shape N×1×32×32"),
        (np.zeros((1, 32, 32), np.float32), r"calibration: expected batches of shape"),
        (np.zeros((0, 1, 32, 32), np.float32), r"calibration: expected at least one sample"),
        ([], r"calibration: expected at least one sample"),
        (np.full((2, 1, 32, 32), np.nan, np.float32), r"calibration: expected finite values"),
        (np.array([["a"]]), r"calibration: expected numeric arrays"),
        ("images.npy", r"calibration: expected an array of inputs or an iterable"),
        (None, r"calibration: expected an array of inputs"),
    ],
)
def test_bad_calibration_is_refused(fp32, tmp_path, calibration, message) -> None:
    with pytest.raises(ValueError, match=message):
        quantize_onnx(fp32, tmp_path / "bad.onnx", calibration)
    assert not (tmp_path / "bad.onnx").exists()


def test_bad_arguments_are_refused(fp32, tmp_path) -> None:
    x = _inputs(2, 0)
    with pytest.raises(FileNotFoundError, match="fp32_path: no such file"):
        quantize_onnx(tmp_path / "missing.onnx", tmp_path / "o.onnx", x)
    (tmp_path / "junk.onnx").write_bytes(b"not a graph")
    with pytest.raises(ValueError, match="fp32_path: expected an ONNX file"):
        quantize_onnx(tmp_path / "junk.onnx", tmp_path / "o.onnx", x)
    with pytest.raises(ValueError, match="out_path: expected a file other than fp32_path"):
        quantize_onnx(fp32, fp32, x)
    with pytest.raises(ValueError, match="method: expected one of 'minmax'"):
        quantize_onnx(fp32, tmp_path / "o.onnx", x, method="mse")
    with pytest.raises(ValueError, match="activation_type: expected one of"):
        quantize_onnx(fp32, tmp_path / "o.onnx", x, activation_type="int4")
    with pytest.raises(ValueError, match="per_channel: expected a bool"):
        quantize_onnx(fp32, tmp_path / "o.onnx", x, per_channel="yes")
    with pytest.raises(ValueError, match="inputs: expected batches of shape"):
        onnx_outputs(fp32, np.zeros((2, 1, 8, 8), np.float32))


def test_as_samples_concatenates_and_checks_shape() -> None:
    out = as_samples([np.ones((2, 1, 4, 4)), torch.zeros(3, 1, 4, 4)], (None, 1, 4, 4))
    assert out.shape == (5, 1, 4, 4) and out.dtype == np.float32
    with pytest.raises(ValueError, match=r"x: expected batches of shape N×1×4×4, got \(2, 1, 4\)"):
        as_samples([np.ones((2, 1, 4))], (None, 1, 4, 4), "x")
