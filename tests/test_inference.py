"""``lightnets.predictor``: both backends agree, preprocessing is the training evaluation
transform, the network always runs in eval mode, and bad input is refused by name."""

from __future__ import annotations

import sys

import numpy as np
import pytest
import torch

import lightnets
from lightnets.inference import Predictor
from lightnets.vision.transforms import STATS, eval_transform

pytest.importorskip("onnxruntime")


@pytest.fixture(autouse=True)
def _one_thread(one_thread):
    """These small passes run faster on one intra-op thread (see tests/conftest.py)."""


def _digits_images(n: int, seed: int = 0) -> torch.Tensor:
    """Raw digits-like images: N×1×8×8 floats in [0, 1], as the digits data set holds them."""
    return torch.rand(n, 1, 8, 8, generator=torch.Generator().manual_seed(seed))


@pytest.mark.parametrize(
    ("name", "in_chans", "dataset", "img_size"),
    [("resnet18", 1, "digits", None), ("shufflenet_v2_x0_5", 3, None, 64)],
)
def test_backends_give_the_same_logits(randomize_bn, name, in_chans, dataset, img_size) -> None:
    model = randomize_bn(lightnets.create_model(name, num_classes=7, in_chans=in_chans))
    kwargs = {"dataset": dataset, "img_size": img_size}
    eager = lightnets.predictor(model, backend="torch", **kwargs)
    ort = lightnets.predictor(model, backend="onnxruntime", **kwargs)
    assert (eager.backend, ort.backend) == ("torch", "onnxruntime")
    g = torch.Generator().manual_seed(1)
    images = torch.randint(0, 256, (5, in_chans, 80, 72), dtype=torch.uint8, generator=g)
    a, b = eager.logits(images), ort.logits(images)
    assert a.shape == b.shape == (5, 7) and a.dtype == np.float32
    assert np.abs(a - b).max() <= 1e-4
    with torch.inference_mode():  # and both equal the plain network on the same input
        want = model.eval()(eager.preprocess(images)).numpy()
    assert np.abs(a - want).max() <= 1e-4


def test_preprocessing_is_the_training_eval_transform() -> None:
    model = lightnets.create_model("resnet18", num_classes=10, in_chans=1)
    p = lightnets.predictor(model, dataset="digits", backend="torch")
    images = _digits_images(6)
    reference = eval_transform("digits", 32, STATS["digits"])
    want = torch.stack([reference(image) for image in images])
    assert p.preprocess.transform.steps[-1].stats == STATS["digits"]
    torch.testing.assert_close(p.preprocess(images), want, rtol=0, atol=1e-6)
    torch.testing.assert_close(p.preprocess(list(images)), want, rtol=0, atol=0)
    torch.testing.assert_close(p.preprocess(images[0].numpy()), want[:1], rtol=0, atol=1e-6)

    photos = lightnets.predictor("shufflenet_v2_x0_5", num_classes=3, img_size=64,
                                 backend="torch")
    g = torch.Generator().manual_seed(0)
    sizes = [(3, 90, 70), (3, 64, 128)]
    raw = [torch.randint(0, 256, s, dtype=torch.uint8, generator=g) for s in sizes]
    reference = eval_transform("folder", 64, STATS["imagenet"])
    want = torch.stack([reference(image) for image in raw])
    torch.testing.assert_close(photos.preprocess(raw), want, rtol=0, atol=0)


def test_a_training_checkpoint_predicts_as_the_trainer_evaluated(tmp_path) -> None:
    from lightnets.vision.datasets import load_dataset
    from lightnets.vision.evaluation import predict
    from lightnets.vision.loaders import Augmented, subset
    from lightnets.vision.trainer import TrainConfig, load_classifier, train

    data = load_dataset("digits")
    config = TrainConfig(model="resnet18", dataset="digits", epochs=1, subset=64,
                         batch_size=32, seed=0)
    train(config, tmp_path, data=data, progress=False, log=lambda _msg: None)
    ckpt = tmp_path / "checkpoint.pt"
    p = lightnets.predictor("resnet18", weights=ckpt)
    assert p.classes == [str(d) for d in range(10)] and p.preprocess.img_size == 32
    assert p.preprocess.kind == "digits" and p.num_classes == 10

    # The trainer's evaluation: its data set wrapper, eval transform and predict().
    held_out = subset(data.eval, 64)
    evaluation = Augmented(held_out, eval_transform("digits", 32, data.normalization), 0)
    inputs = torch.stack([evaluation[i][0] for i in range(64)])
    model, _ = load_classifier(ckpt)
    batches = [(inputs, torch.zeros(64, dtype=torch.int64))]
    want = predict(model, batches, device=torch.device("cpu"), k=1).topk[:, 0].numpy()
    with torch.inference_mode():
        want_logits = model(inputs).numpy()

    raw = torch.stack([held_out[i][0] for i in range(64)])
    # After one epoch on 64 images the top class hardly varies, so compare the logits too.
    assert np.abs(p.logits(raw) - want_logits).max() <= 1e-4
    got = p.predict(raw)
    assert got.dtype == np.int64 and (got == want).all()


def test_outputs_are_consistent_and_in_eval_mode() -> None:
    model = lightnets.create_model("resnet18", num_classes=4, in_chans=1, drop_rate=0.5)
    model.train()
    p = lightnets.predictor(model, dataset="digits", batch_size=2)
    assert model.training  # the caller's module is left as it was
    images = _digits_images(5)
    logits = p.logits(images)
    np.testing.assert_array_equal(logits, p.logits(images))  # no dropout at inference
    with torch.inference_mode():
        want = model.eval()(p.preprocess(images)).numpy()
    assert np.abs(logits - want).max() <= 1e-4
    proba = p.predict_proba(images)
    np.testing.assert_allclose(proba.sum(1), 1, rtol=1e-5)
    np.testing.assert_array_equal(p.predict(images), logits.argmax(1))
    np.testing.assert_array_equal(p(images[0]), logits[:1].argmax(1))  # one image: batch of 1
    assert "onnxruntime" in repr(p) and "Normalize" in repr(p)


def test_auto_picks_onnxruntime_and_falls_back_to_torch(monkeypatch) -> None:
    model = lightnets.create_model("resnet18", num_classes=4, in_chans=1)
    assert lightnets.predictor(model, dataset="digits").backend == "onnxruntime"
    monkeypatch.setitem(sys.modules, "onnxruntime", None)  # as if it were not installed
    p = lightnets.predictor(model, dataset="digits")
    assert p.backend == "torch" and "not installed" in p.note
    assert p.predict(_digits_images(2)).shape == (2,)


def test_pil_images() -> None:
    pil_image = pytest.importorskip("PIL.Image")
    p = lightnets.predictor("shufflenet_v2_x0_5", num_classes=3, img_size=64, backend="torch")
    rgb = np.random.default_rng(0).integers(0, 256, (70, 90, 3), dtype=np.uint8)
    got = p.preprocess([pil_image.fromarray(rgb)])
    want = p.preprocess(torch.from_numpy(rgb).permute(2, 0, 1))
    torch.testing.assert_close(got, want, rtol=0, atol=1e-6)


def test_bad_input_is_refused(tmp_path) -> None:
    gray = lightnets.create_model("resnet18", num_classes=4, in_chans=1)
    p = lightnets.predictor(gray, dataset="digits", backend="torch")
    with pytest.raises(ValueError, match=r"images: expected images of shape 1×H×W"):
        p.predict(torch.rand(2, 3, 8, 8))
    with pytest.raises(ValueError, match=r"images: expected float pixels in \[0, 1\]"):
        p.predict(torch.rand(2, 1, 8, 8) * 255)
    with pytest.raises(ValueError, match="images: expected uint8"):
        p.predict(torch.ones(2, 1, 8, 8, dtype=torch.int64))
    with pytest.raises(ValueError, match="images: expected a C×H×W image"):
        p.predict(torch.rand(8, 8))
    with pytest.raises(ValueError, match="images: expected a C×H×W image"):
        p.predict([])
    with pytest.raises(ValueError, match="images: expected tensors, arrays or PIL images"):
        p.predict(["a.png"])

    with pytest.raises(ValueError, match="backend: expected one of 'auto'"):
        lightnets.predictor(gray, dataset="digits", backend="tensorrt")
    with pytest.raises(ValueError, match="dataset: expected one of digits"):
        lightnets.predictor(gray)  # one channel: no default preprocessing
    with pytest.raises(ValueError, match="dataset: expected one of 'digits'"):
        lightnets.predictor(gray, dataset="mnist")
    with pytest.raises(ValueError, match=r"dataset: expected statistics for 1 channel"):
        lightnets.predictor(gray, dataset="imagenet")
    with pytest.raises(ValueError, match="img_size: expected an integer >= 32"):
        lightnets.predictor(gray, dataset="digits", img_size=16)
    with pytest.raises(ValueError, match="batch_size: expected an integer >= 1"):
        lightnets.predictor(gray, dataset="digits", batch_size=0)
    with pytest.raises(ValueError, match="weights: expected None when model is a module"):
        lightnets.predictor(gray, dataset="digits", weights=gray.state_dict())
    with pytest.raises(ValueError, match="device: expected cpu with backend='onnxruntime'"):
        lightnets.predictor(gray, dataset="digits", backend="onnxruntime", device="cuda")
    with pytest.raises(ValueError, match="model: expected an image classifier"):
        lightnets.predictor("hybridsn")
    with pytest.raises(ValueError, match="model: expected a registered model name"):
        lightnets.predictor(42)
    with pytest.raises(ValueError, match="name: expected a registered model name"):
        lightnets.predictor("mobilenet_v9")
    with pytest.raises(FileNotFoundError, match="checkpoint: no file"):
        lightnets.predictor("resnet18", weights=tmp_path / "missing.pt")


def test_a_checkpoint_of_another_model_is_refused(tmp_path) -> None:
    from lightnets.vision.trainer import TrainConfig, train

    config = TrainConfig(model="resnet18", dataset="digits", epochs=1, subset=8,
                         batch_size=8, seed=0)
    train(config, tmp_path, progress=False, log=lambda _msg: None)
    with pytest.raises(ValueError, match="weights: expected a checkpoint of 'resnet34'"):
        lightnets.predictor("resnet34", weights=tmp_path / "checkpoint.pt")
    with pytest.raises(ValueError, match="num_classes: expected no value"):
        lightnets.predictor("resnet18", weights=tmp_path / "checkpoint.pt", num_classes=3)
    assert isinstance(lightnets.predictor("resnet18", weights=tmp_path / "checkpoint.pt",
                                          backend="torch"), Predictor)
