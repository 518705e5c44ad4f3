"""MobileNetV2 against the paper's Table 2 and against torchvision, width by width."""

import pytest
import torch
from torch import nn
from torchvision.models import mobilenet_v2 as tv_mobilenet_v2

from lightnets.models import create_model, get_entry, load_torchvision_state_dict
from lightnets.models.mobilenet_v2 import STAGES, MobileNetV2
from lightnets.models.table import count_parameters

WIDTHS = {
    "mobilenet_v2_100": 1.0,
    "mobilenet_v2_140": 1.4,
    "mobilenet_v2_075": 0.75,
    "mobilenet_v2_050": 0.5,
    "mobilenet_v2_035": 0.35,
}


def randomize_batchnorm(model: nn.Module) -> None:
    """Give every BN non-trivial statistics and affine terms, and the classifier a unit-scale
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


def test_default_parameter_count() -> None:
    with torch.device("meta"):
        assert count_parameters(create_model("mobilenet_v2")) == 3_504_872


@pytest.mark.parametrize(("name", "width"), WIDTHS.items())
def test_parameter_count_equals_torchvision(name: str, width: float) -> None:
    with torch.device("meta"):
        ours = create_model(name)
        theirs = tv_mobilenet_v2(weights=None, width_mult=width)
    assert count_parameters(ours) == count_parameters(theirs)


@pytest.mark.parametrize(("name", "width"), WIDTHS.items())
@torch.no_grad()
def test_torchvision_weights_give_the_same_outputs(name: str, width: float) -> None:
    theirs = tv_mobilenet_v2(weights=None, width_mult=width).eval()
    randomize_batchnorm(theirs)
    ours = create_model(name).eval()
    load_torchvision_state_dict(ours, theirs.state_dict())
    x = torch.randn(2, 3, 128, 128)
    expected = theirs(x)
    assert expected.std() > 1e-2  # a meaningful signal, not a vanishing one
    assert (ours(x) - expected).abs().max() <= 1e-5


def test_layout_follows_table2() -> None:
    with torch.device("meta"):
        model = MobileNetV2()
        features = model.forward_features(torch.empty(1, 3, 224, 224))
    assert model.stem.conv.out_channels == 32
    assert [len(stage) for stage in model.stages] == [n for _, _, n, _ in STAGES]
    for stage, (t, c, _, s) in zip(model.stages, STAGES, strict=True):
        first = stage[0].cfg
        assert (first.exp_chs // first.in_chs, first.out_chs, first.stride) == (t, c, s)
        assert all(block.cfg.stride == 1 and block.use_residual for block in stage[1:])
    assert features.shape == (1, 1280, 7, 7)  # Table 2: 7²×320 → conv2d 1×1 → 7²×1280


def test_last_conv_is_scaled_only_above_one() -> None:
    with torch.device("meta"):
        assert MobileNetV2(width=0.35).num_features == 1280
        assert MobileNetV2(width=1.4).num_features == 1792
        assert MobileNetV2(width=0.35).stem.conv.out_channels == 16  # 11.2 → 16, not 8


def test_registry_entries() -> None:
    entry = get_entry("mobilenet_v2")
    assert entry.name == "mobilenet_v2_100"
    assert entry.torchvision == "mobilenet_v2"
    assert entry.family == "mobilenet_v2"
    assert all(get_entry(name).torchvision is None for name in list(WIDTHS)[1:])


@torch.no_grad()
def test_classifier_interface() -> None:
    model = create_model("mobilenet_v2_035", num_classes=5).eval()
    assert model.drop_rate == 0.2
    x = torch.randn(2, 3, 64, 64)
    features = model.forward_features(x)
    assert features.shape == (2, 1280, 2, 2)
    assert model.forward_head(features, pre_logits=True).shape == (2, 1280)
    assert model(x).shape == (2, 5)
    assert model(torch.randn(1, 3, 32, 32)).shape == (1, 5)
    model.reset_classifier(10)
    assert model(x).shape == (2, 10)


@pytest.mark.parametrize("width", [0, -1.0, "1.0"])
def test_bad_width_is_rejected(width: object) -> None:
    with pytest.raises(ValueError, match="width"):
        MobileNetV2(width=width)
