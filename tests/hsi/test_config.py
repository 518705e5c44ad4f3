"""One definition of every setting: ``ExperimentConfig``'s fields make the ``hsi train``
options and ``config.json``, and HSIClassifier takes the estimator's share of them; the CLI
options for your own files, masks and downloads work end to end."""

from __future__ import annotations

import argparse
import dataclasses
import inspect
import json
import re
from pathlib import Path

import numpy as np
import pytest
import torch

from lightnets.cli import build_parser, main
from lightnets.hsi import HSIClassifier
from lightnets.hsi.config import ESTIMATOR_SETTINGS, ExperimentConfig
from lightnets.hsi.scenes import Scene
from lightnets.settings import add_arguments, cli_fields, flag, from_arguments, setting

QUICK = ["--pca", "13", "--window", "9", "--epochs", "1", "--batch-size", "32", "--quiet"]


@pytest.fixture
def scene(synthetic_scene_factory) -> Scene:
    s = synthetic_scene_factory(height=28, width=26, bands=20, num_classes=3, seed=1)
    return Scene("synthetic", s.cube, s.gt, s.class_names, (0, 5, 10), {"source": "test"})


def _subparser(*names: str) -> argparse.ArgumentParser:
    action = next(a for a in build_parser()._actions if isinstance(a, argparse._SubParsersAction))
    parser = action.choices[names[0]]
    for name in names[1:]:
        sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
        parser = sub.choices[name]
    return parser


def test_hsi_train_has_one_option_per_setting_and_nothing_else() -> None:
    parser = _subparser("hsi", "train")
    dests = {a.dest for a in parser._actions} - {"help", "func"}
    settings = {f.name for f in cli_fields(ExperimentConfig)}
    assert dests == settings | {"out", "resume", "quiet"}
    for f in cli_fields(ExperimentConfig):
        action = next(a for a in parser._actions if a.dest == f.name)
        switch_pair = f.default is None and isinstance(action, argparse.BooleanOptionalAction)
        spelled = [flag(f.name, f.default)]
        assert action.option_strings == (
            [*spelled, spelled[0].replace("--", "--no-", 1)] if switch_pair else spelled
        )
        assert action.default == f.default and action.help.startswith(f.metadata["help"])
    assert {f.name for f in dataclasses.fields(ExperimentConfig)} - settings == {"model_kwargs"}


def test_parsed_defaults_are_the_configs_defaults() -> None:
    args = build_parser().parse_args(["hsi", "train"])
    assert dataclasses.asdict(from_arguments(ExperimentConfig, args)) == dataclasses.asdict(
        ExperimentConfig()
    )
    args = build_parser().parse_args(["hsi", "train", "--pca", "0", "--no-whiten", "--window",
                                      "11", "--class-weights", "--download"])
    config = from_arguments(ExperimentConfig, args)
    assert (config.pca, config.whiten, config.window) == (0, False, 11)
    assert config.class_weights and config.download
    args = build_parser().parse_args(["hsi", "train", "--model", "hu1d", "--recipe", "paper",
                                      "--lr", "0.05"])
    config = from_arguments(ExperimentConfig, args)
    assert (config.optimizer, config.lr, config.batch_size, config.scaling) == (
        "sgd", 0.05, 100, "minmax"
    )  # the paper recipe's settings, with the one given in its place


def test_the_estimator_takes_the_estimator_settings_with_the_same_defaults() -> None:
    params = inspect.signature(HSIClassifier.__init__).parameters
    names = set(params) - {"self", "random_state", "verbose"}
    assert names == set(ESTIMATOR_SETTINGS)
    defaults = {f.name: f.default for f in dataclasses.fields(ExperimentConfig)}
    for name in ESTIMATOR_SETTINGS:
        assert params[name].default == defaults[name], name
    assert params["random_state"].default == defaults["seed"]
    config = ExperimentConfig(model="ssftt", epochs=7, seed=4)
    clf = HSIClassifier(**config.estimator_params(config.seed))
    assert clf.get_params()["epochs"] == 7 and clf.random_state == 4 and clf.window == 13


def test_a_new_setting_reaches_the_command_line_and_the_record() -> None:
    @dataclasses.dataclass
    class Grown:
        alpha: float = setting(0.5, "a new number")
        name: str | None = setting(None, "a new name")
        fast: bool = setting(False, "a new switch")

    parser = argparse.ArgumentParser()
    add_arguments(parser, Grown)
    got = from_arguments(Grown, parser.parse_args(["--alpha", "2", "--name", "x", "--fast"]))
    assert dataclasses.asdict(got) == {"alpha": 2.0, "name": "x", "fast": True}
    assert "a new number (default: 0.5)" in parser.format_help()


def _train(args: list[str], capsys) -> tuple[int, str, str]:
    code = main(["hsi", "train", *args])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_cli_variable_gt_variable_and_class_names(scene: Scene, tmp_path: Path, capsys) -> None:
    from scipy.io import savemat

    cube_file, gt_file = tmp_path / "cubes.mat", tmp_path / "gts.mat"
    savemat(cube_file, {"raw": scene.cube + 1, "corrected": scene.cube})
    savemat(gt_file, {"train": scene.gt, "test": scene.gt})
    own = ["--scene", str(cube_file), "--gt", str(gt_file), *QUICK]
    code, _, err = _train([*own, "--out", str(tmp_path / "a")], capsys)
    assert code == 2 and err.startswith("lightnets: error: --variable: expected the name of")
    code, _, err = _train([*own, "--variable", "corrected", "--out", str(tmp_path / "a")], capsys)
    assert code == 2 and err.startswith("lightnets: error: --gt-variable: expected the name")
    names = tmp_path / "names.txt"
    names.write_text("corn\n\nsoy\nwood\n")
    for given, out in ((str(names), "b"), ("corn, soy,wood", "c")):
        code, printed, _ = _train(
            [*own, "--variable", "corrected", "--gt-variable", "train", "--class-names", given,
             "--out", str(tmp_path / out)],
            capsys,
        )
        assert code == 0 and "OA" in printed
        record = json.loads((tmp_path / out / "config.json").read_text())
        assert record["scene"]["classes"] == ["corn", "soy", "wood"]
        assert record["experiment"]["variable"] == "corrected"
        assert "| 2 | soy |" in (tmp_path / out / "report.md").read_text()
    code, _, err = _train([*own, "--variable", "corrected", "--gt-variable", "train",
                           "--class-names", "corn,soy", "--out", str(tmp_path / "d")], capsys)
    assert code == 2 and "labels in 0..2" in err and len(err.strip().splitlines()) == 1


def test_cli_train_and_test_masks(scene: Scene, tmp_path: Path, capsys) -> None:
    np.save(tmp_path / "cube.npy", scene.cube)
    np.save(tmp_path / "gt.npy", scene.gt)
    rows = np.arange(scene.gt.shape[0])[:, None] < 14
    train = (scene.gt > 0) & rows
    test = (scene.gt > 0) & ~rows
    np.save(tmp_path / "train.npy", train)
    np.save(tmp_path / "test.npy", test.astype(np.uint8))  # 0/1 integers are masks too
    own = ["--scene", str(tmp_path / "cube.npy"), "--gt", str(tmp_path / "gt.npy"), *QUICK]
    masks = ["--split", "masks", "--train-mask", str(tmp_path / "train.npy"),
             "--test-mask", str(tmp_path / "test.npy")]
    code, _, _ = _train([*own, *masks, "--out", str(tmp_path / "run")], capsys)
    assert code == 0
    metrics = json.loads((tmp_path / "run" / "metrics.json").read_text())
    assert metrics["train_pixels"] == int(train.sum()) and metrics["test_pixels"] == int(test.sum())
    record = json.loads((tmp_path / "run" / "config.json").read_text())
    assert record["split"]["protocol"] == "user"
    code, _, err = _train([*own, "--train-mask", str(tmp_path / "train.npy"), "--out",
                           str(tmp_path / "x")], capsys)
    assert code == 2 and "split: expected 'masks' when train_mask is given" in err
    np.save(tmp_path / "half.npy", train[:, :-1])
    bad = [*own, "--split", "masks", "--train-mask", str(tmp_path / "half.npy"),
           "--test-mask", str(tmp_path / "test.npy"), "--out", str(tmp_path / "y")]
    code, _, err = _train(bad, capsys)
    assert code == 2 and "train_mask: expected the ground truth's shape (28, 26)" in err
    np.save(tmp_path / "labels.npy", scene.gt)
    bad[bad.index(str(tmp_path / "half.npy"))] = str(tmp_path / "labels.npy")
    code, _, err = _train(bad, capsys)
    assert code == 2 and "train_mask: expected booleans or 0/1 values" in err


def test_cli_messages_name_cli_options_and_a_failed_download_is_one_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys
) -> None:
    import pooch

    from lightnets.hsi import scenes

    monkeypatch.delenv(scenes.DATA_ENV, raising=False)
    monkeypatch.setattr(scenes, "user_cache_dir", lambda: tmp_path / "cache")

    def offline(**kwargs):
        import requests

        raise requests.ConnectionError("Failed to resolve 'www.ehu.eus'")

    monkeypatch.setattr(pooch, "retrieve", offline)
    base = ["--scene", "pavia_university", "--data-dir", str(tmp_path), *QUICK]
    code, _, err = _train(base, capsys)
    assert code == 2 and "--data-dir <folder>" in err and "--download" in err
    assert "data_dir=" not in err and "download=True" not in err
    code, _, err = _train([*base, "--download"], capsys)
    lines = err.strip().splitlines()
    assert code == 2 and len(lines) == 1 and "Traceback" not in err
    assert "https://www.ehu.eus/ccwintco/uploads/e/ee/PaviaU.mat" in err
    assert str(tmp_path / "cache") in err and "by hand" in err and "ConnectionError" in err
    with pytest.raises(ConnectionError, match=r"data_dir=<folder>"):  # Python's spelling
        scenes.load_scene("pavia_university", download=True)


@pytest.mark.skipif(__import__("torch").cuda.is_available(), reason="a machine without CUDA")
def test_cli_device_that_is_not_here_is_one_line(capsys) -> None:
    if torch.cuda.is_available():  # a GPU index past the last one
        count = torch.cuda.device_count()
        device = f"cuda:{count}"
        expected = f"cpu or one of {', '.join(f'cuda:{i}' for i in range(count))}"
    else:
        device, expected = "cuda", "cpu (CUDA is not available here)"
    code, _, err = _train(["--device", device, *QUICK], capsys)
    assert code == 2 and err.strip() == (
        f"lightnets: error: device: expected {expected}, got '{device}'"
    )
    with pytest.raises(ValueError, match=rf"^device: expected {re.escape(expected)}, got"):
        gt = np.ones((4, 4), int) + np.eye(4, dtype=int)
        HSIClassifier(device=device).fit(np.ones((4, 4, 3)), gt)


@pytest.mark.skipif(torch.cuda.is_available(), reason="fp16 is refused on a CPU only")
def test_cli_fp16_on_a_cpu_is_one_line(capsys) -> None:
    code, _, err = _train(["--precision", "fp16", *QUICK], capsys)
    assert code == 2 and err.strip() == (
        "lightnets: error: precision: expected fp32, bf16 or auto on cpu (fp16 autocast is for "
        "CUDA), got 'fp16'"
    )
    with pytest.raises(SystemExit) as exit_:
        _train(["--precision", "half", *QUICK], capsys)
    assert exit_.value.code == 2
    assert "--precision: invalid choice: 'half'" in capsys.readouterr().err


def test_auto_precision_is_recorded_as_the_one_chosen(monkeypatch) -> None:
    from lightnets import precision

    monkeypatch.setattr(precision, "cpu_flags", lambda: frozenset({"avx512_bf16"}))
    assert ExperimentConfig(precision="auto", device="cpu").precision == "bf16"
    monkeypatch.setattr(precision, "cpu_flags", lambda: frozenset({"avx2"}))
    assert ExperimentConfig(precision="auto", device="cpu").precision == "fp32"
