"""``lightnets.profiling.profile`` and ``compare``: inputs, results and clear errors."""

from __future__ import annotations

import json

import pytest
import torch
from torch import nn

from lightnets.profiling import CONVENTION, compare, expand, profile


def test_input_size_forms() -> None:
    assert profile("mobilenet_v3_small_100").input_shape == (3, 224, 224)
    assert profile("mobilenet_v3_small_100", 96).input_shape == (3, 96, 96)
    assert profile("mobilenet_v3_small_100", (96, 64)).input_shape == (3, 96, 64)
    assert profile("mobilenet_v3_small_100", (3, 64, 96)).input_shape == (3, 64, 96)
    assert profile("mobilenet_v3_small_100", 64, in_chans=1).input_shape == (1, 64, 64)
    assert profile("hybridsn").input_shape == (30, 25, 25)
    assert profile("hybridsn", bands=15, window=11).input_shape == (15, 11, 11)


def test_resolution_scales_macs_quadratically_and_leaves_parameters() -> None:
    # MobileNetV1 with ρ: every layer except the classifier scales with the pixel count.
    full, double = profile("mobilenet_v1_100", 224), profile("mobilenet_v1_100", 448)
    classifier = 1024 * 1000
    assert (full.macs - classifier) * 4 == double.macs - classifier
    assert double.params == full.params


def test_summary_and_dict() -> None:
    result = profile("mobilenet_v1_025", 64, batch_size=3)
    text = result.summary()
    assert "mobilenet_v1_025 · input 3×3×64×64" in text
    assert f"{result.macs:,} per sample" in text
    assert CONVENTION in text
    assert result.flops == 2 * result.macs
    data = result.to_dict(layers=True)
    assert json.loads(json.dumps(data))["macs"] == result.macs
    assert len(data["layers"]) == len(result.layers)
    assert data["latency"] is None


def test_profile_with_latency_on_a_small_input() -> None:
    result = profile("mobilenet_v3_small_075", 32, batch_size=2, latency=True, warmup=1,
                     repeats=3, threads=1)
    lat = result.latency
    assert lat is not None and lat.repeats == 3 and lat.batch_size == 2 and lat.threads == 1
    assert lat.median_ms <= lat.p90_ms
    assert "ms median" in result.summary()


def test_a_module_is_timed_where_it_is() -> None:
    model = nn.Sequential(nn.Conv2d(3, 8, 3), nn.ReLU())
    result = profile(model, (3, 16, 16), latency=True, warmup=0, repeats=2)
    assert result.model == "Sequential" and result.latency.device == "cpu"
    assert result.macs == 8 * 14 * 14 * 27


def test_compare_interleaves_and_skips_unfit_models() -> None:
    comparison = compare(["mobilenet_v3_small*", "hybridsn"], 64, latency=True, warmup=0,
                         repeats=2, threads=1, skip_unfit=True)
    assert [r.model for r in comparison.results] == [
        "mobilenet_v3_small_075", "mobilenet_v3_small_100"]
    assert list(comparison.skipped) == ["hybridsn"]
    assert comparison.skipped["hybridsn"].startswith("input_size: expected")
    assert all(r.latency.repeats == 2 for r in comparison.results)
    assert comparison.environment["latency_threads"] == 1
    with pytest.raises(ValueError, match=r"^input_size: "):
        compare(["hybridsn"], 64)


def test_expand_patterns_and_aliases() -> None:
    assert expand(["mobilenet_v1", "mobilenet_v1_0[25]*"]) == [
        "mobilenet_v1_100", "mobilenet_v1_025", "mobilenet_v1_050"]
    with pytest.raises(ValueError, match=r"^patterns: expected"):
        expand(["nothing*"])


# --- bad input: one ValueError naming the argument, the expected and the received value ---


def test_unknown_model_name_suggests_close_ones() -> None:
    with pytest.raises(ValueError, match=r"^model: expected .*got 'mobilenet_v9'; closest: "
                       r".*mobilenet_v"):
        profile("mobilenet_v9")
    with pytest.raises(ValueError, match=r"^model: expected a registered model name"):
        profile(42)


@pytest.mark.parametrize(
    ("name", "size", "detail"),
    [
        ("mobilenet_v2_100", 16, "height and width >= 32"),  # too small for the trunk
        ("resnet18", (3, 8, 224), "height and width >= 32"),
        ("resnet18", (1, 224, 224), r"\(N, 3, H, W\)"),  # wrong channel count
        ("hybridsn", 224, r"\(N, 30, 25, 25\)"),  # the dense head fixes the window
    ],
)
def test_input_the_model_cannot_take(name: str, size: object, detail: str) -> None:
    with pytest.raises(ValueError, match=f"^input_size: expected a size {name} accepts.*{detail}"):
        profile(name, size)


def test_input_a_plain_module_cannot_take() -> None:
    pattern = r"^input_size: expected a size Linear accepts .*, got \(12,\)$"
    with pytest.raises(ValueError, match=pattern):
        profile(nn.Linear(10, 3), (12,))


@pytest.mark.parametrize("size", [0, -224, (3, 0, 224), (3.5, 224), "224", True, ()])
def test_malformed_input_size(size: object) -> None:
    with pytest.raises(ValueError, match=r"^input_size: expected an int or a tuple of positive"):
        profile("resnet18", size)


@pytest.mark.parametrize("batch", [0, -1, 1.5, True])
def test_non_positive_batch(batch: object) -> None:
    with pytest.raises(ValueError, match=rf"^batch_size: expected an integer >= 1, got {batch}"):
        profile("resnet18", batch_size=batch)


def test_model_kwargs_need_a_name() -> None:
    with pytest.raises(ValueError, match=r"^num_classes: expected no model keyword"):
        profile(nn.Identity(), (3,), num_classes=3)


def test_profile_does_not_touch_global_state() -> None:
    threads = torch.get_num_threads()
    profile("mobilenet_v3_small_075", 32, latency=True, warmup=0, repeats=1, threads=1)
    assert torch.get_num_threads() == threads
