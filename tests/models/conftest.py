"""Shared checks for the hyperspectral patch models' tests."""

from collections.abc import Callable

import pytest
import torch
import torch.nn.functional as F
from torch import Tensor, nn

from lightnets.hsi import engine


def _training_paths_agree(
    model: nn.Module, padded: Tensor, pos: Tensor, labels: Tensor, tol: float
) -> None:
    """Scene and patch paths give the same logits and parameter gradients (relative ``tol``);
    every gradient is non-zero, so the comparison is not vacuous."""
    grads, logits = [], []
    for fn in (engine.scene_logits, engine.patch_logits):
        model.zero_grad()
        torch.manual_seed(7)  # the same dropout masks on both paths
        out = fn(model, padded, pos)
        F.cross_entropy(out, labels).backward()
        logits.append(out.detach())
        grads.append({n: p.grad.clone() for n, p in model.named_parameters()})
    assert (logits[0] - logits[1]).abs().max() < tol
    for name, b in grads[1].items():
        assert b.abs().max() > 0, name
        assert (grads[0][name] - b).abs().max() / b.abs().max() < tol, name


@pytest.fixture
def training_paths_agree() -> Callable[[nn.Module, Tensor, Tensor, Tensor, float], None]:
    """The scene-vs-patch training check (logits and gradients) as a callable."""
    return _training_paths_agree
