"""HybridSN variants: channel attention in the head (SE, CBAM), and a light separable version.

``hybridsn_se`` and ``hybridsn_cbam`` are HybridSN (:mod:`lightnets.models.hybridsn`, unchanged)
with an attention block on the 64 × fw × fw maps of conv4, before the dense layers:
squeeze-and-excitation (Hu et al. 2018, reduction 16: 64 → 4 → 64) or CBAM (Woo et al. 2018:
the same channel step on average- and max-pooled descriptors, then a 7×7 spatial gate).

Where the attention goes. Channel attention pools over the whole map it is given, so it is not
translation-local: on the scene path, where conv4 runs once over a region, pooling that map
would mix every window in it. Each pixel's attention must therefore see its own window's
``fw × fw`` features, which the engine hands to ``forward_head``: the block sits there, and the
scene path equals the patch path exactly (logits and gradients). CBAM's 7×7 spatial gate is
zero-padded at the window's border, so it too is computed per window. Attention inside the
3-D stages would need each window's own 3-D maps, i.e. the patch path's cost, so the variants
attend only after conv4. The head has no convolutional form any more; ``scene_head`` runs
``forward_head`` on one row of windows at a time.

``hybridsn_lite`` keeps HybridSN's four valid, stride-1 stages (7×3×3 → 8, 5×3×3 → 16, 3×3×3 →
32 filters, fold, 3×3 → 64) and the same spatial shrink of 8, factorises the 2-D convolution
(576 → 64, 332 K parameters in HybridSN) into a depthwise one and a pointwise one (ReLU after
the pointwise: the pair is a low-rank form of the full convolution), and replaces the
4.7 M-parameter dense layer with a learned global pooling — a ``fw × fw`` depthwise convolution
(MobileFaceNet's global depthwise convolution), initialised to the average, so it can learn to
weigh the centre of the window more than its rim — then dense 64 → 128, dropout and the
classifier. The pooling is per window (``forward_head``; as a convolution in ``scene_head``),
so the scene path stays exact. No batch norm, like HybridSN: batch statistics in training mode
would differ between the two paths.

The 3-D convolutions stay full by default: they hold 19 K parameters, and factorising them too
(``separable_3d=True``, 73,584 parameters) cost 1.8 points of OA on Indian Pines at 10 %
(seed 0: 96.19 % against 98.02 % full, HybridSN 98.23 %), the depthwise 5×3×3 and 3×3×3
kernels seeing one of only 8 or 16 channels at a time.

Parameters with 30 bands, a 25×25 window (fw = 17) and 16 classes:

=======================================  ======================================
layer                                    parameters
=======================================  ======================================
conv1 1 → 8, 7×3×3                       8·63 + 8 = 512
conv2 8 → 16, 5×3×3                      8·16·45 + 16 = 5,776
conv3 16 → 32, 3×3×3                     16·32·27 + 32 = 13,856
conv4 depthwise 576, 3×3 / pointwise     576·9 + 576 = 5,760 / 576·64 + 64 = 36,928
global depthwise pooling 64, 17×17       64·289 = 18,496
dense 64 → 128                           8,320
classifier 128 → 16                      2,064
=======================================  ======================================

91,712 in all, 55.9× fewer than HybridSN's 5,122,176 (16.7× with 200 bands; the ratio falls
with the window, to 7.2× at 11×11, since HybridSN's dense layer shrinks with fw²).
``hybridsn_se`` adds 64·4 + 4 + 4·64 + 64 = 580 parameters (5,122,756); ``hybridsn_cbam`` adds
the same 580 and 2·49 for the spatial gate (5,122,854).
"""

from __future__ import annotations

from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from .._checks import bad_value, check_int
from ..layers import CBAM, SqueezeExcite
from .hybridsn import (
    CONV2D_FILTERS,
    CONV3D_FILTERS,
    HIDDEN_UNITS,
    SPECTRAL_KERNELS,
    HybridSN,
    HybridSNBase,
)
from .registry import register_model

SE_REDUCTION = 1 / 16  # SENet's and CBAM's reduction ratio


class HybridSNAttention(HybridSN):
    """HybridSN with ``attention`` (a module on ``N × 64 × fw × fw`` maps) before the head.

    ``attention`` is ``"se"`` or ``"cbam"``; the keywords are HybridSN's.
    """

    def __init__(self, attention: str, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        if attention == "se":
            self.attention: nn.Module = SqueezeExcite(CONV2D_FILTERS, rd_ratio=SE_REDUCTION)
        elif attention == "cbam":
            self.attention = CBAM(CONV2D_FILTERS, rd_ratio=SE_REDUCTION, kernel_size=7)
        else:
            raise bad_value("attention", "'se' or 'cbam'", attention)

    def forward_head(self, x: Tensor, pre_logits: bool = False) -> Tensor:
        """Attention over each window's ``N × 64 × fw × fw`` features, then HybridSN's head."""
        return super().forward_head(self.attention(x), pre_logits)

    def scene_head(self, x: Tensor) -> Tensor:
        """The head at every position of ``N × 64 × h × w`` maps, one row of windows per call:
        logits ``N × K × (h − fw + 1) × (w − fw + 1)``."""
        fw = self.feature_window
        n, c, h, w = x.shape
        rows = []
        for r in range(h - fw + 1):
            band = x[:, :, r : r + fw].unfold(3, fw, 1)  # N × C × fw × w' × fw
            windows = band.permute(0, 3, 1, 2, 4).reshape(-1, c, fw, fw)
            rows.append(self.forward_head(windows).view(n, w - fw + 1, -1))
        return torch.stack(rows, 1).permute(0, 3, 1, 2)


def hybridsn_se(**kwargs: Any) -> HybridSNAttention:
    """HybridSN with squeeze-and-excitation on conv4's maps, per window (see module docs)."""
    return HybridSNAttention("se", **kwargs)


def hybridsn_cbam(**kwargs: Any) -> HybridSNAttention:
    """HybridSN with CBAM (channel, then spatial attention) on conv4's maps, per window."""
    return HybridSNAttention("cbam", **kwargs)


class SeparableConv(nn.Module):
    """Valid depthwise convolution (``kernel``), then pointwise 1×1(×1) convolution and ReLU.

    ``dims`` is 2 or 3 (``Conv2d`` or ``Conv3d``). Both convolutions have biases.
    """

    def __init__(self, in_chs: int, out_chs: int, kernel: tuple[int, ...], dims: int) -> None:
        super().__init__()
        conv = nn.Conv3d if dims == 3 else nn.Conv2d
        self.dw = conv(in_chs, in_chs, kernel, groups=in_chs)
        self.pw = conv(in_chs, out_chs, 1)

    def forward(self, x: Tensor) -> Tensor:
        return F.relu(self.pw(self.dw(x)))


class HybridSNLite(HybridSNBase):
    """HybridSN with a depthwise-separable 2-D stage and a learned global pooling head.

    ``pool_maps`` learned poolings per feature channel (the global depthwise convolution's
    channel multiplier; 1 by default) feed the dense layer: ``pool_maps`` = m makes the head a
    rank-m-per-channel factorisation of HybridSN's 17·17·64 → 256 dense layer.
    ``separable_3d`` factorises the 3-D conv2 and conv3 as well (see the module docs).
    """

    def __init__(self, *, pool_maps: int = 1, separable_3d: bool = False, **kwargs: Any) -> None:
        self.pool_maps = check_int("pool_maps", pool_maps, minimum=1)
        if not isinstance(separable_3d, bool):
            raise bad_value("separable_3d", "True or False", separable_3d)
        self.separable_3d = separable_3d
        super().__init__(**kwargs)

    def _build(self) -> None:
        c1, c2, c3 = CONV3D_FILTERS
        k1, k2, k3 = SPECTRAL_KERNELS
        self.conv1 = nn.Conv3d(1, c1, (k1, 3, 3))
        if self.separable_3d:
            self.conv2: nn.Module = SeparableConv(c1, c2, (k2, 3, 3), dims=3)
            self.conv3: nn.Module = SeparableConv(c2, c3, (k3, 3, 3), dims=3)
        else:
            self.conv2 = nn.Sequential(nn.Conv3d(c1, c2, (k2, 3, 3)), nn.ReLU(inplace=True))
            self.conv3 = nn.Sequential(nn.Conv3d(c2, c3, (k3, 3, 3)), nn.ReLU(inplace=True))
        folded = c3 * (self.bands - (k1 - 1) - (k2 - 1) - (k3 - 1))
        self.conv4 = SeparableConv(folded, CONV2D_FILTERS, (3, 3), dims=2)
        fw = self.feature_window
        pooled = CONV2D_FILTERS * self.pool_maps
        self.pool = nn.Conv2d(CONV2D_FILTERS, pooled, fw, groups=CONV2D_FILTERS, bias=False)
        hidden = HIDDEN_UNITS[-1]
        self.fc = nn.Linear(pooled, hidden)
        self.num_features = hidden
        self.head_drop = nn.Dropout(self.drop_rate)
        self.classifier = nn.Linear(hidden, self.num_classes)
        self._init_weights()

    def _init_weights(self) -> None:
        # He-normal for layers followed by ReLU, unit gain for the depthwise (linear) ones, so
        # activations keep their scale without batch norm; the pooling starts as the average.
        for m in self.modules():
            if isinstance(m, (nn.Conv2d, nn.Conv3d, nn.Linear)):
                depthwise = isinstance(m, (nn.Conv2d, nn.Conv3d)) and m.groups > 1
                act = "linear" if depthwise else "relu"
                nn.init.kaiming_normal_(m.weight, nonlinearity=act)
                if m.bias is not None:
                    nn.init.zeros_(m.bias)
        nn.init.constant_(self.pool.weight, 1.0 / self.feature_window**2)
        nn.init.xavier_uniform_(self.classifier.weight)

    def forward_features(self, x: Tensor) -> Tensor:
        """3-D stages, separable 2-D stage: ``N × bands × H × W`` → ``N × 64 × (H−8) × (W−8)``."""
        x = F.relu(self.conv1(x.unsqueeze(1)))
        x = self.conv3(self.conv2(x))
        return self.conv4(x.flatten(1, 2))

    def forward_head(self, x: Tensor, pre_logits: bool = False) -> Tensor:
        """Learned global pooling of ``N × 64 × fw × fw`` features, dense 128, classifier;
        ``pre_logits`` stops at the 128 units."""
        x = F.relu(self.fc(self.pool(x).flatten(1)))
        if pre_logits:
            return x
        return self.classifier(self.head_drop(x))

    def scene_head(self, x: Tensor) -> Tensor:
        """The head as convolutions: the pooling over every ``fw × fw`` window, then 1×1
        convolutions; ``N × 64 × h × w`` → ``N × K × (h − fw + 1) × (w − fw + 1)``."""
        x = F.relu(F.conv2d(self.pool(x), self.fc.weight[:, :, None, None], self.fc.bias))
        x = self.head_drop(x)
        return F.conv2d(x, self.classifier.weight[:, :, None, None], self.classifier.bias)


def hybridsn_lite(**kwargs: Any) -> HybridSNLite:
    """HybridSN-Lite: a separable 2-D stage and a pooling head (91,712 parameters by default).

    Defaults as HybridSN's (30 bands, 25×25, 16 classes); keywords as
    :class:`~lightnets.models.patch.PatchModel`.
    """
    return HybridSNLite(**kwargs)


for _name, _builder, _paper in (
    ("hybridsn_se", hybridsn_se, "HybridSN (Roy et al. 2020) + SE (Hu et al. 2018)"),
    ("hybridsn_cbam", hybridsn_cbam, "HybridSN (Roy et al. 2020) + CBAM (Woo et al. 2018)"),
    ("hybridsn_lite", hybridsn_lite, "HybridSN (Roy et al. 2020), separable, pooled head"),
):
    register_model(_name, _builder, paper=_paper, family="hybridsn", task="hsi")
