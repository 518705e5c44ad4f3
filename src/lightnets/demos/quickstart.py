"""The quick-start demonstration: HybridSN on Indian Pines, offline, in a few minutes on a CPU.

Indian Pines comes from a local folder (``LIGHTNETS_DATA``), the user cache, or the ``tensorly``
wheel, which ships the published cube and ground truth (the ``indian-pines`` extra), so the
demo needs no network. The configuration is the paper's (PCA 30 whitened on the scene, 25×25
windows, Adam 1e-3, batch 256 i.i.d. batches, 30% training pixels) with 15 epochs instead
of 100.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ..hsi.config import ExperimentConfig
from ..hsi.experiment import run_experiment

DEMO = ExperimentConfig(scene="indian_pines", train_fraction=0.3, epochs=15, seed=0)


def run_demo(out: str | Path = "runs/demo", *, progress: bool = True) -> dict[str, Any]:
    """Train and map Indian Pines with :data:`DEMO`; print and return the metrics."""
    print(
        f"HybridSN on Indian Pines: {DEMO.train_fraction:.0%} training pixels, "
        f"PCA {DEMO.pca}, window {DEMO.window}, {DEMO.epochs} epochs (paper: 100), seed "
        f"{DEMO.seed}"
    )
    result = run_experiment(DEMO, out, progress=progress)
    run = result["runs"][0]
    out = Path(out)
    print(
        f"\nOA {run['oa']:.2%}   AA {run['aa']:.2%}   kappa {run['kappa']:.4f}   "
        f"({run['test_pixels']:,} test pixels)"
    )
    print(f"training {run['train_seconds']:.1f} s, full-scene map {run['map_seconds']:.2f} s")
    print(f"map: {out / 'map.png'}\nrun folder: {out}")
    return result
