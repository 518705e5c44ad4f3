"""Channel shuffle is exactly the permutation of ShuffleNetV1 §3.1."""

import pytest
import torch

from lightnets.layers import ChannelShuffle, channel_shuffle


def _shuffled_by_index(x: torch.Tensor, groups: int) -> torch.Tensor:
    """Output channel j·g + i takes input channel i·(C/g) + j, built one channel at a time."""
    c = x.shape[1]
    per_group = c // groups
    out = torch.empty_like(x)
    for i in range(groups):
        for j in range(per_group):
            out[:, j * groups + i] = x[:, i * per_group + j]
    return out


@pytest.mark.parametrize("groups", [1, 2, 3, 4, 6, 12])
def test_matches_the_definition_elementwise(groups):
    torch.manual_seed(0)
    x = torch.randn(2, 12, 3, 5)
    assert torch.equal(channel_shuffle(x, groups), _shuffled_by_index(x, groups))


def test_is_a_real_permutation_for_several_groups():
    x = torch.arange(6.0).reshape(1, 6, 1, 1)
    assert channel_shuffle(x, 2).flatten().tolist() == [0, 3, 1, 4, 2, 5]
    assert channel_shuffle(x, 3).flatten().tolist() == [0, 2, 4, 1, 3, 5]


@pytest.mark.parametrize(("channels", "groups"), [(12, 3), (12, 4), (24, 8), (10, 2), (9, 3)])
def test_shuffle_by_c_over_g_is_the_inverse(channels, groups):
    torch.manual_seed(1)
    x = torch.randn(2, channels, 4, 4)
    y = channel_shuffle(x, groups)
    assert not torch.equal(y, x)
    assert torch.equal(channel_shuffle(y, channels // groups), x)


def test_one_group_is_identity():
    torch.manual_seed(2)
    x = torch.randn(3, 7, 2, 2)
    assert torch.equal(channel_shuffle(x, 1), x)


@pytest.mark.parametrize(("channels", "groups"), [(12, 5), (10, 4), (7, 2), (3, 6)])
def test_group_count_that_does_not_divide_channels_is_rejected(channels, groups):
    with pytest.raises(ValueError, match=r"^groups: .*divisor.*" + str(channels)):
        channel_shuffle(torch.zeros(1, channels, 2, 2), groups)


@pytest.mark.parametrize("groups", [0, -2, 2.0, True, "2"])
def test_invalid_group_values_are_rejected(groups):
    with pytest.raises(ValueError, match=r"^groups: "):
        channel_shuffle(torch.zeros(1, 4, 2, 2), groups)
    with pytest.raises(ValueError, match=r"^groups: "):
        ChannelShuffle(groups)


@pytest.mark.parametrize("groups", [1, 2, 4, 8])
def test_module_equals_function(groups):
    torch.manual_seed(3)
    x = torch.randn(2, 16, 3, 3)
    module = ChannelShuffle(groups)
    assert torch.equal(module(x), channel_shuffle(x, groups))
    assert f"groups={groups}" in repr(module)
    assert list(module.parameters()) == []


def test_gradient_flows_back_through_the_inverse_permutation():
    torch.manual_seed(4)
    x = torch.randn(1, 6, 2, 2, requires_grad=True)
    weights = torch.arange(6.0).reshape(1, 6, 1, 1)
    (channel_shuffle(x, 2) * weights).sum().backward()
    expected = channel_shuffle(weights.expand_as(x), 3)  # g=2 then C/g=3 restores the order
    assert torch.equal(x.grad, expected)
