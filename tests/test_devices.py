"""One device rule for every command: CPU or CUDA, and one error for a device not here."""

from __future__ import annotations

import pytest
import torch

from lightnets.devices import resolve_device


def test_default_and_named_devices() -> None:
    expected = "cuda" if torch.cuda.is_available() else "cpu"
    assert resolve_device(None).type == expected
    assert resolve_device("cpu") == torch.device("cpu")
    assert resolve_device(torch.device("cpu")) == torch.device("cpu")


def test_a_device_that_is_not_here_is_one_error() -> None:
    with pytest.raises(ValueError, match=r"^device: expected cpu, cuda or cuda:N, got 'tpu'"):
        resolve_device("tpu")
    with pytest.raises(ValueError, match=r"^device: expected cpu, cuda or cuda:N, got 'meta'"):
        resolve_device("meta")
    if not torch.cuda.is_available():
        with pytest.raises(ValueError, match=r"^device: expected cpu \(CUDA is not available"):
            resolve_device("cuda:1")


@pytest.mark.cuda
def test_cuda_index_follows_the_local_rank_and_is_checked() -> None:
    assert resolve_device("cuda", local_rank=0) == torch.device("cuda", 0)
    with pytest.raises(ValueError, match=r"^device: expected cpu or one of cuda:0"):
        resolve_device(f"cuda:{torch.cuda.device_count()}")
