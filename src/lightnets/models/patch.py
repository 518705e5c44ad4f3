"""The frame every hyperspectral patch model shares: checked arguments, input check, head reset.

A patch model classifies the centre pixel of a ``window × window`` patch of a ``bands``-band
cube, with the interface :mod:`lightnets.hsi.engine` builds on (``window``, ``feature_window``,
``num_classes``, ``in_chans``, ``forward_features``, ``forward_head``, optional
``scene_head``). The models differ in their layers and in a few numbers; :class:`PatchModel`
checks the common arguments once, so every model rejects bad ones with the same messages, and
gives them ``input_shape``, ``check_input``, ``forward = forward_head ∘ forward_features`` and
``reset_classifier``.
"""

from __future__ import annotations

from typing import Any

from torch import Tensor, nn

from .._checks import bad_value, check_fraction, check_int
from .base import _skip_checks


class PatchModel(nn.Module):
    """Base class of the patch models: ``N × bands × window × window`` → ``N × num_classes``.

    Class constants, overridden where a model differs: ``MIN_BANDS`` (fewest bands the layers
    accept), ``DEFAULT_BANDS`` (used when neither ``bands`` nor ``in_chans`` is given),
    ``SPATIAL_SHRINK`` (what the valid convolutions trim: ``window − feature_window``),
    ``MIN_WINDOW``, ``DEFAULT_WINDOW`` and ``DEFAULT_DROP_RATE``; ``window=None`` and
    ``drop_rate=None`` stand for the model's defaults. ``in_chans`` is another name for
    ``bands`` (the input's channel axis); give either.

    A subclass builds its layers in :meth:`_build` (called once the arguments are checked and
    stored), implements :meth:`forward_features` and :meth:`forward_head`, and names its last
    layer ``classifier``; :meth:`_init_classifier` initialises a fresh one.
    """

    MIN_BANDS = 1
    DEFAULT_BANDS = 30
    SPATIAL_SHRINK = 0
    MIN_WINDOW = 1
    DEFAULT_WINDOW = 1
    DEFAULT_DROP_RATE = 0.0

    classifier: nn.Linear

    def __init__(
        self,
        *,
        num_classes: int = 16,
        bands: int | None = None,
        window: int | None = None,
        drop_rate: float | None = None,
        in_chans: int | None = None,
    ) -> None:
        super().__init__()
        self.num_classes = check_int("num_classes", num_classes, minimum=1)
        self.bands = self._resolve_bands(bands, in_chans)
        self.in_chans = self.bands
        self.window = self._check_window(self.DEFAULT_WINDOW if window is None else window)
        # Side of forward_features on one window: the kernel of a dense-as-conv head.
        self.feature_window = self.window - self.SPATIAL_SHRINK
        rate = self.DEFAULT_DROP_RATE if drop_rate is None else drop_rate
        self.drop_rate = check_fraction("drop_rate", rate)
        self._build()

    def _resolve_bands(self, bands: int | None, in_chans: int | None) -> int:
        """``in_chans`` is the channel axis of the input, i.e. the bands; accept either name."""
        if in_chans is not None:
            in_chans = check_int("in_chans", in_chans, minimum=self.MIN_BANDS)
            if bands is not None and bands != in_chans:
                raise bad_value("in_chans", f"the same value as bands={bands!r}", in_chans)
            return in_chans
        value = self.DEFAULT_BANDS if bands is None else bands
        return check_int("bands", value, minimum=self.MIN_BANDS)

    def _check_window(self, window: Any) -> int:
        """The window if it is an odd integer of at least ``MIN_WINDOW`` (centred patches)."""
        odd = isinstance(window, int) and not isinstance(window, bool) and window % 2 == 1
        if not odd or window < self.MIN_WINDOW:
            raise bad_value("window", f"an odd integer >= {self.MIN_WINDOW}", window)
        return window

    def _build(self) -> None:
        """Create the layers; ``bands``, ``window``, ``feature_window`` … are set by now."""
        raise NotImplementedError

    def _init_classifier(self, linear: nn.Linear) -> None:
        """Initialise a fresh classifier: Glorot-uniform weights, zero biases (Keras' defaults)."""
        nn.init.xavier_uniform_(linear.weight)
        nn.init.zeros_(linear.bias)

    @property
    def input_shape(self) -> tuple[int, int, int]:
        """Shape of one input sample: (bands, window, window)."""
        return (self.bands, self.window, self.window)

    def check_input(self, x: Tensor) -> None:
        """Raise a ``ValueError`` naming ``input`` unless ``x`` is N × bands × window × window."""
        if _skip_checks():
            return
        if x.ndim != 4 or tuple(x.shape[1:]) != self.input_shape:
            expected = f"a tensor of shape (N, {self.bands}, {self.window}, {self.window})"
            raise bad_value("input", expected, tuple(x.shape))

    def forward_features(self, x: Tensor) -> Tensor:
        """Trunk: ``N × bands × H × W`` → ``N × F × (H − shrink) × (W − shrink)``."""
        raise NotImplementedError

    def forward_head(self, x: Tensor, pre_logits: bool = False) -> Tensor:
        """Head on one window's ``N × F × fw × fw`` features → ``N × num_classes`` logits."""
        raise NotImplementedError

    def reset_classifier(self, num_classes: int) -> None:
        """Replace the last layer with a fresh one for ``num_classes`` outputs."""
        self.num_classes = check_int("num_classes", num_classes, minimum=1)
        old = self.classifier
        new = nn.Linear(old.in_features, num_classes)
        self._init_classifier(new)
        self.classifier = new.to(device=old.weight.device, dtype=old.weight.dtype)

    def forward(self, x: Tensor) -> Tensor:
        self.check_input(x)
        return self.forward_head(self.forward_features(x))
