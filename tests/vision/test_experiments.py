"""The attention and dropout experiments."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from lightnets.demos.dropout_images import dropout_experiment
from lightnets.vision import attention_experiment
from lightnets.vision.experiments import attention_variant


def test_attention_variants_resolve_to_registered_names() -> None:
    assert attention_variant("resnet18", "none") == "resnet18"
    assert attention_variant("resnet18", "se") == "se_resnet18"
    assert attention_variant("se_resnet34", "cbam") == "cbam_resnet34"
    with pytest.raises(
        ValueError,
        match=r"^attention: expected a variant registered for "
        r"mobilenet_v2_050 \(cbam_mobilenet_v2_050 is not\)",
    ):
        attention_variant("mobilenet_v2_050", "cbam")
    with pytest.raises(ValueError, match=r"^attention: expected a list of none, se, cbam"):
        attention_variant("resnet18", "eca")


def test_attention_experiment_writes_a_table_and_a_plot(tmp_path: Path) -> None:
    logs: list[str] = []
    summary = attention_experiment(
        "resnet18",
        "digits",
        ["none", "cbam"],
        runs=2,
        epochs=1,
        batch_size=32,
        subset_size=64,
        out=tmp_path,
        latency_repeats=3,
        log=logs.append,
    )
    rows = {r["variant"]: r for r in summary["rows"]}
    assert list(rows) == ["resnet18", "cbam_resnet18"] and summary["seeds"] == [0, 1]
    assert rows["cbam_resnet18"]["params"] > rows["resnet18"]["params"]
    assert rows["cbam_resnet18"]["macs"] > rows["resnet18"]["macs"] > 0
    for row in rows.values():
        assert len(row["top1_runs"]) == 2 and row["latency_ms"] > 0
        assert row["top1_std"] >= 0 and row["epoch_seconds_mean"] > 0
    for name in ("results.md", "results.json", "attention.png"):
        assert (tmp_path / name).exists()
    assert (tmp_path / "cbam_resnet18" / "seed1" / "metrics.json").exists()
    table = (tmp_path / "results.md").read_text()
    assert "| cbam_resnet18 |" in table and "±" in table
    # resume: finished runs are read back, not trained again
    logs.clear()
    again = attention_experiment(
        "resnet18",
        "digits",
        ["none", "cbam"],
        runs=2,
        epochs=1,
        batch_size=32,
        subset_size=64,
        out=tmp_path,
        resume=True,
        latency_repeats=3,
        log=logs.append,
    )
    assert sum("already complete" in line for line in logs) == 4
    assert [r["top1_runs"] for r in again["rows"]] == [r["top1_runs"] for r in summary["rows"]]
    assert json.loads((tmp_path / "results.json").read_text())["runs"] == 2


def test_dropout_changes_predictions_in_training_mode_only(tmp_path: Path) -> None:
    result = dropout_experiment(
        "mobilenet_v1_025",
        drop_rate=0.5,
        epochs=0,
        calls=4,
        images=32,
        out=tmp_path,
        log=lambda _m: None,
    )
    train_mode, eval_mode = result["rows"]
    assert train_mode["mode"] == "train" and not train_mode["identical"]
    assert train_mode["max_logit_change"] > 0 and train_mode["batch_effect"] > 0
    assert eval_mode["identical"] and eval_mode["changed"] == 0
    assert eval_mode["max_logit_change"] == 0
    assert eval_mode["batch_effect"] < 1e-4  # eval: a prediction ignores the other images
    assert (tmp_path / "dropout.md").read_text().count("|") > 10
