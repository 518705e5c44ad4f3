"""Mapping a scene far larger than memory needs: pixels per second and peak resident memory.

Builds flight-line-sized cubes by tiling Indian Pines' 145×145×200 uint16 radiance (the
``.npy`` files go to ``--work``, 1.6 GB for 2000², 6.4 GB for 4000²), then maps each with a
HybridSN checkpoint (window 25, PCA 30; ``--checkpoint``, else one trained here for one epoch
on 10 % of Indian Pines: speed and memory do not depend on the weights' values) in three ways,
each a fresh process:

* **in memory**: ``HSIClassifier.load(...).predict(np.load(cube))``, the whole cube read and
  reduced at once (only up to ``--in-memory-max`` pixels: beyond, its float32 copy alone would
  not fit this machine);
* **streamed, 1 process**: ``lightnets hsi predict --out map.npy`` (tiles of 256, each read with
  its margin and kept before the next);
* **streamed, 2 processes**: the same under ``torchrun --nproc_per_node 2`` (one thread each).

Peak RSS is the kernel's high-water mark of the largest process (``wait4``), and for two
processes also the largest sum over the process tree, sampled every 0.2 s. The maps of the
three ways are compared pixel by pixel.

    python benchmarks/hsi_big_scene.py --data-dir ../shared/datasets/indian_pines [--docs]
"""

from __future__ import annotations

import argparse
import os
import shlex
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np

from _records import Transcript, write_page
from lightnets.hsi import HSIClassifier
from lightnets.hsi.scenes import load_scene
from lightnets.hsi.splits import stratified_split
from lightnets.runs import environment_info

DOCS = Path(__file__).resolve().parents[1] / "docs" / "hsi-big-scenes.md"
GB = 1e9


def build_cube(tile_cube: np.ndarray, side: int, path: Path) -> Path:
    """A side×side×B ``.npy`` cube repeating ``tile_cube``, written 64 rows at a time."""
    if path.exists():
        existing = np.load(path, mmap_mode="r")
        if existing.shape == (side, side, tile_cube.shape[2]):
            return path
    h, w, b = tile_cube.shape
    cols = np.arange(side) % w
    tmp = path.with_name(path.name + ".tmp")
    with open(tmp, "wb") as f:
        header = {"descr": np.lib.format.dtype_to_descr(tile_cube.dtype), "fortran_order": False,
                  "shape": (side, side, b)}
        np.lib.format.write_array_header_1_0(f, header)
        for r0 in range(0, side, 64):
            rows = np.arange(r0, min(r0 + 64, side)) % h
            f.write(np.ascontiguousarray(tile_cube[rows][:, cols]).tobytes())
    os.replace(tmp, path)
    return path


def _tree_rss_kb(root: int) -> int:
    """Resident kB of ``root`` and all its descendants (from /proc)."""
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as f:
                    ppid = int(f.read().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            children.setdefault(ppid, []).append(int(entry))
    total, todo = 0, [root]
    while todo:
        pid = todo.pop()
        todo.extend(children.get(pid, []))
        try:
            with open(f"/proc/{pid}/status") as f:
                total += next(int(line.split()[1]) for line in f if line.startswith("VmRSS:"))
        except (OSError, StopIteration):
            pass
    return total


def measure(command: list[str], env: dict[str, str]) -> dict[str, float]:
    """Wall seconds, the largest process's peak RSS and the tree's sampled peak (bytes)."""
    start = time.perf_counter()
    proc = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    peak_tree = [0]
    done = threading.Event()

    def sample() -> None:
        while not done.is_set():
            peak_tree[0] = max(peak_tree[0], _tree_rss_kb(proc.pid))
            done.wait(0.2)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    output = proc.stdout.read().decode(errors="replace")
    _, status, usage = os.wait4(proc.pid, 0)
    seconds = time.perf_counter() - start
    done.set()
    sampler.join()
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        raise RuntimeError(f"{shlex.join(command)} failed ({proc.returncode}):\n{output[-3000:]}")
    return {"seconds": seconds, "peak_rss": usage.ru_maxrss * 1024.0,
            "peak_tree": peak_tree[0] * 1024.0}


IN_MEMORY = """
import sys, numpy as np
from lightnets.hsi import HSIClassifier
clf = HSIClassifier.load(sys.argv[1])
np.save(sys.argv[3], clf.predict(np.load(sys.argv[2], allow_pickle=False)))
"""


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data-dir", required=True, help="folder with the Indian Pines files")
    parser.add_argument("--sizes", default="2000,4000", help="scene sides, comma-separated")
    parser.add_argument("--work", default="/tmp/lightnets-big-scene",
                        help="folder for the cubes and maps (needs 9 GB for 2000,4000)")
    parser.add_argument("--checkpoint", help="a HybridSN model.pt (default: trained here)")
    parser.add_argument("--tile", type=int, default=256)
    parser.add_argument("--in-memory-max", type=int, default=2000 * 2000,
                        help="largest scene (pixels) mapped in memory (default 2000²)")
    parser.add_argument("--keep", action="store_true", help="keep the cubes and maps")
    parser.add_argument("--docs", nargs="?", const=str(DOCS), help="also write the page")
    args = parser.parse_args(argv)

    say = Transcript()

    work = Path(args.work)
    work.mkdir(parents=True, exist_ok=True)
    env = environment_info()
    say(f"machine : {env['cpu']}, {env['cpu_count']} logical CPUs, "
        f"{os.sysconf('SC_PAGE_SIZE') * os.sysconf('SC_PHYS_PAGES') / GB:.1f} GB memory")
    say(f"versions: python {env['python']}, torch {env['torch']}, numpy {env['numpy']}, "
        f"lightnets {env['lightnets']}")
    say(f"load avg: {' '.join(f'{x:.2f}' for x in os.getloadavg())} (1/5/15 min) at start")

    scene = load_scene("indian_pines", data_dir=args.data_dir)
    radiance = scene.cube  # the published file's uint16 counts, held as floats by the reader
    integral = np.array_equal(radiance, np.round(radiance))
    if integral and radiance.min() >= 0 and radiance.max() < 2**16:
        radiance = radiance.astype(np.uint16)
    checkpoint = Path(args.checkpoint) if args.checkpoint else work / "hybridsn.lnet"
    if not args.checkpoint:
        split = stratified_split(scene.gt, 0.1, seed=0)
        clf = HSIClassifier("hybridsn", epochs=1, random_state=0)
        clf.fit(scene, train_mask=split.train).save(checkpoint)
        say("model   : HybridSN (window 25, PCA 30), 1 epoch on 10 % of Indian Pines "
            "(the weights' values do not change speed or memory)")
    else:
        say(f"model   : {checkpoint}")
    say(f"tiles   : {args.tile}×{args.tile} output pixels; maps written as .npy (int64)")
    say()

    child_env = {**os.environ}
    child_env.pop("OMP_NUM_THREADS", None)
    py = sys.executable
    rows = []
    for side in (int(s) for s in args.sizes.split(",")):
        cube_path = build_cube(radiance, side, work / f"ip_tiled_{side}.npy")
        pixels = side * side
        size_gb = cube_path.stat().st_size / GB
        say(f"{side}×{side}×{radiance.shape[2]} {radiance.dtype} ({size_gb:.1f} GB on disk, "
            f"{pixels / 1e6:.1f} M pixels)")
        runs: dict[str, dict[str, float]] = {}
        maps: dict[str, Path] = {}
        ways = []
        if pixels <= args.in_memory_max:
            ways.append(("in memory", [py, "-c", IN_MEMORY, str(checkpoint), str(cube_path)],
                         "mem"))
        ways.append(("streamed, 1 process", [py, "-m", "lightnets", "hsi", "predict"], "s1"))
        ways.append(("streamed, 2 processes",
                     [py, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", "2",
                      "-m", "lightnets", "hsi", "predict"], "s2"))
        for label, command, key in ways:
            out = work / f"map_{side}_{key}.npy"
            out.unlink(missing_ok=True)
            if key == "mem":
                command = [*command, str(out)]
            else:
                command = [*command, "--checkpoint", str(checkpoint), "--cube", str(cube_path),
                           "--out", str(out), "--tile", str(args.tile), "--quiet"]
            r = measure(command, child_env)
            runs[label], maps[key] = r, out
            tree = (f", whole tree {r['peak_tree'] / GB:.2f} GB" if key == "s2" else "")
            say(f"  {label:22s}: {r['seconds']:7.1f} s, {pixels / r['seconds']:8,.0f} px/s, "
                f"peak RSS {r['peak_rss'] / GB:.2f} GB (largest process{tree})")
            rows.append((side, label, r))
        if pixels > args.in_memory_max:
            say(f"  {'in memory':22s}: not run (its float32 copy of the cube alone is "
                f"{pixels * 200 * 4 / GB:.1f} GB)")
        reference = np.load(maps["s1"], mmap_mode="r")
        for key, name in (("mem", "in memory"), ("s2", "2 processes")):
            if key in maps:
                other = np.load(maps[key], mmap_mode="r")
                same = sum(int((reference[r:r + 500] == other[r:r + 500]).sum())
                           for r in range(0, side, 500))
                say(f"  map of {name} equals the 1-process map at {same / pixels:.6%} of pixels")
        one = runs["streamed, 1 process"]["seconds"]
        two = runs["streamed, 2 processes"]["seconds"]
        say(f"  2 processes / 1 process speed: {one / two:.2f}×")
        if not args.keep:
            for path in maps.values():
                path.unlink(missing_ok=True)
        say()

    sides = sorted({side for side, _, _ in rows})
    if len(sides) > 1:
        peak = {s: r["peak_rss"] for s, label, r in rows if label == "streamed, 1 process"}
        small, large = peak[sides[0]], peak[sides[-1]]
        say(f"streamed peak RSS, {sides[-1]}² against {sides[0]}² "
            f"({(sides[-1] / sides[0]) ** 2:.0f}× the pixels): {large / small:.3f}×")
    if not args.keep:
        for path in work.glob("ip_tiled_*.npy"):
            path.unlink()

    if args.docs:
        write_page(
            args.docs,
            "Mapping big scenes",
            "The cubes tile Indian Pines' radiance; every way runs as a fresh process. Peak RSS "
            "is the kernel's high-water mark of the largest process; the whole tree (2 "
            "processes) is sampled every 0.2 s.",
            say,
            [
                "The streamed map reads each tile with its window margin, reduces it with the "
                "fitted PCA, classifies it and saves it before reading the next; the `.npy` "
                "cube is mapped for each window only and the `.npy` map written row by row, so "
                "resident memory follows the tile, not the scene. `lightnets hsi predict "
                "--help` lists the formats read window by window (MATLAB v5 `.mat` and `.npz` "
                "are read whole).",
                "",
            ],
            argv=argv,
        )
        print(f"wrote {args.docs}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
