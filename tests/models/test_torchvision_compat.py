"""Our twins of torchvision networks load its weights and give the same outputs."""

import pytest
import torch
import torchvision

import lightnets
from lightnets.models import get_entry, load_torchvision_state_dict, map_torchvision_keys

TWINS = [n for n in lightnets.list_models() if get_entry(n).torchvision]


def test_every_expected_twin_is_registered() -> None:
    expected = {
        "mobilenet_v2",
        "mobilenet_v3_large",
        "mobilenet_v3_small",
        "resnet18",
        "resnet34",
        "resnet50",
    } | {f"shufflenet_v2_x{s}" for s in ("0_5", "1_0", "1_5", "2_0")}
    assert expected <= {get_entry(n).torchvision for n in TWINS}


@pytest.mark.parametrize("name", TWINS)
def test_same_parameters_and_outputs_as_torchvision(name: str, randomize_bn) -> None:
    tv = torchvision.models.get_model(get_entry(name).torchvision, weights=None)
    randomize_bn(tv)
    ours = lightnets.create_model(name)
    assert sum(p.numel() for p in ours.parameters()) == sum(p.numel() for p in tv.parameters())
    load_torchvision_state_dict(ours, tv.state_dict())
    x = torch.randn(2, 3, 96, 96)
    with torch.inference_mode():
        diff = (ours.eval()(x) - tv.eval()(x)).abs().max().item()
    assert diff <= 1e-5


def test_mismatched_state_dict_names_both_tensors() -> None:
    tv = torchvision.models.resnet18(weights=None)
    ours = lightnets.create_model("mobilenet_v2")
    with pytest.raises(ValueError, match=r"^state_dict: expected \d+ tensors"):
        map_torchvision_keys(ours, tv.state_dict())
    wrong = dict(tv.state_dict())
    key = next(iter(wrong))
    wrong[key] = torch.zeros(1)
    with pytest.raises(ValueError, match=r"state_dict: expected .* at this position, got conv1"):
        load_torchvision_state_dict(lightnets.create_model("resnet18"), wrong)


def test_pretrained_loads_torchvision_weights_then_resets_the_head(monkeypatch, tmp_path) -> None:
    """The pretrained path, offline: torch.hub's cache in a temporary folder and the download
    substituted by torchvision's network with random weights."""
    reference = torchvision.models.resnet18(weights=None)
    monkeypatch.setenv("TORCH_HOME", str(tmp_path))

    def download(url, dst, hash_prefix=None, progress=True):
        assert url.endswith("/resnet18-f37072fd.pth") and hash_prefix == "f37072fd"
        torch.save(reference.state_dict(), dst)

    monkeypatch.setattr(torch.hub, "download_url_to_file", download)
    model = lightnets.create_model("resnet18", pretrained=True, num_classes=7)
    assert model.num_classes == 7 and model.classifier.out_features == 7
    ours = dict(model.named_parameters())
    first = next(iter(ours))
    assert torch.equal(ours[first], reference.conv1.weight)
    assert (tmp_path / "hub" / "checkpoints" / "resnet18-f37072fd.pth").is_file()


def test_pretrained_offline_gives_one_clear_error(monkeypatch, tmp_path) -> None:
    monkeypatch.setenv("TORCH_HOME", str(tmp_path))

    def offline(*_args, **_kwargs):
        raise OSError("no network")

    monkeypatch.setattr(torch.hub, "download_url_to_file", offline)
    folder = tmp_path / "hub" / "checkpoints"
    with pytest.raises(
        FileNotFoundError, match=r"^pretrained: torchvision's weights for resnet18 "
    ) as err:
        lightnets.create_model("resnet18", pretrained=True)
    assert "put resnet18-f37072fd.pth from https://download.pytorch.org/models/" in str(err.value)
    assert str(err.value).endswith(f" in {folder}")
    with pytest.raises(ValueError, match=r"^in_chans: expected 3 with pretrained=True, got 1"):
        lightnets.create_model("resnet18", pretrained=True, in_chans=1)
