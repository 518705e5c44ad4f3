"""Every file lightnets reads is loaded with ``weights_only=True``: a crafted pickle that
would run a shell command is refused with one clear error at each entry point, and nothing
runs."""

from __future__ import annotations

import os
import pickle
from pathlib import Path

import pytest

import lightnets
from lightnets import cli
from lightnets.hsi import HSIClassifier

pytestmark = pytest.mark.filterwarnings("ignore:Detected pickle protocol")


class _Evil:
    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):
        return (os.system, (f"touch {self.marker}",))


@pytest.fixture
def crafted(tmp_path: Path) -> tuple[Path, Path]:
    """(a crafted model.pt, the file its pickle would create)."""
    marker = tmp_path / "ran"
    path = tmp_path / "model.pt"
    state = {"format": "lightnets-hsi-classifier", "format_version": 1, "x": _Evil(marker)}
    path.write_bytes(pickle.dumps(state))
    return path, marker


def test_hsi_predict_refuses_a_crafted_checkpoint(crafted, tmp_path: Path, capsys) -> None:
    path, marker = crafted
    with pytest.raises(ValueError, match=r"^checkpoint: expected a file saved by torch.save"):
        HSIClassifier.load(path, argument="checkpoint")
    code = cli.main(
        [
            "hsi",
            "predict",
            "--checkpoint",
            str(path),
            "--cube",
            str(path),
            "--out",
            str(tmp_path / "map.npy"),
        ]
    )
    err = capsys.readouterr().err.strip()
    assert code == 2 and err.startswith("lightnets: error: checkpoint: expected a file saved by")
    assert len(err.splitlines()) == 1 and not marker.exists()


def test_export_refuses_a_crafted_checkpoint(crafted, capsys) -> None:
    path, marker = crafted
    code = cli.main(["export", str(path)])
    err = capsys.readouterr().err.strip()
    assert code == 2 and "could not be read safely" in err and len(err.splitlines()) == 1
    assert not marker.exists()


def test_the_image_predictor_refuses_a_crafted_checkpoint(crafted) -> None:
    path, marker = crafted
    with pytest.raises(ValueError, match=r"^checkpoint: expected a file saved by torch.save"):
        lightnets.predictor("resnet18", weights=path)
    assert not marker.exists()


def test_training_resume_and_start_weights_refuse_a_crafted_file(crafted, tmp_path: Path) -> None:
    from lightnets.vision import TrainConfig, train

    path, marker = crafted
    run = tmp_path / "run"
    run.mkdir()
    (run / "checkpoint.pt").write_bytes(path.read_bytes())
    config = TrainConfig(model="mobilenet_v1_025", dataset="digits", epochs=1, subset=8,
                         batch_size=4)
    with pytest.raises(ValueError, match=r"^checkpoint: expected a file saved by torch.save"):
        train(config, run, resume=True, progress=False, log=lambda _m: None)
    with pytest.raises(ValueError, match=r"could not be read safely"):
        train(TrainConfig(model="mobilenet_v1_025", dataset="digits", epochs=1, subset=8,
                          batch_size=4, weights=str(path)), progress=False, log=lambda _m: None)
    assert not marker.exists()


def test_hsi_train_resume_and_dropout_refuse_a_crafted_file(
    crafted, tmp_path: Path, capsys
) -> None:
    import numpy as np

    path, marker = crafted
    rng = np.random.default_rng(0)
    np.save(tmp_path / "cube.npy", rng.random((12, 12, 16)).astype(np.float32))
    np.save(tmp_path / "gt.npy", np.arange(144).reshape(12, 12) % 3 + 1)
    run = tmp_path / "run"
    run.mkdir()
    (run / "checkpoint.pt").write_bytes(path.read_bytes())
    code = cli.main(["hsi", "train", "--scene", str(tmp_path / "cube.npy"), "--gt",
                     str(tmp_path / "gt.npy"), "--pca", "14", "--window", "9", "--epochs", "1",
                     "--out", str(run), "--resume", "--quiet"])
    err = capsys.readouterr().err.strip()
    assert code == 2 and "checkpoint: expected a file saved by torch.save" in err
    assert len(err.splitlines()) == 1
    code = cli.main(["hsi", "dropout", "--checkpoint", str(path), "--cube",
                     str(tmp_path / "cube.npy")])
    err = capsys.readouterr().err.strip()
    assert code == 2 and "could not be read safely" in err and len(err.splitlines()) == 1
    assert not marker.exists()
