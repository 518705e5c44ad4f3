"""Seconds per training epoch and per full-scene map: scene path vs patch path (HybridSN).

Same model, same data for both paths: Indian Pines reduced to 30 whitened principal
components, 25×25 windows, 30 % of the labelled pixels (stratified) for training, batches of
256, Adam. The scene path is timed with each batching rule of the engine (``random``: i.i.d.
batches, the default and the paper's; ``mixed`` and ``spatial``: compact groups, faster but
they train worse, see ``lightnets.hsi.engine``). The patch path is slow, so its epoch and its
map are timed on ``--patch-batches`` batches and scaled to the full count (printed as such).
Precision rows: the scene path's random-batch epoch and map under each of ``--precisions``
(autocast per forward pass, :mod:`lightnets.precision`), with their ratios to the float32
scene path and to the patch path of the same run; the CPU's bfloat16 flags are printed, since
bf16 is only fast where the CPU has them. ``--protocol SEEDS``: the time to a result, the whole
paper protocol end to end (``lightnets hsi train --train-fraction 0.3``: split, PCA, 100
epochs, full-scene map, scoring) for seeds 0 … SEEDS−1 under each of
``--protocol-precisions``; its run folders are kept under ``results/hsi_speed`` and a finished
one is read back, not rerun (its seconds are then those of the run that made it).
``--options``: one training step (a batch of 256 i.i.d. pixels, so convolutions over nearly
the whole scene) under each option of the issue list: intra-op threads, channels-last conv
weights, ``torch.compile`` of the feature extractor (compile seconds counted apart), and how
much of a step's region its pixels' windows really need; and SSFTT's map with its batch norms
folded into the convolutions.

    python benchmarks/hsi_speed.py [--data-dir ../shared/datasets/indian_pines] [--docs]
"""

from __future__ import annotations

import argparse
import copy
import datetime as dt
import os
import shlex
import sys
import time
from pathlib import Path

import numpy as np
import torch

import lightnets
from lightnets.hsi import engine
from lightnets.hsi.config import ExperimentConfig
from lightnets.hsi.experiment import run_experiment
from lightnets.hsi.preprocessing import SpectralTransform
from lightnets.hsi.scenes import load_scene
from lightnets.hsi.splits import stratified_split
from lightnets.precision import NATIVE_BF16_CPU_FLAGS, cpu_flags
from lightnets.runs import atomic_write_bytes, environment_info

BANDS, WINDOW, TRAIN_FRACTION, BATCH = 30, 25, 0.3, 256  # HybridSN's Indian Pines setting
DOCS = Path(__file__).resolve().parents[1] / "docs" / "hsi-speed.md"
RESULTS = Path(__file__).resolve().parent / "results" / "hsi_speed"
PAPER_MINUTES = 14.1  # HybridSN paper: the Indian Pines protocol on a GTX 1060


def timed(fn) -> float:
    """Wall seconds of ``fn()``, CUDA work included."""
    sync = torch.cuda.synchronize if torch.cuda.is_available() else (lambda: None)
    sync()
    start = time.perf_counter()
    fn()
    sync()
    return time.perf_counter() - start


def load() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg()) if hasattr(os, "getloadavg") else "n/a"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", help="folder with the Indian Pines .mat files")
    parser.add_argument("--patch-batches", type=int, default=3,
                        help="batches of 256 timed on the patch path, then scaled (default 3)")
    parser.add_argument("--epochs", type=int, default=3, help="scene-path epochs per rule")
    parser.add_argument("--quick", action="store_true", help="1 epoch, 1 patch batch")
    parser.add_argument("--device", default="cpu", help="cpu (default) or cuda")
    parser.add_argument("--precisions", default="bf16",
                        help="comma-separated precisions timed beside fp32 (default: bf16)")
    parser.add_argument("--protocol", type=int, default=0, metavar="SEEDS",
                        help="also time the whole paper protocol for seeds 0 … SEEDS-1")
    parser.add_argument("--protocol-precisions", default="bf16",
                        help="comma-separated precisions of --protocol (default: bf16)")
    parser.add_argument("--protocol-epochs", type=int, default=100,
                        help="epochs of --protocol (default: the paper's 100)")
    parser.add_argument("--results", default=str(RESULTS),
                        help=f"folder of --protocol's runs (default {RESULTS})")
    parser.add_argument("--options", action="store_true",
                        help="also time the speed options (threads, channels-last, compile, "
                        "region, batch-norm folding)")
    parser.add_argument("--docs", nargs="?", const=str(DOCS), default=None,
                        help=f"also write the printout as a page (default {DOCS.name})")
    args = parser.parse_args(argv)
    lines: list[str] = []

    def say(text: str) -> None:
        print(text)
        lines.extend(text.split("\n"))

    patch_batches = 1 if args.quick else max(1, args.patch_batches)
    epochs = 1 if args.quick else max(1, args.epochs)

    env = environment_info()
    say(f"machine : {env['cpu']}, {env['cpu_count']} logical CPUs, "
         f"torch threads {env['torch_threads']}, device {args.device}"
         + (f" ({torch.cuda.get_device_name()})" if args.device.startswith("cuda") else ""))
    say(f"versions: python {env['python']}, torch {env['torch']}, "
         f"lightnets {env['lightnets']}")
    flags = sorted(f for f in cpu_flags() if "bf16" in f or f.startswith("amx"))
    native = any(f in flags for f in NATIVE_BF16_CPU_FLAGS)
    say(f"cpu bf16: {', '.join(flags) or 'no bf16 flags'} "
         f"({'native' if native else 'emulated'} bfloat16)")
    say(f"load avg: {load()} (1/5/15 min) at start")

    scene = load_scene("indian_pines", data_dir=args.data_dir)
    cube = SpectralTransform(BANDS, whiten=True).fit_transform(scene.cube).transpose(2, 0, 1)
    split = stratified_split(scene.gt, TRAIN_FRACTION, seed=0)
    rows, cols, labels = split.pixels("train", scene.gt)
    positions = np.stack([rows, cols], 1)
    height, width = cube.shape[1:]
    n_train, n_scene = len(positions), height * width
    say(f"data    : Indian Pines {height}×{width} from {scene.metadata.get('source', '?')}, "
         f"PCA {BANDS}, {n_train} training pixels (30 % stratified)")

    torch.manual_seed(0)
    base = lightnets.create_model("hybridsn", bands=BANDS, window=WINDOW,
                                  num_classes=scene.num_classes)
    say(f"model   : hybridsn, {sum(p.numel() for p in base.parameters()):,} parameters, "
         f"window {WINDOW}, batch {BATCH}\n")

    def epoch_seconds(path: str, batching: str, pos: np.ndarray, y: np.ndarray,
                      precision: str = "fp32") -> float:
        model = copy.deepcopy(base)
        opt = torch.optim.Adam(model.parameters(), lr=1e-3)
        gen = torch.Generator().manual_seed(0)
        return timed(lambda: engine.train_epoch(model, cube, pos, y, opt, path=path,
                                                batching=batching, generator=gen,
                                                device=args.device, precision=precision))

    scene_epochs = {}
    for rule in engine.BATCHINGS:
        times = [epoch_seconds("scene", rule, positions, labels) for _ in range(epochs)]
        scene_epochs[rule] = min(times)
        say(f"scene path epoch, {rule:7s} batches : {scene_epochs[rule]:8.2f} s "
             f"(min of {epochs}: {', '.join(f'{t:.2f}' for t in times)})")

    gen = torch.Generator().manual_seed(1)
    subset = torch.randperm(n_train, generator=gen)[: patch_batches * BATCH].numpy()
    part = epoch_seconds("patch", "random", positions[subset], labels[subset])
    patch_epoch = part * n_train / len(subset)
    say(f"patch path epoch, random batches  : {patch_epoch:8.2f} s "
         f"(SCALED: {part:.2f} s for {len(subset)} pixels × {n_train / len(subset):.2f})")

    model = copy.deepcopy(base)
    scene_map = min(timed(lambda: engine.predict_scene(model, cube, device=args.device))
                    for _ in range(2))
    say(f"scene path map {height}×{width}           : {scene_map:8.2f} s (min of 2)")
    every = engine.scene_positions(height, width)
    some = every[torch.randperm(n_scene, generator=gen)[: patch_batches * BATCH]]
    part = timed(lambda: engine.predict_patches(model, cube, some, device=args.device))
    patch_map = part * n_scene / len(some)
    say(f"patch path map                     : {patch_map:8.2f} s "
         f"(SCALED: {part:.2f} s for {len(some)} pixels × {n_scene / len(some):.2f})")

    say("")
    for rule, seconds in scene_epochs.items():
        say(f"ratio, training epoch, patch / scene ({rule:7s}): "
             f"{patch_epoch / seconds:6.1f}×")
    say(f"ratio, full-scene map, patch / scene           : {patch_map / scene_map:6.1f}×")

    say("")
    precisions = [p for p in args.precisions.split(",") if p and p != "fp32"]
    for precision in precisions:
        times = [epoch_seconds("scene", "random", positions, labels, precision)
                 for _ in range(epochs)]
        epoch = min(times)
        maps = [timed(lambda precision=precision: engine.predict_scene(
            model, cube, device=args.device, precision=precision)) for _ in range(2)]
        say(f"{precision} scene path epoch, random batches: {epoch:8.2f} s (min of {epochs}: "
             f"{', '.join(f'{t:.2f}' for t in times)}); fp32 / {precision} "
             f"{scene_epochs['random'] / epoch:.2f}×, patch fp32 / {precision} "
             f"{patch_epoch / epoch:.1f}×")
        say(f"{precision} scene path map                  : {min(maps):8.2f} s (min of 2); "
             f"fp32 / {precision} {scene_map / min(maps):.2f}×, patch fp32 / {precision} "
             f"{patch_map / min(maps):.1f}×")
    say(f"paper protocol (100 epochs, random batches, one map), from these times: scene path "
         f"{(100 * scene_epochs['random'] + scene_map) / 60:.1f} min, patch path "
         f"{(100 * patch_epoch + patch_map) / 60:.1f} min (paper: 14.1 min on a GTX 1060)")
    if args.options:
        speed_options(base, cube, positions, labels, args.device, say)
    if args.protocol > 0:
        for precision in [p for p in args.protocol_precisions.split(",") if p]:
            time_to_result(args, precision, say)
    say(f"load avg: {load()} (1/5/15 min) at end — the seconds are rough on a shared machine")
    if args.docs:
        write_page(Path(args.docs), lines, argv if argv is not None else sys.argv[1:])
    return 0


def speed_options(base, cube: np.ndarray, positions: np.ndarray, labels: np.ndarray,
                  device: str, say) -> None:
    """One training step under each speed option, beside the plain one (min of 3 each)."""
    from lightnets.export.fuse import _fold

    gen = torch.Generator().manual_seed(2)
    batch = torch.randperm(len(positions), generator=gen)[:BATCH].numpy()
    pos, y = positions[batch], labels[batch]

    def step_seconds(model, precision: str, repeats: int = 3) -> list[float]:
        opt = torch.optim.Adam(model.parameters(), lr=1e-3)
        return [timed(lambda: engine.train_epoch(model, cube, pos, y, opt, batch_size=BATCH,
                                                 device=device, precision=precision))
                for _ in range(repeats)]

    say("\nspeed options: one step, a batch of 256 i.i.d. training pixels (min of 3)")
    threads = torch.get_num_threads()
    plain = {}
    for precision in ("fp32", "bf16"):
        for n in sorted({1, threads}):
            torch.set_num_threads(n)
            t = min(step_seconds(copy.deepcopy(base), precision))
            torch.set_num_threads(threads)
            if n == threads:
                plain[precision] = t
            say(f"  {f'{precision}, {n} thread(s)':38s}: {t:6.2f} s")
    last = copy.deepcopy(base)
    for module in last.modules():
        if isinstance(module, (torch.nn.Conv2d, torch.nn.Conv3d)):
            fmt = torch.channels_last if module.weight.ndim == 4 else torch.channels_last_3d
            module.weight.data = module.weight.data.contiguous(memory_format=fmt)
    for precision in ("fp32", "bf16"):
        t = min(step_seconds(last, precision))
        say(f"  {f'{precision}, channels-last conv weights':38s}: {t:6.2f} s "
             f"(plain / this {plain[precision] / t:.2f}×)")
    compiled = copy.deepcopy(base)
    compiled.forward_features = torch.compile(compiled.forward_features)
    for precision in ("fp32", "bf16"):
        first, *rest = step_seconds(compiled, precision, repeats=4)
        say(f"  {f'{precision}, compiled feature extractor':38s}: {min(rest):6.2f} s "
             f"(plain / this {plain[precision] / min(rest):.2f}×; first step with compiling "
             f"{first:.1f} s)")

    # The region a step convolves is the bounding box of its pixels' windows; how much of it
    # do the windows cover, and how many 32×32 output tiles would a tiled step touch?
    window, fw = base.window, base.feature_window
    side = cube.shape[1] + window - 1, cube.shape[2] + window - 1
    boxes, cover, tiles = [], [], []
    for _ in range(20):
        p = positions[torch.randperm(len(positions), generator=gen)[:BATCH].numpy()]
        need = np.zeros(side, bool)
        feat = np.zeros(side, bool)
        for r, c in p:
            need[r:r + window, c:c + window] = True
            feat[r:r + fw, c:c + fw] = True
        box = (np.ptp(p[:, 0]) + window) * (np.ptp(p[:, 1]) + window)
        boxes.append(box / (side[0] * side[1]))
        cover.append(need.sum() / box)
        t = 32
        grid = [feat[i:i + t, j:j + t].any() for i in range(0, side[0], t)
                for j in range(0, side[1], t)]
        tiles.append(np.mean(grid))
    say(f"  region of a step: its box is {np.mean(boxes):.0%} of the padded scene, the pixels' "
         f"windows cover {np.mean(cover):.0%} of the box, a tiled step would touch "
         f"{np.mean(tiles):.0%} of the 32×32 tiles, each read with a {window - 1}-pixel margin "
         f"({((32 + window - 1) / 32) ** 2:.2f}× its area)")

    # Batch-norm folding for inference, on the network that has batch norm (SSFTT).
    torch.manual_seed(0)
    ssftt = lightnets.create_model("ssftt", bands=cube.shape[0],
                                   num_classes=base.num_classes).eval()
    for bn in (ssftt.bn3d, ssftt.bn2d):  # statistics of a trained network, not identities
        bn.running_mean.uniform_(-0.5, 0.5)
        bn.running_var.uniform_(0.5, 2.0)
    folded = copy.deepcopy(ssftt)
    _fold(folded.conv3d, folded.bn3d)
    _fold(folded.conv2d, folded.bn2d)
    folded.bn3d, folded.bn2d = torch.nn.Identity(), torch.nn.Identity()
    seconds, logits = {}, {}
    for name, net in (("plain", ssftt), ("folded", folded)):
        times = []
        for _ in range(2):
            start = time.perf_counter()
            logits[name] = engine.predict_scene(net, cube, device=device)
            times.append(time.perf_counter() - start)
        seconds[name] = min(times)
    diff = float((logits["plain"] - logits["folded"]).abs().max())
    say(f"  SSFTT map: {seconds['plain']:.2f} s, batch norm folded {seconds['folded']:.2f} s "
         f"(plain / folded {seconds['plain'] / seconds['folded']:.2f}×; largest logit change "
         f"{diff:.1e})")


def time_to_result(args: argparse.Namespace, precision: str, say) -> None:
    """The whole paper protocol for ``args.protocol`` seeds in ``precision``: wall seconds
    (split, PCA, training, map, scoring) and OA per seed, kept under ``RESULTS``."""
    epochs = args.protocol_epochs
    out = Path(args.results) / (f"protocol-{precision}" + ("" if epochs == 100 else f"-{epochs}ep"))
    made = {s for s in range(args.protocol) if not (out / f"seed{s}" / "metrics.json").exists()}
    config = ExperimentConfig(scene="indian_pines", data_dir=args.data_dir, train_fraction=0.3,
                              epochs=epochs, precision=precision, device=args.device,
                              runs=args.protocol)
    runs = run_experiment(config, out, resume=True, progress=False, log=lambda _m: None)["runs"]
    say("")
    for run in runs:
        how = "made now" if run["seed"] in made else f"read back from {out.name}"
        say(f"paper protocol, {precision}, {epochs} epochs, seed {run['seed']}: "
             f"{run['wall_seconds'] / 60:6.2f} min end to end (training "
             f"{run['train_seconds'] / 60:.2f} min), OA {run['oa']:.2%} ({how})")
    oa = [r["oa"] for r in runs]
    minutes = [r["wall_seconds"] / 60 for r in runs]
    say(f"paper protocol, {precision}: mean {np.mean(minutes):.2f} min, OA {np.mean(oa):.2%} "
         f"± {np.std(oa, ddof=1) if len(oa) > 1 else 0:.2%} over {len(oa)} seeds; "
         f"the paper: {PAPER_MINUTES} min on a GTX 1060 "
         f"({PAPER_MINUTES / np.mean(minutes):.2f}× this time)")


def write_page(path: Path, lines: list[str], argv: list[str]) -> None:
    """The printout as a Markdown page, with the command and the date."""
    command = shlex.join(["python", "benchmarks/hsi_speed.py", *argv])
    date = dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    page = "\n".join([
        "# HybridSN on Indian Pines: scene path against patch path",
        "",
        f"Generated by `benchmarks/hsi_speed.py` on {date}; every number comes from that run.",
        f"Command: `{command}`.",
        "",
        "```text",
        *lines,
        "```",
        "",
    ])
    atomic_write_bytes(path, page.encode())
    print(f"wrote {path}")


if __name__ == "__main__":
    sys.exit(main())
