"""The counting engine against hand formulas, and what it deliberately leaves out."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from lightnets.profiling import count_macs, count_parameters, meta_copy, profile
from lightnets.profiling.counting import count


def conv_macs(c_in: int, c_out: int, k: int, h_out: int, w_out: int, groups: int = 1) -> int:
    """Each output element is a dot product over (c_in / groups) × k × k inputs."""
    return c_out * h_out * w_out * (c_in // groups) * k * k


@pytest.mark.parametrize(
    ("c_in", "c_out", "k", "stride", "size", "groups"),
    [
        (3, 16, 3, 2, 33, 1),  # standard conv, odd size, stride 2
        (24, 24, 3, 1, 20, 24),  # depthwise
        (32, 32, 5, 2, 17, 32),  # depthwise, 5×5, stride 2
        (32, 64, 1, 1, 9, 4),  # grouped 1×1 (ShuffleNet)
        (48, 24, 3, 1, 12, 8),  # grouped 3×3, fewer outputs than inputs
    ],
)
def test_conv_macs_follow_the_hand_formula(
    c_in: int, c_out: int, k: int, stride: int, size: int, groups: int
) -> None:
    conv = nn.Conv2d(c_in, c_out, k, stride=stride, padding=k // 2, groups=groups, bias=True)
    out = (size + 2 * (k // 2) - k) // stride + 1
    expected = conv_macs(c_in, c_out, k, out, out, groups)
    assert count_macs(conv, (c_in, size, size)) == expected
    # The bias adds one addition per output element: not a MAC, tallied apart.
    result = profile(conv, (c_in, size, size))
    assert result.elementwise["bias"] == c_out * out * out
    assert result.params == c_out * (c_in // groups) * k * k + c_out


def test_rectangular_and_dilated_conv() -> None:
    conv = nn.Conv2d(8, 12, (3, 5), stride=(1, 2), padding=(2, 4), dilation=2, bias=False)
    h_out = (10 + 4 - 2 * 2 - 1) // 1 + 1
    w_out = (14 + 8 - 2 * 4 - 1) // 2 + 1
    assert count_macs(conv, (8, 10, 14)) == 12 * h_out * w_out * 8 * 3 * 5


def test_linear_and_conv3d_macs() -> None:
    assert count_macs(nn.Linear(100, 37), (100,)) == 100 * 37
    assert count_macs(nn.Linear(64, 10), (5, 64)) == 5 * 64 * 10  # a sequence of 5 vectors
    conv3d = nn.Conv3d(1, 8, (7, 3, 3))
    assert count_macs(conv3d, (1, 30, 25, 25)) == 8 * 24 * 23 * 23 * 7 * 3 * 3


def test_macs_are_per_sample_whatever_the_batch() -> None:
    conv = nn.Conv2d(16, 32, 3, padding=1)
    one = count_macs(conv, (16, 28, 28))
    assert count_macs(conv, (16, 28, 28), batch_size=7) == one
    assert profile(conv, (16, 28, 28), batch_size=7).batch_macs == 7 * one


def test_norm_activation_pooling_and_additions_are_not_macs() -> None:
    block = nn.Sequential(
        nn.BatchNorm2d(8), nn.ReLU(), nn.Hardswish(), nn.MaxPool2d(2), nn.AdaptiveAvgPool2d(1)
    )
    result = profile(block, (8, 16, 16))
    assert result.macs == 0 and result.flops == 0
    # ...but they are work, tallied per element for the other counters' conventions.
    assert result.elementwise["norm"] == 8 * 16 * 16
    assert result.elementwise["elementwise"] == 2 * 8 * 16 * 16
    assert result.elementwise["pooling"] == 8 * 16 * 16 + 8 * 8 * 8


def test_functional_calls_are_counted_too() -> None:
    class Functional(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.weight = nn.Parameter(torch.zeros(6, 4, 3, 3))

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            y = nn.functional.conv2d(x, self.weight)
            return y.flatten(1) @ torch.ones(6 * 8 * 8, 5, device=x.device)

    result = profile(Functional(), (4, 10, 10))
    assert result.macs == conv_macs(4, 6, 3, 8, 8) + 6 * 8 * 8 * 5
    # No child modules: the work belongs to the model's own row.
    (row,) = [r for r in result.layers if r.name == "(model)"]
    assert row.macs == result.macs and row.params == 6 * 4 * 9


def test_layer_rows_add_up_and_carry_shapes() -> None:
    result = profile("mobilenet_v1_025", 96, batch_size=2)
    assert sum(r.macs for r in result.layers) == result.macs
    assert sum(r.params for r in result.layers) == result.params
    first = result.layers[0]
    assert (first.name, first.type) == ("stem.conv", "Conv2d")
    assert first.output_shape == (2, 8, 48, 48)
    assert first.macs == conv_macs(3, 8, 3, 48, 48)
    assert result.layers[-1].name == "classifier"
    assert result.layers[-1].macs == 256 * 1000
    table = result.layer_table()
    assert "| stem.conv " in table and "2×8×48×48" in table
    assert len(result.layer_table(top=3).splitlines()) == 2 + 3


def test_activation_memory_of_a_small_chain() -> None:
    inplace = nn.Sequential(nn.Conv2d(3, 8, 3, padding=1, bias=False), nn.ReLU(inplace=True),
                            nn.Conv2d(8, 4, 1, bias=False))
    plain = nn.Sequential(nn.Conv2d(3, 8, 3, padding=1, bias=False), nn.ReLU(),
                          nn.Conv2d(8, 4, 1, bias=False))
    x_bytes, a_bytes, b_bytes = (4 * c * 8 * 8 for c in (3, 8, 4))  # float32, 8×8
    counted = count(inplace, (3, 8, 8))
    assert counted.activation_bytes == a_bytes + b_bytes  # the in-place ReLU creates nothing
    assert counted.peak_activation_bytes == x_bytes + a_bytes + b_bytes
    counted = count(plain, (3, 8, 8))
    assert counted.activation_bytes == 2 * a_bytes + b_bytes
    # Peak while the ReLU runs: input, conv output and ReLU output; then the conv output dies.
    assert counted.peak_activation_bytes == x_bytes + 2 * a_bytes
    assert count(plain, (3, 8, 8), batch_size=3).activation_bytes == 3 * (2 * a_bytes + b_bytes)


def test_counting_leaves_the_model_alone() -> None:
    model = nn.Sequential(nn.Conv2d(3, 4, 3), nn.BatchNorm2d(4)).train()
    before = [t.clone() for t in model.state_dict().values()]
    clone = meta_copy(model)
    assert all(p.is_meta for p in clone.parameters()) and not clone.training
    profile(model, (3, 12, 12))
    assert model.training
    assert all(not p.is_meta for p in model.parameters())
    after = list(model.state_dict().values())
    assert all(torch.equal(a, b) for a, b in zip(before, after, strict=True))


def test_trainable_parameters() -> None:
    model = nn.Sequential(nn.Linear(10, 20), nn.Linear(20, 3))
    model[0].requires_grad_(False)
    result = profile(model, (10,))
    assert result.params == count_parameters(model) == 10 * 20 + 20 + 20 * 3 + 3
    assert result.trainable_params == 20 * 3 + 3
