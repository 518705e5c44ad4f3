"""The scene path equals the patch path: logits, gradients, tiles, training epochs."""

from __future__ import annotations

import copy
from pathlib import Path

import numpy as np
import pytest
import torch
import torch.nn.functional as F

import lightnets
from lightnets.hsi import engine

TOL = 1e-4


def _model(bands: int = 30, window: int = 13, classes: int = 5, seed: int = 0):
    torch.manual_seed(seed)
    return lightnets.create_model("hybridsn", bands=bands, window=window, num_classes=classes)


def _random_positions(height: int, width: int, n: int, seed: int = 0) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    flat = torch.randperm(height * width, generator=g)[:n]
    return torch.stack([flat // width, flat % width], 1)


def _relative(a: torch.Tensor, b: torch.Tensor) -> float:
    a, b = a.detach(), b.detach()
    return float((a - b).abs().max() / b.abs().max())


# ----------------------------------------------------------------------------- logits


def test_scene_map_equals_patch_path_on_a_random_cube() -> None:
    model = _model()
    cube = torch.randn(30, 40, 40)
    scene = engine.predict_scene(model, cube, device="cpu")
    patches = engine.predict_patches(
        model, cube, engine.scene_positions(40, 40), batch_size=300, device="cpu"
    )
    assert scene.shape == (5, 40, 40)
    assert scene.abs().max() > 0.05  # logits of a size where a mismatch would show
    assert (scene - patches.T.reshape(5, 40, 40)).abs().max() < TOL


def test_predict_pixels_matches_both_paths_and_keeps_the_order() -> None:
    model = _model(window=11)
    cube = torch.randn(30, 33, 27)
    pos = _random_positions(33, 27, 200, seed=4)
    by_patch = engine.predict_pixels(model, cube, pos, path="patch", device="cpu")
    by_scene = engine.predict_pixels(model, cube, pos.numpy(), batch_size=64, device="cpu")
    scene_map = engine.predict_scene(model, cube, device="cpu")
    assert (by_scene - by_patch).abs().max() < TOL
    assert (by_scene - scene_map[:, pos[:, 0], pos[:, 1]].T).abs().max() < TOL


@pytest.fixture(scope="module")
def indian_pines_crop(indian_pines_dir: Path) -> np.ndarray:
    """A 36×36 crop of Indian Pines, standardised and reduced to 30 components (bands first)."""
    folder = indian_pines_dir
    loadmat = pytest.importorskip("scipy.io").loadmat
    decomposition = pytest.importorskip("sklearn.decomposition")
    cube = loadmat(folder / "Indian_pines_corrected.mat")["indian_pines_corrected"]
    x = cube.reshape(-1, cube.shape[2]).astype(np.float64)
    x = (x - x.mean(0)) / x.std(0)
    z = decomposition.PCA(30, random_state=0).fit_transform(x).reshape(145, 145, 30)
    return np.ascontiguousarray(z[50:86, 70:106].transpose(2, 0, 1), dtype=np.float32)


def test_scene_map_equals_patch_path_on_indian_pines(indian_pines_crop: np.ndarray) -> None:
    model = _model(window=13, classes=16)
    scene = engine.predict_scene(model, indian_pines_crop, device="cpu")
    patches = engine.predict_patches(
        model, indian_pines_crop, engine.scene_positions(36, 36), device="cpu"
    )
    assert scene.abs().max() > 0.05
    assert (scene - patches.T.reshape(16, 36, 36)).abs().max() < TOL


def test_full_window_on_indian_pines(indian_pines_crop: np.ndarray) -> None:
    model = _model(window=25, classes=16)
    pos = _random_positions(36, 36, 300, seed=1)
    scene = engine.predict_scene(model, indian_pines_crop, device="cpu")
    patches = engine.predict_patches(model, indian_pines_crop, pos, device="cpu")
    assert (scene[:, pos[:, 0], pos[:, 1]].T - patches).abs().max() < TOL


def test_both_paths_pad_the_scene_with_zeros() -> None:
    model = _model(window=9).eval()
    cube = torch.randn(30, 12, 10) + 3.0
    corner = torch.zeros(1, 30, 9, 9)
    corner[:, :, 4:, 4:] = cube[:, :5, :5]  # the window of pixel (0, 0), zeros outside
    with torch.no_grad():
        expected = model(corner)[0]
    scene = engine.predict_scene(model, cube, device="cpu")[:, 0, 0]
    patch = engine.predict_patches(model, cube, [[0, 0]], device="cpu")[0]
    assert (scene - expected).abs().max() < TOL and (patch - expected).abs().max() < TOL


# ----------------------------------------------------------------------------- gradients


def _loss_and_grads(model, logits_fn, padded, pos, labels):
    model.zero_grad()
    torch.manual_seed(123)  # the same dropout masks on both paths
    logits = logits_fn(model, padded, pos)
    F.cross_entropy(logits, labels).backward()
    return logits.detach(), {n: p.grad.clone() for n, p in model.named_parameters()}


def test_gradients_equal_the_patch_path_with_dropout_on() -> None:
    model = _model(window=13).train()
    cube = torch.randn(30, 37, 31)
    padded = engine.pad_cube(cube, model.window)
    pos = _random_positions(37, 31, 96, seed=2)
    labels = torch.randint(0, 5, (96,), generator=torch.Generator().manual_seed(0))
    scene_logits, scene_grads = _loss_and_grads(model, engine.scene_logits, padded, pos, labels)
    patch_logits, patch_grads = _loss_and_grads(model, engine.patch_logits, padded, pos, labels)
    model.eval()
    with torch.no_grad():
        eval_logits = engine.patch_logits(model, padded, pos)
    assert (eval_logits - patch_logits).abs().max() > 1e-3  # dropout did act
    assert (scene_logits - patch_logits).abs().max() < TOL
    assert scene_grads.keys() == patch_grads.keys()
    for name, g in patch_grads.items():
        assert g.abs().max() > 0, name
        assert _relative(scene_grads[name], g) < TOL, name


def test_split_regions_give_the_same_logits_and_gradients() -> None:
    model = _model(window=11).eval()
    padded = engine.pad_cube(torch.randn(30, 45, 40), model.window)
    pos = _random_positions(45, 40, 80, seed=3)
    one = engine.scene_logits(model, padded, pos)
    one.square().sum().backward()
    grads = [p.grad.clone() for p in model.parameters()]
    model.zero_grad()
    split = engine.scene_logits(model, padded, pos, max_pixels=150)  # many regions
    split.square().sum().backward()
    assert (one - split).abs().max() < 1e-5
    for g, p in zip(grads, model.parameters(), strict=True):
        assert _relative(p.grad, g) < TOL


# ----------------------------------------------------------------------------- tiles, pieces


@pytest.mark.parametrize("max_pixels", [100, 333, 1])
def test_tiled_scene_equals_the_single_pass(max_pixels: int) -> None:
    model = _model(window=11)
    cube = torch.randn(30, 37, 29)
    whole = engine.predict_scene(model, cube, device="cpu")
    tiled = engine.predict_scene(model, cube, max_pixels=max_pixels, device="cpu")
    assert (whole - tiled).abs().max() < 1e-5
    assert torch.equal(whole.argmax(0), tiled.argmax(0))


@pytest.mark.parametrize("piece", [3, 7, 1000])
def test_feature_map_pieces_equal_one_pass(piece: int) -> None:
    model = _model(window=11).eval()
    block = torch.randn(30, 30, 26)
    with torch.no_grad():
        reference = model.forward_features(block.unsqueeze(0))[0]
        stitched = engine.feature_map(model, block, piece=piece)
    assert stitched.shape == reference.shape == (64, 30 - 8, 26 - 8)
    assert (stitched - reference).abs().max() < 1e-5


def test_predictions_are_identical_across_eval_calls_and_restore_the_mode() -> None:
    model = _model(window=11).train()
    cube = np.random.default_rng(0).standard_normal((30, 20, 23)).astype(np.float32)
    a = engine.predict_scene(model, cube, device="cpu")
    b = engine.predict_scene(model, cube, device="cpu")
    assert torch.equal(a, b)
    assert model.training  # the caller's mode is restored


def test_the_head_without_scene_head_gives_the_same_map() -> None:
    class NoSceneHead(torch.nn.Module):
        def __init__(self, inner: torch.nn.Module) -> None:
            super().__init__()
            self.inner = inner
            self.window, self.feature_window = inner.window, inner.feature_window
            self.num_classes, self.in_chans = inner.num_classes, inner.in_chans

        def forward(self, x):
            return self.inner(x)

        def forward_features(self, x):
            return self.inner.forward_features(x)

        def forward_head(self, x):
            return self.inner.forward_head(x)

    inner = _model(window=9)
    cube = torch.randn(30, 19, 17)
    generic = engine.predict_scene(NoSceneHead(inner), cube, device="cpu")
    assert (generic - engine.predict_scene(inner, cube, device="cpu")).abs().max() < 1e-5


# ----------------------------------------------------------------------------- training


def _training_problem(n: int = 70, height: int = 26, width: int = 22):
    cube = torch.randn(30, height, width)
    pos = _random_positions(height, width, n, seed=5)
    labels = torch.randint(0, 5, (n,), generator=torch.Generator().manual_seed(1))
    return cube, pos, labels


def _epoch(model, cube, pos, labels, **kwargs) -> float:
    opt = torch.optim.SGD(model.parameters(), lr=0.05)
    gen = torch.Generator().manual_seed(7)
    return engine.train_pixel_epoch(
        model, cube, pos, labels, opt, batch_size=16, generator=gen, device="cpu", **kwargs
    )


@pytest.mark.parametrize("batching", ["mixed", "spatial", "random"])
def test_an_epoch_is_the_same_on_both_paths(batching: str) -> None:
    cube, pos, labels = _training_problem()
    scene_model = _model(window=9)
    patch_model = copy.deepcopy(scene_model)
    scene_loss = _epoch(scene_model, cube, pos, labels, path="scene", batching=batching)
    patch_loss = _epoch(patch_model, cube, pos, labels, path="patch", batching=batching)
    assert abs(scene_loss - patch_loss) < 1e-5
    moved = 0.0
    for s, p, init in zip(
        scene_model.parameters(),
        patch_model.parameters(),
        _model(window=9).parameters(),
        strict=True,
    ):
        assert _relative(s, p) < TOL
        moved = max(moved, float((p - init).detach().abs().max()))
    assert moved > 1e-4  # the epoch did train


def test_each_batch_takes_the_path_that_reads_fewer_pixels(monkeypatch) -> None:
    model = _model(window=9)
    pos = _random_positions(26, 22, 16, seed=3)  # scattered: region ≈ the whole 26×22 scene
    box = engine._box(pos)
    region = (box[2] - box[0] + 9) * (box[3] - box[1] + 9)
    assert 4 * 81 < region < 16 * 81
    assert engine.patches_cheaper(model, pos[:4])  # 4 windows read fewer pixels than the box
    assert not engine.patches_cheaper(model, pos)  # 16 windows read more
    compact = torch.tensor([[r, c] for r in range(10, 14) for c in range(5, 9)])
    assert not engine.patches_cheaper(model, compact)  # 16 neighbours share one 12×12 block

    # A 1×1-window network on i.i.d. batches: every batch goes window by window, so the
    # scene-path epoch is the patch-path epoch, bit for bit, without one region convolution.
    calls = []
    real = engine.scene_logits
    monkeypatch.setattr(engine, "scene_logits", lambda *a, **k: calls.append(1) or real(*a, **k))
    cube, pos, labels = _training_problem()
    torch.manual_seed(0)
    scene_model = lightnets.create_model("hu1d", bands=30, num_classes=5)
    patch_model = copy.deepcopy(scene_model)
    scene_loss = _epoch(scene_model, cube, pos, labels, path="scene")
    assert not calls
    assert scene_loss == _epoch(patch_model, cube, pos, labels, path="patch")
    assert all(torch.equal(a, b) for a, b in zip(scene_model.parameters(),
                                                 patch_model.parameters(), strict=True))
    _epoch(_model(window=9), cube, pos, labels, path="scene")  # wide windows: regions
    assert calls


def test_an_epoch_is_reproducible_and_leaves_the_global_rng_alone() -> None:
    cube, pos, labels = _training_problem()
    a, b = _model(window=9), _model(window=9)
    rng_before = torch.get_rng_state()
    loss_a = _epoch(a, cube, pos, labels)
    assert torch.equal(torch.get_rng_state(), rng_before)
    torch.manual_seed(999)  # dropout masks come from the generator, not the global RNG
    loss_b = _epoch(b, cube, pos, labels)
    assert loss_a == loss_b
    assert all(torch.equal(x, y) for x, y in zip(a.parameters(), b.parameters(), strict=True))
    c = _model(window=9)
    opt = torch.optim.SGD(c.parameters(), lr=0.05)
    other = torch.Generator().manual_seed(8)
    engine.train_pixel_epoch(
        c, cube, pos, labels, opt, batch_size=16, generator=other, device="cpu"
    )
    assert not all(torch.equal(x, y) for x, y in zip(a.parameters(), c.parameters(), strict=True))


def test_the_epoch_reports_the_accuracy_of_its_training_logits() -> None:
    # lr 0 and one batch: the running accuracy is that of the untouched network's logits
    # (hu1d without dropout: train mode computes what eval mode does).
    cube, pos, labels = _training_problem()
    torch.manual_seed(0)
    model = lightnets.create_model("hu1d", bands=30, num_classes=5, drop_rate=0.0)
    expected = engine.predict_pixels(model, cube, pos, device="cpu").argmax(1)
    opt = torch.optim.SGD(model.parameters(), lr=0.0)
    stats = engine.train_epoch(model, cube, pos, labels, opt, batch_size=len(pos), device="cpu")
    assert stats.accuracy == int((expected == labels).sum()) / len(pos)
    assert 0 < stats.accuracy < 1 and stats.loss > 0


@pytest.mark.parametrize("precision", ["fp32", "bf16"])
def test_a_callers_autocast_region_changes_no_epoch(precision: str) -> None:
    # One autocast region around a whole training once froze the forward passes on the
    # weights of the first step (autocast's cast cache): the epoch must not depend on it.
    cube, pos, labels = _training_problem()
    plain, wrapped = _model(window=9), _model(window=9)
    loss = _epoch(plain, cube, pos, labels, precision=precision)
    with torch.autocast("cpu", dtype=torch.bfloat16):
        assert _epoch(wrapped, cube, pos, labels, precision=precision) == loss
    assert all(torch.equal(a, b) for a, b in zip(plain.parameters(), wrapped.parameters(),
                                                 strict=True))


def test_a_bf16_epoch_follows_the_fp32_one() -> None:
    cube, pos, labels = _training_problem()
    full, mixed = _model(window=9), _model(window=9)
    loss32 = _epoch(full, cube, pos, labels)
    loss16 = _epoch(mixed, cube, pos, labels, precision="bf16")
    assert loss16 != loss32 and abs(loss16 - loss32) < 0.05 * loss32
    assert all(p.dtype == torch.float32 for p in mixed.parameters())  # float32 master weights
    start = torch.cat([p.detach().flatten() for p in _model(window=9).parameters()])
    step32 = torch.cat([p.detach().flatten() for p in full.parameters()]) - start
    step16 = torch.cat([p.detach().flatten() for p in mixed.parameters()]) - start
    assert float(step32 @ step16 / (step32.norm() * step16.norm())) > 0.9  # one direction
    logits = engine.predict_scene(mixed, cube, precision="bf16", device="cpu")
    reference = engine.predict_scene(mixed, cube, device="cpu")
    assert logits.dtype == torch.float32
    assert (logits.argmax(0) == reference.argmax(0)).float().mean() > 0.9


def test_class_weights_enter_the_loss() -> None:
    cube, pos, labels = _training_problem()
    plain = _epoch(_model(window=9), cube, pos, labels)
    uniform = _epoch(_model(window=9), cube, pos, labels, class_weights=[2.0] * 5)
    skewed = _epoch(_model(window=9), cube, pos, labels, class_weights=[5.0, 1, 1, 1, 0.1])
    assert abs(plain - uniform) < 1e-6  # a weighted mean with equal weights is the plain mean
    assert abs(plain - skewed) > 1e-4


def test_spatial_batches_partition_into_compact_batches() -> None:
    pos = _random_positions(120, 100, 2000, seed=6)
    gen = torch.Generator().manual_seed(0)
    batches = engine.spatial_batches(pos, 128, gen)
    flat = torch.cat(batches)
    assert torch.equal(flat.sort().values, torch.arange(2000))  # every pixel exactly once
    sizes = sorted(len(b) for b in batches)
    assert sizes[1:] == [128] * (len(batches) - 1) and sizes[0] == 2000 - 128 * 15

    def mean_box(bs):
        boxes = [(pos[b].max(0).values - pos[b].min(0).values + 1).prod() for b in bs]
        return float(torch.stack(boxes).float().mean())

    iid = engine.random_batches(2000, 128, torch.Generator().manual_seed(0))
    assert mean_box(batches) < 0.2 * mean_box(iid)
    again = engine.spatial_batches(pos, 128, torch.Generator().manual_seed(0))
    assert all(torch.equal(x, y) for x, y in zip(batches, again, strict=True))
    other = engine.spatial_batches(pos, 128, torch.Generator().manual_seed(1))
    assert {tuple(sorted(b.tolist())) for b in other} != {
        tuple(sorted(b.tolist())) for b in batches
    }


# ----------------------------------------------------------------------------- bad input


def test_bad_input_names_the_argument() -> None:
    model = _model(window=9)
    cube, pos, labels = _training_problem(n=10)
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    with pytest.raises(ValueError, match=r"^cube: expected an array of shape \(30, H, W\)"):
        engine.predict_scene(model, torch.randn(20, 10, 10), device="cpu")
    with pytest.raises(ValueError, match=r"^cube: expected a real array of shape"):
        engine.predict_scene(model, torch.randn(30, 10), device="cpu")
    with pytest.raises(ValueError, match=r"^positions: expected \(row, col\) pairs inside"):
        engine.predict_patches(model, cube, [[0, 0], [26, 3]], device="cpu")
    with pytest.raises(ValueError, match=r"^positions: expected an integer array of shape"):
        engine.predict_pixels(model, cube, [[0.5, 1.0]], device="cpu")
    with pytest.raises(ValueError, match=r"^labels: expected class indices in \[0, 5\)"):
        engine.train_pixel_epoch(model, cube, pos, labels + 5, opt, device="cpu")
    with pytest.raises(ValueError, match=r"^labels: expected an integer array of shape \(10,\)"):
        engine.train_pixel_epoch(model, cube, pos, labels[:5], opt, device="cpu")
    with pytest.raises(ValueError, match=r"^path: expected one of 'scene', 'patch'"):
        engine.train_pixel_epoch(model, cube, pos, labels, opt, path="pixels", device="cpu")
    with pytest.raises(ValueError, match=r"^batching: expected one of 'random', 'mixed'"):
        engine.train_pixel_epoch(model, cube, pos, labels, opt, batching="tiles", device="cpu")
    with pytest.raises(ValueError, match=r"^class_weights: expected 5 weights"):
        engine.train_pixel_epoch(model, cube, pos, labels, opt, class_weights=[1, 2], device="cpu")
    with pytest.raises(ValueError, match=r"^max_pixels: expected an integer >= 1, got 0"):
        engine.predict_scene(model, cube, max_pixels=0, device="cpu")
    with pytest.raises(ValueError, match=r"^batch_size: expected an integer >= 1, got 0"):
        engine.predict_patches(model, cube, pos, batch_size=0, device="cpu")


def test_mixed_batches_partition_the_pixels_into_compact_groups() -> None:
    gen = torch.Generator().manual_seed(3)
    pos = torch.stack(torch.meshgrid(torch.arange(40), torch.arange(30), indexing="ij"), -1)
    pos = pos.reshape(-1, 2)
    batches = engine.mixed_batches(pos, 64, gen, parts=4)
    flat = torch.cat([torch.cat(groups) for groups in batches])
    assert torch.equal(flat.sort().values, torch.arange(len(pos)))
    assert all(len(groups) <= 4 for groups in batches)
    assert all(len(g) <= 16 for groups in batches for g in groups)
    # each group is compact: its bounding box is far smaller than the scene
    boxes = [engine._box(pos[g]) for groups in batches for g in groups]
    assert max((r1 - r0 + 1) * (c1 - c0 + 1) for r0, c0, r1, c1 in boxes) <= 64


def test_region_feature_maps_equal_one_map_per_region() -> None:
    model = _model(window=9).eval()
    cube = torch.randn(model.in_chans, 30, 30)
    blocks = [cube[:, :12, :15], cube[:, 5:25, 3:13], cube[:, 10:19, 10:19]]
    with torch.no_grad():
        batched = engine.region_feature_maps(model, blocks)
        for block, fmap in zip(blocks, batched, strict=True):
            single = model.forward_features(block.unsqueeze(0))[0]
            assert fmap.shape == single.shape
            torch.testing.assert_close(fmap, single, atol=1e-5, rtol=1e-5)


def test_even_last_batch_spreads_the_remainder_over_the_same_permutation() -> None:
    keep = engine.random_batches(1025, 64, torch.Generator().manual_seed(3))
    even = engine.random_batches(1025, 64, torch.Generator().manual_seed(3), "even")
    assert [len(b) for b in keep] == [64] * 16 + [1]  # one pixel alone in a batch
    assert sorted({len(b) for b in even}) == [60, 61] and len(even) == 17
    assert torch.equal(torch.cat(keep), torch.cat(even))  # the same pixels in the same order
    exact = engine.random_batches(1024, 64, torch.Generator().manual_seed(3), "even")
    assert [len(b) for b in exact] == [64] * 16  # nothing left over: as keep
    with pytest.raises(ValueError, match="last_batch"):
        engine.random_batches(10, 4, torch.Generator(), "drop")


def test_an_epoch_trains_on_the_batches_last_batch_asks_for() -> None:
    cube, pos, labels = _training_problem()
    n = len(pos)
    seen = {}
    for last in ("keep", "even"):
        model = _model(window=9)
        sizes: list[int] = []
        model.register_forward_hook(
            lambda _m, args, _out, sizes=sizes: sizes.append(args[0].shape[0])
        )
        opt = torch.optim.SGD(model.parameters(), lr=0.05)
        engine.train_pixel_epoch(
            model, cube, pos, labels, opt, batch_size=n - 1, path="patch",
            generator=torch.Generator().manual_seed(7), device="cpu", last_batch=last,
        )
        seen[last] = sizes
    assert seen["keep"] == [n - 1, 1]  # the pixel left over trains alone
    assert sorted(seen["even"]) == sorted([n - n // 2, n // 2])
