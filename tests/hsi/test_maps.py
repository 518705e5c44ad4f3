from pathlib import Path

import numpy as np
import pytest

from lightnets.hsi.maps import (
    colorize,
    false_colour,
    save_classification_map,
    save_confusion_matrix,
    save_label_image,
)


def test_colorize_maps_zero_to_black_and_classes_to_distinct_colours() -> None:
    labels = np.array([[0, 1], [2, 3]])
    image = colorize(labels, 3)
    assert image.shape == (2, 2, 3)
    assert np.all(image[0, 0] == 0)
    assert len({tuple(c) for c in image.reshape(-1, 3)}) == 4
    with pytest.raises(ValueError, match=r"^labels: expected values in 0..3"):
        colorize(np.array([[4]]), 3)


def test_false_colour_stretches_to_unit_range() -> None:
    cube = np.random.default_rng(0).normal(size=(20, 20, 5)) * 100 + 1000
    rgb = false_colour(cube, (4, 2, 0))
    assert rgb.shape == (20, 20, 3) and rgb.min() == 0 and rgb.max() == 1
    with pytest.raises(ValueError, match=r"^bands: expected band indices below 5"):
        false_colour(cube, (5, 1, 0))


def test_figures_are_written(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    gt = rng.integers(0, 4, size=(12, 10))
    pred = np.where(rng.random(gt.shape) < 0.8, np.maximum(gt, 1), 2)
    names = ["a", "b", "c"]
    out = save_classification_map(
        tmp_path / "map.png", pred, gt, names, background=rng.random((12, 10, 3)), title="t"
    )
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    cm = np.array([[3, 1, 0], [0, 2, 0], [1, 0, 5]])
    assert save_confusion_matrix(tmp_path / "cm.png", cm, names).stat().st_size > 1000
    assert save_label_image(tmp_path / "labels.png", pred, 3).stat().st_size > 0
    with pytest.raises(ValueError, match=r"^prediction: expected a map of the ground truth"):
        save_classification_map(tmp_path / "x.png", pred[:5], gt, names)
    with pytest.raises(ValueError, match=r"^matrix: expected a 3×3 array"):
        save_confusion_matrix(tmp_path / "y.png", cm[:2], names)
