"""Smoke test of ``benchmarks/profile_study.py --quick``: the page and its plots get written."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[2] / "benchmarks" / "profile_study.py"


@pytest.mark.slow
def test_quick_study_writes_page_and_figures(tmp_path: Path) -> None:
    pytest.importorskip("matplotlib")
    page = tmp_path / "docs" / "efficient-cnns.md"
    done = subprocess.run(
        [sys.executable, str(SCRIPT), "--quick", "--out", str(page)],
        capture_output=True, text=True, timeout=600, check=False,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    text = page.read_text()
    for heading in ("## 1. One layer", "## 2. MobileNetV1", "## 3. What attention costs",
                    "## 4. MACs against measured latency", "## 5. Why published counts",
                    "## 6. HybridSN"):
        assert heading in text
    # MobileNets Table 3, printed from the counts.
    assert re.search(r"\|\s+2,359,296 \|\s+462,422,016 \|", text)
    assert re.search(r"\|\s+266,752 \|\s+52,283,392 \|", text)
    assert "**How depthwise and group convolution differ.**" in text
    assert "247,683,392 multiply-adds" in text  # HybridSN, Indian Pines, per pixel
    assert "Machine: " in text and "load average" in text
    figures = sorted(p.name for p in (tmp_path / "docs" / "figures").iterdir())
    assert figures == ["attention-overhead.png", "conv-variants.png", "mobilenet-v1-sweeps.png",
                       "zoo-macs-latency.png"]
    for name in figures:
        assert (tmp_path / "docs" / "figures" / name).read_bytes()[:4] == b"\x89PNG"
        assert f"(figures/{name})" in text
    # Every table on the page was printed by the run.
    tables = [line for line in text.splitlines() if line.startswith("|")]
    assert tables and all(line in done.stdout for line in tables)
