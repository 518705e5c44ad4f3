"""Transfer on the digits: a network trained on the digits 0–4, fine-tuned on the digits 5–9.

Trains the source model once on the classes 0–4, then on the classes 5–9 compares, over
seeds, training from scratch with starting from the source checkpoint (``--weights``, new
head) with the whole network trained, and with the backbone frozen (``--freeze-backbone``).
Every run uses the same schedule; eval-mode test top-1 of the final weights (no selection).

    python benchmarks/finetune_digits.py [--model mobilenet_v3_small_100] [--epochs 4]
        [--source-epochs 10] [--seeds 3]
"""

from __future__ import annotations

import argparse
import platform
import statistics
import tempfile
import time
from pathlib import Path

import torch

import lightnets
from lightnets.runs import cpu_name
from lightnets.vision import TrainConfig, load_dataset, train

SOURCE = ["0", "1", "2", "3", "4"]
TARGET = ["5", "6", "7", "8", "9"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="mobilenet_v3_small_100")
    parser.add_argument("--epochs", type=int, default=4, help="epochs on the digits 5-9")
    parser.add_argument("--source-epochs", type=int, default=10, help="epochs on the digits 0-4")
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    data = load_dataset("digits")
    quiet = dict(data=data, progress=False, log=lambda _m: None)
    print(
        f"# {cpu_name()}, {args.threads} thread(s); Python {platform.python_version()}, "
        f"torch {torch.__version__}, lightnets {lightnets.__version__}"
    )
    with tempfile.TemporaryDirectory() as tmp:
        source = Path(tmp) / "source"
        tic = time.perf_counter()
        first = train(
            TrainConfig(model=args.model, classes=SOURCE, epochs=args.source_epochs),
            source,
            **quiet,
        )
        print(
            f"# source: {args.model} on the digits 0-4, {args.source_epochs} epochs: test top-1 "
            f"{100 * first.metrics['top1']:.2f} % ({time.perf_counter() - tic:.0f} s)"
        )
        weights = str(source / "checkpoint.pt")
        variants = {
            "from scratch": {},
            "fine-tuned (--weights)": {"weights": weights},
            "frozen backbone (--weights --freeze-backbone)": {
                "weights": weights,
                "freeze_backbone": True,
            },
        }
        print(
            f"# target: the digits 5-9, {args.epochs} epochs, batch 128, SGD lr 0.1 cosine; "
            f"eval-mode test top-1 (%), seeds 0..{args.seeds - 1}"
        )
        print("| start | top-1 mean ± std | runs | s / run |")
        print("|---|--:|---|--:|")
        for name, extra in variants.items():
            scores, seconds = [], []
            for seed in range(args.seeds):
                tic = time.perf_counter()
                config = TrainConfig(
                    model=args.model,
                    classes=TARGET,
                    epochs=args.epochs,
                    seed=seed,
                    **extra,
                )
                scores.append(100 * train(config, **quiet).metrics["top1"])
                seconds.append(time.perf_counter() - tic)
            spread = statistics.stdev(scores) if len(scores) > 1 else 0.0
            runs = ", ".join(f"{s:.2f}" for s in scores)
            print(
                f"| {name} | {statistics.mean(scores):.2f} ± {spread:.2f} | {runs} | "
                f"{statistics.mean(seconds):.0f} |"
            )


if __name__ == "__main__":
    main()
