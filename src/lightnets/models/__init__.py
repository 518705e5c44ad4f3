"""The model zoo. Importing a family module registers its variants."""

from . import (  # noqa: F401  (imported to register their variants)
    hamida3d,
    hu1d,
    hybridsn,
    hybridsn_variants,
    mobilenet_v1,
    mobilenet_v2,
    mobilenet_v3,
    resnet,
    shufflenet_v1,
    shufflenet_v2,
    ssftt,
)
from .base import Classifier
from .registry import ModelEntry, create_model, get_entry, list_models, register_model
from .torchvision_compat import load_torchvision_state_dict, map_torchvision_keys

__all__ = [
    "Classifier",
    "ModelEntry",
    "create_model",
    "get_entry",
    "list_models",
    "load_torchvision_state_dict",
    "map_torchvision_keys",
    "register_model",
]
