"""Seconds per training epoch and per full-scene map: scene path vs patch path (HybridSN).

Same model, same data for both paths: Indian Pines reduced to 30 principal components, 25×25
windows, 30 % of the labelled pixels (stratified) for training, batches of 256, Adam. Without
``--data-dir`` a random cube of the same size stands in, with training pixels drawn uniformly
over the scene. The patch path is slow, so its epoch and its map are timed on
``--patch-batches`` batches and scaled to the full count (printed as such).

    python benchmarks/hsi_speed.py --data-dir ../shared/datasets/indian_pines
"""

from __future__ import annotations

import argparse
import copy
import os
import platform
import sys
import time
from pathlib import Path

import numpy as np
import torch

import lightnets
from lightnets.hsi import engine

BANDS, WINDOW, TRAIN_FRACTION, BATCH = 30, 25, 0.3, 256  # HybridSN's Indian Pines setting


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def load() -> str:
    if not hasattr(os, "getloadavg"):
        return "n/a"
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def pca(cube: np.ndarray, components: int) -> np.ndarray:
    """H × W × B → components × H × W: standardised bands, principal components."""
    h, w, b = cube.shape
    x = cube.reshape(-1, b).astype(np.float64)
    x = (x - x.mean(0)) / np.maximum(x.std(0), 1e-12)
    _, vectors = np.linalg.eigh(np.cov(x, rowvar=False))
    z = x @ vectors[:, ::-1][:, :components]
    return z.T.reshape(components, h, w).astype(np.float32)


def stratified(labels: np.ndarray, fraction: float, rng: np.random.Generator) -> np.ndarray:
    """Indices of ``fraction`` of each class (at least one pixel per class)."""
    picked = []
    for c in np.unique(labels):
        idx = rng.permutation(np.flatnonzero(labels == c))
        picked.append(idx[: max(1, round(fraction * len(idx)))])
    return np.sort(np.concatenate(picked))


def indian_pines(folder: Path, rng: np.random.Generator):
    from scipy.io import loadmat

    cube = loadmat(folder / "Indian_pines_corrected.mat")["indian_pines_corrected"]
    gt = loadmat(folder / "Indian_pines_gt.mat")["indian_pines_gt"]
    positions = np.argwhere(gt > 0)
    labels = gt[gt > 0].astype(np.int64) - 1
    train = stratified(labels, TRAIN_FRACTION, rng)
    return pca(cube, BANDS), positions[train], labels[train], int(labels.max()) + 1


def synthetic(rng: np.random.Generator, classes: int = 16):
    h = w = 145
    cube = rng.standard_normal((BANDS, h, w)).astype(np.float32)
    n = round(TRAIN_FRACTION * 10249)  # Indian Pines' labelled pixel count
    flat = rng.choice(h * w, n, replace=False)
    positions = np.stack([flat // w, flat % w], 1)
    return cube, positions, rng.integers(0, classes, n), classes


def timed(fn) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", type=Path, help="folder with Indian_pines_corrected.mat")
    parser.add_argument(
        "--patch-batches",
        type=int,
        default=3,
        help="batches of 256 timed on the patch path, then scaled (default 3)",
    )
    parser.add_argument("--epochs", type=int, default=3, help="scene-path epochs timed")
    parser.add_argument(
        "--quick",
        action="store_true",
        help="1 patch batch, 1 scene epoch, no i.i.d.-batch comparison",
    )
    args = parser.parse_args(argv)
    patch_batches = 1 if args.quick else max(1, args.patch_batches)
    epochs = 1 if args.quick else max(1, args.epochs)

    print(
        f"machine : {cpu_model()}, {os.cpu_count()} logical CPUs, "
        f"torch threads {torch.get_num_threads()}, device cpu"
    )
    print(
        f"versions: python {platform.python_version()}, torch {torch.__version__}, "
        f"lightnets {lightnets.__version__}"
    )
    print(f"load avg: {load()} (1/5/15 min) at start")

    rng = np.random.default_rng(0)
    if args.data_dir is not None and (args.data_dir / "Indian_pines_corrected.mat").exists():
        cube, positions, labels, classes = indian_pines(args.data_dir, rng)
        print(
            f"data    : Indian Pines {cube.shape[1]}×{cube.shape[2]}, PCA {BANDS}, "
            f"{len(positions)} training pixels (30 % stratified)"
        )
    else:
        cube, positions, labels, classes = synthetic(rng)
        print(
            f"data    : SYNTHETIC random cube {cube.shape} (no Indian Pines found), "
            f"{len(positions)} uniformly drawn training pixels"
        )
    height, width = cube.shape[1:]
    n_train, n_scene = len(positions), height * width

    torch.manual_seed(0)
    base = lightnets.create_model("hybridsn", bands=BANDS, window=WINDOW, num_classes=classes)
    print(
        f"model   : hybridsn, {sum(p.numel() for p in base.parameters()):,} parameters, "
        f"window {WINDOW}, batch {BATCH}\n"
    )

    def fresh() -> tuple[torch.nn.Module, torch.optim.Optimizer]:
        model = copy.deepcopy(base)
        return model, torch.optim.Adam(model.parameters(), lr=1e-3)

    gen = torch.Generator().manual_seed(0)
    model, opt = fresh()
    scene_epochs = [
        timed(
            lambda: engine.train_epoch(
                model, cube, positions, labels, opt, generator=gen, device="cpu"
            )
        )
        for _ in range(epochs)
    ]
    scene_epoch = min(scene_epochs)
    print(
        f"scene path epoch, spatial batches : {scene_epoch:8.2f} s "
        f"(min of {epochs}: {', '.join(f'{t:.2f}' for t in scene_epochs)})"
    )

    if not args.quick:
        model, opt = fresh()
        iid = timed(
            lambda: engine.train_epoch(
                model, cube, positions, labels, opt, batching="random", generator=gen, device="cpu"
            )
        )
        print(f"scene path epoch, i.i.d. batches  : {iid:8.2f} s (whole-scene passes)")

    subset = torch.randperm(n_train, generator=gen)[: patch_batches * BATCH].numpy()
    model, opt = fresh()
    part = timed(
        lambda: engine.train_epoch(
            model,
            cube,
            positions[subset],
            labels[subset],
            opt,
            path="patch",
            generator=gen,
            device="cpu",
        )
    )
    patch_epoch = part * n_train / len(subset)
    print(
        f"patch path epoch                  : {patch_epoch:8.2f} s "
        f"(SCALED: {part:.2f} s for {len(subset)} pixels × {n_train / len(subset):.2f})"
    )

    model, _ = fresh()
    scene_map = timed(lambda: engine.predict_scene(model, cube, device="cpu"))
    print(f"scene path map {height}×{width}          : {scene_map:8.2f} s")
    every = engine.scene_positions(height, width)
    some = every[torch.randperm(n_scene, generator=gen)[: patch_batches * BATCH]]
    part = timed(lambda: engine.predict_patches(model, cube, some, device="cpu"))
    patch_map = part * n_scene / len(some)
    print(
        f"patch path map                    : {patch_map:8.2f} s "
        f"(SCALED: {part:.2f} s for {len(some)} pixels × {n_scene / len(some):.2f})"
    )

    print(f"\nratio, training epoch (patch / scene): {patch_epoch / scene_epoch:6.1f}×")
    print(f"ratio, full-scene map (patch / scene): {patch_map / scene_map:6.1f}×")
    print(
        f"load avg: {load()} (1/5/15 min) at end — other work shares this machine, "
        "so the seconds are rough"
    )


if __name__ == "__main__":
    sys.exit(main())
