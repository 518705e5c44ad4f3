"""Fine-tuning a trained hyperspectral network on another scene: ``HSIClassifier(init_from=...)``.

A source is a network classifier saved by :meth:`HSIClassifier.save` (``model.pt`` of a ``hsi
train`` run). The new network takes the source's architecture and weights; its classifier layer
is kept when the classes are the same (same names, same order) and replaced by a fresh one
otherwise; ``freeze_features`` trains that layer alone. The spectral transform is the source's
own fitted one (``init_transform="source"``: the cube must have the source's band count, and its
pixels enter the network as the source's did) or the recipe's refitted on the new cube with the
source's number of components (``"refit"``: a cube of another sensor fits the first layer).

Batch-norm layers whose parameters are frozen keep their running statistics during training
(:func:`hold_frozen_norms`), so a frozen trunk computes exactly what it computed in the source.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from torch import nn

from .._checks import bad_value, check_choice

INIT_TRANSFORMS = ("source", "refit")
HEAD = "classifier"  # the last layer of every patch model


def check_settings(init_from: Any, init_transform: Any, freeze_features: Any) -> None:
    """The fine-tuning settings, checked alike by ExperimentConfig and HSIClassifier."""
    check_choice("init_transform", init_transform, INIT_TRANSFORMS)
    if not isinstance(freeze_features, bool):
        raise bad_value("freeze_features", "True or False", freeze_features)
    if freeze_features and init_from is None:
        raise bad_value("freeze_features", "False without init_from (nothing to keep)", True)


def check_source(
    source: Any,
    path: Any,
    *,
    model: str,
    settings: Mapping[str, Any],
    init_transform: str,
    n_bands: int,
) -> None:
    """Refuse a source that cannot initialise ``model`` on a cube of ``n_bands`` bands under
    ``settings``, with one error naming both sides."""
    if source.network_ is None:
        raise bad_value(
            "init_from", "a file of a trained network (the SVM has no layers)", f"{path} (an SVM)"
        )
    name = source.model
    if name != model:
        raise bad_value(
            "init_from",
            f"a file of a {model} network (model={model!r})",
            f"{path} (a {name} network)",
        )
    theirs = int(source.network_kwargs_["bands"])  # values per pixel the network takes
    pca = int(settings["pca"])
    if init_transform == "source":  # the source's own transform: its PCA setting
        fits, wanted = pca == int(source.settings_["pca"]), _count(int(source.settings_["pca"]))
    else:  # a transform refitted on this cube must give the network's input width
        fits, wanted = (pca or n_bands) == theirs, f"{theirs} PCA components (or bands)"
    if not fits:
        given = _count(pca) + ("" if pca else f", {n_bands} here")
        raise bad_value("pca", f"{wanted}, as init_from {path} ({source.model})", given)
    if init_transform == "source" and n_bands != source.n_bands_in_:
        raise bad_value(
            "X",
            f"a cube of {source.n_bands_in_} bands, as init_from {path} was fitted on "
            "(init_transform='refit' fits a new transform for another sensor)",
            n_bands,
        )
    window = source.network_kwargs_.get("window")
    if settings["window"] is not None and settings["window"] != window:
        raise bad_value("window", f"{window}, the window of init_from {path}", settings["window"])


def _count(pca: int) -> str:
    return "all bands (pca=0)" if pca == 0 else f"{pca} PCA components"


def init_network(network: nn.Module, source: Any, class_names: Sequence[str]) -> bool:
    """Copy the source network's weights into ``network``; the classifier layer too when the
    classes are the same. Returns whether the classifier layer was replaced (left fresh)."""
    state = source.network_.state_dict()
    replaced = tuple(source.class_names_) != tuple(class_names)
    if replaced:
        state = {k: v for k, v in state.items() if not k.startswith(HEAD + ".")}
    missing, unexpected = network.load_state_dict(state, strict=False)
    stray = [k for k in missing if not (replaced and k.startswith(HEAD + "."))]
    if stray or unexpected:  # cannot happen for files this version wrote: same constructor
        raise bad_value("init_from", "weights that fit the network", f"{stray + unexpected}")
    return replaced


def freeze_features(network: nn.Module) -> int:
    """Stop gradients to every parameter but the classifier layer's; returns how many remain
    trainable."""
    for name, p in network.named_parameters():
        p.requires_grad_(name.startswith(HEAD + "."))
    return sum(p.numel() for p in network.parameters() if p.requires_grad)


def hold_frozen_norms(model: nn.Module) -> None:
    """Put every batch-norm layer whose affine parameters are all frozen in eval mode, so that
    training leaves its running statistics as they were (call after ``model.train()``)."""
    for m in model.modules():
        if isinstance(m, nn.modules.batchnorm._BatchNorm):
            params = list(m.parameters())
            if params and not any(p.requires_grad for p in params):
                m.eval()
