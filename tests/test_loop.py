"""The shared epoch loop: checkpoint every epoch, exact resume, settings check."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from torch import nn

from lightnets.loop import read_checkpoint, run_epochs


class StopRunError(Exception):
    """Raised by a test to stop a run after an epoch, as a crash would."""


def _job(seed: int = 0):
    """A tiny regression whose epochs draw batches and dropout from one saved generator."""
    torch.manual_seed(seed)
    model = nn.Sequential(nn.Linear(4, 8), nn.Dropout(0.3), nn.Linear(8, 1))
    optimizer = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
    generator = torch.Generator().manual_seed(seed)
    data = torch.Generator().manual_seed(123)  # the same data whatever the seed
    x, y = torch.randn(64, 4, generator=data), torch.randn(64, 1, generator=data)

    def step(epoch: int) -> dict[str, float]:
        total = 0.0
        for idx in torch.randperm(64, generator=generator).split(16):
            torch.manual_seed(int(torch.randint(2**31, (1,), generator=generator)))
            loss = nn.functional.mse_loss(model(x[idx]), y[idx])
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            total += float(loss.detach())
        return {"loss": total / 4}

    states = {"model": model, "optimizer": optimizer, "generator": generator}
    return model, step, states


def test_a_resumed_run_ends_exactly_like_an_uninterrupted_one(tmp_path: Path) -> None:
    model, step, states = _job()
    full = run_epochs(4, step, states=states, config={"lr": 0.05}, progress=False)

    _, step2, states2 = _job()

    def stop(row: dict) -> None:
        if row["epoch"] == 2:
            raise StopRunError

    path = tmp_path / "checkpoint.pt"
    with pytest.raises(StopRunError):
        run_epochs(
            4,
            step2,
            states=states2,
            config={"lr": 0.05},
            checkpoint=path,
            progress=False,
            on_epoch=stop,
        )
    assert read_checkpoint(path)["epoch"] == 2

    model3, step3, states3 = _job(seed=1)  # different weights before the resume
    seen = {}
    resumed = run_epochs(
        4,
        step3,
        states=states3,
        config={"lr": 0.05},
        checkpoint=path,
        resume=True,
        on_resume=seen.update,
        progress=False,
    )
    assert seen["epoch"] == 2 and resumed.first_epoch == 3
    assert [r["loss"] for r in resumed.history] == [r["loss"] for r in full.history]
    for a, b in zip(model.state_dict().values(), model3.state_dict().values(), strict=True):
        assert torch.equal(a, b)
    assert read_checkpoint(path)["epoch"] == 4


def test_resume_refuses_other_settings_and_names_them(tmp_path: Path) -> None:
    _, step, states = _job()
    path = tmp_path / "c.pt"
    run_epochs(
        1, step, states=states, config={"lr": 0.05, "batch": 16}, checkpoint=path, progress=False
    )
    with pytest.raises(
        ValueError,
        match=r"^resume: expected a checkpoint written with the same "
        r"training settings, got \{'lr': \(0.05, 0.1\)\}",
    ):
        run_epochs(
            2,
            step,
            states=states,
            config={"lr": 0.1, "batch": 16},
            checkpoint=path,
            resume=True,
            progress=False,
        )


def test_without_a_checkpoint_resume_starts_fresh_and_write_false_writes_nothing(
    tmp_path: Path,
) -> None:
    _, step, states = _job()
    path = tmp_path / "none.pt"
    result = run_epochs(
        2, step, states=states, config={}, checkpoint=path, resume=True, write=False, progress=False
    )
    assert result.first_epoch == 1 and len(result.history) == 2 and not path.exists()
    assert result.train_seconds == pytest.approx(sum(r["seconds"] for r in result.history))
    assert list(tmp_path.iterdir()) == []
