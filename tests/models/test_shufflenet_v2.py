"""ShuffleNetV2: exact twin of torchvision's network, Table 5 shapes and complexity."""

import pytest
import torch
import torchvision
from torch import nn
from torch.utils.flop_counter import FlopCounterMode
from torchvision.models import get_model_weights

from lightnets.layers import channel_shuffle
from lightnets.models import create_model, get_entry, list_models, load_torchvision_state_dict
from lightnets.models.shufflenet_v2 import ShuffleNetV2, ShuffleV2Unit

TAGS = {0.5: "x0_5", 1.0: "x1_0", 1.5: "x1_5", 2.0: "x2_0"}
# Table 5: output channels of stages 2–4 and conv5, and complexity (MFLOPs = multiply-adds).
TABLE5_CHANNELS = {
    0.5: (48, 96, 192, 1024),
    1.0: (116, 232, 464, 1024),
    1.5: (176, 352, 704, 1024),
    2.0: (244, 488, 976, 2048),
}
TABLE5_MFLOPS = {0.5: 41, 1.0: 146, 1.5: 299, 2.0: 591}


def _torchvision(tag: str) -> nn.Module:
    return getattr(torchvision.models, f"shufflenet_v2_{tag}")(weights=None)


def _macs(model: nn.Module, size: int = 224) -> float:
    """Multiply-adds of convolutions and linear layers for one image (shapes only on meta)."""
    counter = FlopCounterMode(display=False)
    with counter, torch.no_grad():
        model(torch.zeros(1, 3, size, size, device=next(model.parameters()).device))
    counts = counter.get_flop_counts()["Global"]
    flops = sum(v for op, v in counts.items() if "convolution" in str(op) or "mm" in str(op))
    return flops / 2


@pytest.mark.parametrize("scale", list(TAGS))
def test_parameters_equal_torchvision_tensor_by_tensor(scale):
    ours = create_model(f"shufflenet_v2_{TAGS[scale]}").state_dict()
    theirs = _torchvision(TAGS[scale]).state_dict()
    assert [(k.rsplit(".", 1)[-1], v.shape) for k, v in ours.items()] == [
        (k.rsplit(".", 1)[-1], v.shape) for k, v in theirs.items()
    ]
    n_ours = sum(v.numel() for k, v in ours.items() if "running" not in k and "batches" not in k)
    n_theirs = sum(p.numel() for p in _torchvision(TAGS[scale]).parameters())
    assert n_ours == n_theirs


def _randomise(model: nn.Module) -> None:
    """Random BN statistics and affine terms, so that eval-mode outputs depend on them."""
    for m in model.modules():
        if isinstance(m, nn.BatchNorm2d):
            m.running_mean.uniform_(-0.5, 0.5)
            m.running_var.uniform_(0.5, 2.0)
            nn.init.uniform_(m.weight, 0.5, 1.5)
            nn.init.uniform_(m.bias, -0.3, 0.3)


@pytest.mark.parametrize("scale", list(TAGS))
def test_outputs_equal_torchvision_after_loading_its_weights(scale):
    torch.manual_seed(0)
    theirs = _torchvision(TAGS[scale])
    with torch.no_grad():
        _randomise(theirs)
    theirs.eval()
    ours = ShuffleNetV2(scale).eval()
    x = torch.randn(1, 3, 128, 128)
    with torch.no_grad():
        expected = theirs(x)
        before = ours(x)
        load_torchvision_state_dict(ours, theirs.state_dict())
        got = ours(x)
    assert (got - expected).abs().max().item() <= 1e-5
    assert (before - expected).abs().max().item() > 1e-3  # the loaded weights mattered


@pytest.mark.parametrize("scale", list(TAGS))
def test_stage_shapes_follow_table_5(scale):
    with torch.device("meta"):
        model = ShuffleNetV2(scale).eval()
        image = torch.zeros(1, 3, 224, 224)
    c2, c3, c4, c5 = TABLE5_CHANNELS[scale]
    with torch.no_grad():
        x = model.maxpool(model.stem(image))
        assert x.shape == (1, 24, 56, 56)
        shapes = []
        for stage in model.stages:
            x = stage(x)
            shapes.append(tuple(x.shape))
        assert model.conv5(x).shape == (1, c5, 7, 7)
        assert model.forward_features(image).shape == (1, c5, 7, 7)
    assert shapes == [(1, c2, 28, 28), (1, c3, 14, 14), (1, c4, 7, 7)]
    assert [len(s) for s in model.stages] == [4, 8, 4]  # Table 5 repeats
    assert model.num_features == c5


@pytest.mark.parametrize("scale", list(TAGS))
def test_complexity_matches_table_5_and_torchvision(scale):
    with torch.device("meta"):
        model = ShuffleNetV2(scale).eval()
    macs = _macs(model)
    paper = TABLE5_MFLOPS[scale] * 1e6
    # Within 2 % of the paper; the gap is torchvision's first stage-2 unit (module docstring).
    assert abs(macs - paper) / paper < 0.02, f"{macs / 1e6:.2f}M vs {paper / 1e6}M"
    assert macs <= paper
    # torchvision's weight metadata states the same complexity in GFLOPS (multiply-adds).
    published = get_model_weights(f"shufflenet_v2_{TAGS[scale]}").DEFAULT.meta["_ops"]
    assert abs(macs / 1e9 - published) <= 1e-3


def test_stride_1_unit_keeps_one_half_and_shuffles():
    torch.manual_seed(0)
    unit = ShuffleV2Unit(48, 48, stride=1).eval()
    assert isinstance(unit.left, nn.Identity)
    assert unit.right[0].conv.in_channels == 24  # the branch sees half the channels
    x = torch.randn(2, 48, 8, 8)
    with torch.no_grad():
        y = unit(x)
        unshuffled = channel_shuffle(y, 24)  # inverse of the shuffle with 2 groups
        torch.testing.assert_close(unshuffled[:, :24], x[:, :24])  # identity half, unchanged
        torch.testing.assert_close(unshuffled[:, 24:], unit.right(x[:, 24:]))


def test_stride_2_unit_has_two_branches_on_the_whole_input():
    torch.manual_seed(0)
    unit = ShuffleV2Unit(24, 116, stride=2).eval()
    left_dw, left_pw = unit.left
    assert left_dw.conv.groups == 24 and left_dw.conv.stride == (2, 2)
    assert "act" not in left_dw._modules  # Fig. 3d: BN without ReLU after the depthwise conv
    assert (left_pw.conv.in_channels, left_pw.conv.out_channels) == (24, 58)
    right_pw1, right_dw, right_pw2 = unit.right
    assert right_pw1.conv.in_channels == 24 and right_dw.conv.groups == 58
    assert right_dw.conv.stride == (2, 2) and "act" not in right_dw._modules
    assert right_pw2.conv.out_channels == 58
    x = torch.randn(2, 24, 16, 16)
    with torch.no_grad():
        expected = channel_shuffle(torch.cat((unit.left(x), unit.right(x)), 1), 2)
        torch.testing.assert_close(unit(x), expected)
    assert expected.shape == (2, 116, 8, 8)


def test_registry_names_and_torchvision_twins():
    names = [f"shufflenet_v2_{tag}" for tag in TAGS.values()]
    assert list_models("shufflenet_v2*") == sorted(names)
    for scale, tag in TAGS.items():
        entry = get_entry(f"shufflenet_v2_{tag}")
        assert entry.torchvision == f"shufflenet_v2_{tag}"
        assert entry.family == "shufflenet_v2"
        assert dict(entry.kwargs) == {"scale": scale}
        assert hasattr(torchvision.models, entry.torchvision)


@pytest.mark.parametrize("scale", [0.5, 2.0])
def test_small_input_reset_classifier_and_no_dropout_by_default(scale):
    torch.manual_seed(0)
    model = ShuffleNetV2(scale)
    assert model.drop_rate == 0.0 and model.head_drop.p == 0.0
    model.reset_classifier(10)
    model.eval()
    with torch.no_grad():
        assert model(torch.randn(2, 3, 32, 32)).shape == (2, 10)


@pytest.mark.parametrize("scale", [0, -1.0, 0.75, 3.0, float("nan"), "1.0", None])
def test_invalid_scale_is_rejected(scale):
    with pytest.raises(ValueError, match=r"^scale: "):
        ShuffleNetV2(scale)
