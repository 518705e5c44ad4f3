"""Hu1D: the 1-D spectral CNN that classifies one pixel from its spectrum alone.

Hu, Huang, Wei, Zhang, Li (2015), "Deep Convolutional Neural Networks for Hyperspectral Image
Classification", Journal of Sensors, article 258619. Five layers: the input spectrum of ``n1``
bands; a convolution C1 of 20 kernels of size ``k1 = ⌊n1 / 9⌋``; a max pooling M2 of size
``k2``; a fully connected layer F3 of 100 units; the output layer. ``tanh`` activations (the
paper's choice), all parameters drawn uniformly from [−0.05, 0.05] (the paper's initialisation),
no dropout.

The paper chooses the pooling size ``k2`` so that the pooled maps keep a few tens of values;
``k2 = ⌈k1 / 5⌉`` is the rule of the DeepHyperX toolbox (Audebert, Le Saux, Lefèvre 2019, "Deep
Learning for Classification of Hyperspectral Data: A Comparative Review", IEEE GRSM; ``HuEtAl``
in its ``models.py``), whose layers this module follows: pooling with stride ``k2`` that drops a
last partial window, ``tanh`` after the pooling and after F3.

Layer table (``n1`` bands, ``K`` classes; parameters = weights + biases):

=====  =====================================  ================================
layer  output                                 parameters
=====  =====================================  ================================
C1     20 × n2,  n2 = n1 − k1 + 1             20 · (k1 + 1)
M2     20 × n3,  n3 = ⌊n2 / k2⌋               0
F3     100                                    100 · 20 · n3 + 100
O5     K                                      K · 100 + K
=====  =====================================  ================================

* 220 bands (the uncorrected Indian Pines cube), 8 classes: k1 = 24, n2 = 197, k2 = 5, n3 = 39:
  500 + 78,100 + 808 = 79,408 parameters;
* 224 bands (Salinas), 16 classes: k1 = 24, n2 = 201, k2 = 5, n3 = 40: 500 + 80,100 + 1,616 =
  82,216;
* 103 bands (Pavia University), 9 classes: k1 = 11, n2 = 93, k2 = 3, n3 = 31: 240 + 62,100 +
  909 = 63,249;
* 200 bands, 16 classes (corrected Indian Pines): k1 = 22, n2 = 179, k2 = 5, n3 = 35:
  460 + 70,100 + 1,616 = 72,176;
* 30 PCA bands, 16 classes: k1 = 3, n2 = 28, k2 = 1, n3 = 28: 80 + 56,100 + 1,616 = 57,796.

Hu et al.'s Table 1 gives k1 = 24 / 24 / 11 and k2 = 5 / 5 / 3 for these three scenes (so
``k1 = ⌊n1 / 9⌋``, ``k2 = ⌈k1 / 5⌉``), and 81,408 / 82,216 / 61,249 trainable parameters; its
pooled lengths n3 = 40 / 40 / 30 follow no single rounding of n2 / k2 (197 / 5, 201 / 5,
93 / 3), so with the usual floor pooling Salinas matches exactly and Indian Pines (−2.5 %) and
Pavia University (+3.3 %) differ by the one-off pooled length.

The model is meant for all bands of a cube (its first layer is sized by them), but it takes
whatever ``bands`` it is given, PCA components included.

Patch model interface (:mod:`lightnets.hsi.engine`): the window is one pixel
(``window = feature_window = 1``). :meth:`Hu1D.forward_features` runs C1 and M2 on every pixel
of an ``N × bands × H × W`` input independently, so it works on a whole scene, and
:meth:`Hu1D.scene_head` applies F3 and the output layer as 1×1 convolutions.
"""

from __future__ import annotations

import math
from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from .._checks import bad_value
from .patch import PatchModel
from .registry import register_model

# Layer sizes of Hu et al. (2015).
C1_KERNELS = 20
F3_UNITS = 100
INIT_RANGE = 0.05  # "random value between −0.05 and 0.05"
DEFAULT_BANDS = 200  # corrected Indian Pines


def spectral_sizes(bands: int) -> tuple[int, int, int, int]:
    """``(k1, n2, k2, n3)`` for ``bands`` input bands: kernel, conv length, pool, pooled length."""
    k1 = max(1, bands // 9)  # Hu et al. Table 1: 220 → 24, 224 → 24, 103 → 11
    n2 = bands - k1 + 1
    k2 = math.ceil(k1 / 5)
    n3 = n2 // k2
    return k1, n2, k2, n3


class Hu1D(PatchModel):
    """Hu et al.'s 1-D CNN on the spectrum of a single pixel (``window = 1``)."""

    DEFAULT_BANDS = DEFAULT_BANDS

    def _check_window(self, window: Any) -> int:
        if isinstance(window, bool) or not isinstance(window, int) or window != 1:
            raise bad_value("window", "1 (hu1d classifies a pixel from its spectrum alone)", window)
        return 1

    def _build(self) -> None:
        k1, _, k2, n3 = spectral_sizes(self.bands)
        self.conv = nn.Conv1d(1, C1_KERNELS, k1)
        self.pool = nn.MaxPool1d(k2)
        self.fc = nn.Linear(C1_KERNELS * n3, F3_UNITS)
        self.num_features = F3_UNITS
        self.head_drop = nn.Dropout(self.drop_rate)
        self.classifier = nn.Linear(F3_UNITS, self.num_classes)
        for p in self.parameters():
            nn.init.uniform_(p, -INIT_RANGE, INIT_RANGE)

    def _init_classifier(self, linear: nn.Linear) -> None:
        for p in linear.parameters():
            nn.init.uniform_(p, -INIT_RANGE, INIT_RANGE)

    def forward_features(self, x: Tensor) -> Tensor:
        """C1 and M2 at every pixel: ``N × bands × H × W`` → ``N × (20·n3) × H × W``.

        Each pixel's spectrum goes through the 1-D layers on its own (one row of a batch of
        ``N·H·W`` spectra); the features are ordered (kernel, pooled position), as a flattened
        ``20 × n3`` map.
        """
        n, b, h, w = x.shape
        spectra = x.permute(0, 2, 3, 1).reshape(n * h * w, 1, b)
        # tanh is increasing, so pooling before it equals the paper's tanh-then-pool.
        f = torch.tanh(self.pool(self.conv(spectra)))
        return f.reshape(n, h, w, -1).permute(0, 3, 1, 2)

    def forward_head(self, x: Tensor, pre_logits: bool = False) -> Tensor:
        """F3 and the output layer on ``N × F × 1 × 1`` features; ``pre_logits`` stops at F3."""
        x = torch.tanh(self.fc(x.flatten(1)))
        if pre_logits:
            return x
        return self.classifier(self.head_drop(x))

    def scene_head(self, x: Tensor) -> Tensor:
        """F3 and the output layer as 1×1 convolutions: ``N × F × h × w`` → ``N × K × h × w``."""
        x = torch.tanh(F.conv2d(x, self.fc.weight[:, :, None, None], self.fc.bias))
        x = self.head_drop(x)
        return F.conv2d(x, self.classifier.weight[:, :, None, None], self.classifier.bias)


def hu1d(**kwargs: Any) -> Hu1D:
    """Hu et al.'s 1-D spectral CNN; ``bands`` defaults to 200 (corrected Indian Pines).

    ``window`` must be 1: the network sees one pixel. Keywords as
    :class:`~lightnets.models.patch.PatchModel` (``in_chans`` is another name for ``bands``).
    """
    return Hu1D(**kwargs)


register_model("hu1d", hu1d, paper="1-D CNN (Hu et al. 2015)", family="hu1d", task="hsi")
