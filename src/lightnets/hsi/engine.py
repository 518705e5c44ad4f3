"""Patch and scene engines: classify every pixel of a hyperspectral cube, and train on pixels.

A *patch model* classifies the centre pixel of a ``window × window`` patch. Two paths give the
same logits (to float rounding):

* **patch path**: windows are cut on the fly from the padded cube, one batch at a time (never
  an array of all patches), and go through ``model(patches)``;
* **scene path** (the default): the model's convolutions run once over the padded scene, or
  over the region a batch of pixels needs, then the dense head is read out. Valid stride-1
  convolutions commute with cropping, so the feature map of a region holds at each position
  the features of the patch there: for HybridSN ≈0.7 M multiply-adds per position instead of
  ≈243 M per 25×25 patch.

Model interface (HybridSN has it; a 3-D or 1-D patch CNN can add it):

* ``window: int`` (odd), the patch side; ``feature_window: int``, the side of
  ``forward_features`` on one window; ``num_classes: int``; optional ``in_chans`` (the bands),
  checked against the cube;
* ``forward(x)``: ``N × C × window × window`` → ``N × K`` logits;
* ``forward_features(x)``: valid stride-1 convolutions accepting any ``H, W >= window``:
  ``N × C × H × W`` → ``N × F × (H − s) × (W − s)`` with ``s = window − feature_window``;
* ``forward_head(f)``: ``N × F × feature_window × feature_window`` → ``N × K``;
* ``scene_head(m)`` (optional, used by :func:`predict_scene`): the same head as convolutions,
  the first dense layer as a ``feature_window``-sized kernel and the others 1×1:
  ``N × F × h × w`` → ``N × K × (h − feature_window + 1) × (w − feature_window + 1)``.
  Without it the head runs on gathered windows, chunk by chunk.

Conventions: a cube is ``bands × H × W`` (tensor or array, bands first like the model input);
positions are an ``n × 2`` integer array of (row, col); labels are 0-based class indices. Both
paths pad the scene with zeros by ``window // 2`` on each side, as the reference HybridSN code.
``device=None`` means CUDA when available, else CPU; the model is moved there (do it before
building the optimizer). Logits come back on the CPU.

Training. On the scene path a batch's logits come from the convolutions over the batch's
bounding box plus the window margin; each pixel's ``feature_window²`` window of that feature
map is gathered in the batch's order and goes through ``forward_head``. So the dense layers
(≈4.7 M multiply-adds per pixel for HybridSN, as on the patch path) run only on the batch's
pixels, and dropout draws the same masks from the same RNG state as the patch path on the same
batch: logits and gradients equal the patch path's. A batch whose windows hold fewer pixels
than its region (small windows, scattered pixels: Hu1D's 1×1 or Hamida3D's 5×5 windows under
i.i.d. batches) is convolved window by window instead (:func:`patches_cheaper`), the same
logits at a fraction of the cost.

Batching rules. ``"random"``, the default on both paths, gives i.i.d. batches as the paper
(a random permutation cut into batches). A batch of 256 pixels drawn from the whole scene
needs the features of the whole scene at every step (their windows cover it): on Indian
Pines (30 % training pixels) ≈68 M convolution multiply-adds per training pixel against
≈243 M on the patch path, so an epoch is ≈3.8× faster than the patch path's (12 s against
44 s on 2 CPU cores). Two faster rules group neighbouring pixels, so that a batch's
features come from a small region; they change the optimisation, not only the speed:

* ``"spatial"`` cuts each epoch's training pixels into spatially compact batches by random k-d
  bisection: a group is split along the longer side of its bounding box (ties in position
  broken at random) at a multiple of ``batch_size`` drawn uniformly from its middle third,
  until groups hold at most ``batch_size`` pixels; the batch order is then shuffled. ≈23×
  the patch path's epoch, but a batch holds neighbouring pixels, often of one field and class.
* ``"mixed"`` builds each batch from ``MIXED_PARTS`` (4) compact groups of ``batch_size / 4``
  pixels taken from different places (the spatial rule at a quarter of the size, then
  consecutive groups of the shuffled order), and computes the groups' regions in one batched
  forward: ≈13× the patch path's epoch.

Neighbouring pixels are near-duplicates, so a compact batch carries far less information than
an i.i.d. one: on Indian Pines (30 %, seed 1) the training loss after 4 epochs was 1.07 with
random batches, 2.49 with mixed and 2.70 with spatial ones; at 10 % training (seed 0, 100
epochs) the OA was 98.2 % with random batches, 95.9 % mixed and 95.2 % spatial, and one
spatial seed at 30 % never left the class-prior loss. Use them for quick experiments, not for
final figures (``benchmarks/hsi_indian_pines.py`` measures them side by side).

Every rule uses every training pixel once per epoch and draws a new partition each epoch.

Reproducibility: an epoch is a function of the model, the data and the generator's state
(bitwise on the CPU; on CUDA up to the order of atomic additions in some backward kernels).
"""

from __future__ import annotations

import contextlib
import math
from collections.abc import Iterator, Sequence
from typing import Any, NamedTuple

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor, nn

from .._checks import bad_value, check_choice, check_int
from ..devices import resolve_device
from ..precision import autocast, grad_scaler, resolve_precision
from .recipes import LAST_BATCHES
from .transfer import hold_frozen_norms

__all__ = [
    "EpochStats",
    "as_cube",
    "as_positions",
    "feature_map",
    "gather_windows",
    "pad_cube",
    "patch_logits",
    "predict_block",
    "predict_patches",
    "predict_pixels",
    "predict_scene",
    "random_batches",
    "scene_logits",
    "scene_positions",
    "spatial_batches",
    "train_epoch",
    "train_pixel_epoch",
]

# Output pixels per tile of predict_scene by default: Indian Pines (145²) and Salinas (512×217)
# fit in one pass; HybridSN needs about 3 KB per pixel of tile plus margin at inference.
DEFAULT_MAX_PIXELS = 256 * 256
BATCHINGS = ("random", "mixed", "spatial")
MIXED_PARTS = 4  # compact groups per batch with batching="mixed"
# Largest side (feature pixels) of the pieces feature_map stacks into one batch on the CPU;
# two to four pieces per region measured fastest for HybridSN on Indian Pines.
PIECE = 128
HEAD_CHUNK = 1024

# ----------------------------------------------------------------------------- inputs


def _tensor(x: Any) -> Tensor:
    return x if isinstance(x, Tensor) else torch.as_tensor(np.ascontiguousarray(x))


def as_cube(cube: Any, model: nn.Module | None = None) -> Tensor:
    """A float32 ``bands × H × W`` tensor from a tensor or array, checked against the model."""
    t = _tensor(cube)
    if t.ndim != 3 or t.is_complex() or t.dtype == torch.bool:
        raise bad_value("cube", "a real array of shape (bands, H, W)", tuple(t.shape))
    bands = getattr(model, "in_chans", None)
    if bands is not None and t.shape[0] != bands:
        raise bad_value("cube", f"an array of shape ({bands}, H, W)", tuple(t.shape))
    return t.to(torch.float32)


def as_positions(positions: Any, height: int, width: int) -> Tensor:
    """An ``n × 2`` int64 CPU tensor of (row, col) inside a ``height × width`` scene."""
    p = _tensor(positions)
    if p.ndim != 2 or p.shape[1] != 2 or p.is_floating_point() or p.dtype == torch.bool:
        raise bad_value("positions", "an integer array of shape (n, 2)", tuple(p.shape))
    p = p.to(device="cpu", dtype=torch.int64)
    if len(p) and (p.min() < 0 or p[:, 0].max() >= height or p[:, 1].max() >= width):
        got = f"rows {int(p[:, 0].min())}..{int(p[:, 0].max())}, "
        got += f"cols {int(p[:, 1].min())}..{int(p[:, 1].max())}"
        raise bad_value("positions", f"(row, col) pairs inside a {height}×{width} scene", got)
    return p


def scene_positions(height: int, width: int) -> Tensor:
    """All ``height × width`` positions in row-major order, as an ``n × 2`` tensor."""
    rows, cols = torch.meshgrid(torch.arange(height), torch.arange(width), indexing="ij")
    return torch.stack([rows.reshape(-1), cols.reshape(-1)], 1)


def pad_cube(cube: Tensor, window: int) -> Tensor:
    """Zero-pad a ``C × H × W`` cube by ``window // 2`` per side (both paths use this)."""
    r = window // 2
    return F.pad(cube, (r, r, r, r))


def gather_windows(grid: Tensor, rows: Tensor, cols: Tensor, size: int) -> Tensor:
    """``n × C × size × size`` windows of a ``C × H × W`` grid, top-left corners at (rows, cols).

    One ``index_select`` of channel vectors from a channels-last copy of the grid: only the
    windows are copied, the result is a channels-last view (``permute(0, 2, 3, 1)`` of it is
    contiguous), and the backward, when the grid is a feature map being trained, is an
    index-add of contiguous rows.
    """
    c, _, w = grid.shape
    offsets = torch.arange(size, device=grid.device)
    r = rows.to(grid.device)[:, None, None] + offsets[None, :, None]
    q = cols.to(grid.device)[:, None, None] + offsets[None, None, :]
    flat = (r * w + q).reshape(-1)
    rows_of_channels = grid.permute(1, 2, 0).reshape(-1, c)
    out = rows_of_channels.index_select(0, flat).view(len(rows), size, size, c)
    return out.permute(0, 3, 1, 2)


# ----------------------------------------------------------------------------- logits


def patch_logits(model: nn.Module, padded: Tensor, positions: Tensor) -> Tensor:
    """Logits of the pixels at ``positions`` through ``model(patches)`` (autograd as usual)."""
    patches = gather_windows(padded, positions[:, 0], positions[:, 1], model.window)
    return model(patches.contiguous())


def feature_map(model: nn.Module, block: Tensor, piece: int | None = None) -> Tensor:
    """``forward_features`` of one ``C × H × W`` block, as an ``F × h × w`` map.

    On the CPU the map is computed as a batch of at least two pieces of at most ``piece``
    feature pixels a side (default :data:`PIECE`), each read with its convolution margin, and
    stitched: the result is the same (valid convolutions), but PyTorch sends batch-of-one
    3-D convolutions with 3×3 kernels to its slow reference kernel rather than oneDNN, about
    3–5× slower forward and backward.
    """
    piece = PIECE if piece is None else piece
    shrink = model.window - model.feature_window
    _, height, width = block.shape
    hf, wf = height - shrink, width - shrink
    gr, gc = 1, 1
    if block.device.type == "cpu":
        gr, gc = -(-hf // piece), -(-wf // piece)
        if gr * gc == 1 and hf >= 2:
            gr = 2
    if gr * gc == 1:
        return model.forward_features(block.unsqueeze(0))[0]
    a, b = -(-hf // gr), -(-wf // gc)
    block = F.pad(block, (0, gc * b - wf, 0, gr * a - hf))
    pieces = [
        block[:, i * a : i * a + a + shrink, j * b : j * b + b + shrink]
        for i in range(gr)
        for j in range(gc)
    ]
    f = model.forward_features(torch.stack(pieces))
    c = f.shape[1]
    f = f.view(gr, gc, c, a, b).permute(2, 0, 3, 1, 4).reshape(c, gr * a, gc * b)
    return f[:, :hf, :wf]


def _regions(positions: Tensor, max_pixels: int) -> list[Tensor]:
    """Groups of indices whose bounding box holds at most ``max_pixels`` positions."""
    rows, cols = positions[:, 0], positions[:, 1]
    height = int(rows.max() - rows.min()) + 1
    width = int(cols.max() - cols.min()) + 1
    if height * width <= max_pixels:
        return [torch.arange(len(positions))]
    side = max(1, math.isqrt(max_pixels))
    tile = (rows // side) * (int(cols.max()) // side + 1) + cols // side
    return [torch.nonzero(tile == t).flatten() for t in torch.unique(tile)]


def scene_logits(
    model: nn.Module,
    padded: Tensor,
    positions: Tensor,
    *,
    max_pixels: int = DEFAULT_MAX_PIXELS,
    groups: Sequence[Tensor] | None = None,
) -> Tensor:
    """Logits of the pixels at ``positions`` on the scene path (autograd as usual).

    The convolutions run once over the bounding box of the positions plus the window margin
    (over square tiles of at most ``max_pixels`` centres when it is larger); the pixels'
    feature windows are gathered in the order of ``positions`` and go through ``forward_head``.
    ``groups`` (index tensors partitioning ``positions``) gives the regions explicitly instead:
    one bounding box per group, all computed in one batched forward.
    """
    fw = model.feature_window
    if groups is None:
        groups = _regions(positions, max_pixels)
        boxes = [_box(positions[idx]) for idx in groups]
        maps = [feature_map(model, _crop(padded, box, model.window)) for box in boxes]
    else:
        boxes = [_box(positions[idx]) for idx in groups]
        maps = region_feature_maps(model, [_crop(padded, b, model.window) for b in boxes])
    parts = [
        gather_windows(fmap, positions[idx, 0] - box[0], positions[idx, 1] - box[1], fw)
        for idx, box, fmap in zip(groups, boxes, maps, strict=True)
    ]
    windows = parts[0] if len(parts) == 1 else torch.cat(parts)
    if len(groups) > 1:
        windows = windows[torch.argsort(torch.cat(list(groups))).to(windows.device)]
    return model.forward_head(windows)


def patches_cheaper(model: nn.Module, positions: Tensor, max_pixels: int = DEFAULT_MAX_PIXELS
                    ) -> bool:
    """Whether the patch path reads fewer input pixels for ``positions`` than the scene path.

    The scene path convolves each region's box plus the window margin; the patch path one
    ``window²`` patch per pixel. Both give the same logits, so a batch takes the cheaper: the
    scene path for wide windows (HybridSN's 25×25 patches overlap heavily), the patch path for
    scattered pixels with small windows (a 1-D spectral CNN, whose i.i.d. batch's "region"
    is the whole scene).
    """
    w = model.window
    boxes = [_box(positions[idx]) for idx in _regions(positions, max_pixels)]
    region_area = sum((r1 - r0 + w) * (c1 - c0 + w) for r0, c0, r1, c1 in boxes)
    return len(positions) * w * w < region_area


def _box(positions: Tensor) -> tuple[int, int, int, int]:
    """Bounding box (first row, first col, last row, last col) of ``n × 2`` positions."""
    rows, cols = positions[:, 0], positions[:, 1]
    return int(rows.min()), int(cols.min()), int(rows.max()), int(cols.max())


def _crop(padded: Tensor, box: tuple[int, int, int, int], window: int) -> Tensor:
    """The padded-cube block whose valid convolutions give the features of ``box``."""
    r0, c0, r1, c1 = box
    return padded[:, r0 : r1 + window, c0 : c1 + window]


def region_feature_maps(model: nn.Module, blocks: Sequence[Tensor]) -> list[Tensor]:
    """``forward_features`` of several ``C × h × w`` blocks in one batched call.

    Blocks are zero-padded at the bottom and right to a common size; valid convolutions keep
    every feature pixel of a block's own extent unchanged, so each map is cropped back.
    """
    if len(blocks) == 1:
        return [feature_map(model, blocks[0])]
    shrink = model.window - model.feature_window
    height = max(b.shape[1] for b in blocks)
    width = max(b.shape[2] for b in blocks)
    batch = torch.stack(
        [F.pad(b, (0, width - b.shape[2], 0, height - b.shape[1])) for b in blocks]
    )
    maps = model.forward_features(batch)
    return [m[:, : b.shape[1] - shrink, : b.shape[2] - shrink] for m, b in zip(maps, blocks,
                                                                            strict=True)]


@contextlib.contextmanager
def _eval_mode(model: nn.Module, precision: str, device: torch.device) -> Iterator[None]:
    """Eval mode, no autograd and ``precision``'s autocast for a block; the model's previous
    mode is restored."""
    precision = resolve_precision(precision, device)
    was_training = model.training
    model.eval()
    try:
        with torch.inference_mode(), autocast(precision, device):
            yield
    finally:
        model.train(was_training)


def predict_patches(
    model: nn.Module,
    cube: Any,
    positions: Any,
    *,
    batch_size: int = 256,
    device: str | torch.device | None = None,
    precision: str = "fp32",
) -> Tensor:
    """Logits ``n × K`` (CPU, float32) of the pixels at ``positions``, patch by patch, in eval
    mode (``precision``: :mod:`lightnets.precision`)."""
    batch_size = check_int("batch_size", batch_size, minimum=1)
    dev = resolve_device(device)
    model.to(dev)
    cube_t = as_cube(cube, model)
    pos = as_positions(positions, cube_t.shape[1], cube_t.shape[2])
    padded = pad_cube(cube_t.to(dev), model.window)
    out = [torch.empty(0, model.num_classes)]
    with _eval_mode(model, precision, dev):
        for start in range(0, len(pos), batch_size):
            out.append(patch_logits(model, padded, pos[start : start + batch_size]).float().cpu())
    return torch.cat(out)


def predict_pixels(
    model: nn.Module,
    cube: Any,
    positions: Any,
    *,
    path: str = "scene",
    batch_size: int | None = None,
    max_pixels: int = DEFAULT_MAX_PIXELS,
    device: str | torch.device | None = None,
    precision: str = "fp32",
) -> Tensor:
    """Logits ``n × K`` (CPU, float32) of the pixels at ``positions``, in eval mode, in their
    order (``precision``: :mod:`lightnets.precision`).

    ``path="scene"``: the pixels go in spatially compact groups of ``batch_size`` (default
    1024; a fixed k-d partition), each through :func:`scene_logits`, so the dense layers run
    only on the requested pixels (HybridSN holds 74 KB of gathered features per pixel of a
    group). About the cost of :func:`predict_scene` when a third of the scene is asked for.
    ``path="patch"``: :func:`predict_patches` (default batch 256).
    """
    path = check_choice("path", path, ("scene", "patch"))
    if path == "patch":
        size = 256 if batch_size is None else batch_size
        return predict_patches(
            model, cube, positions, batch_size=size, device=device, precision=precision
        )
    batch_size = check_int("batch_size", 1024 if batch_size is None else batch_size, minimum=1)
    max_pixels = check_int("max_pixels", max_pixels, minimum=1)
    dev = resolve_device(device)
    model.to(dev)
    cube_t = as_cube(cube, model)
    pos = as_positions(positions, cube_t.shape[1], cube_t.shape[2])
    if not len(pos):
        return torch.empty(0, model.num_classes)
    padded = pad_cube(cube_t.to(dev), model.window)
    groups = spatial_batches(pos, batch_size, torch.Generator().manual_seed(0))
    out = torch.empty(len(pos), model.num_classes)
    with _eval_mode(model, precision, dev):
        for idx in groups:
            out[idx] = scene_logits(model, padded, pos[idx], max_pixels=max_pixels).cpu()
    return out


def _head_map(model: nn.Module, fmap: Tensor) -> Tensor:
    """The head at every position of an ``F × h × w`` map: ``K × (h − fw + 1) × (w − fw + 1)``."""
    if hasattr(model, "scene_head"):
        return model.scene_head(fmap.unsqueeze(0))[0]
    fw = model.feature_window
    h, w = fmap.shape[1] - fw + 1, fmap.shape[2] - fw + 1
    pos = scene_positions(h, w)
    logits = [
        model.forward_head(gather_windows(fmap, p[:, 0], p[:, 1], fw))
        for p in pos.split(HEAD_CHUNK)
    ]
    return torch.cat(logits).T.reshape(-1, h, w)


def predict_scene(
    model: nn.Module,
    cube: Any,
    *,
    max_pixels: int = DEFAULT_MAX_PIXELS,
    device: str | torch.device | None = None,
    precision: str = "fp32",
) -> Tensor:
    """Logits ``K × H × W`` (CPU, float32) for every pixel of the scene, in eval mode, in one
    pass (``precision``: :mod:`lightnets.precision`).

    A scene of more than ``max_pixels`` pixels goes in square tiles of at most ``max_pixels``
    output pixels, each read with its window margin, so tiles give the single pass's result.
    """
    max_pixels = check_int("max_pixels", max_pixels, minimum=1)
    dev = resolve_device(device)
    model.to(dev)
    cube_t = as_cube(cube, model)
    _, height, width = cube_t.shape
    padded = pad_cube(cube_t.to(dev), model.window)
    tile_h, tile_w = height, width
    if height * width > max_pixels:
        tile_h = tile_w = max(1, math.isqrt(max_pixels))
    win = model.window
    out = torch.empty(model.num_classes, height, width)
    with _eval_mode(model, precision, dev):
        for r in range(0, height, tile_h):
            for c in range(0, width, tile_w):
                h, w = min(tile_h, height - r), min(tile_w, width - c)
                block = padded[:, r : r + h + win - 1, c : c + w + win - 1]
                out[:, r : r + h, c : c + w] = _head_map(model, feature_map(model, block)).cpu()
    return out


def predict_block(
    model: nn.Module,
    block: Any,
    *,
    device: str | torch.device | None = None,
    precision: str = "fp32",
) -> Tensor:
    """Logits ``K × (H − window + 1) × (W − window + 1)`` (CPU, float32) of the pixels whose
    whole window lies in ``block`` (``bands × H × W``, the caller's margins included): one tile
    of :func:`predict_scene`, for callers that read a scene piece by piece. A block cut from
    the zero-padded scene gives exactly :func:`predict_scene`'s logits there."""
    dev = resolve_device(device)
    model.to(dev)
    block_t = as_cube(block, model)
    if min(block_t.shape[1:]) < model.window:
        raise bad_value("block", f"a block of at least {model.window}×{model.window} pixels",
                        tuple(block_t.shape))
    with _eval_mode(model, precision, dev):
        return _head_map(model, feature_map(model, block_t.to(dev))).float().cpu()


# ----------------------------------------------------------------------------- training


def random_batches(
    n: int, batch_size: int, generator: torch.Generator, last_batch: str = "keep"
) -> list[Tensor]:
    """I.i.d. batches: a random permutation of ``range(n)`` cut into ``batch_size`` pieces
    (``last_batch="keep"``: the remainder is a short last batch), or into as many batches of
    sizes that differ by at most one (``"even"``: no batch of a few pixels, whose batch-norm
    statistics and full Adam step would come from those few alone). The same permutation
    either way."""
    order = torch.randperm(n, generator=generator)
    if check_choice("last_batch", last_batch, LAST_BATCHES) == "even":
        return list(order.tensor_split(-(-n // batch_size)))
    return list(order.split(batch_size))


def spatial_batches(positions: Tensor, batch_size: int, generator: torch.Generator) -> list[Tensor]:
    """Spatially compact batches of ``positions`` (indices) by random k-d bisection.

    The rule is in the module docstring: splits along the longer side at a random multiple of
    ``batch_size`` from the group's middle third, then a shuffled batch order.
    """
    done: list[Tensor] = []
    todo = [torch.arange(len(positions))]
    while todo:
        idx = todo.pop()
        if len(idx) <= batch_size:
            if len(idx):
                done.append(idx)
            continue
        pts = positions[idx]
        extent = pts.max(0).values - pts.min(0).values
        axis = 0 if extent[0] >= extent[1] else 1
        idx = idx[torch.randperm(len(idx), generator=generator)]  # random order among ties
        idx = idx[torch.sort(positions[idx, axis], stable=True).indices]
        chunks = -(-len(idx) // batch_size)
        low, high = -(-chunks // 3), min(chunks - 1, 2 * chunks // 3)  # 1 <= low <= high
        k = int(torch.randint(low, high + 1, (1,), generator=generator))
        todo += [idx[: k * batch_size], idx[k * batch_size :]]
    order = torch.randperm(len(done), generator=generator)
    return [done[i] for i in order]


def mixed_batches(
    positions: Tensor, batch_size: int, generator: torch.Generator, parts: int | None = None
) -> list[list[Tensor]]:
    """Batches of ``parts`` compact groups from different places (rule in the module docstring).

    Returns, per batch, its groups (index tensors into ``positions``); a batch's indices are
    their concatenation.
    """
    parts = check_int("parts", MIXED_PARTS if parts is None else parts, minimum=1)
    groups = spatial_batches(positions, max(1, -(-batch_size // parts)), generator)
    return [groups[i : i + parts] for i in range(0, len(groups), parts)]


def _as_labels(labels: Any, n: int, num_classes: int) -> Tensor:
    y = _tensor(labels)
    if tuple(y.shape) != (n,) or y.is_floating_point() or y.dtype == torch.bool:
        raise bad_value("labels", f"an integer array of shape ({n},)", tuple(y.shape))
    y = y.to(device="cpu", dtype=torch.int64)
    if n and (y.min() < 0 or y.max() >= num_classes):
        got = f"{int(y.min())}..{int(y.max())}"
        raise bad_value("labels", f"class indices in [0, {num_classes})", got)
    return y


@contextlib.contextmanager
def _seeded_rng(device: torch.device, seed: int) -> Iterator[None]:
    """Seed the global RNG of ``device`` for a block and restore it afterwards: dropout masks
    then depend on ``seed`` alone, and the caller's RNG state is left as it was."""
    cuda = []
    if device.type == "cuda":
        cuda = [device.index if device.index is not None else torch.cuda.current_device()]
    with torch.random.fork_rng(devices=cuda):
        torch.random.default_generator.manual_seed(seed)
        if cuda:
            with torch.cuda.device(cuda[0]):
                torch.cuda.manual_seed(seed)
        yield


class EpochStats(NamedTuple):
    """What one training epoch measured: the mean loss and the running training accuracy (the
    share of training pixels the batches' logits got right, in train mode with dropout on, as
    Keras reports ``acc``)."""

    loss: float
    accuracy: float


def train_pixel_epoch(*args: Any, **kwargs: Any) -> float:
    """:func:`train_epoch`'s mean loss alone (same arguments)."""
    return train_epoch(*args, **kwargs).loss


def train_epoch(
    model: nn.Module,
    cube: Any,
    positions: Any,
    labels: Any,
    optimizer: torch.optim.Optimizer,
    *,
    batch_size: int = 256,
    path: str = "scene",
    batching: str | None = None,
    last_batch: str = "keep",
    generator: torch.Generator | None = None,
    class_weights: Sequence[float] | Tensor | None = None,
    max_pixels: int = DEFAULT_MAX_PIXELS,
    device: str | torch.device | None = None,
    precision: str = "fp32",
    scaler: torch.amp.GradScaler | None = None,
) -> EpochStats:
    """One epoch of cross-entropy training on the pixels at ``positions``: the mean loss and
    the running training accuracy (:class:`EpochStats`).

    ``path``: ``"scene"`` (convolutions over each batch's region, or over its windows where
    that reads fewer pixels: :func:`patches_cheaper`) or ``"patch"``; on the same batches
    both give the same logits, gradients and dropout masks. ``batching``: ``"random"``
    (default: i.i.d. batches), ``"mixed"`` or ``"spatial"`` (faster, but compact batches train
    worse; see the module docstring); ``last_batch`` (random batching): ``"keep"`` the
    remainder of ``batch_size`` as a short last batch or spread it ``"even"``ly (see
    :func:`random_batches`). Batches and dropout masks are drawn from ``generator``
    alone (the global RNG is left untouched), so an epoch is reproducible from the generator's
    state; without one, a generator is seeded from the global RNG. ``class_weights`` (K values)
    weight the loss as in ``torch.nn.functional.cross_entropy``. The result is the mean of the
    batch losses weighted by batch size. The model is left in train mode. ``precision``
    (:mod:`lightnets.precision`): the forward passes run under its autocast, the loss in
    float32; fp16 scales the loss by ``scaler`` (one is made for the epoch when None: pass the
    same scaler every epoch to keep its scale).
    """
    path = check_choice("path", path, ("scene", "patch"))
    batching = check_choice("batching", "random" if batching is None else batching, BATCHINGS)
    batch_size = check_int("batch_size", batch_size, minimum=1)
    max_pixels = check_int("max_pixels", max_pixels, minimum=1)
    if generator is None:
        generator = torch.Generator().manual_seed(int(torch.randint(2**62, (1,))))
    dev = resolve_device(device)
    precision = resolve_precision(precision, dev)
    if scaler is None:
        scaler = grad_scaler(precision, dev)
    model.to(dev)
    cube_t = as_cube(cube, model)
    pos = as_positions(positions, cube_t.shape[1], cube_t.shape[2])
    if not len(pos):
        raise bad_value("positions", "at least one training pixel", tuple(pos.shape))
    y = _as_labels(labels, len(pos), model.num_classes)
    weight = None
    if class_weights is not None:
        weight = torch.as_tensor(class_weights, dtype=torch.float32)
        if tuple(weight.shape) != (model.num_classes,):
            raise bad_value("class_weights", f"{model.num_classes} weights", tuple(weight.shape))
        weight = weight.to(dev)
    padded = pad_cube(cube_t.to(dev), model.window)

    if batching == "mixed":
        grouped = mixed_batches(pos, batch_size, generator)
    elif batching == "spatial":
        grouped = [[idx] for idx in spatial_batches(pos, batch_size, generator)]
    else:
        grouped = [[idx] for idx in random_batches(len(pos), batch_size, generator, last_batch)]
    seed = int(torch.randint(2**62, (1,), generator=generator))
    model.train()
    hold_frozen_norms(model)
    total, correct = 0.0, 0
    # autocast only around the forward passes, whatever region the caller is in
    with _seeded_rng(dev, seed), autocast("fp32", dev):
        for batch_groups in grouped:
            idx = torch.cat(batch_groups)
            p = pos[idx]
            with autocast(precision, dev):
                if path == "scene" and batching == "mixed":
                    local = torch.arange(len(idx)).split([len(g) for g in batch_groups])
                    logits = scene_logits(model, padded, p, groups=local)
                elif path == "scene" and not patches_cheaper(model, p, max_pixels):
                    logits = scene_logits(model, padded, p, max_pixels=max_pixels)
                else:
                    logits = patch_logits(model, padded, p)
            logits = logits.float()
            target = y[idx].to(dev)
            loss = F.cross_entropy(logits, target, weight=weight)
            optimizer.zero_grad(set_to_none=True)
            if scaler is None:
                loss.backward()
                optimizer.step()
            else:
                scaler.scale(loss).backward()
                scaler.step(optimizer)
                scaler.update()
            total += float(loss.detach()) * len(idx)
            correct += int((logits.detach().argmax(1) == target).sum())
    return EpochStats(total / len(pos), correct / len(pos))
