"""The ``train`` and ``experiment`` subcommands, through a parser built with ``register``."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import pytest

from lightnets.cli import main
from lightnets.vision.commands import register


def test_register_adds_train_and_experiment() -> None:
    parser = argparse.ArgumentParser()
    register(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(
        [
            "train",
            "--model",
            "resnet18",
            "--dataset",
            "folder:/x",
            "--optimizer",
            "adamw",
            "--schedule",
            "step",
            "--resume",
        ]
    )
    assert args.func.__name__ == "_cmd_train" and args.dataset == "folder:/x" and args.resume
    args = parser.parse_args(["experiment", "attention", "--attention", "none,cbam"])
    assert args.attention == ["none", "cbam"] and args.model == "resnet18" and args.runs == 3
    args = parser.parse_args(["experiment", "dropout"])
    assert args.func.__name__ == "_cmd_dropout"
    with pytest.raises(SystemExit):
        parser.parse_args(["train", "--model", "resnet18", "--optimizer", "adam"])


def test_train_command_runs_and_writes(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    code = main(
        [
            "train",
            "--model",
            "mobilenet_v1_025",
            "--epochs",
            "1",
            "--batch-size",
            "16",
            "--subset",
            "32",
            "--out",
            str(tmp_path),
            "--quiet",
            "--label-smoothing",
            "0.1",
            "--schedule",
            "step",
        ]
    )
    assert code == 0
    assert "test top-1" in capsys.readouterr().out
    config = json.loads((tmp_path / "config.json").read_text())
    assert config["train"]["label_smoothing"] == 0.1 and config["train"]["schedule"] == "step"


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["train", "--model", "resnet18", "--dataset", "imagenet"], "dataset: expected one of"),
        (
            ["train", "--model", "resnet18", "--dataset", "folder:/does/not/exist"],
            "existing folder",
        ),
        (["experiment", "attention", "--model", "mobilenet_v2_050"], "attention: expected"),
    ],
)
def test_bad_input_is_one_error_line(
    argv: list[str], message: str, tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    assert main([*argv, "--out", str(tmp_path / "o")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("lightnets: error: ") and message in err and err.count("\n") == 1
