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
