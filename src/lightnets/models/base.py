"""The interface every image classifier in the zoo shares (timm's convention).

``forward(x) = forward_head(forward_features(x))``; ``forward_head(x, pre_logits=True)`` gives
the pooled features; ``reset_classifier(n)`` swaps the last layer for ``n`` classes.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

from .._checks import bad_value, check_fraction, check_int


def _skip_checks() -> bool:
    """Shape checks are Python control flow; skip them while tracing or compiling."""
    compiling = getattr(torch.compiler, "is_compiling", lambda: False)()
    return torch.jit.is_tracing() or torch.jit.is_scripting() or compiling


class Classifier(nn.Module):
    """Base class: validated ``num_classes``/``in_chans``/``drop_rate`` and a standard head.

    Subclasses build their trunk, call :meth:`_init_head` with the trunk's output width and
    implement :meth:`forward_features`. The standard head is global average pooling (so any
    input from ``min_input_size`` up works: the resolution multiplier ρ is just the input
    size), dropout, and a linear classifier.
    """

    min_input_size: int = 32
    default_input_size: int = 224

    def __init__(self, *, num_classes: int, in_chans: int, drop_rate: float) -> None:
        super().__init__()
        self.num_classes = check_int("num_classes", num_classes, minimum=1)
        self.in_chans = check_int("in_chans", in_chans, minimum=1)
        self.drop_rate = check_fraction("drop_rate", drop_rate)
        self.num_features = 0

    def _init_head(self, num_features: int) -> None:
        self.num_features = num_features
        self.head_drop = nn.Dropout(self.drop_rate)
        self.classifier = nn.Linear(num_features, self.num_classes)

    @property
    def input_shape(self) -> tuple[int, int, int]:
        """Shape of one default input sample (C, H, W)."""
        return (self.in_chans, self.default_input_size, self.default_input_size)

    def forward_features(self, x: Tensor) -> Tensor:
        """Trunk: N×C×H×W image → N×F×h×w feature map."""
        raise NotImplementedError

    def forward_head(self, x: Tensor, pre_logits: bool = False) -> Tensor:
        """Pool the feature map, then (unless ``pre_logits``) dropout and classify."""
        x = x.mean((2, 3))
        if pre_logits:
            return x
        return self.classifier(self.head_drop(x))

    def reset_classifier(self, num_classes: int) -> None:
        """Replace the last linear layer with a fresh one for ``num_classes`` outputs."""
        self.num_classes = check_int("num_classes", num_classes, minimum=1)
        old = self.classifier
        self.classifier = nn.Linear(old.in_features, num_classes).to(old.weight.device)

    def check_input(self, x: Tensor) -> None:
        """Raise a ``ValueError`` naming ``input`` when ``x`` cannot go through the network."""
        if _skip_checks():
            return
        if x.ndim != 4 or x.shape[1] != self.in_chans:
            expected = f"a tensor of shape (N, {self.in_chans}, H, W)"
            raise bad_value("input", expected, tuple(x.shape))
        if min(x.shape[2], x.shape[3]) < self.min_input_size:
            expected = f"height and width >= {self.min_input_size}"
            raise bad_value("input", expected, tuple(x.shape))

    def forward(self, x: Tensor) -> Tensor:
        self.check_input(x)
        return self.forward_head(self.forward_features(x))


def init_weights(module: nn.Module) -> None:
    """Default initialisation (as torchvision's efficient nets): He for convs, N(0, 0.01) for FC."""
    for m in module.modules():
        if isinstance(m, (nn.Conv2d, nn.Conv3d)):
            nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
            if m.bias is not None:
                nn.init.zeros_(m.bias)
        elif isinstance(m, (nn.BatchNorm2d, nn.BatchNorm3d, nn.GroupNorm)):
            nn.init.ones_(m.weight)
            nn.init.zeros_(m.bias)
        elif isinstance(m, nn.Linear):
            nn.init.normal_(m.weight, 0, 0.01)
            nn.init.zeros_(m.bias)
