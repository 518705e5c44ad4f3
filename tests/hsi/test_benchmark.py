"""The benchmark: every protocol × model runs, one table in three formats, clear errors."""

from __future__ import annotations

import csv
import functools
import json
import warnings
from pathlib import Path

import numpy as np
import pytest

import lightnets
from lightnets.cli import main
from lightnets.hsi.benchmark import run_benchmark
from lightnets.hsi.benchmark_report import COLUMNS, BenchmarkRow, markdown_table
from lightnets.hsi.costs import PixelCost
from lightnets.hsi.scenes import Scene

SETTINGS = {"pca": 13, "batch_size": 32}


def quiet(_: str) -> None:
    pass


@pytest.fixture
def scene(synthetic_scene_factory) -> Scene:
    s = synthetic_scene_factory(height=28, width=26, bands=20, num_classes=3, seed=1)
    return Scene("synthetic", s.cube, s.gt, s.class_names, (0, 5, 10), {"source": "test"})


def read_csv(path: Path) -> list[dict[str, str]]:
    with path.open() as fh:
        return list(csv.DictReader(fh))


def test_a_short_benchmark_writes_one_table(scene: Scene, tmp_path: Path) -> None:
    kwargs = dict(
        models=["svm", "hamida3d"], protocols="paper30,regions", runs=2, epochs=2, log=quiet
    )
    rows = run_benchmark(scene, tmp_path, settings=SETTINGS, **kwargs)
    pairs = [
        ("paper30", "svm"), ("paper30", "hamida3d"), ("regions", "svm"), ("regions", "hamida3d")
    ]
    assert [(r.protocol, r.model) for r in rows] == pairs

    table = read_csv(tmp_path / "benchmark.csv")
    assert [(r["protocol"], r["model"]) for r in table] == pairs
    assert tuple(table[0]) == COLUMNS
    by_pair = {(r["protocol"], r["model"]): r for r in table}
    hamida = lightnets.create_model("hamida3d", bands=13, num_classes=3)
    assert int(by_pair["paper30", "hamida3d"]["params"]) == sum(
        p.numel() for p in hamida.parameters()
    )
    assert by_pair["paper30", "hamida3d"]["window"] == "5"
    assert by_pair["paper30", "svm"]["window"] == "1"
    assert by_pair["paper30", "svm"]["macs_per_window"] == ""  # no patch path
    assert int(by_pair["paper30", "svm"]["macs_per_pixel"]) > 0
    assert float(by_pair["paper30", "hamida3d"]["overlap"]) > 0.5  # random split, 5×5 windows
    assert all(float(by_pair["regions", m]["overlap"]) == 0 for m in ("svm", "hamida3d"))
    # one buffer for every model of the disjoint protocol: the same test pixels for all
    assert by_pair["regions", "svm"]["test_pixels"] == by_pair["regions", "hamida3d"]["test_pixels"]
    region_configs = [
        json.loads((tmp_path / "runs" / "regions" / m / "seed0" / "config.json").read_text())
        for m in ("svm", "hamida3d")
    ]
    assert [c["experiment"]["buffer"] for c in region_configs] == [5, 5]  # Hamida3D's window
    assert region_configs[0]["split"] == region_configs[1]["split"]
    assert all(r["runs"] == "2" and 0 <= float(r["oa_mean"]) <= 1 for r in table)

    page = (tmp_path / "benchmark.md").read_text()
    assert "### paper30" in page and "### regions" in page
    assert page.count("| svm |") == 2 and page.count("| hamida3d |") == 2
    record = json.loads((tmp_path / "benchmark.json").read_text())
    assert record["runs"] == 2 and record["environment"]["torch"]
    assert len(record["rows"]) == 4 and len(record["rows"][0]["per_class_mean"]) == 3
    assert (tmp_path / "maps.png").stat().st_size > 0

    svm_run = tmp_path / "runs" / "paper30" / "svm" / "seed0"
    assert {"metrics.json", "config.json", "map.png", "confusion.png", "report.md"} <= {
        p.name for p in svm_run.iterdir()
    }
    assert (svm_run / "model.pt").exists() and not (svm_run / "history.csv").exists()
    assert "no `history.csv`" in (svm_run / "report.md").read_text()

    logs: list[str] = []
    again = run_benchmark(
        scene, tmp_path, settings=SETTINGS, resume=True, **{**kwargs, "log": logs.append}
    )
    assert sum("already complete" in line for line in logs) == 8  # 4 pairs × 2 seeds
    assert [r.summary["oa"]["mean"] for r in again] == [r.summary["oa"]["mean"] for r in rows]

    # only_finished trains nothing: a row with a run missing is left out, the others kept
    (tmp_path / "runs" / "regions" / "svm" / "seed1" / "metrics.json").unlink()
    logs.clear()
    kept = run_benchmark(
        scene, tmp_path, settings=SETTINGS, only_finished=True, **{**kwargs, "log": logs.append}
    )
    assert [(r.protocol, r.model) for r in kept] == [p for p in pairs if p != ("regions", "svm")]
    assert sum("left out of the table" in line for line in logs) == 1
    assert sum("already complete" in line for line in logs) == 6  # read back, not retrained
    assert not (tmp_path / "runs" / "regions" / "svm" / "seed1" / "metrics.json").exists()


def test_finished_runs_counts_the_finished_seeds_from_the_first(tmp_path: Path) -> None:
    from lightnets.hsi.benchmark import finished_runs

    for seed in (0, 1, 3):
        (tmp_path / f"seed{seed}").mkdir()
        (tmp_path / f"seed{seed}" / "metrics.json").write_text("{}")
    assert finished_runs(tmp_path, 5) == 2  # seed 2 is missing: seeds 0 and 1
    assert finished_runs(tmp_path, 1) == 0  # one run lives in the folder itself
    (tmp_path / "metrics.json").write_text("{}")
    assert finished_runs(tmp_path, 1) == 1


def test_a_bf16_row_has_its_own_folder_and_is_read_back_marked(
    scene: Scene, tmp_path: Path
) -> None:
    kwargs = dict(models=["hamida3d"], protocols="paper30", runs=2, epochs=1, log=quiet)
    with warnings.catch_warnings():  # bf16 is emulated (and says so) on a CPU without it
        warnings.simplefilter("ignore", RuntimeWarning)
        (row,) = run_benchmark(
            scene, tmp_path, settings={**SETTINGS, "precision": "bf16"}, **kwargs
        )
    runs = tmp_path / "runs" / "paper30"
    assert row.precision == "bf16" and row.folder == runs / "hamida3d-bf16"
    assert sorted(p.name for p in runs.iterdir()) == ["hamida3d-bf16"]
    config = json.loads((row.first_run / "config.json").read_text())
    assert config["experiment"]["precision"] == "bf16"
    assert read_csv(tmp_path / "benchmark.csv")[0]["recipe"] == "common, bf16"

    # the fp32 table trains nothing where only the bf16 runs are finished: it reads them back,
    # marked, from their folder
    logs: list[str] = []
    (again,) = run_benchmark(
        scene, tmp_path, settings=SETTINGS, only_finished=True, **{**kwargs, "log": logs.append}
    )
    assert again.precision == "bf16" and again.folder == runs / "hamida3d-bf16"
    assert again.summary["oa"]["mean"] == row.summary["oa"]["mean"]
    assert sum("already complete" in line for line in logs) == 2
    assert sorted(p.name for p in runs.iterdir()) == ["hamida3d-bf16"]
    assert "| hamida3d | common, bf16 |" in (tmp_path / "benchmark.md").read_text()


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        (
            {"models": "svm,resnet18"},
            r"^models: expected a comma-separated list of 'svm'.*got 'resnet18'",
        ),
        ({"models": []}, r"^models: expected a comma-separated list of 'svm'"),
        ({"models": "svm,svm"}, r"^models: expected names without repeats"),
        (
            {"protocols": "paper50"},
            r"^protocols: expected a comma-separated list of 'paper30', 'paper10', 'regions', "
            r"'cv5', got 'paper50'",
        ),
        ({"runs": 0}, r"^runs: expected an integer >= 1, got 0"),
        ({"epochs": 0}, r"^epochs: expected an integer >= 1, got 0"),
        ({"settings": {"split": "blocks"}}, r"^split: expected no value: the benchmark sets it"),
        (
            {"settings": {"buffer": 3}},
            r"^buffer: expected an odd integer >= the window \(\d+\), got 3",
        ),
        (
            {"settings": {"buffer": 0}},
            r"^buffer: expected an odd integer >= the window \(\d+\), got 0",
        ),
    ],
)
def test_bad_arguments_name_the_argument_before_any_run(
    scene: Scene, tmp_path: Path, kwargs: dict, message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        run_benchmark(scene, tmp_path / "out", log=quiet, **kwargs)
    assert not (tmp_path / "out").exists()


def test_cli_runs_a_benchmark_on_your_own_files(scene: Scene, tmp_path: Path, capsys) -> None:
    np.save(tmp_path / "cube.npy", scene.cube)
    np.save(tmp_path / "gt.npy", scene.gt)
    out = tmp_path / "bench"
    args = [
        "hsi",
        "benchmark",
        "--scene",
        str(tmp_path / "cube.npy"),
        "--gt",
        str(tmp_path / "gt.npy"),
        "--models",
        "svm,hu1d",
        "--protocols",
        "paper10",
        "--runs",
        "1",
        "--epochs",
        "1",
        "--pca",
        "13",
        "--batch-size",
        "32",
        "--out",
        str(out),
        "--quiet",
    ]
    assert main(args) == 0
    printed = capsys.readouterr().out
    assert "### paper10" in printed and "| svm |" in printed and "| hu1d |" in printed
    assert [r["model"] for r in read_csv(out / "benchmark.csv")] == ["svm", "hu1d"]
    assert (out / "runs" / "paper10" / "hu1d" / "model.pt").exists()  # one run: no seed folder

    assert main([*args[:6], "--models", "svm,nope", "--out", str(tmp_path / "bad")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("lightnets: error: models: expected") and "'nope'" in err


def test_both_recipes_give_a_row_each_with_the_published_figure(
    synthetic_scene_factory, tmp_path: Path
) -> None:
    s = synthetic_scene_factory(height=20, width=18, bands=36, num_classes=3, seed=2)
    wide = Scene("synthetic", s.cube, s.gt, s.class_names, (0, 5, 10), {"source": "test"})
    rows = run_benchmark(
        wide, tmp_path, models=["hu1d"], protocols="paper10", runs=1, epochs=2,
        recipes="common,paper:2", log=quiet,
    )
    assert [(r.model, r.recipe, r.summary["oa"]["n"]) for r in rows] == [
        ("hu1d", "common", 1), ("hu1d", "paper", 2)
    ]
    common, paper = (json.loads((r.first_run / "config.json").read_text()) for r in rows)
    assert common["experiment"]["optimizer"] == "adam" and common["experiment"]["pca"] == 30
    assert paper["experiment"]["optimizer"] == "sgd" and paper["experiment"]["pca"] == 0
    assert paper["model_kwargs"]["bands"] == 36  # all bands
    assert rows[1].folder == tmp_path / "runs" / "paper10" / "hu1d-paper"
    assert rows[0].published == "" and rows[1].published.startswith("≈82.7")
    page = (tmp_path / "benchmark.md").read_text()
    assert "| hu1d | paper | 2 |" in page and "≈82.7 (Paoletti" in page


def test_a_model_whose_paper_recipe_is_the_common_one_gets_one_row() -> None:
    from lightnets.hsi.benchmark import parse_recipes, table_plan

    seeds = parse_recipes("common:3,paper:5", 1)
    assert seeds == {"common": 3, "paper": 5}
    assert table_plan(["hybridsn", "ssftt"], seeds) == [
        ("hybridsn", "common = paper", "common", 3),
        ("ssftt", "common", "common", 3),
        ("ssftt", "paper", "paper", 5),
    ]
    assert table_plan(["hybridsn"], {"paper": 5}) == [
        ("hybridsn", "paper (= common)", "common", 5)
    ]
    for bad in ("common,common", "mine", "paper:x"):
        with pytest.raises(ValueError, match=r"^recipes: expected distinct names"):
            parse_recipes(bad, 1)


def test_the_cross_validation_protocol_runs_every_fold(
    synthetic_scene_factory, tmp_path: Path
) -> None:
    s = synthetic_scene_factory(height=72, width=72, bands=20, num_classes=3, seed=4)
    big = Scene("synthetic", s.cube, s.gt, s.class_names, (0, 5, 10), {"source": "test"})
    rows = run_benchmark(
        big, tmp_path, models=["svm"], protocols="cv5", runs=2, log=quiet,
        settings={
            **SETTINGS,
            "buffer": 5,
            "model_kwargs": {"c_grid": [10.0], "gamma_grid": [1.0], "folds": 2},
        },
    )
    (row,) = rows
    assert row.summary["oa"]["n"] == 5 and row.summary["overlap"]["mean"] == 0.0
    folds = [
        json.loads((tmp_path / "runs" / "cv5" / "svm" / f"seed{i}" / "config.json").read_text())
        for i in range(5)
    ]
    assert [f["split"]["fold"] for f in folds] == [0, 1, 2, 3, 4]
    assert {f["experiment"]["buffer"] for f in folds} == {5}


def _fold_row(
    folder: Path, model: str, scores: list[float], recipe: str = "common"
) -> BenchmarkRow:
    """A cv5 table row over ``scores`` (one metrics.json per fold under ``folder``)."""
    folder = folder / f"{model}-{recipe}"
    for i, oa in enumerate(scores):
        (folder / f"seed{i}").mkdir(parents=True)
        (folder / f"seed{i}" / "metrics.json").write_text(json.dumps({"oa": oa}))
    stat = {"mean": sum(scores) / len(scores), "std": 0.0, "n": len(scores)}
    summary = {k: stat for k in ("oa", "aa", "kappa", "train_seconds", "map_seconds",
                                 "wall_seconds", "overlap", "train_pixels", "test_pixels")}
    return BenchmarkRow("cv5", model, recipe, "", 1, summary, PixelCost(1, 1, None), folder,
                        folder / "seed0")


def test_rows_are_compared_with_the_svm_paired_over_the_folds(tmp_path: Path) -> None:
    row = functools.partial(_fold_row, tmp_path)

    svm = row("svm", [0.40, 0.50, 0.45, 0.60, 0.55])
    rows = [svm, row("hu1d", [0.50, 0.55, 0.60, 0.70, 0.62])]
    page = markdown_table(rows)
    assert "Paired over the 5 folds against the spectral SVM (common recipe)" in page
    line = next(li for li in page.splitlines() if li.startswith("| hu1d | common | +"))
    assert line.startswith("| hu1d | common | +9.40 |") and line.endswith("| 0.0625 |")
    assert "Paired over" not in markdown_table([r for r in rows if r.model == "hu1d"])
    # with two SVM rows, the stronger one is the bar
    stronger = row("svm", [0.45, 0.56, 0.50, 0.64, 0.61], recipe="paper")
    page = markdown_table([rows[0], stronger, rows[1]])
    assert "against the spectral SVM (paper recipe)" in page
    assert "| hu1d | common | +4.20 |" in page and "| svm | common | -5.20 |" in page
    assert "Each variant against its base network" not in page


def test_variants_are_compared_with_their_base_network_paired_over_the_folds(
    tmp_path: Path,
) -> None:
    row = functools.partial(_fold_row, tmp_path)

    base = row("hybridsn", [0.30, 0.35, 0.20, 0.40, 0.25])
    se = row("hybridsn_se", [0.28, 0.36, 0.16, 0.38, 0.22])
    other_recipe = row("hybridsn_lite", [0.5, 0.5, 0.5, 0.5, 0.5], recipe="paper")
    page = markdown_table([base, se, other_recipe])
    assert "Each variant against its base network, same recipe, paired over the 5 folds" in page
    assert "| hybridsn_se | hybridsn | common | -2.00 |" in page
    assert "| hybridsn_lite | hybridsn |" not in page  # no base row under its recipe
    assert "Each variant against" not in markdown_table([se, other_recipe])
