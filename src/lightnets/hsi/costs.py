"""What classifying one pixel costs: parameters and multiply-adds on the scene and patch paths.

Multiply-adds follow :mod:`lightnets.profiling` (convolutions and matrix products only).

* **Scene path** (:func:`lightnets.hsi.engine.predict_scene`): the convolutions run once over
  the scene, so a pixel costs what ``forward_features`` spends per position of its output map,
  plus one head. Every spatial step of a patch model is a valid, stride-1 convolution, so on an
  ``S × S`` input the trunk costs ``Σ_l c_l (S − s_l)²`` (layer ``l`` trims ``s_l`` pixels and
  spends ``c_l`` per output position); the second difference in ``S`` is ``2 Σ_l c_l``, the
  cost per position, whatever ``s_l``. The head's cost is that of ``forward`` minus that of
  ``forward_features`` on one window.
* **Patch path** (:func:`lightnets.hsi.engine.predict_patches`): ``forward`` on each pixel's
  own ``window × window`` patch.
* **RBF SVM** (:class:`lightnets.hsi.svm.SpectralSVM`, one-vs-one): a pixel is compared with
  every support vector (``bands`` multiply-adds each), and each support vector weighs into the
  ``K − 1`` classifiers of its class (its dual coefficients). Its "parameters" are the numbers
  it stores: support vectors, dual coefficients, ``K (K − 1) / 2`` intercepts and the
  standardisation's mean and scale per band.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor, nn

from .._checks import check_int
from ..models import create_model
from ..profiling import count_macs, count_parameters


@dataclass(frozen=True)
class PixelCost:
    """Parameters, multiply-adds per pixel on the scene path and per window on the patch path
    (``None`` where the classifier has no patch path)."""

    params: int
    macs_per_pixel: int
    macs_per_window: int | None


class _Trunk(nn.Module):
    """``forward_features`` of a patch model as a module's ``forward``, for counting."""

    def __init__(self, model: nn.Module) -> None:
        super().__init__()
        self.model = model

    def forward(self, x: Tensor) -> Tensor:
        return self.model.forward_features(x)


def patch_model_cost(model: nn.Module) -> PixelCost:
    """The cost of a patch model (built at its scene's bands, classes and window)."""
    bands, window = model.in_chans, model.window
    trunk = _Trunk(model)
    side = [count_macs(trunk, (bands, s, s)) for s in (window, window + 1, window + 2)]
    per_position = (side[2] - 2 * side[1] + side[0]) // 2
    per_window = count_macs(model, (bands, window, window))
    head = per_window - side[0]
    return PixelCost(count_parameters(model), per_position + head, per_window)


def registered_model_cost(name: str, *, bands: int, num_classes: int, window: int) -> PixelCost:
    """:func:`patch_model_cost` of the registered model ``name``, built on ``meta`` (no cost)."""
    with torch.device("meta"):
        model = create_model(name, num_classes=num_classes, bands=bands, window=window)
    return patch_model_cost(model)


def svm_cost(support_vectors: int, *, bands: int, num_classes: int) -> PixelCost:
    """The cost of a fitted one-vs-one RBF SVM with ``support_vectors`` support vectors."""
    n = check_int("support_vectors", support_vectors, minimum=0)
    k = check_int("num_classes", num_classes, minimum=2)
    b = check_int("bands", bands, minimum=1)
    params = n * b + n * (k - 1) + k * (k - 1) // 2 + 2 * b
    return PixelCost(params, n * b + n * (k - 1), None)
