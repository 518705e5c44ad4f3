"""HybridSN trained by Keras itself on the official 10 % split: is the framework the gap?

lightnets' HybridSN (PyTorch) scores 97.66 ± 0.77 % OA on the split the official code draws
(``hsi_published_split.py``, 5 seeds), under the paper's 98.39 ± 0.4. This control trains the
paper's network and recipe in TensorFlow/Keras, as the official notebook does
(gokriznastic/HybridSN: 25×25 windows of the scene reduced to 30 whitened PCA components,
zero padding; Conv3D 8 (3×3×7), 16 (3×3×5), 32 (3×3×3), Conv2D 64 (3×3), Dense 256 and 128 with
dropout 0.4; Adam 1e-3 with inverse-time decay 1e-6 per step; batch 256; 100 epochs; the epoch
of best training accuracy kept), on the same masks, so that only the framework differs.

TensorFlow is not a lightnets dependency: run this with an interpreter that has
``tensorflow-cpu``, scikit-learn and scipy (a throwaway venv), after ``hsi_published_split.py``
has written the masks:

    python -m venv /tmp/tf && /tmp/tf/bin/pip install tensorflow-cpu scikit-learn scipy
    /tmp/tf/bin/python benchmarks/hsi_keras_control.py --data-dir ../shared/datasets/indian_pines \
        --seeds 0,1,2,3,4

Records: one JSON per seed in ``--out`` (default ``benchmarks/results/hsi_keep/keras-control``).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import tempfile
import time
from pathlib import Path

import numpy as np
from scipy.io import loadmat
from sklearn.decomposition import PCA
from sklearn.metrics import cohen_kappa_score, confusion_matrix

RESULTS = Path(__file__).resolve().parent / "results/hsi_keep"
MASKS = RESULTS / "published-split"
OUT = RESULTS / "keras-control"
WINDOW, COMPONENTS, BATCH, EPOCHS = 25, 30, 256, 100  # HybridSN paper, Indian Pines


def _keras():
    try:
        import keras
    except ImportError as error:
        raise SystemExit(
            "hsi_keras_control.py needs Keras 3 and a backend: pip install tensorflow-cpu "
            "(in a venv of its own; lightnets does not depend on either)"
        ) from error
    return keras


def load_inputs(data_dir: Path) -> tuple[np.ndarray, np.ndarray]:
    """The scene as 30 whitened PCA components fitted on every pixel (as the paper), and gt."""
    cube = loadmat(data_dir / "Indian_pines_corrected.mat")["indian_pines_corrected"]
    gt = loadmat(data_dir / "Indian_pines_gt.mat")["indian_pines_gt"].astype(np.int64)
    flat = cube.reshape(-1, cube.shape[-1]).astype(np.float64)
    if not np.isfinite(flat).all():
        raise SystemExit(
            f"--data-dir: expected finite values in {data_dir / 'Indian_pines_corrected.mat'}, "
            f"found {int((~np.isfinite(flat)).sum())} NaN or infinite"
        )
    reduced = PCA(n_components=COMPONENTS, whiten=True).fit_transform(flat)
    return reduced.reshape(*cube.shape[:2], COMPONENTS).astype(np.float32), gt


def load_masks(folder: Path, shape: tuple[int, int]) -> tuple[np.ndarray, np.ndarray]:
    """The training and test masks hsi_published_split.py wrote into ``folder``, checked."""
    masks = []
    for name in ("train_mask.npy", "test_mask.npy"):
        path = folder / name
        if not path.exists():
            raise SystemExit(
                f"--masks: expected {path}, written by benchmarks/hsi_published_split.py; not found"
            )
        mask = np.load(path, allow_pickle=False)
        if mask.dtype != bool or mask.shape != shape:
            raise SystemExit(
                f"--masks: expected {name} a boolean {shape[0]}×{shape[1]} mask like the scene's "
                f"ground truth, got {mask.dtype} of shape {mask.shape}"
            )
        masks.append(mask)
    return masks[0], masks[1]


def windows(scene: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """The WINDOW×WINDOW windows of the masked pixels in row-major order, zero padded."""
    margin = WINDOW // 2
    padded = np.pad(scene, ((margin, margin), (margin, margin), (0, 0)))
    rows, cols = np.nonzero(mask)
    out = np.empty((rows.size, WINDOW, WINDOW, scene.shape[-1], 1), dtype=np.float32)
    for i, (r, c) in enumerate(zip(rows, cols, strict=True)):
        out[i, ..., 0] = padded[r : r + WINDOW, c : c + WINDOW]
    return out


def build(keras, classes: int):
    """HybridSN as the paper's Table I and the official notebook lay it out (channels last)."""
    layers = keras.layers
    inputs = layers.Input((WINDOW, WINDOW, COMPONENTS, 1))
    x = layers.Conv3D(8, (3, 3, 7), activation="relu")(inputs)
    x = layers.Conv3D(16, (3, 3, 5), activation="relu")(x)
    x = layers.Conv3D(32, (3, 3, 3), activation="relu")(x)
    x = layers.Reshape((x.shape[1], x.shape[2], x.shape[3] * x.shape[4]))(x)
    x = layers.Conv2D(64, (3, 3), activation="relu")(x)
    x = layers.Flatten()(x)
    x = layers.Dropout(0.4)(layers.Dense(256, activation="relu")(x))
    x = layers.Dropout(0.4)(layers.Dense(128, activation="relu")(x))
    return keras.Model(inputs, layers.Dense(classes, activation="softmax")(x))


def run_seed(keras, scene, gt, train_mask, test_mask, seed: int) -> dict:
    """Train one seed, keep its best-training-accuracy epoch, score the test pixels."""
    keras.utils.set_random_seed(seed)
    classes = int(gt.max())
    x_train, y_train = windows(scene, train_mask), gt[train_mask] - 1
    model = build(keras, classes)
    schedule = keras.optimizers.schedules.InverseTimeDecay(1e-3, 1, 1e-6)
    model.compile(
        optimizer=keras.optimizers.Adam(schedule),
        loss="sparse_categorical_crossentropy",
        metrics=["accuracy"],
    )
    with tempfile.TemporaryDirectory() as scratch:  # an interrupted seed leaves nothing behind
        best = str(Path(scratch) / "best.weights.h5")
        keep = keras.callbacks.ModelCheckpoint(
            best, monitor="accuracy", mode="max", save_best_only=True, save_weights_only=True
        )
        start = time.perf_counter()
        history = model.fit(
            x_train, y_train, batch_size=BATCH, epochs=EPOCHS, callbacks=[keep], verbose=2
        )
        seconds = time.perf_counter() - start
        model.load_weights(best)
    truth = gt[test_mask] - 1
    scores = model.predict(windows(scene, test_mask), batch_size=1024, verbose=0)
    predicted = scores.argmax(axis=1)
    confusion = confusion_matrix(truth, predicted, labels=range(classes))
    accuracy = np.diag(confusion) / confusion.sum(axis=1)
    return {
        "seed": seed,
        "oa": float((predicted == truth).mean()),
        "aa": float(accuracy.mean()),
        "kappa": float(cohen_kappa_score(truth, predicted)),
        "epochs": EPOCHS,
        "kept_epoch": int(np.argmax(history.history["accuracy"])) + 1,
        "train_pixels": int(train_mask.sum()),
        "test_pixels": int(test_mask.sum()),
        "train_seconds": seconds,
        "per_class": accuracy.tolist(),
        "machine": platform.processor() or platform.machine(),
        "cores": os.cpu_count(),
        "versions": {
            "keras": keras.__version__,
            "backend": keras.backend.backend(),
            "numpy": np.__version__,
            "python": platform.python_version(),
        },
    }


def seed_list(text: str) -> list[int]:
    """``--seeds``: comma-separated non-negative integers."""
    try:
        seeds = [int(s) for s in text.split(",")]
    except ValueError:
        seeds = []
    if not seeds or min(seeds) < 0:
        raise argparse.ArgumentTypeError(
            f"expected comma-separated non-negative integers such as 0,1,2, got {text!r}"
        )
    return seeds


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", type=Path, required=True)
    parser.add_argument(
        "--seeds", type=seed_list, default=[0], help="comma-separated seeds, e.g. 0,1,2,3,4"
    )
    parser.add_argument("--masks", type=Path, default=MASKS)
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args(argv)
    keras = _keras()
    scene, gt = load_inputs(args.data_dir)
    train_mask, test_mask = load_masks(args.masks, gt.shape)
    args.out.mkdir(parents=True, exist_ok=True)
    for seed in args.seeds:
        record = args.out / f"seed{seed}.json"
        if record.exists():
            print(f"seed {seed}: kept in {record}")
            continue
        result = run_seed(keras, scene, gt, train_mask, test_mask, seed)
        tmp = record.with_suffix(".json.tmp")
        tmp.write_text(json.dumps(result, indent=2) + "\n")
        tmp.replace(record)
        print(
            f"seed {seed}: OA {100 * result['oa']:.2f} %  AA {100 * result['aa']:.2f} %  "
            f"kappa {result['kappa']:.4f}  kept epoch {result['kept_epoch']}  "
            f"train {result['train_seconds']:.0f} s ({result['train_pixels']} px) "
            f"→ {record}"
        )


if __name__ == "__main__":
    main()
