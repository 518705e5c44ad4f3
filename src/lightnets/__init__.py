"""lightnets: efficient CNNs, exact to the papers, and hyperspectral classification."""

from ._version import __version__
from .inference import predictor
from .models import create_model, list_models, load_torchvision_state_dict
from .profiling import profile

__all__ = [
    "__version__",
    "create_model",
    "list_models",
    "load_torchvision_state_dict",
    "predictor",
    "profile",
]
