"""Latency measurement: what was asked for is what was run (no speed is asserted)."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from lightnets.profiling import measure_interleaved, measure_latency


class Recorder(nn.Module):
    """A tiny model that records its calls and the state it was called in."""

    def __init__(self) -> None:
        super().__init__()
        self.conv = nn.Conv2d(3, 4, 3)
        self.calls: list[tuple[bool, bool, bool, int]] = []

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        channels_last = x.is_contiguous(memory_format=torch.channels_last)
        state = (self.training, torch.is_inference_mode_enabled(), channels_last,
                 torch.get_num_threads())
        self.calls.append(state)
        return self.conv(x)


def test_repeats_warmup_and_statistics() -> None:
    model = Recorder().train()
    result = measure_latency(model, torch.randn(2, 3, 8, 8), warmup=3, repeats=7, threads=1)
    assert result.repeats == 7 and len(result.times_ms) == 7
    assert len(model.calls) == 3 + 7
    assert all(t > 0 for t in result.times_ms)
    assert result.min_ms <= result.median_ms <= result.p90_ms <= max(result.times_ms)
    assert result.batch_size == 2 and result.per_sample_ms == pytest.approx(result.median_ms / 2)
    assert (result.threads, result.warmup, result.channels_last) == (1, 3, False)
    # Eval mode and inference mode while timing, one thread; the training flag comes back.
    assert {c[:2] for c in model.calls} == {(False, True)}
    assert {c[3] for c in model.calls} == {1}
    assert model.training


def test_threads_and_layout_are_restored() -> None:
    before = torch.get_num_threads()
    model = Recorder()
    result = measure_latency(model, torch.randn(1, 3, 8, 8), warmup=0, repeats=2, threads=1,
                             channels_last=True)
    assert result.channels_last and all(c[2] for c in model.calls)
    assert torch.get_num_threads() == before
    assert model.conv.weight.is_contiguous()


def test_interleaved_rounds_visit_every_candidate_in_rotation() -> None:
    order: list[str] = []

    class Named(nn.Module):
        def __init__(self, name: str) -> None:
            super().__init__()
            self.name = name

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            order.append(self.name)
            return x + 1

    x = torch.zeros(1)
    results = measure_interleaved(
        {n: (Named(n), x) for n in "abc"}, warmup=0, repeats=4
    )
    assert set(results) == {"a", "b", "c"}
    assert all(r.repeats == 4 for r in results.values())
    assert order == list("abc" "bca" "cab" "abc")


@pytest.mark.parametrize(("key", "value"), [("repeats", 0), ("warmup", -1), ("threads", 0)])
def test_bad_settings_name_the_argument(key: str, value: int) -> None:
    with pytest.raises(ValueError, match=f"^{key}: expected"):
        measure_latency(nn.Identity(), torch.zeros(1), **{key: value})
