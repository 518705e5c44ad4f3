"""ShuffleNetV1 against the paper: Table 1 shapes and complexity, unit structure, parameters."""

import pytest
import torch
import torch.nn.functional as F
from torch import nn
from torch.utils.flop_counter import FlopCounterMode

from lightnets.layers import channel_shuffle
from lightnets.models import create_model, get_entry, list_models
from lightnets.models.shufflenet_v1 import ShuffleNetV1, ShuffleUnit, shufflenet_v1_widths

GROUPS = (1, 2, 3, 4, 8)
SCALE_TAGS = {0.5: "x0_5", 1.0: "x1_0", 1.5: "x1_5", 2.0: "x2_0"}
# Table 1: stage-2 output channels per g (stage 3 doubles, stage 4 doubles again).
TABLE1_STAGE2 = {1: 144, 2: 200, 3: 240, 4: 272, 8: 384}
# Table 1: complexity (MFLOPs, i.e. multiply-adds) of ShuffleNet 1× at 224×224.
TABLE1_MFLOPS = {1: 143, 2: 140, 3: 137, 4: 133, 8: 137}


def _macs(model: nn.Module, size: int = 224) -> float:
    """Multiply-adds of convolutions and linear layers for one image (shapes only on meta)."""
    counter = FlopCounterMode(display=False)
    with counter, torch.no_grad():
        model(torch.zeros(1, 3, size, size, device=next(model.parameters()).device))
    counts = counter.get_flop_counts()["Global"]
    flops = sum(v for op, v in counts.items() if "convolution" in str(op) or "mm" in str(op))
    return flops / 2


def _params(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())


@pytest.mark.parametrize("groups", GROUPS)
def test_stage_shapes_follow_table_1(groups):
    # Shapes only: the meta device runs the graph without computing values.
    with torch.device("meta"):
        model = ShuffleNetV1(groups=groups).eval()
        image = torch.zeros(1, 3, 224, 224)
    c2 = TABLE1_STAGE2[groups]
    with torch.no_grad():
        x = model.stem(image)
        assert x.shape == (1, 24, 112, 112)  # Conv1: 3×3, stride 2, 24 channels
        x = model.maxpool(x)
        assert x.shape == (1, 24, 56, 56)
        shapes = {}
        for name, stage in model.stages.named_children():
            x = stage(x)
            shapes[name] = tuple(x.shape)
    assert shapes == {
        "stage2": (1, c2, 28, 28),
        "stage3": (1, 2 * c2, 14, 14),
        "stage4": (1, 4 * c2, 7, 7),
    }
    assert [len(s) for s in model.stages] == [4, 8, 4]  # Table 1 repeats
    assert model.forward_features(image).shape == (1, 4 * c2, 7, 7)
    assert model.num_features == 4 * c2


@pytest.mark.parametrize("groups", GROUPS)
def test_complexity_at_224_matches_table_1(groups):
    with torch.device("meta"):
        model = ShuffleNetV1(groups=groups).eval()
    macs = _macs(model)
    paper = TABLE1_MFLOPS[groups] * 1e6
    assert abs(macs - paper) / paper < 0.02, f"g={groups}: {macs / 1e6:.2f}M vs {paper / 1e6}M"


@pytest.mark.parametrize(("groups", "millions"), [(3, 1.9), (8, 2.4)])
def test_parameter_counts_match_the_released_models(groups, millions):
    # 1.9M (g=3) and 2.4M (g=8) for ShuffleNetV1 1.0x: the authors' released models,
    # github.com/megvii-model/ShuffleNet-Series, ShuffleNetV1/README.md ("#Params").
    n = _params(create_model(f"shufflenet_v1_g{groups}_x1_0"))
    assert abs(n / 1e6 - millions) <= 0.05, n


def test_parameter_count_grows_with_groups():
    # §3.3/Table 1: at about the same complexity, more groups allow wider (so larger) networks.
    counts = [_params(ShuffleNetV1(groups=g)) for g in GROUPS]
    assert counts == sorted(counts)


def _units(model):
    return [
        (name, i, u) for name, stage in model.stages.named_children() for i, u in enumerate(stage)
    ]


@pytest.mark.parametrize("groups", GROUPS)
@pytest.mark.parametrize("scale", list(SCALE_TAGS))
def test_unit_structure_follows_fig_2(groups, scale):
    with torch.device("meta"):
        model = ShuffleNetV1(groups=groups, scale=scale)
    stem, widths = shufflenet_v1_widths(groups, scale)
    in_chs = stem
    for name, i, unit in _units(model):
        out_chs = widths[["stage2", "stage3", "stage4"].index(name)]
        b = unit.branch
        assert list(b._modules) == ["gconv1", "shuffle", "dwconv", "gconv2"]
        mid = out_chs // 4  # §3.3: bottleneck = 1/4 of the output channels
        assert b.gconv1.conv.out_channels == mid and b.gconv1.conv.in_channels == in_chs
        # §3.3: the first pointwise layer of stage 2 is not grouped; all others use g groups.
        assert b.gconv1.conv.groups == (1 if (name, i) == ("stage2", 0) else groups)
        assert b.shuffle.groups == groups
        assert b.dwconv.conv.groups == mid and b.dwconv.conv.stride == (
            (2, 2) if i == 0 else (1, 1)
        )
        assert "act" not in b.dwconv._modules  # no ReLU after the depthwise conv
        assert "act" not in b.gconv2._modules  # ReLU comes after the add / concat
        assert isinstance(b.gconv1.act, nn.ReLU)
        assert b.gconv2.conv.groups == groups
        # Stride 2: the branch only makes the channels the avg-pool shortcut does not supply.
        assert b.gconv2.conv.out_channels == (out_chs - in_chs if i == 0 else out_chs)
        assert isinstance(unit.shortcut, nn.AvgPool2d if i == 0 else nn.Identity)
        in_chs = out_chs


def test_stride_2_unit_concatenates_avg_pool_then_relu():
    torch.manual_seed(0)
    unit = ShuffleUnit(24, 240, stride=2, groups=3, first_groups=1).eval()
    for m in unit.modules():
        if isinstance(m, nn.BatchNorm2d):
            nn.init.uniform_(m.bias, -1, 1)  # make the branch output take both signs
    x = torch.randn(2, 24, 16, 16)
    with torch.no_grad():
        y = unit(x)
        branch = unit.branch(x)
    assert y.shape == (2, 240, 8, 8)
    pooled = F.avg_pool2d(x, 3, 2, padding=1)
    torch.testing.assert_close(y[:, :24], F.relu(pooled))
    torch.testing.assert_close(y[:, 24:], F.relu(branch))
    assert (branch < 0).any()


def test_stride_1_unit_adds_identity_then_relu_with_shuffle_between_convs():
    torch.manual_seed(0)
    unit = ShuffleUnit(48, 48, stride=1, groups=4, first_groups=4).eval()
    x = torch.randn(2, 48, 8, 8)
    b = unit.branch
    with torch.no_grad():
        manual = b.gconv2(b.dwconv(channel_shuffle(b.gconv1(x), 4)))
        torch.testing.assert_close(unit(x), F.relu(x + manual))
        # Without the shuffle the group convs see different channels, so the result changes.
        unshuffled = b.gconv2(b.dwconv(b.gconv1(x)))
        assert not torch.allclose(unshuffled, manual)


def test_widths_at_scale_1_are_table_1_and_scaled_widths_divide_evenly():
    for g in GROUPS:
        assert shufflenet_v1_widths(g, 1.0) == (24, [TABLE1_STAGE2[g] * m for m in (1, 2, 4)])
        for s in (0.25, 0.5, 0.75, 1.5, 2.0, 3.0):
            stem, (w2, w3, w4) = shufflenet_v1_widths(g, s)
            assert stem % g == 0 and w2 % (4 * g) == 0 and (w3, w4) == (2 * w2, 4 * w2)
            # make_divisible: a near multiple, never below 90 % of the exact width.
            assert abs(w2 - s * TABLE1_STAGE2[g]) < 4 * g and w2 >= 0.9 * s * TABLE1_STAGE2[g]
            assert (abs(stem - 24 * s) < g and stem >= 0.9 * 24 * s) or stem == g
            assert w2 > stem


def test_documented_widths_at_half_and_one_and_a_half():
    # Module docstring table: rounding only matters where s·Table1 is not a multiple of 4g.
    assert shufflenet_v1_widths(2, 0.5) == (12, [104, 208, 416])
    assert shufflenet_v1_widths(4, 0.5) == (12, [144, 288, 576])
    assert shufflenet_v1_widths(8, 0.5) == (16, [192, 384, 768])
    assert shufflenet_v1_widths(4, 1.5) == (36, [416, 832, 1664])
    assert shufflenet_v1_widths(8, 1.5) == (40, [576, 1152, 2304])


def test_registry_has_every_group_and_scale():
    expected = {f"shufflenet_v1_g{g}_{tag}" for g in GROUPS for tag in SCALE_TAGS.values()}
    assert set(list_models("shufflenet_v1*")) == expected
    for g in GROUPS:
        for s, tag in SCALE_TAGS.items():
            entry = get_entry(f"shufflenet_v1_g{g}_{tag}")
            assert entry.family == "shufflenet_v1"
            assert entry.paper == "ShuffleNet (Zhang et al. 2018)"
            assert entry.torchvision is None
            assert dict(entry.kwargs) == {"groups": g, "scale": s}
    assert get_entry("shufflenet_v1").name == "shufflenet_v1_g3_x1_0"


@pytest.mark.parametrize(
    "name", ["shufflenet_v1_g1_x2_0", "shufflenet_v1_g8_x0_5", "shufflenet_v1_g2_x1_5"]
)
def test_small_input_and_reset_classifier(name):
    torch.manual_seed(0)
    model = create_model(name).eval()
    model.reset_classifier(10)
    with torch.no_grad():
        out = model(torch.randn(2, 3, 32, 32))
    assert out.shape == (2, 10)
    assert model.classifier.in_features == model.num_features


def test_drop_rate_default_and_use():
    assert ShuffleNetV1().drop_rate == 0.0
    model = ShuffleNetV1(drop_rate=0.5, num_classes=7, in_chans=1)
    assert model.head_drop.p == 0.5
    assert model(torch.randn(2, 1, 32, 32)).shape == (2, 7)


@pytest.mark.parametrize("groups", [0, 5, 6, 16, True, 3.0, "3"])
def test_invalid_groups_are_rejected(groups):
    with pytest.raises(ValueError, match=r"^groups: "):
        ShuffleNetV1(groups=groups)


@pytest.mark.parametrize("scale", [0, -1.0, float("nan"), float("inf"), "1.0", None])
def test_invalid_scale_is_rejected(scale):
    with pytest.raises(ValueError, match=r"^scale: "):
        ShuffleNetV1(scale=scale)


def test_other_positive_scales_build():
    with torch.device("meta"):
        model = ShuffleNetV1(groups=8, scale=0.3)
    stem, widths = shufflenet_v1_widths(8, 0.3)
    assert model.num_features == widths[-1] and model.stem.conv.out_channels == stem
