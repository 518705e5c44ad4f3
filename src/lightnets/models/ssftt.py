"""SSFTT: a 3-D + 2-D convolutional stem, then a one-layer transformer on four learned tokens.

Sun, Zhao, Zheng, Wu (2022), "Spectral–Spatial Feature Tokenization Transformer for
Hyperspectral Image Classification", IEEE TGRS 60, article 5522214. Sizes as the authors'
reference code (``SSFTTnet.py`` of github.com/zgr6010/HSI_SSFTT, and its training script for
Indian Pines: 13×13 patches of 30 whitened PCA components, 10 % training pixels):

* a 3-D convolution of 8 kernels 3×3×3 (valid), batch norm, ReLU; the 8 × (bands − 2) maps are
  folded into channels (kernel-major) for a 2-D convolution of 64 kernels 3×3 (valid), batch
  norm, ReLU — both convolutions with biases, as in the reference code;
* the Gaussian-weighted feature tokenizer: with the ``fw² × 64`` features ``X`` of a window,
  ``T = softmax(X Wₐᵀ)ᵀ (X W_b)``, the softmax over the ``fw²`` positions, ``Wₐ`` (4 × 64) and
  ``W_b`` (64 × 64) drawn from a Gaussian (Xavier-normal): 4 tokens of 64;
* a class token and a learned position embedding (5 × 64), dropout 0.1;
* one pre-norm transformer encoder layer: 8 heads over 64 dimensions (8 each), MLP 64 → 8 → 64
  with GELU, dropout 0.1 after the attention projection and in the MLP; as in the reference
  code the attention logits are scaled by 64^−½ (the model width), not by the head width's;
* a linear classifier on the class token.

Layer table (``B`` bands, ``K`` classes, parameters = weights + biases):

==============================  ===================================
layer                           parameters
==============================  ===================================
conv3d 1 → 8, 3×3×3             8·27 + 8 = 224
bn3d                            16
conv2d 8·(B − 2) → 64, 3×3      64·8·(B − 2)·9 + 64
bn2d                            128
tokenizer Wₐ, W_b               4·64 + 64·64 = 4,352
class token, position emb.      64 + 5·64 = 384
layer norms (2)                 2·128 = 256
attention qkv, projection       64·192 + 192 + 64·64 + 64 = 16,640
MLP                             64·8 + 8 + 8·64 + 64 = 1,096
classifier                      64·K + K
==============================  ===================================

With 30 bands and 16 classes the 2-D convolution has 129,088 parameters and the model 153,224
(for any window: the tokenizer pools over the window).

Patch model interface (:mod:`lightnets.hsi.engine`): :meth:`SSFTT.forward_features` is the two
valid, stride-1 convolutions (spatial shrink 4, ``feature_window = window − 4``: 9 for 13×13),
so it runs on a whole scene; :meth:`SSFTT.forward_head` is the tokenizer and the transformer on
one window's ``fw × fw`` features. The head has no convolutional form, so there is no
``scene_head``: the engine gathers each pixel's feature window. Batch norm in *eval* mode is a
per-channel affine map, so the scene map equals the patch path; in *training* mode it
normalises with the statistics of whatever goes through ``forward_features`` — a region's
feature map on the scene path, the stacked patches on the patch path — so the two training
paths are both valid but not identical.
"""

from __future__ import annotations

from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from .patch import PatchModel
from .registry import register_model

# Sizes of Sun et al. (2022) and their reference code.
CONV3D_FILTERS = 8
DIM = 64  # 2-D convolution filters = token width
NUM_TOKENS = 4
HEADS = 8
MLP_DIM = 8
DEPTH = 1
SPATIAL_SHRINK = 4  # two valid 3×3 convolutions
MIN_WINDOW = SPATIAL_SHRINK + 1
MIN_BANDS = 3  # one band left after the 3-D convolution


class Attention(nn.Module):
    """Multi-head self-attention with the reference code's scale ``dim^−½``."""

    def __init__(self, dim: int, heads: int, drop_rate: float) -> None:
        super().__init__()
        self.heads = heads
        self.scale = dim**-0.5
        self.qkv = nn.Linear(dim, 3 * dim)
        self.proj = nn.Linear(dim, dim)
        self.drop = nn.Dropout(drop_rate)

    def forward(self, x: Tensor) -> Tensor:
        n, t, d = x.shape
        q, k, v = self.qkv(x).view(n, t, 3, self.heads, d // self.heads).permute(2, 0, 3, 1, 4)
        attn = (q @ k.transpose(-2, -1) * self.scale).softmax(-1)
        out = (attn @ v).transpose(1, 2).reshape(n, t, d)
        return self.drop(self.proj(out))


class EncoderLayer(nn.Module):
    """Pre-norm transformer layer: ``x + attn(LN(x))``, then ``x + mlp(LN(x))``."""

    def __init__(self, dim: int, heads: int, mlp_dim: int, drop_rate: float) -> None:
        super().__init__()
        self.norm1 = nn.LayerNorm(dim)
        self.attn = Attention(dim, heads, drop_rate)
        self.norm2 = nn.LayerNorm(dim)
        self.mlp = nn.Sequential(
            nn.Linear(dim, mlp_dim),
            nn.GELU(),
            nn.Dropout(drop_rate),
            nn.Linear(mlp_dim, dim),
            nn.Dropout(drop_rate),
        )

    def forward(self, x: Tensor) -> Tensor:
        x = x + self.attn(self.norm1(x))
        return x + self.mlp(self.norm2(x))


class SSFTT(PatchModel):
    """SSFTT for ``window × window`` patches of a ``bands``-band cube (default 30, 13×13)."""

    MIN_BANDS = MIN_BANDS
    SPATIAL_SHRINK = SPATIAL_SHRINK
    MIN_WINDOW = MIN_WINDOW
    DEFAULT_WINDOW = 13
    DEFAULT_DROP_RATE = 0.1

    def _build(self) -> None:
        self.conv3d = nn.Conv3d(1, CONV3D_FILTERS, 3)
        self.bn3d = nn.BatchNorm3d(CONV3D_FILTERS)
        self.conv2d = nn.Conv2d(CONV3D_FILTERS * (self.bands - 2), DIM, 3)
        self.bn2d = nn.BatchNorm2d(DIM)
        # Tokenizer weights, shaped (and so Xavier-initialised) as in the reference code.
        self.token_wa = nn.Parameter(torch.empty(1, NUM_TOKENS, DIM))
        self.token_wv = nn.Parameter(torch.empty(1, DIM, DIM))
        self.cls_token = nn.Parameter(torch.zeros(1, 1, DIM))
        self.pos_embed = nn.Parameter(torch.empty(1, NUM_TOKENS + 1, DIM))
        self.embed_drop = nn.Dropout(self.drop_rate)
        self.blocks = nn.Sequential(
            *(EncoderLayer(DIM, HEADS, MLP_DIM, self.drop_rate) for _ in range(DEPTH))
        )
        self.num_features = DIM
        self.classifier = nn.Linear(DIM, self.num_classes)
        nn.init.xavier_normal_(self.token_wa)
        nn.init.xavier_normal_(self.token_wv)
        nn.init.normal_(self.pos_embed, std=0.02)
        self._init_classifier(self.classifier)

    def _init_classifier(self, linear: nn.Linear) -> None:
        nn.init.xavier_uniform_(linear.weight)
        nn.init.normal_(linear.bias, std=1e-6)

    def forward_features(self, x: Tensor) -> Tensor:
        """Convolutions: ``N × bands × H × W`` → ``N × 64 × (H − 4) × (W − 4)``, any H, W ≥ 5."""
        x = F.relu(self.bn3d(self.conv3d(x.unsqueeze(1))))
        return F.relu(self.bn2d(self.conv2d(x.flatten(1, 2))))

    def tokens(self, x: Tensor) -> Tensor:
        """The tokenizer: ``N × 64 × fw × fw`` features → ``N × 4 × 64`` tokens."""
        x = x.flatten(2).transpose(1, 2)  # N × fw² × 64, positions in row-major order
        weights = (x @ self.token_wa.transpose(1, 2)).transpose(1, 2).softmax(-1)  # N × 4 × fw²
        return weights @ (x @ self.token_wv)

    def forward_head(self, x: Tensor, pre_logits: bool = False) -> Tensor:
        """Tokenizer and transformer on ``N × 64 × fw × fw`` features; ``pre_logits`` returns
        the class token (64 values)."""
        t = self.tokens(x)
        t = torch.cat([self.cls_token.expand(len(t), -1, -1), t], 1) + self.pos_embed
        x = self.blocks(self.embed_drop(t))[:, 0]
        if pre_logits:
            return x
        return self.classifier(x)


def ssftt(**kwargs: Any) -> SSFTT:
    """SSFTT; defaults are the reference Indian Pines setting (30 PCA bands, 13×13, 16 classes).

    ``drop_rate`` is every dropout of the model (0.1 in the reference code). Keywords as
    :class:`~lightnets.models.patch.PatchModel` (``in_chans`` is another name for ``bands``).
    """
    return SSFTT(**kwargs)


register_model("ssftt", ssftt, paper="SSFTT (Sun et al. 2022)", family="ssftt", task="hsi")
