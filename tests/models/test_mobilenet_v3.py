"""MobileNetV3 Large and Small against the paper's Tables 1 and 2 and against torchvision."""

import pytest
import torch
from torch import nn
from torch.utils.flop_counter import FlopCounterMode
from torchvision.models import mobilenet_v3_large, mobilenet_v3_small

from lightnets.layers import make_divisible
from lightnets.models import create_model, get_entry, load_torchvision_state_dict
from lightnets.models.mobilenet_v3 import LARGE, SMALL, MobileNetV3
from lightnets.models.table import count_parameters

# name → (torchvision builder, width_mult)
TWINS = {
    "mobilenet_v3_large_100": (mobilenet_v3_large, 1.0),
    "mobilenet_v3_large_075": (mobilenet_v3_large, 0.75),
    "mobilenet_v3_small_100": (mobilenet_v3_small, 1.0),
    "mobilenet_v3_small_075": (mobilenet_v3_small, 0.75),
}


def randomize_batchnorm(model: nn.Module) -> None:
    """Give every BN non-trivial statistics and affine terms, and the linear layers a unit-scale
    init, so that a misplaced tensor or a different eps changes the output well above 1e-5."""
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, nn.BatchNorm2d):
                m.running_mean.uniform_(-0.1, 0.1)
                m.running_var.uniform_(0.5, 1.5)
                m.weight.uniform_(0.8, 1.2)
                m.bias.uniform_(-0.1, 0.1)
            elif isinstance(m, nn.Linear):
                m.reset_parameters()


def count_macs(name: str, size: int = 224) -> int:
    """Multiply-adds of convs and linear layers for one sample, computed on the meta device."""
    with torch.device("meta"):
        model = create_model(name).eval()
        with FlopCounterMode(display=False) as counter:
            model(torch.empty(1, 3, size, size))
    return counter.get_total_flops() // 2


@pytest.mark.parametrize(
    ("name", "expected"), [("mobilenet_v3_large", 5_483_032), ("mobilenet_v3_small", 2_542_856)]
)
def test_default_parameter_counts(name: str, expected: int) -> None:
    with torch.device("meta"):
        assert count_parameters(create_model(name)) == expected


@pytest.mark.parametrize("name", TWINS)
def test_parameter_count_equals_torchvision(name: str) -> None:
    builder, width = TWINS[name]
    with torch.device("meta"):
        ours = create_model(name)
        theirs = builder(weights=None, width_mult=width)
    assert count_parameters(ours) == count_parameters(theirs)


@pytest.mark.parametrize("name", TWINS)
@torch.no_grad()
def test_torchvision_weights_give_the_same_outputs(name: str) -> None:
    builder, width = TWINS[name]
    theirs = builder(weights=None, width_mult=width).eval()
    randomize_batchnorm(theirs)
    ours = create_model(name).eval()
    load_torchvision_state_dict(ours, theirs.state_dict())
    x = torch.randn(2, 3, 128, 128)
    expected = theirs(x)
    assert expected.std() > 1e-2  # a meaningful signal, not a vanishing one
    assert (ours(x) - expected).abs().max() <= 1e-5
    # pre_logits: the pooled features after torchvision's Linear(960/576 → 1280/1024) + h-swish.
    pooled = theirs.avgpool(theirs.features(x)).flatten(1)
    pre_logits = ours.forward_head(ours.forward_features(x), pre_logits=True)
    assert (pre_logits - theirs.classifier[:2](pooled)).abs().max() <= 1e-5


@pytest.mark.parametrize(
    ("name", "expected"), [("mobilenet_v3_large", 216.6e6), ("mobilenet_v3_small", 56.5e6)]
)
def test_macs_match_torchvision_figures(name: str, expected: float) -> None:
    assert count_macs(name) == pytest.approx(expected, rel=0.005)


@pytest.mark.parametrize(("arch", "rows", "head"), [("large", LARGE, 1280), ("small", SMALL, 1024)])
def test_layout_follows_tables_1_and_2(arch: str, rows: tuple, head: int) -> None:
    with torch.device("meta"):
        model = MobileNetV3(arch=arch)
        features = model.forward_features(torch.empty(1, 3, 224, 224))
    assert model.stem.conv.out_channels == 16
    assert isinstance(model.stem.act, nn.Hardswish)
    assert len(model.blocks) == len(rows)
    for block, (kernel, exp, out, se, act, stride) in zip(model.blocks, rows, strict=True):
        cfg = block.cfg
        assert (cfg.kernel, cfg.exp_chs, cfg.out_chs, cfg.se, cfg.act, cfg.stride) == (
            kernel,
            exp,
            out,
            se,
            act,
            stride,
        )
        assert hasattr(block.block, "se") == se
        if se:
            # §5.3: SE width 1/4 of the expansion, rounded to a multiple of 8.
            assert block.block.se.fc1.out_channels == make_divisible(exp // 4, 8)
            assert isinstance(block.block.se.gate, nn.Hardsigmoid)
    assert features.shape == (1, 6 * rows[-1][2], 7, 7)  # 7²×960 (Large), 7²×576 (Small)
    assert model.head_fc.out_features == model.num_features == head
    bns = [m for m in model.modules() if isinstance(m, nn.BatchNorm2d)]
    assert bns and all(bn.eps == 1e-3 and bn.momentum == 0.01 for bn in bns)


def test_registry_entries() -> None:
    assert get_entry("mobilenet_v3_large").name == "mobilenet_v3_large_100"
    assert get_entry("mobilenet_v3_small").name == "mobilenet_v3_small_100"
    assert get_entry("mobilenet_v3_large_100").torchvision == "mobilenet_v3_large"
    assert get_entry("mobilenet_v3_small_100").torchvision == "mobilenet_v3_small"
    assert get_entry("mobilenet_v3_small_075").kwargs == {"arch": "small", "width": 0.75}
    assert all(get_entry(name).family == "mobilenet_v3" for name in TWINS)


@pytest.mark.parametrize("name", ["mobilenet_v3_large_075", "mobilenet_v3_small_100"])
@torch.no_grad()
def test_classifier_interface(name: str) -> None:
    model = create_model(name, num_classes=5).eval()
    assert model.drop_rate == 0.2
    x = torch.randn(2, 3, 64, 64)
    pre_logits = model.forward_head(model.forward_features(x), pre_logits=True)
    assert pre_logits.shape == (2, model.num_features)
    assert model(x).shape == (2, 5)
    assert model(torch.randn(1, 3, 32, 32)).shape == (1, 5)
    head_fc = model.head_fc
    model.reset_classifier(10)
    assert model(x).shape == (2, 10)
    assert model.head_fc is head_fc  # only the last linear layer is replaced
    assert model.classifier.in_features == model.num_features


@pytest.mark.parametrize("width", [0, -0.75, float("inf")])
def test_bad_width_is_rejected(width: float) -> None:
    with pytest.raises(ValueError, match="width"):
        MobileNetV3(width=width)


def test_bad_arch_is_rejected() -> None:
    with pytest.raises(ValueError, match="arch"):
        MobileNetV3(arch="medium")
