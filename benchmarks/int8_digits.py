"""Does INT8 post-training quantization keep the accuracy? Small zoo models on the digits.

Trains each model briefly (seeded, SGD with the trainer's defaults) on scikit-learn's digits
(offline: 1,437 training and 360 test images, upscaled to 32×32), exports it to ONNX (checked
against PyTorch), quantizes it with ONNX Runtime calibrated on images from the TRAINING split
only (evaluation transform, no augmentation), and scores both graphs in ONNX Runtime on the
test split. Prints one line per model: test top-1 of the float32 and INT8 graphs, the change
in points, file sizes and ratio, with the machine and versions. Target: a drop of at most
1 point (on 360 test images one point is 3.6 images).

    .venv/bin/python benchmarks/int8_digits.py          # about 4 minutes on a shared 2-core CPU
    .venv/bin/python benchmarks/int8_digits.py --models shufflenet_v2_x1_0 --epochs 4
"""

from __future__ import annotations

import argparse
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import torch

from lightnets._table import format_table
from lightnets.export import export_onnx
from lightnets.export.quantize import onnx_outputs, quantize_onnx
from lightnets.inference import Preprocess
from lightnets.runs import environment_info
from lightnets.vision.datasets import ImageData, load_dataset
from lightnets.vision.trainer import TrainConfig, train

MODELS = ("shufflenet_v2_x1_0", "mobilenet_v2_100", "se_resnet18")
TARGET_DROP = 1.0  # points of test top-1


def images_of(split: torch.utils.data.Dataset) -> tuple[torch.Tensor, np.ndarray]:
    """All raw images (N×1×8×8 in [0, 1]) and labels of a digits split."""
    return split.images, np.asarray(split.labels)


def evaluate(model_name: str, data: ImageData, args: argparse.Namespace, work: Path) -> dict:
    """Train, export, quantize and score one model; returns its row of figures."""
    tic = time.perf_counter()
    config = TrainConfig(model=model_name, dataset="digits", epochs=args.epochs,
                         batch_size=args.batch_size, seed=args.seed)
    result = train(config, data=data, progress=False, log=lambda _msg: None)
    train_seconds = time.perf_counter() - tic
    model = result.model.cpu().eval()

    prep = Preprocess(data.kind, data.img_size, data.normalization, data.in_chans)
    train_images, _ = images_of(data.train)
    test_images, test_labels = images_of(data.eval)
    rng = np.random.default_rng(args.seed)
    picked = rng.permutation(len(train_images))[: args.calibration]
    calibration = prep(train_images[torch.from_numpy(picked)]).numpy()
    test_inputs = prep(test_images).numpy()

    shape = (data.in_chans, data.img_size, data.img_size)
    fp32 = export_onnx(model, work / f"{model_name}.onnx", input_size=shape,
                       dynamic_batch=True).path
    int8 = quantize_onnx(fp32, work / f"{model_name}.int8.onnx", calibration,
                         method=args.method)
    fp32_pred = onnx_outputs(fp32, test_inputs).argmax(1)
    int8_pred = onnx_outputs(int8.path, test_inputs).argmax(1)
    return {
        "model": model_name,
        "torch": 100 * result.metrics["top1"],
        "fp32": 100 * float((fp32_pred == test_labels).mean()),
        "int8": 100 * float((int8_pred == test_labels).mean()),
        "agree": 100 * float((fp32_pred == int8_pred).mean()),
        "fp32_kb": int8.fp32_bytes / 1024,
        "int8_kb": int8.int8_bytes / 1024,
        "ratio": int8.ratio,
        "seconds": time.perf_counter() - tic,
        "train_seconds": train_seconds,
        "settings": int8,
    }


def table(rows: Sequence[dict]) -> str:
    """The results as a Markdown table."""
    headers = ["model", "fp32 top-1 (ORT)", "INT8 top-1 (ORT)", "change (points)",
               "fp32/INT8 agree", "fp32 KB", "INT8 KB", "ratio", "PyTorch top-1", "seconds"]
    lines = [
        [r["model"], f"{r['fp32']:.2f} %", f"{r['int8']:.2f} %", f"{r['int8'] - r['fp32']:+.2f}",
         f"{r['agree']:.1f} %", f"{r['fp32_kb']:.0f}", f"{r['int8_kb']:.0f}",
         f"{r['ratio']:.2f}×", f"{r['torch']:.2f} %", f"{r['seconds']:.0f}"]
        for r in rows
    ]
    return format_table(headers, lines, align="lrrrrrrrrr")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--models", default=",".join(MODELS), help="comma-separated names")
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--calibration", type=int, default=256,
                        help="training images that calibrate the activation ranges")
    parser.add_argument("--method", choices=("minmax", "entropy", "percentile"),
                        default="minmax", help="calibration method")
    parser.add_argument("--threads", type=int, help="intra-op threads (default: torch's)")
    parser.add_argument("--out-dir", help="keep the ONNX files here (default: a temporary one)")
    args = parser.parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    names = [m.strip() for m in args.models.split(",") if m.strip()]
    env = environment_info()
    import onnxruntime

    print(f"Machine: {env['cpu']}, {env['cpu_count']} logical cores, {env['torch_threads']} "
          f"thread(s), load average {env.get('load_average_1min')} at the start; Python "
          f"{env['python']}, torch {env['torch']}, onnxruntime {onnxruntime.__version__}, "
          f"numpy {env['numpy']}, lightnets {env['lightnets']}; {env['platform']}.")
    print(f"Training: {args.epochs} epochs, batch {args.batch_size}, SGD (trainer defaults), "
          f"seed {args.seed}. Calibration: {args.calibration} training images, {args.method}.")
    data = load_dataset("digits")
    rows = []
    with tempfile.TemporaryDirectory(prefix="int8-digits-") as tmp:
        work = Path(args.out_dir) if args.out_dir else Path(tmp)
        for name in names:
            rows.append(evaluate(name, data, args, work))
            print(f"  {name}: done in {rows[-1]['seconds']:.0f} s", flush=True)
    print()
    print(table(rows))
    print()
    q = rows[0]["settings"]
    acts = "symmetric" if q.symmetric_activations else "asymmetric"
    print(f"INT8: ONNX Runtime static quantization, QDQ; weights int8 symmetric "
          f"{'per channel' if q.per_channel else 'per tensor'}"
          f"{' (7-bit range)' if q.reduce_range else ''}; activations {q.activation_type} "
          f"{acts}.")
    worst = min(r["int8"] - r["fp32"] for r in rows)
    verdict = "met" if worst >= -TARGET_DROP else "NOT met"
    print(f"Target: INT8 loses at most {TARGET_DROP:g} point of test top-1 — largest drop "
          f"{max(0.0, -worst):.2f} points: {verdict}. Test split: {len(data.eval)} images.")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
