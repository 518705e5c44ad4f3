"""The ``profile`` and ``compare`` subcommands, wired into a parser of their own."""

from __future__ import annotations

import argparse
import csv
import io
import json
from pathlib import Path

import pytest

from lightnets.profiling import profile
from lightnets.profiling.commands import parse_input, register


def run(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="lightnets")
    register(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(argv)
    return args.func(args)


def test_parse_input() -> None:
    assert parse_input("224") == 224
    assert parse_input("160x128") == (160, 128)
    assert parse_input("30x25x25") == parse_input("30,25,25") == (30, 25, 25)
    for bad in ("", "abc", "-3", "2.5"):
        with pytest.raises(argparse.ArgumentTypeError, match="expected a size"):
            parse_input(bad)


def test_profile_prints_totals_and_layers(capsys: pytest.CaptureFixture[str]) -> None:
    assert run(["profile", "mobilenet_v1_050", "--input", "128", "--batch", "2",
                "--layers"]) == 0
    out = capsys.readouterr().out
    expected = profile("mobilenet_v1_050", 128).macs
    assert f"MACs         {expected:,} per sample" in out
    assert "input 2×3×128×128" in out
    assert "| module" in out and "| blocks.12.pw.conv " in out
    assert "latency" not in out.split("convention")[0]


def test_profile_with_latency(capsys: pytest.CaptureFixture[str]) -> None:
    assert run(["profile", "hybridsn", "--latency", "--repeats", "2", "--warmup", "0",
                "--threads", "1"]) == 0
    out = capsys.readouterr().out
    assert "input 1×30×25×25" in out and "ms median" in out and "2 repeats" in out


def test_profile_errors_propagate_as_value_errors() -> None:
    with pytest.raises(ValueError, match=r"^model: expected"):
        run(["profile", "resnet51"])
    with pytest.raises(ValueError, match=r"^batch_size: expected an integer >= 1"):
        run(["profile", "resnet18", "--batch", "0"])
    with pytest.raises(ValueError, match=r"^input_size: expected a size resnet18 accepts"):
        run(["profile", "resnet18", "--input", "16"])


def test_compare_markdown(capsys: pytest.CaptureFixture[str]) -> None:
    assert run(["compare", "mobilenet_v1_0[25]*", "--input", "96"]) == 0
    out = capsys.readouterr().out
    assert "| mobilenet_v1_025 | 3×96×96" in out and "| mobilenet_v1_050 |" in out
    assert "median ms" not in out
    assert "2 models. Machine:" in out and "FLOPs = 2 × MACs" in out


def test_compare_csv_and_json(capsys: pytest.CaptureFixture[str]) -> None:
    assert run(["compare", "shufflenet_v2_x0_5", "mobilenet_v3_small_075", "--input", "64",
                "--format", "csv"]) == 0
    rows = list(csv.DictReader(io.StringIO(capsys.readouterr().out)))
    assert [r["model"] for r in rows] == ["shufflenet_v2_x0_5", "mobilenet_v3_small_075"]
    assert int(rows[0]["macs"]) == profile("shufflenet_v2_x0_5", 64).macs
    assert int(rows[0]["flops"]) == 2 * int(rows[0]["macs"])
    assert run(["compare", "shufflenet_v2_x0_5", "--input", "64", "--format", "json",
                "--latency", "--repeats", "3", "--warmup", "0"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["models"][0]["latency"]["repeats"] == 3
    assert "MACs" in data["convention"] and data["environment"]["cpu_count"] >= 1


def test_compare_plot(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    pytest.importorskip("matplotlib")
    path = tmp_path / "zoo.png"
    assert run(["compare", "mobilenet_v3_small*", "--input", "64", "--repeats", "2",
                "--warmup", "0", "--threads", "1", "--plot", str(path)]) == 0
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert "median ms" in capsys.readouterr().out  # --plot implies --latency


def test_compare_skips_unfit_models_and_fails_when_none_fit(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert run(["compare", "mobilenet_v3_small_075", "hybridsn", "--input", "64"]) == 0
    captured = capsys.readouterr()
    assert "skipped hybridsn: input_size" in captured.err
    assert "| hybridsn" not in captured.out
    with pytest.raises(ValueError, match=r"^input: expected a size at least one"):
        run(["compare", "hybridsn", "--input", "64"])
    with pytest.raises(ValueError, match=r"^patterns: expected"):
        run(["compare", "nothing*"])
