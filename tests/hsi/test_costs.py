"""Costs per pixel: hand counts of the scene and patch paths, and the SVM's formula."""

from __future__ import annotations

import pytest

import lightnets
from lightnets.hsi.costs import patch_model_cost, registered_model_cost, svm_cost
from lightnets.profiling import count_macs

# HybridSN, 30 bands, 25×25, 16 classes: per position of conv4's map, each layer's filters ×
# kernel × spectral outputs; then the dense head on one 64 × 17 × 17 window.
HYBRIDSN_TRUNK = 8 * 63 * 24 + 16 * 8 * 45 * 20 + 32 * 16 * 27 * 18 + 64 * 576 * 9  # 707,904
HYBRIDSN_HEAD = 64 * 17 * 17 * 256 + 256 * 128 + 128 * 16  # 4,769,792


def test_hybridsn_scene_path_is_the_trunk_per_position_plus_one_head() -> None:
    cost = registered_model_cost("hybridsn", bands=30, num_classes=16, window=25)
    assert cost.params == 5_122_176
    assert cost.macs_per_pixel == HYBRIDSN_TRUNK + HYBRIDSN_HEAD
    model = lightnets.create_model("hybridsn")
    assert cost.macs_per_window == count_macs(model) > 40 * cost.macs_per_pixel


@pytest.mark.parametrize(("name", "window"), [("hu1d", 1), ("hamida3d", 5), ("ssftt", 13)])
def test_scene_path_never_costs_more_than_the_patch_path(name: str, window: int) -> None:
    model = lightnets.create_model(name, bands=30, num_classes=16, window=window)
    cost = patch_model_cost(model)
    assert cost == registered_model_cost(name, bands=30, num_classes=16, window=window)
    assert 0 < cost.macs_per_pixel <= cost.macs_per_window
    if name == "hu1d":  # one pixel is one window
        # C1 20·k1·n2 (k1 = 3, n2 = 28), F3 (20·28)·100, output 100·16
        assert cost.macs_per_pixel == cost.macs_per_window == 20 * 3 * 28 + 560 * 100 + 1_600


def test_svm_cost_counts_support_vectors_and_dual_coefficients() -> None:
    cost = svm_cost(100, bands=30, num_classes=4)
    assert cost.macs_per_pixel == 100 * 30 + 100 * 3
    assert cost.params == 100 * 30 + 100 * 3 + 6 + 60
    assert cost.macs_per_window is None
    with pytest.raises(ValueError, match=r"^num_classes: expected an integer >= 2, got 1"):
        svm_cost(10, bands=30, num_classes=1)
