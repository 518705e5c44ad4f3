"""The epoch loop every trainer shares: history, timing, atomic checkpoints and exact resume.

A trainer supplies ``step(epoch) -> row`` (one epoch of its own training and evaluation) and
the objects whose state defines the run (model, optimizer, scheduler, generator, ...). After
every epoch the loop writes one checkpoint, atomically, holding those states, the history,
the accumulated training time and the training settings; ``resume=True`` restores them and
continues with the next epoch. A run interrupted after epoch *k* and resumed therefore ends
like an uninterrupted one, provided every random draw of an epoch comes from a saved state
or from a seed that depends on the epoch.

Checkpoint keys: ``epoch`` (last completed), one key per state object, ``history``,
``train_seconds``, ``train_config``, plus whatever ``extra()`` returns.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch

from ._checks import bad_value, check_int
from .runs import load_torch, save_torch

Row = dict[str, Any]


@dataclass
class LoopResult:
    """The full per-epoch history (resumed epochs included) and the summed epoch seconds."""

    history: list[Row] = field(default_factory=list)
    train_seconds: float = 0.0
    first_epoch: int = 1  # the first epoch this call ran (epochs + 1 when nothing was left)


def state_of(obj: Any) -> Any:
    """The saved state of a module/optimizer/scheduler/scaler or of a ``torch.Generator``."""
    if isinstance(obj, torch.Generator):
        return obj.get_state()
    return obj.state_dict()


def restore(obj: Any, state: Any) -> None:
    """Load ``state`` (from :func:`state_of`) back into ``obj``."""
    if isinstance(obj, torch.Generator):
        obj.set_state(state)
    else:
        obj.load_state_dict(state)


def read_checkpoint(path: str | os.PathLike) -> dict[str, Any] | None:
    """The checkpoint at ``path`` loaded on the CPU (``weights_only=True``: no code runs), or
    ``None`` when there is none."""
    if not Path(path).exists():
        return None
    return load_torch(path, "checkpoint")


def config_differences(saved: Any, current: Mapping[str, Any]) -> dict[str, Any]:
    """Setting → (saved, current) for every training setting that differs."""
    if not isinstance(saved, Mapping):
        return {"train_config": (saved, dict(current))}
    keys = list(dict.fromkeys([*saved, *current]))
    return {k: (saved.get(k), current.get(k)) for k in keys if saved.get(k) != current.get(k)}


def _progress(epochs: range, enabled: bool, done: int, total: int) -> Any:
    if not enabled:
        return epochs
    try:
        from tqdm.auto import tqdm
    except ImportError:  # pragma: no cover - tqdm ships with the hsi extra
        return epochs
    return tqdm(epochs, initial=done, total=total, desc="epochs", leave=False, unit="ep")


def run_epochs(
    epochs: int,
    step: Callable[[int], Mapping[str, Any]],
    *,
    states: Mapping[str, Any],
    config: Mapping[str, Any],
    checkpoint: str | os.PathLike | None = None,
    resume: bool = False,
    extra: Callable[[], Mapping[str, Any]] | None = None,
    on_resume: Callable[[dict[str, Any]], None] | None = None,
    load: Callable[[Path], dict[str, Any] | None] = read_checkpoint,
    write: bool = True,
    progress: bool = True,
    on_epoch: Callable[[Row], None] | None = None,
) -> LoopResult:
    """Run epochs ``1..epochs`` (or the rest of them when resuming); return the history.

    ``step(epoch)`` returns the epoch's row; its ``seconds`` entry, when present, is the time
    counted as training (e.g. without evaluation), otherwise the loop times the whole step.
    ``states`` maps checkpoint keys to the objects saved and restored. ``config`` is saved as
    ``train_config``; resuming from a checkpoint whose settings differ raises a ValueError
    naming them. ``on_resume(checkpoint)`` runs first, so a trainer can check what it must
    (model, classes) and restore its own keys. ``load`` reads a checkpoint (``None`` when
    absent; distributed trainers read on one process and broadcast). Only a process with
    ``write=True`` writes the checkpoint. ``on_epoch(row)`` runs once the epoch is saved.
    """
    check_int("epochs", epochs, minimum=1)
    result = LoopResult()
    path = None if checkpoint is None else Path(checkpoint)
    saved = load(path) if resume and path is not None else None
    if saved is not None:
        if on_resume is not None:
            on_resume(saved)
        changed = config_differences(saved.get("train_config"), config)
        if changed:
            raise bad_value(
                "resume", "a checkpoint written with the same training settings", changed
            )
        for key, obj in states.items():
            restore(obj, saved[key])
        result = LoopResult(
            list(saved["history"]), float(saved["train_seconds"]), int(saved["epoch"]) + 1
        )

    bar = _progress(
        range(result.first_epoch, epochs + 1), progress and write, result.first_epoch - 1, epochs
    )
    for epoch in bar:
        tic = time.perf_counter()
        row: Row = {"epoch": epoch, **step(epoch)}
        row.setdefault("seconds", time.perf_counter() - tic)
        result.train_seconds += float(row["seconds"])
        result.history.append(row)
        if hasattr(bar, "set_postfix"):
            bar.set_postfix(
                {k: round(v, 4) for k, v in row.items() if k != "epoch" and isinstance(v, float)}
            )
        if write and path is not None:
            save_torch(
                path,
                {
                    "epoch": epoch,
                    **{key: state_of(obj) for key, obj in states.items()},
                    "history": result.history,
                    "train_seconds": result.train_seconds,
                    "train_config": dict(config),
                    **(extra() if extra is not None else {}),
                },
            )
        if on_epoch is not None:
            on_epoch(row)
    return result
