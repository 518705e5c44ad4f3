"""Training: run folder, reproducibility, exact resume, checkpoint checks, bad settings."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest
import torch

from lightnets.vision import TrainConfig, load_classifier, load_weights, train
from lightnets.vision.trainer import lr_factor

TINY = dict(model="mobilenet_v1_025", epochs=2, batch_size=16, lr=0.02, subset=64)


def _quiet(**kwargs):
    return dict(progress=False, log=lambda _m: None, **kwargs)


def _history(result) -> list[dict]:
    timing = ("seconds", "bn_seconds", "eval_seconds", "images_per_s")
    return [{k: v for k, v in row.items() if k not in timing} for row in result.history]


def test_a_run_writes_its_folder(tmp_path: Path, digits) -> None:
    result = train(TrainConfig(**TINY), tmp_path, **_quiet(data=digits))
    names = {p.name for p in tmp_path.iterdir()}
    assert names == {"config.json", "checkpoint.pt", "history.csv", "curves.png", "metrics.json"}
    metrics = json.loads((tmp_path / "metrics.json").read_text())
    assert metrics == json.loads(json.dumps(result.metrics))
    assert 0 <= metrics["top1"] <= metrics["top5"] <= 1 and metrics["top5_k"] == 5
    assert list(metrics["per_class"]) == [str(d) for d in range(10)]
    assert sum(metrics["support"].values()) == metrics["eval_images"] == 64
    assert len(metrics["epoch_seconds"]) == 2 and metrics["images_per_second"] > 0
    rows = list(csv.DictReader((tmp_path / "history.csv").open()))
    assert [int(r["epoch"]) for r in rows] == [1, 2]
    assert {"train_loss", "test_top1", "test_top5", "lr", "images_per_s"} <= set(rows[0])
    config = json.loads((tmp_path / "config.json").read_text())
    assert config["train"]["lr"] == 0.02 and config["train"]["img_size"] == 32
    assert config["data"]["normalization"]["mean"] == [0.3054]
    assert (tmp_path / "curves.png").read_bytes()[:4] == b"\x89PNG"


def test_the_same_seed_gives_the_same_metrics_and_another_seed_does_not(digits) -> None:
    runs = [
        train(TrainConfig(**TINY, drop_rate=0.2, seed=s), **_quiet(data=digits)) for s in (3, 3, 4)
    ]
    assert _history(runs[0]) == _history(runs[1])
    assert runs[0].metrics["confusion"] == runs[1].metrics["confusion"]
    assert _history(runs[0]) != _history(runs[2])


def test_an_interrupted_run_resumes_to_the_same_result(tmp_path: Path, digits) -> None:
    config = TrainConfig(**{**TINY, "epochs": 3})
    straight = train(config, tmp_path / "straight", **_quiet(data=digits))

    def crash(row: dict) -> None:
        if row["epoch"] == 2:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        train(config, tmp_path / "resumed", **_quiet(data=digits, on_epoch=crash))
    assert not (tmp_path / "resumed" / "metrics.json").exists()
    resumed = train(config, tmp_path / "resumed", **_quiet(data=digits, resume=True))
    assert _history(resumed) == _history(straight)
    for a, b in zip(
        straight.model.state_dict().values(), resumed.model.state_dict().values(), strict=True
    ):
        assert torch.equal(a, b)


def test_resume_refuses_another_model_class_count_or_settings(
    tmp_path: Path, digits, image_folder
) -> None:
    train(TrainConfig(**{**TINY, "epochs": 1}), tmp_path, **_quiet(data=digits))
    other_model = TrainConfig(**{**TINY, "epochs": 1, "model": "mobilenet_v1_050"})
    with pytest.raises(
        ValueError,
        match=r"^checkpoint: expected a checkpoint of "
        r"'mobilenet_v1_050'.*got 'mobilenet_v1_025'",
    ):
        train(other_model, tmp_path, **_quiet(data=digits, resume=True))
    root = image_folder({"a": 3, "b": 3}, val={"a": 1, "b": 1})
    folder = TrainConfig(**{**TINY, "epochs": 1, "batch_size": 2, "dataset": f"folder:{root}"})
    with pytest.raises(
        ValueError, match=r"^checkpoint: expected a checkpoint for 2 classes.*got 10"
    ):
        train(folder, tmp_path, **_quiet(resume=True))
    with pytest.raises(ValueError, match=r"^resume: .*same training settings.*'lr'"):
        train(
            TrainConfig(**{**TINY, "epochs": 1, "lr": 0.05}),
            tmp_path,
            **_quiet(data=digits, resume=True),
        )


def test_checkpoints_load_back_and_are_checked(tmp_path: Path, digits) -> None:
    result = train(TrainConfig(**{**TINY, "epochs": 1}), tmp_path, **_quiet(data=digits))
    model, meta = load_classifier(tmp_path / "checkpoint.pt")
    assert not model.training and meta["classes"] == [str(d) for d in range(10)]
    assert meta["img_size"] == 32 and meta["in_chans"] == 1
    x = torch.randn(4, 1, 32, 32)
    with torch.inference_mode():
        assert torch.equal(model(x), result.model.eval()(x))
    from lightnets import create_model

    wrong = create_model("mobilenet_v1_025", num_classes=5, in_chans=1)
    with pytest.raises(ValueError, match="checkpoint for 5 classes"):
        load_weights(wrong, tmp_path / "checkpoint.pt", "mobilenet_v1_025")
    with pytest.raises(ValueError, match="checkpoint of 'shufflenet_v2_x0_5'"):
        load_weights(wrong, tmp_path / "checkpoint.pt", "shufflenet_v2_x0_5")
    torch.save({"weights": {}}, tmp_path / "foreign.pt")
    with pytest.raises(ValueError, match="lightnets image-classification checkpoint"):
        load_classifier(tmp_path / "foreign.pt")


def test_folder_data_trains_end_to_end(image_folder, tmp_path: Path) -> None:
    root = image_folder({"a": 6, "b": 6}, val={"a": 2, "b": 2})
    config = TrainConfig(
        model="shufflenet_v2_x0_5", dataset=f"folder:{root}", epochs=1, batch_size=4, img_size=32
    )
    result = train(config, tmp_path / "run", **_quiet())
    assert result.metrics["split"] == "val" and result.metrics["eval_images"] == 4
    assert result.metrics["top5_k"] == 2 and result.metrics["top5"] == 1.0
    assert "val_top1" in result.history[0]


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"model": "nope"}, r"^name: expected a registered model name"),
        ({"model": "hybridsn"}, r"^model: expected an image classifier"),
        ({"dataset": "imagenet"}, r"^dataset: expected one of digits"),
        ({"optimizer": "adam"}, r"^optimizer: expected one of 'sgd', 'adamw'"),
        ({"schedule": "linear"}, r"^schedule: expected one of 'cosine', 'step'"),
        ({"img_size": 16}, r"^img_size: expected an integer >= 32, got 16"),
        ({"lr": -1.0}, r"^lr: expected a number > 0"),
        ({"weight_decay": -0.1}, r"^weight_decay: expected a finite number >= 0"),
        ({"label_smoothing": 1.0}, r"^label_smoothing: expected a number in \[0, 1\)"),
        ({"epochs": 0}, r"^epochs: expected an integer >= 1"),
    ],
)
def test_bad_settings_are_named(kwargs: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        TrainConfig(**{"model": "mobilenet_v1_025", **kwargs})


def test_defaults_follow_the_optimizer() -> None:
    sgd, adamw = TrainConfig(model="resnet18"), TrainConfig(model="resnet18", optimizer="adamw")
    assert (sgd.lr, sgd.weight_decay) == (0.1, 5e-4)
    assert (adamw.lr, adamw.weight_decay) == (1e-3, 0.05)


def test_mixed_precision_is_refused_on_the_cpu(digits) -> None:
    with pytest.raises(ValueError, match=r"^precision: expected fp32, bf16 or auto on cpu"):
        train(TrainConfig(**TINY), **_quiet(data=digits, device="cpu", precision="fp16"))


def test_bf16_training_follows_fp32_and_records_its_precision(tmp_path: Path, digits) -> None:
    full = train(TrainConfig(**TINY), tmp_path / "fp32", **_quiet(data=digits))
    mixed = train(TrainConfig(**TINY), tmp_path / "bf16", **_quiet(data=digits, precision="bf16"))
    loss32 = [row["train_loss"] for row in full.history]
    loss16 = [row["train_loss"] for row in mixed.history]
    assert loss16 != loss32 and loss16 == pytest.approx(loss32, rel=0.05)
    assert json.loads((tmp_path / "bf16" / "config.json").read_text())["run"]["precision"] == (
        "bf16"
    )
    assert json.loads((tmp_path / "fp32" / "metrics.json").read_text())["precision"] == "fp32"


def test_learning_rate_schedules() -> None:
    cosine = lr_factor("cosine", epochs=4, steps_per_epoch=10, warmup_epochs=1)
    assert [cosine(t) for t in (0, 4, 9)] == pytest.approx([0.1, 0.5, 1.0])
    assert cosine(25) == pytest.approx(0.5) and cosine(39) > 0 and cosine(40) == 0
    step = lr_factor("step", epochs=8, steps_per_epoch=5)
    assert [step(t) for t in (0, 19, 20, 29, 30)] == pytest.approx([1, 1, 0.1, 0.1, 0.01])


def test_preloaded_data_must_be_the_config_s(digits, image_folder) -> None:
    root = image_folder({"a": 2, "b": 2})
    with pytest.raises(ValueError, match=r"^data: expected the data set 'folder:.*got 'digits'"):
        train(TrainConfig(**{**TINY, "dataset": f"folder:{root}"}), **_quiet(data=digits))


def test_a_diverging_run_stops_with_a_clear_error(digits) -> None:
    with pytest.raises(
        ValueError,
        match=r"^lr: expected a smaller value \(the training loss "
        r"diverged in epoch 1\)",
    ):
        train(TrainConfig(**{**TINY, "lr": 1e30, "warmup_epochs": 0}), **_quiet(data=digits))


def test_cifar_files_train_end_to_end_offline(fake_cifar, tmp_path: Path) -> None:
    root = fake_cifar("cifar10")  # present and verified: the download step does nothing
    config = TrainConfig(model="mobilenet_v1_025", dataset="cifar10", epochs=1, batch_size=4)
    result = train(config, tmp_path / "run", **_quiet(data_dir=root))
    assert result.metrics["eval_images"] == 5 and result.metrics["split"] == "test"
    assert list(result.metrics["per_class"])[:2] == ["class0", "class1"]
    saved = json.loads((tmp_path / "run" / "config.json").read_text())
    assert saved["data"]["normalization"]["mean"] == [0.4914, 0.4822, 0.4465]
    assert "RandomHorizontalFlip" in saved["transforms"]["train"]
