"""The README's Python example, run as written (Indian Pines; skipped when it is absent)."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest

README = Path(__file__).resolve().parents[2] / "README.md"


def readme_python_example() -> str:
    """The first Python block after the README's sentence introducing HSIClassifier."""
    text = README.read_text()
    start = text.index("From Python, `lightnets.hsi.HSIClassifier`")
    return re.search(r"```python\n(.*?)```", text[start:], re.S).group(1)


def test_the_example_is_at_most_six_lines() -> None:
    code = readme_python_example()
    assert len(code.strip().splitlines()) <= 6
    assert "HSIClassifier.load(" in code and ".save(" in code and ".evaluate(" in code


@pytest.mark.slow
def test_the_readme_example_runs_as_written(
    indian_pines_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys
) -> None:
    monkeypatch.setenv("LIGHTNETS_DATA", str(indian_pines_dir.parent))
    monkeypatch.chdir(tmp_path)
    namespace: dict = {}
    exec(compile(readme_python_example(), "README.md", "exec"), namespace)
    printed = capsys.readouterr().out
    oa = float(re.search(r"OA (\d+\.\d+)%", printed).group(1))
    assert oa >= 95.0, printed  # SSFTT, 100 epochs of batches of 64 at 10 %: measured 97.8 %
    labels, scene = namespace["labels"], namespace["scene"]
    assert labels.shape == scene.gt.shape and set(np.unique(labels)) <= set(range(1, 17))
    assert (tmp_path / "ip.lnet").is_file()
