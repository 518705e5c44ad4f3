"""Checks every registered model must pass, whatever its family."""

import pytest
import torch

import lightnets
from lightnets.models import get_entry

IMAGE_MODELS = lightnets.list_models(task="image")
ALL_MODELS = lightnets.list_models()


def _sample(model: torch.nn.Module, batch: int, size: int | None = None) -> torch.Tensor:
    shape = list(model.input_shape)
    if size is not None and get_entry_task(model) == "image":
        shape[-2:] = [size, size]
    return torch.randn(batch, *shape)


def get_entry_task(model: torch.nn.Module) -> str:
    return "image" if isinstance(model, lightnets.models.Classifier) else "hsi"


def test_the_zoo_is_populated() -> None:
    families = {get_entry(n).family for n in ALL_MODELS}
    assert {
        "mobilenet_v1",
        "mobilenet_v2",
        "mobilenet_v3",
        "shufflenet_v1",
        "shufflenet_v2",
        "resnet",
        "hybridsn",
    } <= families


@pytest.mark.parametrize("name", ALL_MODELS)
def test_forward_backward_and_interface(name: str) -> None:
    model = lightnets.create_model(name, num_classes=5)
    assert model.num_classes == 5
    x = _sample(model, 2, size=64)
    out = model(x)
    assert out.shape == (2, 5)
    out.square().mean().backward()
    grads = [p.grad for p in model.parameters() if p.requires_grad]
    assert grads and all(g is not None and torch.isfinite(g).all() for g in grads)

    features = model.forward_features(x)
    pooled = model.forward_head(features, pre_logits=True)
    assert pooled.ndim == 2 and pooled.shape[0] == 2
    model.reset_classifier(3)
    assert model.num_classes == 3
    assert model(x).shape == (2, 3)


@pytest.mark.parametrize("name", ALL_MODELS)
def test_eval_mode_is_deterministic(name: str) -> None:
    model = lightnets.create_model(name, num_classes=4).eval()
    x = _sample(model, 2, size=64)
    with torch.inference_mode():
        a, b = model(x), model(x)
    assert torch.equal(a, b)
    # Dropout active in train mode would make repeated calls differ (for models with dropout).
    if model.drop_rate > 0:
        model.train()
        assert not torch.equal(model(x), model(x))


@pytest.mark.parametrize("name", IMAGE_MODELS)
def test_any_input_from_32_and_other_channel_counts(name: str) -> None:
    model = lightnets.create_model(name, num_classes=2, in_chans=1).eval()
    with torch.inference_mode():
        assert model(torch.randn(1, 1, 32, 32)).shape == (1, 2)
        assert model(torch.randn(1, 1, 45, 37)).shape == (1, 2)


@pytest.mark.parametrize("name", IMAGE_MODELS)
def test_bad_input_names_the_argument(name: str) -> None:
    with pytest.raises(ValueError, match=r"^num_classes: expected an integer >= 1, got 0"):
        lightnets.create_model(name, num_classes=0)
    with pytest.raises(ValueError, match=r"^in_chans: expected an integer >= 1, got 0"):
        lightnets.create_model(name, in_chans=0)
    with pytest.raises(ValueError, match=r"^drop_rate: expected a number in \[0, 1\)"):
        lightnets.create_model(name, drop_rate=1.5)
    model = lightnets.create_model(name, num_classes=2)
    with pytest.raises(ValueError, match=r"^input: expected height and width >= 32"):
        model(torch.randn(1, 3, 16, 40))
    with pytest.raises(ValueError, match=r"^input: expected a tensor of shape \(N, 3, H, W\)"):
        model(torch.randn(1, 4, 64, 64))
