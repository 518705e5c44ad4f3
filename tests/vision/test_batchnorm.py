"""Precise batch-norm statistics: what the pass computes, what it leaves alone, and the
short-training failure it repairs."""

from __future__ import annotations

import contextlib

import torch
from torch import nn

from lightnets.vision.batchnorm import recompute_batchnorm, trainable_batchnorms

CPU = torch.device("cpu")


def _batches(n: int = 4, size: int = 8, seed: int = 0) -> list[tuple[torch.Tensor, torch.Tensor]]:
    g = torch.Generator().manual_seed(seed)
    return [
        (torch.randn(size, 3, 5, 5, generator=g) * (i + 1) + i, torch.zeros(size)) for i in range(n)
    ]


def _net(momentum: float = 0.01) -> nn.Sequential:
    return nn.Sequential(nn.BatchNorm2d(3, momentum=momentum), nn.Dropout(0.5), nn.Conv2d(3, 2, 1))


def test_statistics_become_the_mean_of_the_batch_statistics() -> None:
    net = _net()
    batches = _batches()
    used = recompute_batchnorm(net, batches, device=CPU)
    assert used == 32
    means = torch.stack([x.mean((0, 2, 3)) for x, _ in batches])
    variances = torch.stack([x.transpose(0, 1).reshape(3, -1).var(1) for x, _ in batches])
    bn = net[0]
    torch.testing.assert_close(bn.running_mean, means.mean(0))
    torch.testing.assert_close(bn.running_var, variances.mean(0))


def test_weights_mode_momentum_step_count_and_random_state_are_kept() -> None:
    net = _net()
    net.train()
    bn = net[0]
    bn.num_batches_tracked.fill_(123)
    weights = {k: v.clone() for k, v in net.state_dict().items() if "running" not in k}
    rng = torch.get_rng_state()
    recompute_batchnorm(net, _batches(), device=CPU)
    assert net.training and bn.momentum == 0.01 and int(bn.num_batches_tracked) == 123
    assert torch.equal(torch.get_rng_state(), rng)  # dropout stayed off: nothing drawn
    for k, v in weights.items():
        if k != "0.num_batches_tracked":
            assert torch.equal(net.state_dict()[k], v)


def test_a_cap_uses_whole_batches_until_it_is_reached() -> None:
    net = _net()
    assert recompute_batchnorm(net, _batches(), device=CPU, max_images=9) == 16
    torch.testing.assert_close(
        net[0].running_mean, torch.stack([x.mean((0, 2, 3)) for x, _ in _batches()[:2]]).mean(0)
    )


def test_frozen_layers_and_empty_or_failing_passes_change_nothing() -> None:
    net = _net()
    before = {k: v.clone() for k, v in net.state_dict().items()}
    assert recompute_batchnorm(net, [], device=CPU) == 0
    for p in net[0].parameters():
        p.requires_grad_(False)
    assert trainable_batchnorms(net) == []
    assert recompute_batchnorm(net, _batches(), device=CPU) == 0
    for p in net[0].parameters():
        p.requires_grad_(True)

    def broken():
        yield _batches()[0]
        raise KeyboardInterrupt

    with contextlib.suppress(KeyboardInterrupt):
        recompute_batchnorm(net, broken(), device=CPU)
    for k, v in net.state_dict().items():
        assert torch.equal(v, before[k]), k
    assert net[0].momentum == 0.01


def test_it_repairs_lagging_running_averages() -> None:
    """A network whose running averages still describe the initial weights (momentum 0.01
    after a few steps) predicts in eval mode like in train mode once they are recomputed."""
    torch.manual_seed(0)
    net = nn.Sequential(
        nn.Conv2d(3, 8, 3), nn.BatchNorm2d(8, momentum=0.01), nn.ReLU(), nn.Conv2d(8, 4, 1)
    )
    batches = _batches(n=3, size=16)
    net.train()
    for x, _ in batches[:1]:
        net(x)  # one step of running-average updates: still near (0, 1)
    with torch.no_grad():
        net[0].weight.mul_(5.0)  # the weights move on, the averages do not follow
        net[0].bias.add_(2.0)
    x = torch.cat([b[0] for b in batches])
    with torch.no_grad():
        target = net.train()(x)
        stale = net.eval()(x)
        recompute_batchnorm(net, [(x, None)], device=CPU)
        fresh = net.eval()(x)
    assert (stale - target).abs().max() > 1.0
    torch.testing.assert_close(fresh, target, atol=1e-3, rtol=1e-3)
