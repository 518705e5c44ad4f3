"""HybridSN: a 3-D then 2-D CNN that classifies the centre pixel of a hyperspectral patch.

Roy, Krishna, Dubey, Chaudhuri (2020), "HybridSN: Exploring 3-D–2-D CNN Feature Hierarchy for
Hyperspectral Image Classification", IEEE GRSL 17(2). Layers as the paper and its reference
code: three valid 3-D convolutions (8, 16, 32 filters; kernels 7×3×3, 5×3×3, 3×3×3, spectral ×
spatial), the remaining bands folded into the channels, a valid 2-D convolution (64 filters,
3×3), then dense 256 → dense 128 → classes, ReLU everywhere, dropout 0.4 after both hidden
dense layers, no batch norm; the 64 × 17 × 17 maps are flattened in (row, column, channel)
order, as the reference code's channels-last ``Flatten``. With 30 bands, a 25×25 window and
16 classes (Indian Pines) that is 5,122,176 parameters; with 15 bands and 9 classes (Pavia
University) 4,844,793.

Input: ``N × bands × window × window`` (bands on the channel axis, as the image classifiers'
``N × C × H × W``); :meth:`HybridSN.forward_features` adds the singleton channel the 3-D
convolutions need. Every layer before the dense ones is a valid, stride-1 convolution, so
``forward_features`` also runs on a whole (padded) scene, and :meth:`HybridSN.scene_head`
applies the dense layers as the equivalent convolutions: ``lightnets.hsi.engine`` builds the
one-pass scene map and the fast training path on these two methods.
"""

from __future__ import annotations

from typing import Any

import torch.nn.functional as F
from torch import Tensor, nn

from .patch import PatchModel
from .registry import register_model

# Layer sizes of Roy et al. (2020) and their reference code.
SPECTRAL_KERNELS = (7, 5, 3)
CONV3D_FILTERS = (8, 16, 32)
CONV2D_FILTERS = 64
HIDDEN_UNITS = (256, 128)
# Each 3×3 convolution (three 3-D, one 2-D) trims one pixel per side: 8 in all.
SPATIAL_SHRINK = 8
# 13 = 7 + 5 + 3 − 2: one band left after the 3-D convolutions.
MIN_BANDS = sum(SPECTRAL_KERNELS) - len(SPECTRAL_KERNELS) + 1
MIN_WINDOW = SPATIAL_SHRINK + 1  # 9: one pixel left after the convolutions


class HybridSNBase(PatchModel):
    """What HybridSN and its variants share: the valid stages' geometry (8 pixels trimmed, at
    least 13 bands) and the defaults (25×25 windows, dropout 0.4). Layers are the subclasses'."""

    MIN_BANDS = MIN_BANDS
    SPATIAL_SHRINK = SPATIAL_SHRINK
    MIN_WINDOW = MIN_WINDOW
    DEFAULT_WINDOW = 25
    DEFAULT_DROP_RATE = 0.4


class HybridSN(HybridSNBase):
    """HybridSN for ``window × window`` patches of a ``bands``-band cube.

    Not a :class:`~lightnets.models.Classifier`: the input size is fixed by the dense head
    (there is no global pooling), so the image classifiers' "any size from 32" does not hold.
    The interface is the same otherwise: ``forward = forward_head ∘ forward_features``,
    ``forward_head(x, pre_logits=True)``, ``reset_classifier``, ``input_shape``, ``check_input``
    (from :class:`~lightnets.models.patch.PatchModel`). Defaults: 30 bands, 25×25, dropout 0.4.
    """

    def _build(self) -> None:
        c1, c2, c3 = CONV3D_FILTERS
        k1, k2, k3 = SPECTRAL_KERNELS
        self.conv1 = nn.Conv3d(1, c1, (k1, 3, 3))
        self.conv2 = nn.Conv3d(c1, c2, (k2, 3, 3))
        self.conv3 = nn.Conv3d(c2, c3, (k3, 3, 3))
        spectral_left = self.bands - (k1 - 1) - (k2 - 1) - (k3 - 1)
        self.conv4 = nn.Conv2d(c3 * spectral_left, CONV2D_FILTERS, 3)
        h1, h2 = HIDDEN_UNITS
        self.fc1 = nn.Linear(CONV2D_FILTERS * self.feature_window**2, h1)
        self.fc1_drop = nn.Dropout(self.drop_rate)
        self.fc2 = nn.Linear(h1, h2)
        self.num_features = h2
        self.head_drop = nn.Dropout(self.drop_rate)
        self.classifier = nn.Linear(h2, self.num_classes)
        self._init_weights()

    def _init_weights(self) -> None:
        # The reference (Keras) code uses Keras defaults: Glorot-uniform kernels, zero biases.
        for m in self.modules():
            if isinstance(m, (nn.Conv2d, nn.Conv3d, nn.Linear)):
                nn.init.xavier_uniform_(m.weight)
                nn.init.zeros_(m.bias)

    def forward_features(self, x: Tensor) -> Tensor:
        """Convolutions: ``N × bands × H × W`` → ``N × 64 × (H − 8) × (W − 8)``, any H, W ≥ 9.

        On one window the result is ``N × 64 × feature_window × feature_window``; on a padded
        scene it holds, at each position, the features of the patch whose top-left corner is
        there (valid stride-1 convolutions commute with cropping).
        """
        x = x.unsqueeze(1)  # N × 1 × bands × H × W: one input channel, bands as depth
        x = F.relu(self.conv1(x))
        x = F.relu(self.conv2(x))
        x = F.relu(self.conv3(x))
        # Fold (filters, remaining bands) into the 2-D channels; the reference Keras code folds
        # (bands, filters), a mere permutation of conv4's input channels.
        x = x.flatten(1, 2)
        return F.relu(self.conv4(x))

    def forward_head(self, x: Tensor, pre_logits: bool = False) -> Tensor:
        """Dense layers on ``N × 64 × fw × fw`` features; ``pre_logits`` stops at the 128 units.

        The features are flattened in (row, column, channel) order, as the reference Keras
        code's ``Flatten`` of its channels-last maps (free for channels-last input).
        """
        x = self.fc1_drop(F.relu(self.fc1(x.permute(0, 2, 3, 1).flatten(1))))
        x = F.relu(self.fc2(x))
        if pre_logits:
            return x
        return self.classifier(self.head_drop(x))

    def scene_head(self, x: Tensor) -> Tensor:
        """The dense layers as convolutions over a feature map: ``N × 64 × h × w`` → logits
        ``N × K × (h − fw + 1) × (w − fw + 1)``.

        The first dense layer is a ``fw × fw`` convolution with the same weights (reshaped), the
        others 1×1 convolutions. Dropout on these maps draws an independent mask for every
        unit at every position, i.e. per pixel exactly as per patch.
        """
        fw = self.feature_window
        w1 = self.fc1.weight.view(self.fc1.out_features, fw, fw, -1).permute(0, 3, 1, 2)
        x = self.fc1_drop(F.relu(F.conv2d(x, w1, self.fc1.bias)))
        x = F.relu(F.conv2d(x, self.fc2.weight[:, :, None, None], self.fc2.bias))
        x = self.head_drop(x)
        return F.conv2d(x, self.classifier.weight[:, :, None, None], self.classifier.bias)


def hybridsn(**kwargs: Any) -> HybridSN:
    """HybridSN; defaults are the paper's Indian Pines setting (30 PCA bands, 25×25, 16 classes).

    Keywords as :class:`~lightnets.models.patch.PatchModel`: ``num_classes``, ``bands`` (or
    ``in_chans``, the input's channel axis), ``window``, ``drop_rate``.
    """
    return HybridSN(**kwargs)


register_model(
    "hybridsn", hybridsn, paper="HybridSN (Roy et al. 2020)", family="hybridsn", task="hsi"
)
