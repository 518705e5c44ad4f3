"""``lightnets bench``: a quick run prints every path and column; a busy machine is refused."""

from __future__ import annotations

import os

import numpy as np
import pytest

from lightnets.cli import main
from lightnets.export import bench
from lightnets.export.bench import (
    BASELINE,
    PATHS,
    BenchReport,
    BenchRow,
    MachineBusyError,
    run_bench,
)
from lightnets.export.bench_report import HEADERS, format_report, targets
from lightnets.profiling.latency import LatencyResult

pytest.importorskip("onnxruntime")
pytest.importorskip("torchvision")


def _load(monkeypatch, *values: float) -> None:
    """Make os.getloadavg report ``values`` (1-minute averages) in turn, the last one after."""
    queue = list(values)

    def fake() -> tuple[float, float, float]:
        value = queue.pop(0) if len(queue) > 1 else queue[0]
        return (value, value, value)

    monkeypatch.setattr(os, "getloadavg", fake)


def test_quick_run_prints_every_path_and_column(monkeypatch, capsys) -> None:
    _load(monkeypatch, 0.0)

    def no_compiler(model, example):
        raise RuntimeError("InductorError: no C++ compiler\nmore detail")

    monkeypatch.setattr(bench, "_compiled", no_compiler)  # keeps the test fast, too
    argv = ["bench", "shufflenet_v2_x0_5", "--quick", "--input", "32", "--repeats", "2",
            "--warmup", "1", "--calibration", "2", "--threads", "1", "--same-process"]
    assert main(argv) == 0
    out = capsys.readouterr().out
    for header in HEADERS:
        assert header in out
    lines = [line for line in out.splitlines() if line.startswith("| shufflenet_v2_x0_5")]
    assert len(lines) == len(PATHS)  # batch 1 only with --quick
    for line, path in zip(lines, PATHS, strict=True):
        assert f"| {path} " in line
    compiled = lines[PATHS.index("torch.compile")]
    assert "n/a" in compiled and "RuntimeError: InductorError: no C++ compiler" in compiled
    for path in ("ORT fp32", "ORT int8", "lightnets channels_last+fold"):
        assert "n/a" not in lines[PATHS.index(path)]
    assert "same weights, max |Δ| 0" in out
    assert "lightnets eager / torchvision eager" in out and "target ≤ 1.05" in out
    assert "Load average (1 min): 0.00 before" in out and "random normal images" in out


def test_a_busy_machine_is_refused(monkeypatch, capsys) -> None:
    _load(monkeypatch, 1.0)
    called = []
    monkeypatch.setattr(bench, "bench_model", lambda *a, **k: called.append(a) or [])
    assert main(["bench", "resnet18", "--max-load", "0.0001"]) == 3
    err = capsys.readouterr().err
    assert "refused" in err and "--max-load 0.0001" in err and "--force" in err
    assert not called  # refused before measuring anything

    assert main(["bench", "resnet18", "--max-load", "0.0001", "--force", "--same-process"]) == 0
    assert "Forced with --force" in capsys.readouterr().out


def test_load_rising_during_the_run_is_refused(monkeypatch) -> None:
    monkeypatch.setattr(bench, "bench_model", lambda *a, **k: [])
    _load(monkeypatch, 0.0, 50.0)  # others started working while we measured
    with pytest.raises(MachineBusyError, match="after the run"):
        run_bench("resnet18", [1], threads=1, max_load=0.5, isolate=False)
    _load(monkeypatch, 0.0, 0.0)
    report = run_bench("resnet18", [1], threads=1, max_load=0.5, isolate=False)
    assert report.load_before == 0.0 and report.load_after == 0.0


def test_each_network_is_timed_in_a_fresh_process(monkeypatch) -> None:
    parent = []
    monkeypatch.setattr(bench, "bench_model", lambda *a, **k: parent.append(a) or [])
    _load(monkeypatch, 0.0)
    report = run_bench("shufflenet_v2_x0_5", [1], input_size=32, threads=1, repeats=1,
                       warmup=1, try_compile=False, calibration=1)
    assert not parent  # the child imported the real bench_model, not this process's stand-in
    (row,) = report.rows
    assert row.model == "shufflenet_v2_x0_5" and row.max_abs_diff == 0.0
    assert set(row.results) == set(PATHS) - {"torch.compile"}
    assert all(r.repeats == 1 for r in row.results.values())
    assert report.isolated and "each network in a fresh process" in format_report(report)


def test_bad_arguments_are_refused(capsys) -> None:
    with pytest.raises(ValueError, match="pattern: expected a pattern matching a model with"):
        run_bench("mobilenet_v1*")
    with pytest.raises(ValueError, match="max_load: expected a number >= 0"):
        run_bench("resnet18", max_load=-1)
    with pytest.raises(ValueError, match="input_size: expected an integer >= 32"):
        run_bench("resnet18", input_size=8)
    with pytest.raises(ValueError, match="batch: expected an integer >= 1"):
        run_bench("resnet18", [0])
    with pytest.raises(SystemExit):
        main(["bench", "--batch", "1,x"])
    assert "expected batch sizes such as 1,32" in capsys.readouterr().err


def _timing(ms: float) -> LatencyResult:
    return LatencyResult(times_ms=(ms, ms), warmup=0, threads=1, batch_size=1,
                         channels_last=False)


def test_targets_say_whether_they_are_met() -> None:
    times = dict(zip(PATHS, (10.0, 10.2, 6.0, 5.0, 4.5, 3.5), strict=True))
    good = BenchRow("mobilenet_v2_100", "mobilenet_v2", 1,
                    {p: _timing(t) for p, t in times.items()}, {}, 0.0)
    slow = {p: _timing(t) for p, t in times.items() if p != "ORT int8"}
    slow["lightnets eager"] = _timing(11.0)
    bad = BenchRow("shufflenet_v2_x1_0", "shufflenet_v2_x1_0", 1, slow,
                   {"ORT int8": "failed"}, 0.0)
    big = BenchRow("mobilenet_v2_100", "mobilenet_v2", 32,
                   {p: _timing(t * 30) for p, t in times.items()}, {}, 0.0)
    big.results["lightnets eager"] = _timing(360.0)
    report = BenchReport([good, big, bad], 224, 1, 2, 0, 4, 0.1, 0.2, 0.1, 2, 0.25, False,
                         {"cpu": "test CPU", "torch": "x", "lightnets": "y"})
    lines = "\n".join(targets(report))
    assert ("mobilenet_v2_100, batch 1: lightnets eager / torchvision eager = 1.02 "
            "(95 % interval 1.02–1.02; target ≤ 1.05: met)") in lines
    assert "fastest lightnets path: ORT int8, 2.86× faster" in lines and "2.5×: met" in lines
    assert ("mobilenet_v2_100, batch 32: lightnets eager / torchvision eager = 1.20 "
            "(95 % interval 1.20–1.20; target ≤ 1.05: NOT met)") in lines
    assert lines.count("fastest lightnets path") == 2  # the speed-up is judged at batch 1 only
    assert "shufflenet_v2_x1_0, batch 1: lightnets eager / torchvision eager = 1.10" in lines
    assert "fastest lightnets path: ORT fp32, 2.22× faster" in lines and "NOT met" in lines
    assert "not measured in this run for: mobilenet_v3_large_100" in lines
    text = format_report(report)
    assert "| failed" in text and "test CPU" in text and "all in one process" in text


def test_a_ratio_within_the_noise_is_undecided() -> None:
    rng = np.random.default_rng(1)
    base = 10 + rng.exponential(2.0, 20)  # a noisy machine: the same network, twice
    ours = 10 + rng.exponential(2.0, 20)
    results = {p: _timing(1.0) for p in PATHS}
    results[BASELINE] = LatencyResult(tuple(base), 0, 1, 1, False)
    results["lightnets eager"] = LatencyResult(tuple(ours), 0, 1, 1, False)
    row = BenchRow("resnet18", "resnet18", 1, results, {}, 0.0)
    low, high = row.ratio_interval("lightnets eager")
    assert low < row.ratio("lightnets eager") < high and low < 1.05 < high
    assert row.ratio_interval("lightnets eager") == (low, high)  # seeded: same timings, same
    report = BenchReport([row], 224, 1, 20, 0, 4, 0.1, 0.2, 0.1, 2, 0.25, False, {})
    line = targets(report)[0]
    assert f"95 % interval {low:.2f}–{high:.2f}" in line
    assert line.endswith("undecided at this noise: rerun with more --repeats)")
    # The same spread, four times as many rounds: the interval narrows.
    more = BenchRow("resnet18", "resnet18", 1, {
        BASELINE: LatencyResult(tuple(np.tile(base, 4)), 0, 1, 1, False),
        "lightnets eager": LatencyResult(tuple(np.tile(ours, 4)), 0, 1, 1, False)}, {}, 0.0)
    low4, high4 = more.ratio_interval("lightnets eager")
    assert high4 - low4 < high - low


def test_comma_separated_patterns_pick_each_twin_once() -> None:
    from lightnets.export.bench import twin_models

    names = twin_models("mobilenet_v3_large*,shufflenet_v2_x1_0,mobilenet_v3_*")
    assert names[0] == "mobilenet_v3_large_100" and names[1] == "shufflenet_v2_x1_0"
    assert "mobilenet_v3_small_100" in names and len(names) == len(set(names))
    with pytest.raises(ValueError, match=r"^pattern: expected a pattern matching"):
        twin_models("mobilenet_v1_*")  # no torchvision twin
