"""``benchmarks/hsi_models.py``'s page: where and when its runs were measured, what it lacks."""

from __future__ import annotations

import importlib.util
import json
import sys
from argparse import Namespace
from dataclasses import replace
from datetime import datetime, timezone
from pathlib import Path

import numpy as np
import pytest
from scipy import stats

from lightnets.hsi.benchmark import MODELS, run_benchmark
from lightnets.hsi.scenes import Scene
from lightnets.runs import cpu_name

SCRIPT = Path(__file__).resolve().parents[2] / "benchmarks" / "hsi_models.py"


def _load(filename: str, name: str):
    """A script of benchmarks/ as a module (its sibling modules importable while it loads)."""
    spec = importlib.util.spec_from_file_location(name, SCRIPT.parent / filename)
    module = importlib.util.module_from_spec(spec)
    sys.path.insert(0, str(SCRIPT.parent))
    try:
        spec.loader.exec_module(module)
    finally:
        sys.path.remove(str(SCRIPT.parent))
    return module


def _script():
    return _load(SCRIPT.name, "hsi_models_script")


def test_page_names_its_runs_machine_dates_and_missing_rows(
    synthetic_scene_factory, tmp_path: Path
) -> None:
    s = synthetic_scene_factory(height=20, width=18, bands=12, num_classes=3, seed=2)
    scene = Scene("synthetic", s.cube, s.gt, s.class_names, (0, 5, 10), {"source": "test"})
    rows = run_benchmark(scene, tmp_path, models=["svm"], protocols="paper30", runs=2,
                         settings={"pca": 6}, log=lambda _: None)
    page = _script()
    today = datetime.now(timezone.utc).date().isoformat()
    provenance = page._provenance(rows)
    assert provenance.startswith(f"Runs: 2 on {cpu_name()} (")
    assert f", on {today} (UTC)." in provenance
    asked = Namespace(models="svm", protocols="paper30", recipes="common", runs=2)
    (missing, blank) = page._missing(rows, asked)
    assert blank == "" and missing.startswith("Not in this table yet: hu1d, hamida3d, ")
    assert all(m in missing for m in MODELS if m != "svm") and "svm" not in missing
    assert page._missing([replace(rows[0], model=m) for m in MODELS], asked) == []
    both = Namespace(models="svm", protocols="paper30", recipes="common,paper", runs=2)
    lines = page._missing([replace(rows[0], model=m) for m in MODELS], both)
    assert lines == ["Rows still to run: paper30 · svm · paper.", ""]
    # a row trained in bf16 counts as its recipe's row, and the page says it trained in bf16
    bf16 = replace(rows[0], precision="bf16")
    assert page._missing([replace(bf16, model=m) for m in MODELS], asked) == []
    assert page._precision_note(rows) == []
    (note, _) = page._precision_note([bf16])
    assert note.startswith("Trained in bf16") and "paper30 · svm · common." in note


def test_published_split_masks_cover_the_labelled_pixels_once_stratified() -> None:
    module = _load("hsi_published_split.py", "hsi_published_split")
    rng = np.random.default_rng(0)
    gt = rng.integers(0, 4, size=(30, 40))
    train, test = module.published_masks(gt)
    assert not (train & test).any() and ((train | test) == (gt > 0)).all()
    for k in (1, 2, 3):  # stratified: each class keeps about a tenth for training
        n = int((gt == k).sum())
        assert abs(int((train & (gt == k)).sum()) - n / 10) <= 1
    again, _ = module.published_masks(gt)
    assert (again == train).all()  # a fixed split, not a seeded one


def _keras_control():
    return _load("hsi_keras_control.py", "hsi_keras_control")


def test_keras_control_windows_are_zero_padded_neighbourhoods_in_row_major_order() -> None:
    module = _keras_control()
    scene = np.arange(30 * 40 * 2, dtype=np.float32).reshape(30, 40, 2) + 1
    mask = np.zeros((30, 40), dtype=bool)
    mask[[0, 15, 29], [39, 20, 0]] = True
    out = module.windows(scene, mask)
    half = module.WINDOW // 2
    assert out.shape == (3, module.WINDOW, module.WINDOW, 2, 1)
    assert (out[0, half, half, :, 0] == scene[0, 39]).all()  # row 0 first
    assert (out[1, half, half, :, 0] == scene[15, 20]).all()
    assert (out[2, half, half, :, 0] == scene[29, 0]).all()
    assert (out[1, 0, 0, :, 0] == scene[15 - half, 20 - half]).all()
    assert (out[0, :half, :, :, 0] == 0).all()  # above row 0: padding
    assert (out[0, half, half + 1 :, :, 0] == 0).all()  # right of column 39: padding


def test_keras_control_without_keras_names_what_to_install(monkeypatch) -> None:
    module = _keras_control()
    monkeypatch.setitem(sys.modules, "keras", None)  # import keras raises ImportError
    with pytest.raises(SystemExit, match="tensorflow-cpu"):
        module._keras()


def test_keras_control_masks_missing_or_of_another_shape_are_named(tmp_path) -> None:
    module = _keras_control()
    with pytest.raises(SystemExit, match=r"--masks: expected .*train_mask\.npy.*not found"):
        module.load_masks(tmp_path, (4, 5))
    np.save(tmp_path / "train_mask.npy", np.zeros((4, 5), dtype=bool))
    np.save(tmp_path / "test_mask.npy", np.zeros((5, 4), dtype=bool))
    with pytest.raises(SystemExit, match=r"test_mask.npy a boolean 4×5 .* shape \(5, 4\)"):
        module.load_masks(tmp_path, (4, 5))
    np.save(tmp_path / "test_mask.npy", np.ones((4, 5), dtype=bool))
    train, test = module.load_masks(tmp_path, (4, 5))
    assert not train.any() and test.all()


def test_keras_control_seeds_other_than_integers_are_named(capsys) -> None:
    module = _keras_control()
    assert module.seed_list("0,3,4") == [0, 3, 4]
    with pytest.raises(SystemExit):
        module.main(["--data-dir", "x", "--seeds", "0,one"])
    assert "--seeds: expected comma-separated non-negative integers" in capsys.readouterr().err


def _keras_record(folder: Path, seed: int, oa: float, epochs: int | None = 100) -> None:
    record = {"seed": seed, "oa": oa / 100, "kept_epoch": 90 + seed, "train_seconds": 2500.0,
              "versions": {"keras": "3.15.1", "backend": "torch"}}
    if epochs is not None:  # the first records carry no epoch count
        record["epochs"] = epochs
    (folder / f"seed{seed}.json").write_text(json.dumps(record))


def test_framework_section_sets_keras_beside_lightnets_unpaired(tmp_path: Path) -> None:
    gaps = _load("hsi_paper_gaps.py", "hsi_paper_gaps")
    keras_oa = {0: 98.1, 1: 97.9, 2: 98.5}
    for seed, oa in keras_oa.items():
        _keras_record(tmp_path, seed, oa, epochs=None if seed == 0 else 100)
    keras = gaps.keras_runs(tmp_path)
    assert sorted(keras) == [0, 1, 2] and keras[1]["oa"] == pytest.approx(97.9)
    torch_oa = [98.61, 97.36, 98.22, 96.66, 97.46]
    torch = {s: {"oa": oa, "best_epoch": 80 + s, "train_seconds": 940.0, "epochs": 100}
             for s, oa in enumerate(torch_oa)}
    lines = gaps.framework_section(keras, torch)
    text = "\n".join(lines)
    assert "| 1 | 97.36 (81) | 97.90 (91) |" in lines
    assert "| 4 | 97.46 (84) | — |" in lines  # a seed Keras has not run
    welch = stats.ttest_ind(list(keras_oa.values()), torch_oa, equal_var=False).pvalue
    assert f"Welch t p {welch:.3g}, 3 against 5 runs" in text
    assert "target ≥ 97.9: met" in text  # Keras's mean 98.17
    assert "25.0 s per epoch in Keras, 9.4 s in lightnets" in text
    assert keras[0]["epochs"] == 100  # a record without the field ran the script's count
    halved = {s: {**r, "epochs": 50} for s, r in torch.items()}
    assert "18.8 s in lightnets" in "\n".join(gaps.framework_section(keras, halved))
    one = {0: keras[0]}
    assert gaps.framework_section(one, torch) == []  # one seed: nothing to test
    assert "does not differ" in text  # meets the target, Welch p above 0.05
    low = {s: {**r, "oa": r["oa"] - 1} for s, r in keras.items()}
    low_text = "\n".join(gaps.framework_section(low, torch))
    assert "target ≥ 97.9: missed" in low_text
    assert "the gap is not a difference of lightnets" in low_text
    high = {s: {**r, "oa": 99.0 + s / 10} for s, r in keras.items()}
    assert "a framework difference" in "\n".join(gaps.framework_section(high, torch))
