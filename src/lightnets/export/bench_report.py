"""The report of :func:`~lightnets.export.bench.run_bench`: the timings, the targets beside
them, and the machine they were measured on."""

from __future__ import annotations

from .._table import format_table
from .bench import BASELINE, PATHS, BenchReport, BenchRow

TARGET_EAGER_RATIO = 1.05  # lightnets eager time / torchvision eager time, at most
TARGET_SPEEDUP = 2.5  # torchvision eager time / fastest lightnets path time, at least
SPEEDUP_MODELS = ("mobilenet_v3_large_100", "mobilenet_v2_100", "shufflenet_v2_x1_0")
TARGET_BATCH = 1
HEADERS = ("model", "batch", "path", "median ms", "p90 ms", "time / torchvision", "speed-up",
           "note")


def _note(row: BenchRow, path: str) -> str:
    if path in row.missing:
        return row.missing[path]
    if path == BASELINE:
        return f"torchvision.models.{row.torchvision}"
    if path == "lightnets eager":
        return f"same weights, max |Δ| {row.max_abs_diff:.1g}"
    return ""


def results_table(report: BenchReport) -> str:
    """One line per network, batch size and path: median and p90 ms, ratio, speed-up."""
    lines = []
    for row in report.rows:
        for path in PATHS:
            result, ratio = row.results.get(path), row.ratio(path)
            if result is None or ratio is None:
                cells = ["n/a"] * 4
            else:
                cells = [f"{result.median_ms:.2f}", f"{result.p90_ms:.2f}", f"{ratio:.2f}",
                         f"{1 / ratio:.2f}×"]
            lines.append([row.model, row.batch, path, *cells, _note(row, path)])
    if not lines:
        return "(no measurements)"
    return format_table(HEADERS, lines, align="lrlrrrrl")


def _verdict(low: float, high: float, target: float, at_most: bool) -> str:
    """Whether the 95 % interval [low, high] of a figure clears ``target``: "met" when all of
    it does, "NOT met" when none of it does, else undecided at this noise."""
    if (high <= target) if at_most else (low >= target):
        return "met"
    if (low > target) if at_most else (high < target):
        return "NOT met"
    return "undecided at this noise: rerun with more --repeats"


def _interval(low: float, high: float) -> str:
    return f"95 % interval {low:.2f}–{high:.2f}"


def targets(report: BenchReport) -> list[str]:
    """The targets, each with the measured figure and whether it is met: the eager ratio at
    every batch size, the speed-up at batch 1."""
    lines = []
    for row in report.rows:
        eager = row.ratio("lightnets eager")
        interval = row.ratio_interval("lightnets eager")
        assert eager is not None and interval is not None
        lines.append(
            f"- {row.model}, batch {row.batch}: lightnets eager / torchvision eager = "
            f"{eager:.2f} ({_interval(*interval)}; target ≤ {TARGET_EAGER_RATIO}: "
            f"{_verdict(*interval, TARGET_EAGER_RATIO, at_most=True)})"
        )
        if row.model not in SPEEDUP_MODELS or row.batch != TARGET_BATCH:
            continue
        ratio, best = min((r, p) for p in PATHS[1:] if (r := row.ratio(p)) is not None)
        interval = row.ratio_interval(best)
        assert interval is not None  # ``best`` has a timing: its ratio was just taken
        low, high = 1 / interval[1], 1 / interval[0]  # the speed-up's interval
        lines.append(
            f"  fastest lightnets path: {best}, {1 / ratio:.2f}× faster than torchvision eager "
            f"({_interval(low, high)}; target ≥ {TARGET_SPEEDUP}×: "
            f"{_verdict(low, high, TARGET_SPEEDUP, at_most=False)})"
        )
    at_batch = {r.model for r in report.rows if r.batch == TARGET_BATCH}
    absent = [m for m in SPEEDUP_MODELS if m not in at_batch]
    if absent:
        lines.append(f"- speed-up target not measured in this run for: {', '.join(absent)}")
    return lines


def _load(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.2f}"


def conditions(report: BenchReport) -> str:
    """Machine, versions, load and settings, as one paragraph."""
    env = report.environment
    versions = [f"torch {env.get('torch')}"]
    for module in ("torchvision", "onnxruntime"):
        try:
            versions.append(f"{module} {__import__(module).__version__}")
        except ImportError:
            versions.append(f"{module} not installed")
    versions.append(f"lightnets {env.get('lightnets')}")
    forced = " Forced with --force: the load limit was not applied." if report.forced else ""
    return (
        f"Machine: {env.get('cpu')}, {report.cores} logical cores, {report.threads} thread(s) "
        f"for PyTorch and for ONNX Runtime; {', '.join(versions)}, Python {env.get('python')}. "
        f"Load average (1 min): {_load(report.load_before)} before, "
        f"{_load(report.load_after)} after (this run's own share ≈ {report.own_load:.2f}); "
        f"limit {report.max_load:g} per core.{forced} Input 3×{report.input_size}×"
        f"{report.input_size}, {report.repeats} interleaved rounds after {report.warmup} "
        f"warm-up passes per path, "
        f"{'each network in a fresh process' if report.isolated else 'all in one process'}. "
        f"Weights: torchvision's random initialisation, copied into "
        f"the lightnets twin. ORT int8: calibrated on {report.calibration_images} random "
        f"normal images (synthetic, so the timing is representative, the accuracy is not)."
    )


def format_report(report: BenchReport) -> str:
    """The whole report as Markdown: table, targets, conditions."""
    return "\n".join([
        results_table(report),
        "",
        f"Targets (speed-up at batch {TARGET_BATCH}):",
        *targets(report),
        "",
        conditions(report),
    ])
