import json
import os
from datetime import datetime, timezone
from pathlib import Path

import numpy as np
import pytest
import torch

from lightnets.runs import atomic_write_bytes, environment_info, save_torch, write_csv, write_json


def test_write_json_converts_numpy_and_replaces_atomically(tmp_path: Path) -> None:
    path = write_json(tmp_path / "sub" / "m.json", {"oa": np.float32(0.5), "cm": np.eye(2)})
    assert json.loads(path.read_text()) == {"oa": 0.5, "cm": [[1.0, 0.0], [0.0, 1.0]]}
    assert [p.name for p in path.parent.iterdir()] == ["m.json"]  # no temporary left


def test_interrupted_write_keeps_the_old_file(tmp_path: Path, monkeypatch) -> None:
    path = tmp_path / "ckpt.pt"
    save_torch(path, {"epoch": 1})

    def broken_replace(src, dst):
        raise KeyboardInterrupt

    monkeypatch.setattr(os, "replace", broken_replace)
    with pytest.raises(KeyboardInterrupt):
        save_torch(path, {"epoch": 2})
    monkeypatch.undo()
    assert torch.load(path)["epoch"] == 1
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ckpt.pt"]


def test_write_csv_and_bytes(tmp_path: Path) -> None:
    path = write_csv(tmp_path / "h.csv", [{"epoch": 1, "loss": 0.5}, {"epoch": 2, "loss": 0.25}])
    assert path.read_text().splitlines() == ["epoch,loss", "1,0.5", "2,0.25"]
    assert atomic_write_bytes(tmp_path / "b", b"xy").read_bytes() == b"xy"


def test_environment_info_records_versions() -> None:
    info = environment_info()
    assert info["torch"] == torch.__version__
    assert info["cpu_count"] >= 1 and info["torch_threads"] >= 1
    assert info["lightnets"]
    stamp = datetime.strptime(info["utc"], "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=timezone.utc)
    assert abs((datetime.now(timezone.utc) - stamp).total_seconds()) < 60
