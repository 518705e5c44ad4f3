"""Hamida3D: a small 3-D CNN whose strided spectral layers shrink the bands before a linear head.

Ben Hamida, Benoit, Lambert, Ben Amar (2018), "3-D Deep Learning Approach for Remote Sensing
Image Classification", IEEE TGRS 56(8). The layer table is the configuration in common use, that
of the DeepHyperX toolbox (Audebert, Le Saux, Lefèvre 2019, "Deep Learning for Classification
of Hyperspectral Data: A Comparative Review", IEEE GRSM; ``HamidaEtAl`` in its ``models.py``),
which follows the paper's text: a 3×3×3 convolution of 20 neurons, a "pooling" layer that is a
convolution with a 3×1×1 kernel and spectral stride 2, the same pair with 35 neurons, then two
35-neuron convolutions of 3×1×1 (stride 1) and 2×1×1 (spectral stride 2), and a fully connected
layer to the classes; 5×5 patches, ReLU after the four convolutions (the strided "pooling" ones
are linear), He-normal weights, zero biases, no dropout, no batch norm.

Layer table (``B`` bands, ``K`` classes; kernels and strides spectral × row × column; the
spectral axis is padded by 1 in every layer but the first, never the spatial axes):

======  ========  =========  ====  =============================  ====================
layer   kernel    stride     out   bands out                      parameters
======  ========  =========  ====  =============================  ====================
conv1   3×3×3     1×1×1      20    D1 = B − 2                     20·27 + 20 = 560
pool1   3×1×1     2×1×1      20    D2 = ⌊(D1 − 1) / 2⌋ + 1        20·20·3 + 20 = 1,220
conv2   3×3×3     1×1×1      35    D2                             35·20·27 + 35 = 18,935
pool2   3×1×1     2×1×1      35    D3 = ⌊(D2 − 1) / 2⌋ + 1        35·35·3 + 35 = 3,710
conv3   3×1×1     1×1×1      35    D3                             35·35·3 + 35 = 3,710
conv4   2×1×1     2×1×1      35    D4 = ⌊D3 / 2⌋ + 1              35·35·2 + 35 = 2,485
fc      —         —          K     —                              35·D4·fw²·K + K
======  ========  =========  ====  =============================  ====================

With 30 bands, a 5×5 window (``fw = 1``) and 16 classes: D = 28, 14, 7, 4, fc 35·4·16 + 16 =
2,256, 32,876 parameters in all; with the 200 bands of corrected Indian Pines D4 = 26 and
45,196.

Patch model interface (:mod:`lightnets.hsi.engine`): the strides act on the spectral axis only
and every spatial step is a valid, stride-1 3×3 (or 1×1) convolution, so
:meth:`Hamida3D.forward_features` runs on a whole scene (spatial shrink 4, ``feature_window =
window − 4``) and :meth:`Hamida3D.scene_head` is the fully connected layer as a
``feature_window``-sized convolution. DeepHyperX pads the spatial axes for 3×3 patches; that
breaks the equivalence, so windows start at 5.
"""

from __future__ import annotations

from typing import Any

import torch.nn.functional as F
from torch import Tensor, nn

from .patch import PatchModel
from .registry import register_model

FILTERS = (20, 35)
SPATIAL_SHRINK = 4  # two valid 3×3 convolutions
MIN_WINDOW = SPATIAL_SHRINK + 1
MIN_BANDS = 3  # one band left after conv1


def spectral_sizes(bands: int) -> tuple[int, int, int, int]:
    """``(D1, D2, D3, D4)``: bands left after conv1, pool1, pool2 (and conv3), conv4."""
    d1 = bands - 2
    d2 = (d1 - 1) // 2 + 1
    d3 = (d2 - 1) // 2 + 1
    d4 = d3 // 2 + 1
    return d1, d2, d3, d4


class Hamida3D(PatchModel):
    """Ben Hamida et al.'s 3-D CNN for ``window × window`` patches of a ``bands``-band cube."""

    MIN_BANDS = MIN_BANDS
    SPATIAL_SHRINK = SPATIAL_SHRINK
    MIN_WINDOW = MIN_WINDOW
    DEFAULT_WINDOW = 5

    def _build(self) -> None:
        c1, c2 = FILTERS
        self.conv1 = nn.Conv3d(1, c1, 3)
        self.pool1 = nn.Conv3d(c1, c1, (3, 1, 1), stride=(2, 1, 1), padding=(1, 0, 0))
        self.conv2 = nn.Conv3d(c1, c2, 3, padding=(1, 0, 0))
        self.pool2 = nn.Conv3d(c2, c2, (3, 1, 1), stride=(2, 1, 1), padding=(1, 0, 0))
        self.conv3 = nn.Conv3d(c2, c2, (3, 1, 1), padding=(1, 0, 0))
        self.conv4 = nn.Conv3d(c2, c2, (2, 1, 1), stride=(2, 1, 1), padding=(1, 0, 0))
        d4 = spectral_sizes(self.bands)[3]
        self.num_features = c2 * d4 * self.feature_window**2
        self.head_drop = nn.Dropout(self.drop_rate)
        self.classifier = nn.Linear(self.num_features, self.num_classes)
        for m in self.modules():
            if isinstance(m, (nn.Conv3d, nn.Linear)):
                nn.init.kaiming_normal_(m.weight)
                nn.init.zeros_(m.bias)

    def _init_classifier(self, linear: nn.Linear) -> None:
        nn.init.kaiming_normal_(linear.weight)
        nn.init.zeros_(linear.bias)

    def forward_features(self, x: Tensor) -> Tensor:
        """Convolutions: ``N × bands × H × W`` → ``N × (35·D4) × (H − 4) × (W − 4)``, H, W ≥ 5.

        The 35 filters × D4 remaining bands are folded into the channels (filter-major, the
        order of the reference code's flatten).
        """
        x = x.unsqueeze(1)  # N × 1 × bands × H × W
        x = self.pool1(F.relu(self.conv1(x)))
        x = self.pool2(F.relu(self.conv2(x)))
        x = F.relu(self.conv3(x))
        x = F.relu(self.conv4(x))
        return x.flatten(1, 2)

    def forward_head(self, x: Tensor, pre_logits: bool = False) -> Tensor:
        """The fully connected layer on ``N × F × fw × fw`` features (flattened channel-first);
        ``pre_logits`` returns the flattened features."""
        x = x.flatten(1)
        if pre_logits:
            return x
        return self.classifier(self.head_drop(x))

    def scene_head(self, x: Tensor) -> Tensor:
        """The fully connected layer as an ``fw × fw`` convolution: ``N × F × h × w`` → logits
        ``N × K × (h − fw + 1) × (w − fw + 1)``."""
        fw = self.feature_window
        weight = self.classifier.weight.view(self.num_classes, -1, fw, fw)
        return F.conv2d(self.head_drop(x), weight, self.classifier.bias)


def hamida3d(**kwargs: Any) -> Hamida3D:
    """Ben Hamida et al.'s 3-D CNN; defaults: 30 bands, 5×5 patches, 16 classes.

    Keywords as :class:`~lightnets.models.patch.PatchModel`: ``num_classes``, ``bands`` (or
    ``in_chans``, the input's channel axis), ``window``, ``drop_rate``.
    """
    return Hamida3D(**kwargs)


register_model(
    "hamida3d", hamida3d, paper="3-D CNN (Ben Hamida et al. 2018)", family="hamida3d", task="hsi"
)
