"""Fine-tuning with ``HSIClassifier(init_from=...)``: weights carried over, the classifier layer
kept or replaced, the source's transform reused or refitted, frozen layers left untouched, and
one error for each file or setting that cannot fit."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from lightnets.hsi import HSIClassifier, Scene
from lightnets.hsi.transfer import freeze_features, hold_frozen_norms

FAST = dict(pca=6, window=7, epochs=2, batch_size=32, random_state=1)


@pytest.fixture
def scene(synthetic_scene_factory) -> Scene:
    s = synthetic_scene_factory(height=24, width=26, bands=16, num_classes=3, seed=4)
    return Scene("synthetic", s.cube, s.gt, s.class_names, (0, 5, 10), {"source": "test"})


@pytest.fixture
def source_file(scene: Scene, tmp_path: Path) -> Path:
    return HSIClassifier("ssftt", **FAST).fit(scene).save(tmp_path / "source.lnet")


def _weights(clf: HSIClassifier) -> dict[str, torch.Tensor]:
    return {k: v.clone() for k, v in clf.network_.state_dict().items()}


def test_zero_epochs_of_fine_tuning_is_the_source(scene: Scene, source_file: Path) -> None:
    """With the same classes and the source's transform, the fine-tuned network starts as the
    source: before any step (lr tiny, one epoch) its map equals the source's."""
    source = HSIClassifier.load(source_file)
    tuned = HSIClassifier("ssftt", **{**FAST, "epochs": 1, "lr": 1e-12}, init_from=source_file)
    tuned.fit(scene)
    assert tuned.head_replaced_ is False
    np.testing.assert_array_equal(tuned.predict(scene.cube), source.predict(scene.cube))
    np.testing.assert_allclose(
        tuned.transform_.transform(scene.cube), source.transform_.transform(scene.cube)
    )


def test_other_classes_get_a_fresh_classifier_layer(scene: Scene, source_file: Path) -> None:
    source = HSIClassifier.load(source_file)
    gt = np.where(scene.gt == 3, 0, scene.gt)  # two classes, other names
    names = ["crop", "forest"]
    tuned = HSIClassifier("ssftt", **{**FAST, "epochs": 1, "lr": 1e-12}, init_from=source_file)
    tuned.fit(scene.cube, gt, class_names=names)
    assert tuned.head_replaced_ is True and tuned.class_names_ == tuple(names)
    mine, theirs = _weights(tuned), _weights(source)
    assert mine["classifier.weight"].shape[0] == 2 and theirs["classifier.weight"].shape[0] == 3
    # every trained parameter but the classifier's (batch-norm statistics move in training)
    trunk = [k for k, _ in source.network_.named_parameters() if not k.startswith("classifier.")]
    assert len(trunk) > 10 and all(torch.allclose(mine[k], theirs[k]) for k in trunk)


def test_frozen_features_train_the_classifier_layer_alone(scene: Scene, source_file: Path) -> None:
    source = HSIClassifier.load(source_file)
    tuned = HSIClassifier(
        "ssftt", **{**FAST, "epochs": 3, "lr": 1e-2}, init_from=source_file, freeze_features=True
    ).fit(scene.cube, scene.gt, class_names=["a", "b", "c"])
    mine, theirs = _weights(tuned), _weights(source)
    changed = [k for k in theirs if not torch.equal(mine[k], theirs[k])]
    assert changed == ["classifier.weight", "classifier.bias"]  # batch-norm statistics held too


def test_hold_frozen_norms_keeps_statistics_of_frozen_layers_only() -> None:
    nn = torch.nn
    net = nn.Sequential(nn.Conv2d(2, 4, 1), nn.BatchNorm2d(4), nn.Linear(1, 3))
    net.classifier = torch.nn.Linear(4, 2)
    assert freeze_features(net) == 4 * 2 + 2
    net.train()
    hold_frozen_norms(net)
    assert not net[1].training and net[0].training
    for p in net[1].parameters():
        p.requires_grad_(True)
    net.train()
    hold_frozen_norms(net)
    assert net[1].training


def test_refit_fits_a_new_transform_for_a_cube_of_other_bands(
    scene: Scene, source_file: Path
) -> None:
    other = scene.cube[..., ::2]  # 8 bands: "another sensor"
    tuned = HSIClassifier("ssftt", **FAST, init_from=source_file, init_transform="refit")
    tuned.fit(other, scene.gt)
    assert tuned.n_bands_in_ == 8 and tuned.transform_.n_outputs == 6
    assert tuned.predict(other).shape == scene.gt.shape
    with pytest.raises(
        ValueError,
        match=r"^X: expected a cube of 16 bands, as init_from .*"
        r"init_transform='refit'.*got 8$",
    ):
        HSIClassifier("ssftt", **FAST, init_from=source_file).fit(other, scene.gt)


def test_a_fine_tuned_classifier_saves_and_loads(
    scene: Scene, source_file: Path, tmp_path: Path
) -> None:
    tuned = HSIClassifier("ssftt", **FAST, init_from=source_file, freeze_features=True).fit(scene)
    again = HSIClassifier.load(tuned.save(tmp_path / "tuned.lnet"))
    np.testing.assert_array_equal(again.predict(scene.cube), tuned.predict(scene.cube))
    assert again.get_params()["init_from"] == str(source_file)


def test_bad_sources_get_one_error_naming_both_sides(
    scene: Scene, source_file: Path, tmp_path: Path
) -> None:
    other_kind = tmp_path / "weights.pt"
    torch.save({"conv.weight": torch.zeros(1)}, other_kind)
    with pytest.raises(
        ValueError,
        match=r"^init_from: expected a lightnets "
        r"'lightnets-hsi-classifier' file .*weights.pt \(another file\)",
    ):
        HSIClassifier("ssftt", **FAST, init_from=other_kind).fit(scene)
    with pytest.raises(
        ValueError,
        match=r"^init_from: expected a file of a hybridsn network "
        r"\(model='hybridsn'\), got .*source.lnet \(a ssftt network\)",
    ):
        HSIClassifier("hybridsn", **FAST, init_from=source_file).fit(scene)
    with pytest.raises(
        ValueError,
        match=r"^pca: expected 6 PCA components, as init_from "
        r".*source.lnet \(ssftt\), got '8 PCA components'",
    ):
        HSIClassifier("ssftt", **{**FAST, "pca": 8}, init_from=source_file).fit(scene)
    with pytest.raises(
        ValueError,
        match=r"^pca: expected 6 PCA components \(or bands\), as "
        r"init_from .*got 'all bands \(pca=0\), 16 here'",
    ):
        HSIClassifier(
            "ssftt", **{**FAST, "pca": 0}, init_from=source_file, init_transform="refit"
        ).fit(scene)
    with pytest.raises(ValueError, match=r"^window: expected 7, the window of init_from"):
        HSIClassifier("ssftt", **{**FAST, "window": 9}, init_from=source_file).fit(scene)
    svm_file = (
        HSIClassifier("svm", pca=6, model_kwargs={"folds": 2})
        .fit(scene)
        .save(tmp_path / "svm.lnet")
    )
    with pytest.raises(ValueError, match=r"^init_from: expected a file of a trained network"):
        HSIClassifier("ssftt", **FAST, init_from=svm_file).fit(scene)
    with pytest.raises(ValueError, match=r"^freeze_features: expected False without init_from"):
        HSIClassifier("ssftt", **FAST, freeze_features=True).fit(scene)
    with pytest.raises(ValueError, match=r"^init_transform: expected one of"):
        HSIClassifier("ssftt", **FAST, init_from=source_file, init_transform="keep").fit(scene)


def test_fine_tuning_from_the_command_line(scene: Scene, source_file: Path, tmp_path: Path) -> None:
    """``hsi train --init-from`` on a cube file: the run folder's model fine-tuned from the
    source, recorded in config.json."""
    import json

    from lightnets.cli import main

    cube, gt = tmp_path / "cube.npy", tmp_path / "gt.npy"
    np.save(cube, scene.cube)
    np.save(gt, scene.gt)
    out = tmp_path / "run"
    code = main(
        [
            "hsi",
            "train",
            "--scene",
            str(cube),
            "--gt",
            str(gt),
            "--model",
            "ssftt",
            "--pca",
            "6",
            "--window",
            "7",
            "--epochs",
            "1",
            "--batch-size",
            "32",
            "--train-fraction",
            "0.5",
            "--init-from",
            str(source_file),
            "--freeze-features",
            "--out",
            str(out),
            "--device",
            "cpu",
            "--quiet",
        ]
    )
    assert code == 0
    config = json.loads(next(out.rglob("config.json")).read_text())
    settings = config["experiment"]
    assert settings["init_from"] == str(source_file) and settings["freeze_features"] is True
    assert HSIClassifier.load(next(out.rglob("model.pt"))).get_params()["freeze_features"]
