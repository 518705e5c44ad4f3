import pytest
import torch

import lightnets
from lightnets.models import get_entry, list_models, register_model
from lightnets.models.registry import _ALIASES, _ENTRIES


def test_list_models_fnmatch_and_sorted() -> None:
    names = list_models()
    assert names == sorted(names) and len(names) == len(set(names))
    assert all(n.startswith("mobilenet") for n in list_models("mobilenet*"))
    assert list_models("no_such_family*") == []
    with pytest.raises(ValueError, match=r"^pattern: expected a shell-style pattern"):
        list_models(3)  # type: ignore[arg-type]


@pytest.fixture
def toy_entry():
    def build(num_classes: int = 1000, in_chans: int = 3, width: float = 1.0):
        return torch.nn.Linear(in_chans, num_classes), width

    register_model("toy_net_050", build, paper="toy", family="toy", aliases=("toy_net",), width=0.5)
    yield
    del _ENTRIES["toy_net_050"], _ALIASES["toy_net"]


def test_register_create_and_aliases(toy_entry) -> None:
    (layer, width) = lightnets.create_model("toy_net", num_classes=7, in_chans=2)
    assert width == 0.5 and layer.out_features == 7 and layer.in_features == 2
    assert get_entry("toy_net").name == "toy_net_050"
    assert "toy_net_050" in list_models("toy*") and "toy_net" not in list_models("toy*")
    with pytest.raises(ValueError, match="already registered"):
        register_model("toy_net", lambda: None, paper="", family="toy")


def test_fixed_variant_arguments_cannot_be_overridden(toy_entry) -> None:
    with pytest.raises(ValueError, match=r"^width: expected no value: toy_net_050 fixes width"):
        lightnets.create_model("toy_net_050", width=2.0)


def test_pretrained_requires_a_torchvision_twin(toy_entry) -> None:
    expected = r"^pretrained: expected a model with torchvision.s published ImageNet weights \("
    with pytest.raises(ValueError, match=expected + r"mobilenet_v2_100, .*got 'toy_net_050'"):
        lightnets.create_model("toy_net_050", pretrained=True)


def test_unknown_name_lists_the_closest(toy_entry) -> None:
    with pytest.raises(ValueError, match=r"^name: expected a registered model name") as err:
        lightnets.create_model("toy_net_05")
    assert "closest: toy_net_050, toy_net" in str(err.value)
    with pytest.raises(ValueError, match=r"see lightnets.list_models\(\)"):
        lightnets.create_model("zzzzzz")
