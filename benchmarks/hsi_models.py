"""Hyperspectral classifiers on Indian Pines under three protocols: the table in docs/.

The RBF SVM, Hu1D, Hamida3D, HybridSN with its SE, CBAM and Lite variants, and SSFTT, each at
its own window, under the protocols of ``lightnets.hsi.benchmark`` (``paper30``, ``paper10``,
``regions``) and the recipes of ``lightnets.hsi.recipes`` (``common``: one shared setting;
``paper``: each model's own, its published figure beside it), seeds 0 … runs − 1
(``lightnets hsi benchmark`` underneath). Writes the table files and the map grid under
``--out``, then ``docs/hsi-models.md`` (``--page``) and ``docs/figures/hsi_models_maps.png``
(named after the page); prints the page. The full run takes hours on a 2-core CPU;
``--resume`` reuses finished runs and continues interrupted ones.

The default ``--out`` is ``benchmarks/results/hsi_models``, whose light files are kept in the
repository (each run's ``config.json`` with its settings, machine, versions and date,
``metrics.json``, ``history.csv``, ``report.md``, and the first seed's ``prediction.npy``;
model files, checkpoints and pictures are not): every figure of the page traces to the run
that measured it, and a table too long for one sitting is continued with ``--resume``.

    python benchmarks/hsi_models.py --runs 3 --protocols paper10,regions --resume
    python benchmarks/hsi_models.py --recipes common:3,paper:5 --protocols paper10 --resume
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter
from pathlib import Path

from lightnets.hsi.benchmark import (
    MODELS,
    PROTOCOLS,
    BenchmarkRow,
    parse_recipes,
    run_benchmark,
    table_plan,
)
from lightnets.hsi.benchmark_report import markdown_table
from lightnets.hsi.recipes import get_recipe
from lightnets.runs import atomic_write_bytes, environment_info

RESULTS = Path(__file__).resolve().parent / "results" / "hsi_models"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5, help="seeds per model and protocol")
    parser.add_argument("--epochs", type=int, default=100)
    parser.add_argument("--models", default=",".join(MODELS))
    parser.add_argument("--protocols", default=",".join(PROTOCOLS))
    parser.add_argument("--recipes", default="common",
                        help="common, paper or both with seed counts, e.g. common:3,paper:5")
    parser.add_argument("--data-dir", default=None)
    parser.add_argument("--device", default=None, help="cpu, cuda … (default: CUDA if any)")
    parser.add_argument("--precision", default="fp32", choices=("fp32", "bf16"),
                        help="what the runs train in; bf16 runs go to <model>[-paper]-bf16/ and "
                             "their rows are marked (default: fp32)")
    parser.add_argument("--out", default=str(RESULTS),
                        help="runs and table files (default: the kept records, "
                             "benchmarks/results/hsi_models)")
    parser.add_argument("--docs", default="docs", help="where the page and its figure go")
    parser.add_argument("--page", default="hsi-models.md",
                        help="the page's file name in --docs (default: hsi-models.md)")
    parser.add_argument("--resume", action="store_true", help="reuse finished runs in --out")
    parser.add_argument("--buffer", type=int, default=None,
                        help="regions buffer (default: the largest window of --models)")
    parser.add_argument("--only-finished", action="store_true",
                        help="train nothing: each row with its finished seeds (every fold), "
                             "the others named")
    parser.add_argument("--sections", default="",
                        help="further sections: cv-layout (the cv5 folds), and from other "
                             "scripts' kept records: attempts (hsi_cv_attempts.py), select "
                             "(hsi_select.py), paper-gaps (hsi_paper_gaps.py), transfer "
                             "(hsi_transfer.py)")
    args = parser.parse_args(argv)

    rows = run_benchmark(
        "indian_pines",
        args.out,
        models=args.models,
        protocols=args.protocols,
        runs=args.runs,
        epochs=args.epochs,
        recipes=args.recipes,
        settings={
            "device": args.device,
            "buffer": args.buffer,
            "data_dir": args.data_dir,
            "precision": args.precision,
        },
        resume=args.resume,
        only_finished=args.only_finished,
    )
    docs = Path(args.docs)
    figure = _figure(args.page)
    atomic_write_bytes(docs / "figures" / figure, (Path(args.out) / "maps.png").read_bytes())
    page = _page(rows, args, environment_info())
    atomic_write_bytes(docs / args.page, page.encode())
    print(page)
    return 0


def _page(rows: list[BenchmarkRow], args: argparse.Namespace, env: dict) -> str:
    """The docs page: how it was measured, the protocols, the table and the maps."""
    command = "python benchmarks/hsi_models.py " + " ".join(sys.argv[1:])
    return "\n".join(
        [
            "# Hyperspectral classifiers on Indian Pines: one table under fair protocols",
            "",
            f"Seeds 0, 1, … per row (the *runs* column), {args.epochs} epochs. "
            f"{_provenance(rows)} Page written with Python {env['python']}, torch "
            f"{env['torch']}, numpy {env['numpy']}, lightnets {env['lightnets']}.",
            "",
            f"Command: `{command.strip()}`",
            "",
            "Recipe `common`: every classifier sees the same input, the scene reduced to 30 PCA "
            "components, whitened, fitted on the whole scene (the HybridSN paper's choice); "
            "networks train with Adam 1e-3, batch 256 i.i.d. batches, the lowest-training-loss "
            "epoch kept (no test pixel is used for selection), each at its own window (Hu1D 1, "
            "Hamida3D 5, SSFTT 13, HybridSN and its variants 25). Recipe `paper`: each model's "
            "own paper or official code (`lightnets.hsi.recipes`, sources cited there): SSFTT "
            "batch 64 on stacked patches (its batch norm over the windows, as the official code),"
            " the batches cut even (no batch of one pixel, which the official split's 1024 pixels"
            " never make) and its last epoch; the SVM on all 200 bands; Hu1D and Hamida3D as "
            "DeepHyperX runs them (all bands scaled to [0, 1], SGD 0.01, batch 100, a plateau "
            "schedule, the last epoch; Hamida3D with weight decay 5e-4). HybridSN's paper recipe "
            "is the common one (one row: `common = paper`). The SVM (RBF, spectra standardised on"
            " the training pixels) chooses C and γ by 5-fold cross-validation on the training "
            "pixels. *Published OA* is the figure of the model's paper or code under that recipe "
            "and protocol, with its source.",
            "",
            "Protocols: `paper30` and `paper10` are stratified random splits (30 % and 10 % of "
            "each class); `regions` is spatially disjoint: 10 % of each class taken as one "
            "region, and only test pixels whose 25×25 neighbourhood (the largest window of the "
            "models) holds no training pixel kept, so every model is trained and tested on the "
            "same pixels of each seed; `cv5` is spatial cross-validation: whole 24×24 tiles "
            "dealt to 5 folds so that every class spreads over them, each fold tested once by "
            "a model trained on the other folds' pixels minus those within the buffer window of "
            "the fold (overlap 0; a class whose pixels all lie within one fold and its buffer "
            "has no training pixel there, and its pixels of that fold go untested), its ± over "
            "the folds, every row compared with the SVM paired over the folds. *Overlap* is the "
            "share of test pixels whose window (the "
            "model's) contains a training pixel. Every run's settings, machine, curves and "
            "metrics are kept in `benchmarks/results/hsi_models/runs/<protocol>/<model>/` "
            "(`<model>-paper/` for the paper recipe).",
            "",
            *_precision_note(rows),
            *_missing(rows, args),
            markdown_table(rows),
            *_recipe_notes(rows),
            f"![maps of the first seed](figures/{_figure(args.page)})",
            "",
            *_sections(args),
        ]
    )


def _cv_layout(args: argparse.Namespace) -> list[str]:
    """How the ``cv5`` folds fall on the scene, computed from the folds themselves, beside the
    published leakage-aware protocols."""
    from lightnets.hsi import load_scene, spatial_folds, window_overlap

    spec = PROTOCOLS["cv5"]
    scene = load_scene("indian_pines", data_dir=args.data_dir)
    buffer = args.buffer or 25
    folds = spatial_folds(scene.gt, spec["folds"], block_size=spec["block_size"],
                          window=buffer, seed=0, on_missing="drop")
    rows = []
    for k, split in enumerate(folds):
        dropped = ", ".join(f"{scene.class_names[c - 1]} ({n})" for c, n in split.info["dropped"])
        rows.append(
            f"| {k} | {int(split.train.sum())} | {int(split.test.sum())} | "
            f"{split.info['removed_by_buffer']} | "
            f"{window_overlap(split.train, split.test, buffer) * 100:.1f} | {dropped or '—'} |"
        )
    tested = sum(int(s.test.sum()) for s in folds)
    labelled = int((scene.gt > 0).sum())
    return [
        "## How the spatial cross-validation is laid out",
        "",
        f"`lightnets.hsi.spatial_folds`: the scene is cut into {spec['block_size']}×"
        f"{spec['block_size']} tiles; the tiles holding labelled pixels are dealt, in an order "
        "drawn with seed 0, each to the fold where it leaves every class's share across the "
        "folds most even (each class weighs the same), so that as many classes as whole tiles "
        "allow have pixels in every fold. Fold *k* tests all labelled pixels of its tiles and "
        "trains on the other folds' labelled pixels minus those within a "
        f"{buffer}×{buffer} box of a test pixel (the largest window of the models), so no test "
        "window holds a training pixel. A class whose pixels all lie in one fold's tiles and "
        "its buffer (a single field: Alfalfa, Oats, Grass-pasture-mowed, …) has no training "
        "pixel in that fold: its pixels there are left out of that fold's test set and named "
        "below (`on_missing='drop'`; the default `'error'` refuses such a layout, naming class "
        f"and fold). Over the folds {tested} of the {labelled} labelled pixels are tested, each "
        "exactly once.",
        "",
        "| fold | training px | test px | removed by the buffer | overlap % | classes left "
        "untested (px) |",
        "|--:|--:|--:|--:|--:|---|",
        *rows,
        "",
        "Published leakage-aware protocols: Nalepa, Myller and Kawulok (IEEE GRSL 16(8), 2019) "
        "draw whole tiles into the training set until a pixel budget is met, so class counts "
        "vary by fold and a class can be absent; DeepHyperX's `disjoint` mode (Audebert et "
        "al., IEEE GRSM 2019) trains on the rows above the point where a class reaches its "
        "share and tests on the rows below, with no buffer, so test windows next to that line "
        "see training pixels. The IEEE GRSS DASE split used by SpectralFormer and miniGCN (695 "
        "training pixels) is often called disjoint, but on Indian Pines it is not: every one of "
        "the 42 class fields holds training pixels, and 78.9 % of its test pixels have a "
        "training pixel within their 7×7 window (98.3 % within 13×13; computed from its "
        "published masks, IndianTR123_temp123.tif and IndianTE123_temp123.tif of "
        "danfenghong/IEEE_TGRS_GCN, which lightnets does not ship and so does not recompute). "
        "The `regions` protocol (one compact region per class trains) is kept "
        "(`--split regions`); its spread over seeds is as large as the differences it should "
        "show, which is why the table above uses folds.",
        "",
    ]


def _sections(args: argparse.Namespace) -> list[str]:
    """The sections of ``--sections``, each built from its own script's kept records."""
    lines = []
    for name in [s for s in args.sections.split(",") if s]:
        if name == "cv-layout":
            lines += _cv_layout(args)
        elif name == "attempts":
            import hsi_cv_attempts

            lines += [
                "## What beats the spectral SVM under spatial cross-validation",
                "",
                "`benchmarks/hsi_cv_attempts.py`: each attempt fixed before it ran, trained on "
                "the `cv5` folds above and compared with the SVM on all bands, paired over the "
                "folds (target: 10 points above it with the paired test significant). "
                "Smoothing and region votes read the classifier's output, never a label; a "
                "smoothing window stays within the 25×25 buffer, so it never reaches the output "
                "at a training pixel (which the classifier has fitted), and training pixels "
                "cast no vote in a region. A nested choice of window scores each candidate by "
                "a 4-fold spatial CV inside the fold's training pixels. The majority window is "
                "`lightnets hsi predict --smooth N` (`lightnets.hsi.majority_filter`); the "
                "regions are `lightnets.hsi.cluster_regions` and `region_majority`.",
                "",
                *hsi_cv_attempts.section(),
            ]
        elif name == "select":
            import hsi_select

            lines += [
                "## Hu1D and Hamida3D trained to convergence: the training chosen on "
                "validation pixels",
                "",
                "DeepHyperX's training of the two baselines (their `paper` recipe above) "
                "stops far from convergence here. `benchmarks/hsi_select.py` tries a few "
                "trainings of the same network and picks one by validation OA alone (a "
                "quarter of seed 0's training pixels held out), then scores the pick on the "
                "test pixels of 5 seeds:",
                "",
                *hsi_select.section(),
            ]
        elif name == "paper-gaps":
            import hsi_paper_gaps

            lines += [
                "## SSFTT and HybridSN at 10 %: what the gaps to the papers are, and are not",
                "",
                "`benchmarks/hsi_paper_gaps.py`, from kept runs of the paper recipes at 10 % "
                "(seeds 0–4, the same splits in both columns of a table; the training is the "
                "same, only the epoch kept differs) and HybridSN at 30 %:",
                "",
                *hsi_paper_gaps.section(),
            ]
        elif name == "transfer":
            import hsi_transfer

            lines += ["## Transfer learning", "", *hsi_transfer.section(docs=Path(args.docs))]
        else:
            raise SystemExit(
                "--sections: expected cv-layout, attempts, select, paper-gaps or transfer, "
                f"got {name!r}"
            )
    return lines


def _recipe_notes(rows: list[BenchmarkRow]) -> list[str]:
    """The paper recipes' notes (what is known to differ from the published run)."""
    notes = []
    for model in dict.fromkeys(r.model for r in rows if r.recipe == "paper"):
        recipe = get_recipe(model, "paper")
        if recipe.notes:
            notes.append(f"* {model}, paper recipe ({recipe.source}): {recipe.notes}.")
    return ["Paper recipes, what is known about the gaps:", "", *notes, ""] if notes else []


def _figure(page: str) -> str:
    """The map grid's file name for a page: hsi-models.md → hsi_models_maps.png."""
    return Path(page).stem.replace("-", "_") + "_maps.png"


def _precision_note(rows: list[BenchmarkRow]) -> list[str]:
    """A line on the rows trained in bf16, where there are any."""
    marked = [f"{r.protocol} · {r.model} · {r.recipe}" for r in rows if r.precision != "fp32"]
    if not marked:
        return []
    return [
        f"Trained in bf16 (autocast, float32 weights and optimiser; run folders ending `-bf16`): "
        f"{'; '.join(marked)}. Every other row trained in fp32. For HybridSN bf16 lands within "
        "the seeds' spread of fp32 ([hsi-precision.md](hsi-precision.md)).",
        "",
    ]


def _missing(rows: list[BenchmarkRow], args: argparse.Namespace) -> list[str]:
    """A line naming the benchmark's models, and the asked rows, that this table lacks."""
    lines = []
    models = [m for m in MODELS if m not in {r.model for r in rows}]
    if models:
        lines.append(f"Not in this table yet: {', '.join(models)}.")
    have = {(r.protocol, r.model, r.recipe) for r in rows}
    plan = table_plan(args.models.split(","), parse_recipes(args.recipes, args.runs))
    absent = [
        f"{p} · {m} · {label}"
        for p in args.protocols.split(",")
        for m, label, _, _ in plan
        if (p, m, label) not in have and m in {r.model for r in rows}
    ]
    if absent:
        lines.append(f"Rows still to run: {'; '.join(absent)}.")
    return [*lines, ""] if lines else []


def _provenance(rows: list[BenchmarkRow]) -> str:
    """Where and when the runs behind ``rows`` were measured, read from their config.json."""
    machines: Counter[str] = Counter()
    dates: list[str] = []
    for row in rows:
        for config in sorted(row.folder.glob("**/config.json")):
            env = json.loads(config.read_text())["environment"]
            machines[
                f"{env['cpu']} ({env['cpu_count']} cores, {env['torch_threads']} torch "
                f"thread(s), GPU: {env['cuda'] or 'none'}; torch {env['torch']})"
            ] += 1
            if "utc" in env:
                dates.append(env["utc"][:10])
    where = "; ".join(f"{n} on {m}" for m, n in machines.most_common())
    when = ""
    if dates:
        first, last = min(dates), max(dates)
        when = f", on {first} (UTC)" if first == last else f", {first} to {last} (UTC)"
    return (
        f"Runs: {where}{when}. Training and map seconds are wall-clock, under whatever else "
        "the machine ran (each run's config.json records the load average at its start)."
    )


if __name__ == "__main__":
    raise SystemExit(main())
