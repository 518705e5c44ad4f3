"""Precision choice and the autocast regions of lightnets.precision."""

from __future__ import annotations

import pytest
import torch

from lightnets import precision
from lightnets.precision import autocast, grad_scaler, resolve_precision

CPU = torch.device("cpu")


@pytest.fixture
def flags(monkeypatch):
    """Set the CPU flags the precision rules see."""

    def set_flags(*names: str) -> None:
        monkeypatch.setattr(precision, "cpu_flags", lambda: frozenset(names))

    return set_flags


def test_auto_picks_bf16_only_where_the_cpu_runs_it_natively(flags) -> None:
    flags("avx2", "avx512f", "avx512_bf16")
    assert resolve_precision("auto", CPU) == "bf16"
    flags("avx2", "amx_bf16")
    assert resolve_precision("auto", CPU) == "bf16"
    flags("avx2", "avx512f")
    assert resolve_precision("auto", CPU) == "fp32"
    assert resolve_precision(None, CPU) == "fp32"


def test_bf16_without_native_support_warns_of_the_slowdown(flags) -> None:
    flags("avx2")
    with pytest.warns(RuntimeWarning, match=r"emulated and usually slower than fp32"):
        assert resolve_precision("bf16", CPU) == "bf16"


def test_bad_precisions_name_the_argument() -> None:
    with pytest.raises(ValueError, match=r"^precision: expected fp32, bf16 or auto on cpu .*"
                                         r"got 'fp16'"):
        resolve_precision("fp16", CPU)
    with pytest.raises(ValueError, match=r"^precision: expected one of 'fp32', 'bf16', 'fp16', "
                                         r"'auto', got 'half'"):
        resolve_precision("half", CPU)


def test_cpu_flags_are_read_from_proc_cpuinfo() -> None:
    found = precision.cpu_flags()
    assert isinstance(found, frozenset)
    if found:  # Linux: x86 CPUs list sse2, ARM ones fp or asimd
        assert found & {"sse2", "fp", "asimd"}


def test_fp32_switches_off_a_callers_autocast_and_bf16_casts() -> None:
    a, b = torch.randn(8, 8), torch.randn(8, 8)
    with torch.autocast("cpu", dtype=torch.bfloat16):
        with autocast("fp32", CPU):
            assert (a @ b).dtype == torch.float32
        with autocast("bf16", CPU):
            assert (a @ b).dtype == torch.bfloat16
    assert grad_scaler("bf16", CPU) is None and grad_scaler("fp32", CPU) is None


def test_the_weight_cast_is_not_cached_across_updates() -> None:
    # Autocast's cache would keep the bf16 copy made before the update for the whole region.
    layer = torch.nn.Linear(4, 4)
    x = torch.randn(2, 4)
    with torch.autocast("cpu", dtype=torch.bfloat16):  # a caller's region around both passes
        with autocast("bf16", CPU):
            before = layer(x)
        with torch.no_grad():
            layer.weight.add_(1.0)
        with autocast("bf16", CPU):
            after = layer(x)
    assert not torch.equal(before, after)


@pytest.mark.cuda
def test_cuda_precisions_follow_the_compute_capability() -> None:
    gpu = torch.device("cuda", 0)
    native = torch.cuda.get_device_capability(gpu) >= (8, 0)
    assert resolve_precision("auto", gpu) == ("bf16" if native else "fp32")
    assert resolve_precision("fp16", gpu) == "fp16"
    assert isinstance(grad_scaler("fp16", gpu), torch.amp.GradScaler)


@pytest.mark.cuda
@pytest.mark.parametrize("name", ["bf16", "fp16"])
def test_a_cuda_epoch_in_mixed_precision_learns(name: str) -> None:
    from lightnets import create_model
    from lightnets.hsi import engine

    g = torch.Generator().manual_seed(0)
    cube = torch.randn(30, 24, 24, generator=g)
    pos = torch.stack(torch.meshgrid(torch.arange(24), torch.arange(24), indexing="ij"), -1)
    pos = pos.reshape(-1, 2)[::3]
    labels = (cube[0, pos[:, 0], pos[:, 1]] > 0).long()  # learnable from the centre pixel
    model = create_model("hybridsn", bands=30, window=9, num_classes=2)
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    scaler = grad_scaler(name, torch.device("cuda"))
    losses = [
        engine.train_epoch(model, cube, pos, labels, opt, batch_size=32, device="cuda",
                           precision=name, scaler=scaler, generator=g).loss
        for _ in range(8)
    ]
    assert all(p.dtype == torch.float32 for p in model.parameters())
    assert losses[-1] < 0.7 * losses[0], losses
