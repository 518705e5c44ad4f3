"""Shared test configuration: every test starts from the same torch seed."""

import os
from collections.abc import Callable, Iterator

import pytest
import torch
from torch import nn


def _in_xdist_worker() -> bool:
    return bool(os.environ.get("PYTEST_XDIST_WORKER"))


def pytest_configure(config: pytest.Config) -> None:
    """A pytest-xdist worker takes one torch thread: the workers share the machine's cores."""
    if _in_xdist_worker():
        torch.set_num_threads(1)


@pytest.fixture
def heavy_threads() -> int:
    """Torch threads a heavy test may take: the two cores in one process, one per xdist worker."""
    return 1 if _in_xdist_worker() else 2


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Tests marked ``cuda`` are skipped where CUDA is not available."""
    if torch.cuda.is_available():
        return
    skip = pytest.mark.skip(reason="needs CUDA")
    for item in items:
        if "cuda" in item.keywords:
            item.add_marker(skip)


@pytest.fixture(autouse=True)
def _seed() -> None:
    torch.manual_seed(0)


def _randomize_bn(model: nn.Module, seed: int = 0) -> nn.Module:
    """Give every BatchNorm non-trivial statistics and affine terms (fresh ones are identities),
    so that comparisons through BN (weight loading, folding, export) can fail."""
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, nn.BatchNorm2d):
                n = m.num_features
                m.running_mean.copy_(torch.randn(n, generator=g) * 0.1)
                m.running_var.copy_(torch.rand(n, generator=g) * 0.5 + 0.75)
                m.weight.copy_(torch.rand(n, generator=g) * 0.5 + 0.75)
                m.bias.copy_(torch.randn(n, generator=g) * 0.1)
    return model


@pytest.fixture
def randomize_bn() -> Callable[..., nn.Module]:
    """:func:`_randomize_bn` (test modules cannot import from conftest, so they take this)."""
    return _randomize_bn


@pytest.fixture
def one_thread() -> Iterator[None]:
    """One intra-op thread for a test: small passes are slower with two on a shared 2-core box."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)
