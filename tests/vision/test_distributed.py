"""Data parallelism: two CPU processes under torchrun against one process, same global batch."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from lightnets.vision import TrainConfig, train
from lightnets.vision import distributed as dist_utils

# The entry point torchrun runs (`-m lightnets train ...` once the CLI registers the command).
ENTRY = ["-m", "lightnets"]
SETTINGS = dict(
    model="mobilenet_v1_025",
    epochs=2,
    batch_size=64,
    optimizer="adamw",
    lr=3e-3,
    warmup_epochs=0,
    subset=512,
    seed=0,
)
# BatchNorm normalises each process's half batch with its own statistics (gloo has no
# SyncBatchNorm on the CPU), so the runs agree closely but not bitwise. Measured: ≤ 3.3 %.
LOSS_RTOL = 0.05


def _argv(settings: dict, out: Path) -> list[str]:
    args = ["train", "--out", str(out), "--quiet", "--threads", "1", "--device", "cpu"]
    for key, value in settings.items():
        args += [f"--{key.replace('_', '-')}", str(value)]
    return args


@pytest.mark.slow
def test_two_cpu_processes_match_one_with_the_same_global_batch(tmp_path: Path) -> None:
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    command = [
        sys.executable,
        "-m",
        "torch.distributed.run",
        "--standalone",
        "--nproc_per_node",
        "2",
        *ENTRY,
        *_argv(SETTINGS, tmp_path / "ddp"),
    ]
    done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=240)
    assert done.returncode == 0, done.stderr[-3000:]
    assert done.stdout.count("test top-1") == 1  # only rank 0 reports (and writes)
    assert "2 process(es) on cpu, global batch 64" in done.stdout

    single = train(
        TrainConfig(**SETTINGS), tmp_path / "one", device="cpu", progress=False, log=lambda _m: None
    )
    ddp = json.loads((tmp_path / "ddp" / "metrics.json").read_text())
    assert ddp["world_size"] == 2 and single.metrics["world_size"] == 1
    assert ddp["eval_images"] == single.metrics["eval_images"] == 360
    ddp_rows = [
        line.split(",") for line in (tmp_path / "ddp" / "history.csv").read_text().splitlines()
    ]
    header, rows = ddp_rows[0], [dict(zip(ddp_rows[0], r, strict=True)) for r in ddp_rows[1:]]
    assert "train_loss" in header and len(rows) == 2
    for mine, theirs in zip(single.history, rows, strict=True):
        assert float(theirs["lr"]) == pytest.approx(mine["lr"], rel=1e-12)
        for key in ("train_loss", "test_loss"):
            assert float(theirs[key]) == pytest.approx(mine[key], rel=LOSS_RTOL), key
    assert ddp["loss"] == pytest.approx(single.metrics["loss"], rel=LOSS_RTOL)
    config = json.loads((tmp_path / "ddp" / "config.json").read_text())
    assert config["run"]["world_size"] == 2 and config["run"]["per_process_batch"] == 32


def test_one_process_session_initialises_nothing(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("WORLD_SIZE", raising=False)
    with dist_utils.session("cpu") as ctx:
        assert (ctx.rank, ctx.world_size, ctx.is_main, ctx.distributed) == (0, 1, True, False)
        assert not torch.distributed.is_initialized()
        assert dist_utils.sum_across([1.0, 2.0], ctx) == [1.0, 2.0]
        assert dist_utils.gather("x", ctx) == ["x"] and dist_utils.broadcast(3, ctx) == 3


def test_bad_launcher_variables_and_devices_are_named(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WORLD_SIZE", "two")
    with (
        pytest.raises(ValueError, match=r"^WORLD_SIZE: expected a non-negative integer"),
        dist_utils.session("cpu"),
    ):
        pass
    with pytest.raises(ValueError, match=r"^device: expected cpu, cuda or cuda:N"):
        dist_utils.resolve_device("tpu")
    if not torch.cuda.is_available():
        with pytest.raises(ValueError, match=r"^device: expected cpu \(CUDA is not available"):
            dist_utils.resolve_device("cuda")
