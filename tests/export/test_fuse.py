"""Conv–BN folding and channels-last: same outputs as the plain eval-mode model."""

from __future__ import annotations

import pytest
import torch
from torch import nn

import lightnets
from lightnets.export import count_batchnorms, fuse_conv_bn, to_channels_last

IMAGE_MODELS = lightnets.list_models(task="image")
# One variant per family (plus HybridSN, which has Conv3d weights) for the channels-last check.
FAMILY_SAMPLES = [
    "mobilenet_v1_025",
    "mobilenet_v2_035",
    "mobilenet_v3_small_075",
    "shufflenet_v1_g3_x0_5",
    "shufflenet_v2_x0_5",
    "se_resnet18",
    "cbam_resnet18",
]
# Folding is exact in real numbers; float32 rounding of the folded weights gives ~1e-7 of the
# output scale (resnet50: 2.5e-5 on logits of magnitude 16), so compare relative to that scale.
FUSE_RTOL = 1e-5


def _max_diff(a: torch.Tensor, b: torch.Tensor) -> float:
    return float((a - b).abs().max())


@pytest.fixture(autouse=True)
def _one_thread(one_thread):
    """These small passes run faster on one intra-op thread (see tests/conftest.py)."""


@pytest.mark.parametrize("name", IMAGE_MODELS)
def test_fused_equals_unfused(randomize_bn, name: str) -> None:
    model = randomize_bn(lightnets.create_model(name, num_classes=10)).eval()
    x = torch.randn(2, 3, 64, 64)
    fused = fuse_conv_bn(model)
    with torch.inference_mode():
        want, got = model(x), fused(x)
    scale = max(float(want.abs().max()), 1e-3)
    assert _max_diff(got, want) <= FUSE_RTOL * scale
    assert count_batchnorms(fused) == 0
    assert count_batchnorms(model) > 0  # the original is untouched


def test_fuse_folds_into_conv_bias_and_keeps_the_original(randomize_bn) -> None:
    model = randomize_bn(lightnets.create_model("mobilenet_v1_025", num_classes=10))
    model.train()
    before = {k: v.clone() for k, v in model.state_dict().items()}
    fused = fuse_conv_bn(model)
    assert model.training and not fused.training
    assert isinstance(fused.stem.bn, nn.Identity) and isinstance(model.stem.bn, nn.BatchNorm2d)
    convs = [m for m in fused.modules() if isinstance(m, nn.Conv2d)]
    assert convs and all(c.bias is not None for c in convs)
    after = model.state_dict()
    assert all(torch.equal(before[k], after[k]) for k in before)


def test_fuse_skips_a_bn_that_does_not_follow_a_conv(randomize_bn) -> None:
    model = nn.Sequential(nn.BatchNorm2d(3), nn.Conv2d(3, 4, 3), nn.ReLU(), nn.BatchNorm2d(4))
    randomize_bn(model)
    fused = fuse_conv_bn(model)
    assert count_batchnorms(fused) == 2
    x = torch.randn(1, 3, 8, 8)
    with torch.inference_mode():
        assert _max_diff(fused(x), model.eval()(x)) == 0


def test_fuse_rejects_a_non_module() -> None:
    with pytest.raises(ValueError, match=r"model: expected a torch\.nn\.Module"):
        fuse_conv_bn("resnet18")


@pytest.mark.parametrize("name", FAMILY_SAMPLES)
def test_channels_last_equals_nchw(randomize_bn, name: str) -> None:
    model = randomize_bn(lightnets.create_model(name, num_classes=10)).eval()
    x = torch.randn(2, 3, 64, 64)
    with torch.inference_mode():
        want = model(x)
        cl = to_channels_last(model)
        got = cl(x.to(memory_format=torch.channels_last))
    assert cl is model
    weights = [p for p in model.parameters() if p.ndim == 4]
    assert all(p.is_contiguous(memory_format=torch.channels_last) for p in weights)
    assert _max_diff(got, want) <= FUSE_RTOL * max(float(want.abs().max()), 1e-3)


def test_channels_last_leaves_conv3d_weights_of_hybridsn() -> None:
    model = lightnets.create_model("hybridsn", bands=15, num_classes=4, window=11).eval()
    x = torch.randn(2, 15, 11, 11)
    with torch.inference_mode():
        want = model(x)
        got = to_channels_last(model)(x.to(memory_format=torch.channels_last))
    assert model.conv4.weight.is_contiguous(memory_format=torch.channels_last)
    assert model.conv1.weight.is_contiguous()
    assert _max_diff(got, want) <= 1e-5 * max(float(want.abs().max()), 1e-3)
