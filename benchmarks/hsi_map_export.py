"""Full-scene map of Indian Pines: PyTorch scene path against the exported ONNX scene graph.

Same HybridSN weights for both (a trained ``model.pt`` with ``--checkpoint``, else a seeded
random network: the time does not depend on the weights), Indian Pines reduced to 30 whitened
principal components. The two paths are timed in alternation (``--rounds`` each); the median
and the fastest round are printed with their ratio, and the largest logit difference.

    python benchmarks/hsi_map_export.py [--checkpoint runs/ip30/seed0/model.pt]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

import lightnets
from lightnets.export.runtime import ort_session
from lightnets.export.scene import export_scene_onnx, predict_scene_onnx
from lightnets.hsi import engine
from lightnets.hsi.preprocessing import SpectralTransform
from lightnets.hsi.scenes import load_scene
from lightnets.runs import environment_info


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--checkpoint", help="a model.pt from an Indian Pines run")
    parser.add_argument("--data-dir", help="folder with the Indian Pines .mat files")
    parser.add_argument("--rounds", type=int, default=5, help="timed maps per path")
    args = parser.parse_args(argv)

    env = environment_info()
    load = " ".join(f"{x:.2f}" for x in os.getloadavg())
    print(f"machine : {env['cpu']}, {env['cpu_count']} logical CPUs, torch threads "
          f"{env['torch_threads']}; load avg {load} (1/5/15 min) at start")
    print(f"versions: python {env['python']}, torch {env['torch']}, lightnets {env['lightnets']}")
    scene = load_scene("indian_pines", data_dir=args.data_dir)
    if args.checkpoint:
        from lightnets.hsi import HSIClassifier

        clf = HSIClassifier.load(args.checkpoint, argument="--checkpoint")
        model, transform = clf.network_, clf.transform_
    else:
        torch.manual_seed(0)
        model = lightnets.create_model("hybridsn", bands=30, num_classes=scene.num_classes)
        transform = SpectralTransform(30, whiten=True).fit(scene.cube)
    cube = transform.transform(scene.cube).transpose(2, 0, 1).astype(np.float32)
    model.eval()
    print(f"scene   : Indian Pines {cube.shape[1]}×{cube.shape[2]}, {cube.shape[0]} bands; "
          f"model {type(model).__name__}{' from ' + args.checkpoint if args.checkpoint else ''}")

    with tempfile.TemporaryDirectory() as tmp:
        result = export_scene_onnx(model, Path(tmp) / "scene.onnx")
        session = ort_session(result.path)
        torch_times, ort_times = [], []
        want = engine.predict_scene(model, cube, device="cpu").numpy()  # warm-up, reference
        got = predict_scene_onnx(session, cube)
        for _ in range(max(1, args.rounds)):
            tic = time.perf_counter()
            engine.predict_scene(model, cube, device="cpu")
            torch_times.append(time.perf_counter() - tic)
            tic = time.perf_counter()
            predict_scene_onnx(session, cube)
            ort_times.append(time.perf_counter() - tic)
    diff = float(np.abs(got - want).max())
    same = float((got.argmax(0) == want.argmax(0)).mean())
    rows = (("PyTorch scene path", torch_times), ("ONNX Runtime scene graph", ort_times))
    for name, times in rows:
        print(f"{name:25s}: median {statistics.median(times):6.3f} s, fastest {min(times):6.3f} s "
              f"({len(times)} maps)")
    print(f"ratio PyTorch / ONNX Runtime (median): "
          f"{statistics.median(torch_times) / statistics.median(ort_times):.2f}×")
    print(f"max |logit difference| {diff:.2e}; same class on {same:.2%} of pixels")
    load = " ".join(f"{x:.2f}" for x in os.getloadavg())
    print(f"load avg {load} (1/5/15 min) at end")
    return 0


if __name__ == "__main__":
    sys.exit(main())
