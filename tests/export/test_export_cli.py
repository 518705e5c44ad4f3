"""The ``export`` subcommand, on a parser built here with the package's ``register``."""

from __future__ import annotations

import argparse

import numpy as np
import pytest
import torch

import lightnets
from lightnets.export.commands import register

ort = pytest.importorskip("onnxruntime")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="lightnets")
    register(parser.add_subparsers(dest="command", required=True))
    return parser


def _run(argv: list[str]) -> int:
    args = _parser().parse_args(argv)
    return args.func(args)


def test_export_a_registered_model(tmp_path, capsys) -> None:
    out = tmp_path / "m.onnx"
    argv = ["export", "mobilenet_v1_025", "--input", "64", "--opset", "14",
            "--dynamic-batch", "--fuse-bn", "--out", str(out)]
    assert _run(argv) == 0
    printed = capsys.readouterr().out
    assert str(out) in printed and "max abs diff" in printed and "BN folded" in printed
    session = ort.InferenceSession(str(out), providers=["CPUExecutionProvider"])
    assert session.run(None, {"input": np.zeros((3, 3, 64, 64), np.float32)})[0].shape == (3, 1000)


def _fitted_file(tmp_path, name: str = "hybridsn"):
    """The model.pt of a one-epoch HSIClassifier on a random 12×12×15 cube of 4 classes, and
    its network."""
    from lightnets.hsi import HSIClassifier

    rng = np.random.default_rng(0)
    cube = rng.random((12, 12, 15)).astype(np.float32)
    gt = np.arange(144).reshape(12, 12) % 4 + 1
    clf = HSIClassifier(name, pca=0, whiten=False, window=11, epochs=1, batch_size=16)
    clf.fit(cube, gt, class_names=["a", "b", "c", "d"])
    return clf.save(tmp_path / "model.pt"), clf.network_


def test_export_a_predictor_checkpoint(tmp_path, capsys) -> None:
    pytest.importorskip("sklearn")
    ckpt, model = _fitted_file(tmp_path)
    assert _run(["export", str(ckpt)]) == 0
    out = tmp_path / "model.onnx"
    printed = capsys.readouterr().out
    assert out.is_file() and f"wrote {out} (HybridSN; input 15x11x11" in printed
    x = torch.randn(2, 15, 11, 11)
    session = ort.InferenceSession(str(out), providers=["CPUExecutionProvider"])
    with pytest.raises(Exception, match=r"(?i)dimension|shape"):
        session.run(None, {"input": x.numpy()})  # static batch of 1 by default
    got = session.run(None, {"input": x[:1].numpy()})[0]
    with torch.inference_mode():
        want = model(x[:1]).numpy()
    assert got.shape == (1, 4) and np.abs(got - want).max() <= 1e-4


def test_export_the_full_scene_map_of_a_predictor(tmp_path, capsys) -> None:
    pytest.importorskip("sklearn")
    from lightnets.export.scene import predict_scene_onnx
    from lightnets.hsi import engine

    ckpt, model = _fitted_file(tmp_path)
    assert _run(["export", str(ckpt), "--scene"]) == 0
    out = tmp_path / "model.scene.onnx"
    assert f"wrote {out}" in capsys.readouterr().out
    session = ort.InferenceSession(str(out), providers=["CPUExecutionProvider"])
    for height, width in ((20, 17), (9, 31)):  # any size, unlike the traced sample
        cube = torch.randn(15, height, width)
        got = predict_scene_onnx(session, cube.numpy())
        want = engine.predict_scene(model, cube, device="cpu").numpy()
        assert got.shape == (4, height, width) and np.abs(got - want).max() <= 1e-4
    with pytest.raises(ValueError, match=r"^--scene: expected a model.pt from an hsi run"):
        _run(["export", "mobilenet_v1_025", "--scene"])


def test_a_scene_head_without_onnx_form_is_named(tmp_path) -> None:
    from lightnets.export.scene import export_scene_onnx

    model = lightnets.create_model("hybridsn_se", bands=15, num_classes=4, window=11)
    with pytest.raises(ValueError, match=r"^model: expected a patch model whose scene_head"):
        export_scene_onnx(model, tmp_path / "se.onnx")
    assert not (tmp_path / "se.onnx").exists()
    with pytest.raises(ValueError, match=r"^model: expected a patch model with forward_features"):
        export_scene_onnx(torch.nn.Linear(2, 2), tmp_path / "lin.onnx")


def test_bad_arguments_are_rejected(tmp_path, capsys) -> None:
    with pytest.raises(SystemExit):
        _parser().parse_args(["export", "resnet18", "--format", "tflite"])
    assert "invalid choice" in capsys.readouterr().err
    with pytest.raises(ValueError, match=r"opset: expected an integer in \[13, 20\]"):
        _run(["export", "resnet18", "--opset", "99", "--out", str(tmp_path / "x.onnx")])
    with pytest.raises(FileNotFoundError, match="checkpoint: no such file"):
        _run(["export", str(tmp_path / "missing.pt")])


def test_export_and_quantize_in_one_command(tmp_path, capsys) -> None:
    out = tmp_path / "m.onnx"
    argv = ["export", "mobilenet_v1_025", "--input", "32", "--int8", "--calibration", "4",
            "--out", str(out)]
    assert _run(argv) == 0
    printed = capsys.readouterr().out
    int8 = tmp_path / "m.int8.onnx"
    assert out.is_file() and int8.is_file() and int8.stat().st_size < out.stat().st_size
    assert f"wrote {int8} (INT8 QDQ" in printed and "4 random normal inputs" in printed
    session = ort.InferenceSession(str(int8), providers=["CPUExecutionProvider"])
    assert session.run(None, {"input": np.zeros((1, 3, 32, 32), np.float32)})[0].shape == (1, 1000)

    data = tmp_path / "calib.npy"
    np.save(data, np.random.default_rng(0).random((6, 3, 32, 32), dtype=np.float32))
    argv = ["export", "mobilenet_v1_025", "--input", "32", "--out", str(out), "--int8",
            "--calibration-data", str(data), "--int8-out", str(tmp_path / "q.onnx")]
    assert _run(argv) == 0
    printed = capsys.readouterr().out
    assert (tmp_path / "q.onnx").is_file() and f"calibrated on 6 samples from {data}" in printed


def test_bad_int8_arguments_are_rejected(tmp_path) -> None:
    out = str(tmp_path / "x.onnx")
    with pytest.raises(ValueError, match="--calibration: expected --int8 alongside it, got 8"):
        _run(["export", "mobilenet_v1_025", "--calibration", "8", "--out", out])
    with pytest.raises(ValueError, match="--calibration: expected an integer >= 1, got 0"):
        _run(["export", "mobilenet_v1_025", "--int8", "--calibration", "0", "--out", out])
    with pytest.raises(FileNotFoundError, match="--calibration-data: no such file"):
        _run(["export", "mobilenet_v1_025", "--int8", "--calibration-data",
              str(tmp_path / "missing.npy"), "--out", out])
    bad = tmp_path / "bad.npy"
    np.save(bad, np.zeros((2, 1, 32, 32), np.float32))
    with pytest.raises(ValueError, match=r"calibration: expected batches of shape N×3×32×32"):
        _run(["export", "mobilenet_v1_025", "--input", "32", "--int8", "--calibration-data",
              str(bad), "--out", out])
    junk = tmp_path / "junk.npy"
    junk.write_bytes(b"not numpy")
    with pytest.raises(ValueError, match=r"--calibration-data: expected a \.npy or \.npz array"):
        _run(["export", "mobilenet_v1_025", "--input", "32", "--int8", "--calibration-data",
              str(junk), "--out", out])
