"""Fine-tuning: class subsets, starting from a file or from torchvision's weights (offline,
through a substituted download), head replacement, frozen backbones, backbone learning rate,
and the files that are refused."""

from __future__ import annotations

import json
import os
import pickle
import urllib.error
from pathlib import Path

import numpy as np
import pytest
import torch

from lightnets import cli
from lightnets.models import create_model, get_entry
from lightnets.models.torchvision_compat import published_weights, weights_cache_file
from lightnets.vision import TrainConfig, load_dataset, train
from lightnets.vision.datasets import select_classes
from lightnets.vision.loaders import subset
from lightnets.vision.trainer import build_optimizer

LOW = ["0", "1", "2", "3", "4"]
HIGH = ["5", "6", "7", "8", "9"]
TINY = dict(model="mobilenet_v2_050", epochs=1, batch_size=16, subset=48)


def _quiet(**kwargs):
    return dict(progress=False, log=lambda _m: None, **kwargs)


@pytest.fixture(scope="module")
def low_checkpoint(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A real checkpoint written by a training on digits 0–4."""
    out = tmp_path_factory.mktemp("low")
    train(TrainConfig(**TINY, classes=LOW), out, **_quiet())
    return out / "checkpoint.pt"


def test_a_class_subset_is_relabelled_in_the_order_given(digits) -> None:
    sub = select_classes(digits, ["7", "3"])
    assert sub.classes == ["7", "3"] and sub.num_classes == 2
    assert set(sub.train.labels) == {0, 1}
    first = sub.train.indices[0]
    assert digits.train.labels[first] in (3, 7)
    assert sub.train[0][1] == (0 if digits.train.labels[first] == 7 else 1)
    assert len(sub.train) + len(sub.eval) == sum(
        y in (3, 7) for y in [*digits.train.labels, *digits.eval.labels]
    )
    for bad in (["3"], ["3", "3"], ["3", "x"]):
        with pytest.raises(ValueError, match=r"^classes: expected at least 2 distinct"):
            select_classes(digits, bad)


def test_weights_from_an_earlier_training_with_a_frozen_backbone(
    tmp_path: Path, low_checkpoint: Path
) -> None:
    result = train(
        TrainConfig(**TINY, classes=HIGH, weights=str(low_checkpoint), freeze_backbone=True),
        tmp_path,
        **_quiet(),
    )
    saved = torch.load(low_checkpoint, weights_only=True)["model"]
    now = result.model.state_dict()
    backbone = [k for k in saved if not k.startswith("classifier.")]
    assert all(torch.equal(saved[k], now[k]) for k in backbone)  # fixed, statistics too
    assert not torch.equal(saved["classifier.weight"], now["classifier.weight"])  # new head
    start = json.loads((tmp_path / "config.json").read_text())["start"]
    assert start["source"] == f"weights:{low_checkpoint}" and start["head"] == "replaced"
    assert start["trainable_params"] == now["classifier.weight"].numel() + 5
    assert result.extra["classes"] == HIGH


def test_the_head_is_kept_for_the_same_classes_and_replaced_on_request(
    low_checkpoint: Path,
) -> None:
    saved = torch.load(low_checkpoint, weights_only=True)["model"]
    same = TrainConfig(**TINY, classes=LOW, weights=str(low_checkpoint), lr=1e-9, precise_bn=0)
    kept = train(same, **_quiet()).model.state_dict()
    torch.testing.assert_close(kept["classifier.weight"], saved["classifier.weight"])
    new = train(TrainConfig(**{**same.__dict__, "head": "new"}), **_quiet()).model.state_dict()
    assert (new["classifier.weight"] - saved["classifier.weight"]).abs().max() > 1e-3
    expected = r"^head: expected 'new' or 'auto' \(the file's classifier classifier.weight has 5"
    with pytest.raises(ValueError, match=expected + r" outputs, the data has 3 classes\)"):
        train(
            TrainConfig(**TINY, classes=["7", "8", "9"], weights=str(low_checkpoint), head="keep"),
            **_quiet(),
        )


def test_weights_of_another_architecture_name_the_first_mismatching_layer(
    tmp_path: Path, low_checkpoint: Path
) -> None:
    with pytest.raises(ValueError, match=r"^weights: expected a checkpoint of mobilenet_v1_050 "):
        train(
            TrainConfig(**{**TINY, "model": "mobilenet_v1_050"}, weights=str(low_checkpoint)),
            **_quiet(),
        )
    plain = tmp_path / "resnet.pt"
    torch.save(create_model("resnet18", num_classes=10, in_chans=1).state_dict(), plain)
    with pytest.raises(ValueError, match=r"first mismatching layer: \S+ \(\d+, \d+, 3, 3\) in"):
        train(TrainConfig(**TINY, weights=str(plain)), **_quiet())


def test_a_plain_state_dict_with_torchvision_names_loads_by_position(tmp_path: Path) -> None:
    from torchvision.models import get_model

    torch.manual_seed(1)
    reference = get_model("shufflenet_v2_x0_5", weights=None)  # 3 channels, 1000 classes
    path = tmp_path / "tv.pth"
    torch.save(reference.state_dict(), path)
    config = TrainConfig(
        model="shufflenet_v2_x0_5",
        epochs=1,
        batch_size=16,
        subset=32,
        weights=str(path),
        freeze_backbone=True,
    )
    result = train(config, tmp_path / "run", **_quiet())
    ours = list(result.model.state_dict().values())
    theirs = list(reference.state_dict().values())
    assert all(torch.equal(a, b) for a, b in zip(ours[:-2], theirs[:-2], strict=True))
    assert result.model.in_chans == 3 and result.model.num_classes == 10
    record = json.loads((tmp_path / "run" / "config.json").read_text())
    assert record["start"]["normalization"]["mean"] == [0.485, 0.456, 0.406]
    assert "RepeatChannels(3)" in record["transforms"]["train"]


def _crafted(path: Path, marker: Path) -> Path:
    class Evil:
        def __reduce__(self):
            return (os.system, (f"touch {marker}",))

    path.write_bytes(pickle.dumps({"model": Evil(), "model_name": "mobilenet_v2_050"}))
    return path


@pytest.mark.filterwarnings("ignore:Detected pickle protocol")
def test_crafted_and_corrupt_files_are_refused_and_run_nothing(tmp_path: Path) -> None:
    marker = tmp_path / "ran"
    crafted = _crafted(tmp_path / "evil.pt", marker)
    corrupt = tmp_path / "corrupt.pt"
    corrupt.write_bytes(b"PK\x03\x04 not really a zip")
    for path in (crafted, corrupt):
        with pytest.raises(ValueError, match=r"^weights: expected a file saved by torch.save"):
            train(TrainConfig(**TINY, weights=str(path)), **_quiet())
    assert not marker.exists()
    code = cli.main(["train", "--model", "mobilenet_v2_050", "--weights", str(crafted), "--quiet"])
    assert code == 2 and not marker.exists()


@pytest.mark.filterwarnings("ignore:Detected pickle protocol")
def test_crafted_checkpoints_run_nothing_on_resume_or_load(tmp_path: Path) -> None:
    from lightnets.vision import load_classifier

    marker = tmp_path / "ran"
    _crafted(tmp_path / "checkpoint.pt", marker)
    with pytest.raises(ValueError, match=r"^checkpoint: expected a file saved by torch.save"):
        load_classifier(tmp_path / "checkpoint.pt")
    with pytest.raises(ValueError, match=r"^checkpoint: expected a file saved by torch.save"):
        train(TrainConfig(**TINY), tmp_path, **_quiet(resume=True))
    assert not marker.exists()


def _substitute_download(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, calls: list) -> None:
    """torch.hub's cache in ``tmp_path``; the download writes torchvision's network with
    random weights instead of fetching the published file."""
    from torchvision.models import get_model

    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch"))

    def fake(url: str, dst: str, hash_prefix=None, progress=True) -> None:
        calls.append((url, hash_prefix))
        torch.manual_seed(2)
        torch.save(get_model("mobilenet_v3_small", weights=None).state_dict(), dst)

    monkeypatch.setattr(torch.hub, "download_url_to_file", fake)


def test_pretrained_weights_come_through_torch_hubs_cache_with_their_preprocessing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list = []
    _substitute_download(monkeypatch, tmp_path, calls)
    config = TrainConfig(
        model="mobilenet_v3_small_100",
        epochs=1,
        batch_size=16,
        subset=32,
        pretrained=True,
        img_size=64,
        freeze_backbone=True,
    )
    result = train(config, tmp_path / "run", **_quiet())
    weights = published_weights(get_entry("mobilenet_v3_small_100"))
    cached = weights_cache_file(weights)
    assert calls == [(weights.url, "047dcff4")]
    assert cached.parent == tmp_path / "torch" / "hub" / "checkpoints" and cached.exists()
    file = list(torch.load(cached, weights_only=True).values())
    ours = list(result.model.state_dict().values())
    assert all(torch.equal(a, b) for a, b in zip(ours[:-2], file[:-2], strict=True))
    record = json.loads((tmp_path / "run" / "config.json").read_text())
    assert record["start"]["source"] == f"pretrained:{weights}"
    assert record["start"]["img_size"] == 224 and record["start"]["eval_resize"] == 256
    assert record["train"]["img_size"] == 64  # --img-size wins over the weights' 224
    assert record["start"]["normalization"]["std"] == [0.229, 0.224, 0.225]
    assert "RepeatChannels(3) → Normalize(mean=(0.485" in record["transforms"]["test"]

    train(config, **_quiet())  # second time: from the cache, no download
    assert len(calls) == 1

    # The fine-tuned 3-channel network classifies grey digits as the trainer evaluated them.
    import lightnets

    p = lightnets.predictor(
        "mobilenet_v3_small_100", weights=tmp_path / "run" / "checkpoint.pt", backend="torch"
    )
    assert p.preprocess.in_chans == 3 and p.preprocess.img_size == 64
    evaluated = subset(load_dataset("digits").eval, 32)  # the images the trainer evaluated
    images = torch.stack([evaluated[i][0] for i in range(32)])  # 32 × 1 × 8 × 8, grey
    labels = np.array([evaluated[i][1] for i in range(32)])
    confusion = np.array(json.loads((tmp_path / "run" / "metrics.json").read_text())["confusion"])
    pred = p.predict(images)
    assert np.array_equal(np.bincount(labels * 10 + pred, minlength=100).reshape(10, 10), confusion)


def test_pretrained_offline_names_the_file_and_where_to_put_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture
) -> None:
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch"))

    def offline(*_args, **_kwargs) -> None:
        raise urllib.error.URLError("Name or service not known")

    monkeypatch.setattr(torch.hub, "download_url_to_file", offline)
    code = cli.main(
        ["train", "--model", "mobilenet_v3_small_100", "--pretrained", "--subset", "16", "--quiet"]
    )
    err = capsys.readouterr().err.strip()
    assert code == 2 and len(err.splitlines()) == 1
    folder = tmp_path / "torch" / "hub" / "checkpoints"
    assert "put mobilenet_v3_small-047dcff4.pth from https://download.pytorch.org/" in err
    assert f"in {folder}" in err and not list(folder.glob("*"))


def test_pretrained_without_published_weights_names_the_models_that_have_them() -> None:
    with pytest.raises(
        ValueError,
        match=r"^pretrained: expected a model with torchvision's .*"
        r"mobilenet_v3_small_100.*got 'mobilenet_v1_050'",
    ):
        train(TrainConfig(**{**TINY, "model": "mobilenet_v1_050"}, pretrained=True), **_quiet())


def test_the_backbone_learning_rate_and_conflicting_settings() -> None:
    model = create_model("mobilenet_v2_050", num_classes=5, in_chans=1)
    config = TrainConfig(**TINY, lr=0.1, backbone_lr=0.01)
    groups = build_optimizer(model, config).param_groups
    head = {id(p) for p in model.classifier.parameters()}
    assert [g["lr"] for g in groups] == [0.1, 0.1, 0.01, 0.01]
    assert {id(p) for g in groups[:2] for p in g["params"]} == head
    assert sum(len(g["params"]) for g in groups) == len(list(model.parameters()))
    with pytest.raises(ValueError, match=r"^backbone_lr: expected no value with freeze"):
        TrainConfig(**TINY, backbone_lr=0.01, freeze_backbone=True)
    with pytest.raises(ValueError, match=r"^weights: expected no file with pretrained=True"):
        TrainConfig(**TINY, weights="x.pt", pretrained=True)
    with pytest.raises(ValueError, match=r"^head: expected one of"):
        TrainConfig(**TINY, head="old")


def test_the_command_line_fine_tunes_from_a_file(tmp_path: Path, low_checkpoint: Path) -> None:
    out = tmp_path / "cli"
    code = cli.main(
        [
            "train",
            "--model",
            "mobilenet_v2_050",
            "--classes",
            "5,6,7,8,9",
            "--weights",
            str(low_checkpoint),
            "--backbone-lr",
            "0.01",
            "--epochs",
            "1",
            "--batch-size",
            "16",
            "--subset",
            "48",
            "--out",
            str(out),
            "--quiet",
        ]
    )
    assert code == 0
    record = json.loads((out / "config.json").read_text())
    assert record["train"]["classes"] == HIGH and record["train"]["backbone_lr"] == 0.01
    assert record["start"]["head"] == "replaced"
    assert json.loads((out / "metrics.json").read_text())["per_class"].keys() == set(HIGH)
