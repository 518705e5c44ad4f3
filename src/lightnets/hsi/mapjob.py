"""One map of a cube file: tile by tile, resumable, shared among processes under torchrun.

Every finished tile is saved into a parts folder beside the output (``.map.tif.parts/``, one
small ``.npy`` per tile, written atomically) before the next tile is read. Once every tile
exists, the outputs are assembled from the parts, tile by tile, and the folder is removed:
the map (``.npy``, GeoTIFF or PNG; with ``smooth``, each label the majority of its window,
:func:`~lightnets.hsi.streaming.stream_labels`), an optional confidence raster (the softmax
probability of each pixel's label, beside the map as ``map.confidence.npy|.tif|.png``) and, for
``.npy`` and GeoTIFF maps, a colour preview ``map.preview.png`` of at most
:data:`PREVIEW_SIDE` pixels a side (every n-th pixel of every n-th row).

So an interrupted map keeps its finished tiles and ``resume=True`` classifies only the rest;
the parts folder's manifest records the checkpoint's SHA-256, the cube's shape, the tile size,
whether confidence is kept and the smoothing window, and resuming with any of them changed is
refused. Under ``torchrun --nproc_per_node N`` (several machines: a shared output folder) rank
r classifies tiles r, r + N, r + 2N, … and rank 0 assembles after a barrier; each tile's
labels do not depend on which process computed it, so the map is the one a single process
makes. The processes meet through a gloo group (a CPU channel, also on GPU machines: only
barriers pass through it); each takes ``cuda:LOCAL_RANK`` where there are GPUs and an equal
share of the CPU threads where there are not.
"""

from __future__ import annotations

import hashlib
import io
import json
import math
import os
import shutil
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import numpy as np

from .._checks import bad_value, spell
from ..runs import atomic_write_bytes
from .smoothing import check_size
from .streaming import (
    DEFAULT_TILE,
    NpyLabels,
    Tile,
    _progress_bar,
    check_bands,
    check_confidence,
    open_cube,
    stream_labels,
    tiles,
)

PREVIEW_SIDE = 2048  # longest side of a PNG preview (and of a .png map) in pixels
MAP_SUFFIXES = (".npy", ".tif", ".tiff", ".png")


@dataclass(frozen=True)
class MapResult:
    """What a map job made: the files written (by rank 0), the pixel count of each label
    0..K, the tiles this process classified and those it found finished."""

    outputs: list[Path]
    class_names: list[str]
    counts: np.ndarray
    classified: int
    reused: int
    seconds: float
    rank: int
    world_size: int
    png_step: int = 1  # the PNG (map or preview) keeps every png_step-th pixel and row


# ------------------------------------------------------------------------------ processes


@dataclass(frozen=True)
class _Group:
    rank: int = 0
    world: int = 1
    local_rank: int = 0
    local_world: int = 1

    def barrier(self) -> None:
        if self.world > 1:
            import torch.distributed as dist

            dist.barrier()


def _env(name: str, default: int) -> int:
    value = os.environ.get(name, str(default))
    if not value.isdigit():
        raise bad_value(name, "a non-negative integer (set by torchrun)", value)
    return int(value)


@contextmanager
def _processes() -> Iterator[_Group]:
    """The torchrun process group (gloo, barriers only), or one process."""
    world = _env("WORLD_SIZE", 1)
    if world == 1:
        yield _Group()
        return
    import torch.distributed as dist

    owned = not dist.is_initialized()
    if owned:  # a long timeout: ranks wait at the final barrier while others finish tiles
        dist.init_process_group("gloo", timeout=timedelta(hours=24))
    try:
        yield _Group(
            dist.get_rank(),
            dist.get_world_size(),
            _env("LOCAL_RANK", 0),
            _env("LOCAL_WORLD_SIZE", 1),
        )
    finally:
        if owned:
            dist.destroy_process_group()


def _share_the_machine(clf: Any, group: _Group) -> None:
    """One GPU per rank where there are GPUs, else an equal share of the CPU threads."""
    import torch

    if group.world == 1:
        return
    wants_cuda = clf.device is None or str(clf.device).startswith("cuda")
    if wants_cuda and torch.cuda.is_available():
        clf.set_params(device=f"cuda:{group.local_rank % torch.cuda.device_count()}")
    else:
        torch.set_num_threads(max(1, (os.cpu_count() or 1) // max(group.local_world, 1)))


# ------------------------------------------------------------------------------ parts


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def parts_folder(out: Path) -> Path:
    """Where the finished tiles of the map ``out`` wait until it is assembled."""
    return out.parent / f".{out.name}.parts"


def _part(parts: Path, t: Tile, kind: str = "labels") -> Path:
    return parts / f"{t.r0}_{t.c0}.{kind}.npy"


def _save_part(path: Path, values: np.ndarray) -> None:
    buffer = io.BytesIO()
    np.save(buffer, values, allow_pickle=False)
    atomic_write_bytes(path, buffer.getvalue())


def _load_part(path: Path) -> np.ndarray:
    return np.load(path, allow_pickle=False)


def _read_manifest(parts: Path) -> dict[str, Any] | None:
    try:
        return json.loads((parts / "manifest.json").read_text())
    except FileNotFoundError:
        return None
    except (OSError, ValueError) as exc:
        raise bad_value("resume", f"a readable {parts / 'manifest.json'}", str(exc)) from None


def _check_manifest(found: dict[str, Any], wanted: dict[str, Any], out: Path) -> None:
    """Refuse to continue another job's map (naming what differs, both values)."""
    if found.get("checkpoint_sha256") != wanted["checkpoint_sha256"]:
        raise bad_value(
            "resume",
            f"the model that began {out.name}: {found.get('checkpoint')} "
            f"(sha256 {str(found.get('checkpoint_sha256'))[:12]})",
            f"{wanted['checkpoint']} (sha256 {wanted['checkpoint_sha256'][:12]}); rerun "
            "without --resume after deleting the unfinished map's parts "
            f"({parts_folder(out)}), or resume with the first model",
        )
    for key in ("shape", "tile", "confidence", "smooth"):
        if found.get(key, 1 if key == "smooth" else None) != wanted[key]:  # 1: no smoothing
            raise bad_value(
                "resume", f"the {key} that began {out.name}: {found.get(key)}", wanted[key]
            )


def _check_writable(out: Path) -> None:
    """``out``'s folder exists or can be made, and takes a file (before any tile is read)."""
    if out.suffix.lower() not in MAP_SUFFIXES:
        raise bad_value("out", f"a map file ending in {', '.join(MAP_SUFFIXES)}", str(out))
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        probe = out.parent / f".{out.name}.{os.getpid()}.probe"  # one per process
        probe.write_bytes(b"")
        probe.unlink()
    except OSError as exc:
        raise bad_value(
            "out", "a file in a folder that can be written", f"{out} ({exc.strerror})"
        ) from None


# ------------------------------------------------------------------------------ outputs


class Preview:
    """Every ``step``-th pixel of every ``step``-th row of a map, ``step`` chosen so that the
    longest side is at most ``side`` (1 when the scene already fits)."""

    def __init__(self, height: int, width: int, side: int = PREVIEW_SIDE, dtype: Any = np.int64):
        self.step = max(1, math.ceil(max(height, width) / side))
        self.image = np.zeros((math.ceil(height / self.step), math.ceil(width / self.step)), dtype)

    def write(self, t: Tile, values: np.ndarray) -> None:
        s = self.step
        r, c = -(-t.r0 // s) * s, -(-t.c0 // s) * s  # the first kept row and column in the tile
        kept = values[r - t.r0 :: s, c - t.c0 :: s]
        self.image[r // s : r // s + kept.shape[0], c // s : c // s + kept.shape[1]] = kept


def _sibling(out: Path, kind: str, suffix: str) -> Path:
    return out.with_name(f"{out.stem}.{kind}{suffix}")


def output_paths(out: str | os.PathLike, *, confidence: bool = False) -> list[Path]:
    """The files a map job writes for ``out``: the map, the confidence raster (when kept) and,
    beside an ``.npy`` or GeoTIFF map, the PNG preview."""
    out = Path(out)
    suffix = out.suffix.lower()
    paths = [out]
    if confidence:
        paths.append(_sibling(out, "confidence", out.suffix))
    if suffix != ".png":
        paths.append(_sibling(out, "preview", ".png"))
    return paths


def _assemble(
    out: Path,
    parts: Path,
    grid: list[Tile],
    shape: tuple[int, int, int],
    clf: Any,
    geo: dict[str, Any],
    confidence: bool,
) -> tuple[list[Path], np.ndarray, int]:
    """Write the outputs from the parts, one tile in memory at a time; returns them, the
    pixel count of each label and the PNG's step (1: full resolution)."""
    from .maps import save_label_image

    height, width, _ = shape
    names = clf.class_names_
    counts = np.zeros(len(names) + 1, dtype=np.int64)
    paths = output_paths(out, confidence=confidence)
    suffix = out.suffix.lower()
    with ExitStack() as stack:
        label_sinks: list[Any] = []
        conf_sinks: list[Any] = []
        preview = Preview(height, width)
        conf_preview = (
            Preview(height, width, dtype=np.float32) if confidence and suffix == ".png" else None
        )
        if suffix == ".npy":
            label_sinks.append(stack.enter_context(NpyLabels(out, height, width)))
            if confidence:
                conf_sinks.append(
                    stack.enter_context(NpyLabels(paths[1], height, width, np.float32))
                )
        elif suffix in (".tif", ".tiff"):
            from .writers import GeoTiffConfidence, GeoTiffLabels

            label_sinks.append(stack.enter_context(GeoTiffLabels(out, height, width, names, **geo)))
            if confidence:
                conf_sinks.append(
                    stack.enter_context(GeoTiffConfidence(paths[1], height, width, **geo))
                )
        label_sinks.append(preview)
        if conf_preview is not None:
            conf_sinks.append(conf_preview)
        for t in grid:
            labels = _load_part(_part(parts, t)).astype(np.int64)
            for sink in label_sinks:
                sink.write(t, labels)
            counts += np.bincount(labels.ravel(), minlength=len(counts))
            if confidence:
                conf = _load_part(_part(parts, t, "confidence"))
                for sink in conf_sinks:
                    sink.write(t, conf)
        png = out if suffix == ".png" else paths[-1]
        save_label_image(png, preview.image, len(names))
        if conf_preview is not None:
            _save_gray(paths[1], conf_preview.image)
    return paths, counts, preview.step


def _save_gray(path: Path, values: np.ndarray) -> None:
    from .maps import _pyplot

    buffer = io.BytesIO()
    _pyplot().imsave(buffer, values, cmap="gray", vmin=0.0, vmax=1.0, format="png")
    atomic_write_bytes(path, buffer.getvalue())


# ------------------------------------------------------------------------------ the job


def _open_parts(
    out: Path, grid: list[Tile], wanted: dict[str, Any], resume: bool, group: _Group, log: Any
) -> Path:
    """The parts folder of ``out``, made (rank 0) or checked for resuming (every rank, so every
    rank raises the same error)."""
    parts = parts_folder(out)
    found = _read_manifest(parts)
    if found is not None and not resume:
        done = sum(_part(parts, t).exists() for t in grid)
        raise bad_value(
            "out",
            f"a map without unfinished parts ({spell('resume')} continues them; "
            "deleting the folder starts again)",
            f"{parts} holds {done} of {len(grid)} tiles",
        )
    if found is not None:
        _check_manifest(found, wanted, out)
    group.barrier()  # every rank has read the folder before rank 0 changes it
    if group.rank == 0:
        if found is None:
            if resume:
                log(f"{out.name}: no unfinished map to resume, starting")
            if parts.exists():  # a folder without manifest: a start cut short
                shutil.rmtree(parts)
            parts.mkdir(parents=True)
            atomic_write_bytes(parts / "manifest.json", json.dumps(wanted, indent=2).encode())
        else:
            done = sum(_part(parts, t).exists() for t in grid)
            log(f"resuming {out.name}: {done} of {len(grid)} tiles done")
    group.barrier()
    return parts


def _classify_share(
    clf: Any,
    source: Any,
    parts: Path,
    todo: list[Tile],
    confidence: bool,
    smooth: int,
    progress: bool,
) -> None:
    """Classify the tiles ``todo``, saving each (confidence first, labels last: a tile is done
    when its labels exist)."""
    dtype = np.uint8 if len(clf.class_names_) < 256 else np.uint16
    bar = _progress_bar(sum((t.r1 - t.r0) * (t.c1 - t.c0) for t in todo), progress)
    try:
        for t, labels, conf in stream_labels(
            clf, source, only=todo, confidence=confidence, smooth=smooth
        ):
            if conf is not None:
                _save_part(_part(parts, t, "confidence"), conf)
            _save_part(_part(parts, t), labels.astype(dtype))
            bar.update(labels.size)
    finally:
        bar.close()


def map_cube_file(
    checkpoint: str | os.PathLike,
    cube: str | os.PathLike,
    out: str | os.PathLike,
    *,
    variable: str | None = None,
    tile: int = DEFAULT_TILE,
    confidence: bool = False,
    resume: bool = False,
    device: str | None = None,
    precision: str = "fp32",
    progress: bool = False,
    smooth: int = 1,
    log: Any = print,
) -> MapResult:
    """Classify the cube file ``cube`` with the classifier saved in ``checkpoint`` into the
    map ``out`` (``.npy``, ``.tif`` or ``.png``; module docs for the parts, resuming and
    torchrun). Every check (output folder, band count, manifest) runs before a pixel is read."""
    from .estimator import HSIClassifier

    start = time.perf_counter()
    out, checkpoint = Path(out), Path(checkpoint)
    with _processes() as group:
        clf = HSIClassifier.load(checkpoint, argument="checkpoint")
        clf.set_params(precision=precision, **({} if device is None else {"device": device}))
        _share_the_machine(clf, group)
        _check_writable(out)
        with open_cube(cube, variable=variable) as source:
            check_bands(clf, source)
            check_size(smooth, "smooth")
            if confidence:
                check_confidence(clf)
            grid = tiles(source.shape[0], source.shape[1], tile)
            wanted = {
                "checkpoint": str(checkpoint),
                "checkpoint_sha256": _sha256(checkpoint),
                "cube": str(cube),
                "shape": list(source.shape),
                "tile": tile,
                "confidence": confidence,
                "smooth": smooth,
            }
            parts = _open_parts(out, grid, wanted, resume, group, log)
            mine = grid[group.rank :: group.world]  # round robin: rank r takes r, r + N, …
            todo = [t for t in mine if not _part(parts, t).exists()]
            show = progress and group.rank == 0
            _classify_share(clf, source, parts, todo, confidence, smooth, show)
            group.barrier()
            outputs: list[Path] = []
            counts = np.zeros(len(clf.class_names_) + 1, dtype=np.int64)
            step = 1
            if group.rank == 0:
                geo = {k: getattr(source, k, None) for k in ("crs", "transform")}
                outputs, counts, step = _assemble(
                    out, parts, grid, source.shape, clf, geo, confidence
                )
                shutil.rmtree(parts)
        return MapResult(
            outputs=outputs,
            class_names=list(clf.class_names_),
            counts=counts,
            classified=len(todo),
            reused=len(mine) - len(todo),
            seconds=time.perf_counter() - start,
            png_step=step,
            rank=group.rank,
            world_size=group.world,
        )
