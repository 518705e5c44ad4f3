"""ResNet / SE-ResNet / CBAM-ResNet: exactness against torchvision and the papers' tables."""

from __future__ import annotations

import pytest
import torch
import torchvision
from torch import nn
from torch.utils.flop_counter import FlopCounterMode

from lightnets.layers import CBAM, SqueezeExcite
from lightnets.models import create_model, get_entry, list_models, load_torchvision_state_dict
from lightnets.models.resnet import ResNet

PLAIN = ["resnet18", "resnet34", "resnet50"]
VARIANTS = [f"{prefix}resnet{d}" for prefix in ("", "se_", "cbam_") for d in (18, 34, 50)]
# Output width of every block of ResNet-50 (He et al. 2016, Table 1: 256/512/1024/2048 × 3/4/6/3).
RESNET50_BLOCK_WIDTHS = [256] * 3 + [512] * 4 + [1024] * 6 + [2048] * 3


def count_params(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())


def build_meta(name: str, **kwargs) -> nn.Module:
    """Shapes only: parameter counts and FLOPs without allocating or initialising weights."""
    with torch.device("meta"):
        return create_model(name, **kwargs)


def count_macs(model: nn.Module, size: int = 224) -> int:
    """Multiply-adds of one forward pass, as counted by PyTorch (MACs = FLOPs / 2)."""
    device = next(model.parameters()).device
    x = torch.zeros(1, 3, size, size, device=device)
    with FlopCounterMode(display=False) as counter:
        model(x)
    return counter.get_total_flops() // 2


def randomise_batchnorm(model: nn.Module, seed: int) -> None:
    """Make every BN a non-trivial affine map, so that a mis-mapped tensor changes the output."""
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, nn.BatchNorm2d):
                c = m.num_features
                m.running_mean.copy_(0.1 * torch.randn(c, generator=g))
                m.running_var.copy_(0.5 + torch.rand(c, generator=g))
                m.weight.copy_(0.25 + 0.5 * torch.rand(c, generator=g))
                m.bias.copy_(0.1 * torch.randn(c, generator=g))


# --- registry -----------------------------------------------------------------------------


def test_registered_variants_and_metadata() -> None:
    assert set(VARIANTS) <= set(list_models("*resnet*"))
    for name in VARIANTS:
        entry = get_entry(name)
        assert entry.family == "resnet"
        assert "He et al. 2016" in entry.paper
        if name.startswith("se_"):
            assert "Hu et al. 2018" in entry.paper and entry.torchvision is None
        elif name.startswith("cbam_"):
            assert "Woo et al. 2018" in entry.paper and entry.torchvision is None
        else:
            assert entry.torchvision == name


def test_default_stride_placement_and_attention() -> None:
    for name in VARIANTS:
        model = build_meta(name)
        assert isinstance(model, ResNet)
        expected = None if name in PLAIN else name.split("_")[0]
        assert model.attention == expected
        # torchvision's placement for the twins, the papers' (Caffe) placement otherwise.
        assert model.stride_in_1x1 is (name not in PLAIN)


# --- parameters and MACs ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "expected"),
    [("resnet18", 11_689_512), ("resnet34", 21_797_672), ("resnet50", 25_557_032)],
)
def test_parameter_counts_equal_torchvision(name: str, expected: int) -> None:
    with torch.device("meta"):
        tv = getattr(torchvision.models, name)(weights=None)
    assert count_params(tv) == expected
    assert count_params(build_meta(name)) == expected


def test_se_resnet50_parameters() -> None:
    n = count_params(build_meta("se_resnet50"))
    # SENet reduction-ratio table (r = 16): SE-ResNet-50 has 28.1M parameters.
    assert abs(n - 28.1e6) <= 0.05e6
    # Exactly ResNet-50 plus one SE (C→C/16→C, with biases) on the output of every block.
    se = sum(2 * c * (c // 16) + c // 16 + c for c in RESNET50_BLOCK_WIDTHS)
    assert n == 25_557_032 + se


def test_cbam_resnet50_parameters() -> None:
    n = count_params(build_meta("cbam_resnet50"))
    # CBAM Table 4: ResNet50 + CBAM has 28.09M parameters.
    assert abs(n - 28.09e6) <= 0.02e6
    # ResNet-50 plus a shared MLP (as SE) and a 2→1 7×7 conv without bias in every block.
    cbam = sum(2 * c * (c // 16) + c // 16 + c + 2 * 7 * 7 for c in RESNET50_BLOCK_WIDTHS)
    assert n == 25_557_032 + cbam


def test_resnet50_macs_at_224() -> None:
    macs = count_macs(build_meta("resnet50"))
    assert abs(macs - 4_089e6) <= 0.005 * 4_089e6


def test_se_resnet50_macs_with_paper_stride_placement() -> None:
    model = build_meta("se_resnet50")
    assert model.stride_in_1x1
    macs = count_macs(model)
    # SENet Table 2: 3.86 GFLOPs (their "FLOPs" are multiply-adds).
    assert abs(macs - 3.86e9) <= 0.01 * 3.86e9


@pytest.mark.parametrize("name", ["resnet50", "se_resnet50", "cbam_resnet50"])
def test_stride_in_1x1_changes_macs_not_parameters(name: str) -> None:
    torchvision_layout = build_meta(name, stride_in_1x1=False)
    caffe_layout = build_meta(name, stride_in_1x1=True)
    assert count_params(torchvision_layout) == count_params(caffe_layout)
    # A strided 1×1 leaves the 3×3 conv of each downsampling block a quarter of the pixels.
    assert count_macs(caffe_layout) < 0.96 * count_macs(torchvision_layout)
    for model, s1x1, s3x3 in ((torchvision_layout, 1, 2), (caffe_layout, 2, 1)):
        first = model.stages.conv3_x[0].residual
        assert first.reduce.conv.stride == (s1x1, s1x1)
        assert first.conv3x3.conv.stride == (s3x3, s3x3)


def test_stride_in_1x1_leaves_basic_blocks_alone() -> None:
    a = build_meta("se_resnet18", stride_in_1x1=False)
    b = build_meta("se_resnet18", stride_in_1x1=True)
    assert count_macs(a) == count_macs(b)


# --- torchvision twins --------------------------------------------------------------------


@pytest.mark.parametrize("name", ["resnet18", "resnet50"])
def test_torchvision_state_dict_loads_and_outputs_match(name: str) -> None:
    torch.manual_seed(0)
    tv = getattr(torchvision.models, name)(weights=None)
    randomise_batchnorm(tv, seed=1)
    ours = create_model(name)
    x = torch.randn(1, 3, 112, 112)
    tv.eval()
    ours.eval()
    with torch.no_grad():
        expected = tv(x)
        before = ours(x)
        load_torchvision_state_dict(ours, tv.state_dict())
        after = ours(x)
    assert (before - expected).abs().max() > 1e-2  # the comparison can fail
    assert (after - expected).abs().max() <= 1e-5


# --- attention on the residual branch -----------------------------------------------------


def _gate_bias(attention: nn.Module) -> torch.Tensor:
    """The bias just before the sigmoid of the channel gate (SE or CBAM's channel step)."""
    if isinstance(attention, SqueezeExcite):
        return attention.fc2.bias
    assert isinstance(attention, CBAM)
    return attention.channel.fc2.bias


@pytest.mark.parametrize("name", ["se_resnet18", "se_resnet50", "cbam_resnet18", "cbam_resnet50"])
def test_attention_rescales_residual_branch_before_addition(name: str) -> None:
    torch.manual_seed(0)
    kind = SqueezeExcite if name.startswith("se_") else CBAM
    out_chs = 64 if name.endswith("18") else 256
    # The registered network puts the attention in every block, sized to the block's output.
    model = build_meta(name)
    for block in model.stages.modules():
        if hasattr(block, "residual"):
            assert isinstance(block.attention, kind)
    meta_block = model.stages.conv2_x[1]  # identity shortcut: output = ReLU(attn(F(x)) + x)
    # The same block, built on the CPU to run it (building whole networks is slow).
    block = type(meta_block)(out_chs, 64, 1, model.attention, model.stride_in_1x1).eval()
    assert [p.shape for p in block.parameters()] == [p.shape for p in meta_block.parameters()]
    channel_mlp = block.attention if kind is SqueezeExcite else block.attention.channel
    assert channel_mlp.fc1.in_channels == out_chs
    assert channel_mlp.fc1.out_channels == out_chs // 16
    if kind is CBAM:
        assert block.attention.spatial.conv.kernel_size == (7, 7)
    x = torch.randn(2, out_chs, 8, 8)
    with torch.no_grad():
        residual = block.residual(x)
        assert (block(x) - torch.relu(residual + x)).abs().max() > 1e-3  # attention acts
        # Close the channel gate: the residual branch is switched off, the shortcut stays.
        _gate_bias(block.attention).fill_(-1e4)
        torch.testing.assert_close(block(x), torch.relu(x))
        if kind is SqueezeExcite:
            # Open it fully: the plain residual unit, so SE sits before the addition.
            _gate_bias(block.attention).fill_(1e4)
            torch.testing.assert_close(block(x), torch.relu(residual + x))


def test_plain_resnet_has_no_attention() -> None:
    model = build_meta("resnet50")
    assert not any(isinstance(m, (SqueezeExcite, CBAM)) for m in model.modules())


# --- every variant ------------------------------------------------------------------------


@pytest.mark.parametrize("name", VARIANTS)
def test_reset_classifier_and_smallest_input(name: str) -> None:
    torch.manual_seed(0)
    model = create_model(name, drop_rate=0.2)
    assert model.head_drop.p == 0.2
    model.reset_classifier(10)
    with torch.no_grad():
        out = model.eval()(torch.randn(1, 3, 32, 32))
    assert out.shape == (1, 10)
    assert torch.isfinite(out).all()


@pytest.mark.parametrize("name", VARIANTS)
def test_unknown_attention_is_rejected(name: str) -> None:
    with pytest.raises(ValueError, match=r"^attention: ") as info:
        create_model(name, attention="eca")
    assert "'eca'" in str(info.value)


@pytest.mark.parametrize("bad", ["eca", "SE", "", 1, True])
def test_resnet_rejects_attention_outside_none_se_cbam(bad: object) -> None:
    with pytest.raises(ValueError, match=r"^attention: expected one of None, 'se', 'cbam'"):
        ResNet("basic", (2, 2, 2, 2), attention=bad)


@pytest.mark.parametrize(
    ("kwargs", "arg"),
    [
        ({"block": "wide"}, "block"),
        ({"layers": (2, 2, 2)}, "layers"),
        ({"layers": (2, 0, 2, 2)}, "layers"),
        ({"layers": "2222"}, "layers"),
        ({"stride_in_1x1": 1}, "stride_in_1x1"),
    ],
)
def test_resnet_rejects_bad_arguments(kwargs: dict, arg: str) -> None:
    with pytest.raises(ValueError, match=rf"^{arg}: expected"):
        ResNet(**kwargs)
