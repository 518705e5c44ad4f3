"""Every image-classifier family of the zoo trained briefly on scikit-learn's digits.

Prints eval-mode test top-1 per family with the batch-norm statistics recomputed before
evaluation (``precise_bn``, the default) and, beside it, with the running averages of
training (``--precise-bn 0``): the figures behind the bound of
``tests/vision/test_zoo_learns.py`` and the reason for the default.

    python benchmarks/zoo_learns_digits.py [--epochs 5] [--batch-size 64] [--threads 1]
"""

from __future__ import annotations

import argparse
import platform
import time

import torch

import lightnets
from lightnets.runs import cpu_name
from lightnets.vision import TrainConfig, load_dataset, train

# One variant per registered image family (the smaller widths: the same code paths); the
# variants of tests/vision/test_zoo_learns.py.
FAMILIES = {
    "MobileNetV1": "mobilenet_v1_050",
    "MobileNetV2": "mobilenet_v2_050",
    "MobileNetV3-Large": "mobilenet_v3_large_075",
    "MobileNetV3-Small": "mobilenet_v3_small_075",
    "ShuffleNetV1": "shufflenet_v1_g3_x1_0",
    "ShuffleNetV2": "shufflenet_v2_x0_5",
    "ResNet": "resnet18",
    "SE-ResNet": "se_resnet18",
    "CBAM-ResNet": "cbam_resnet18",
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=5)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    data = load_dataset("digits")
    print(
        f"# {cpu_name()}, {args.threads} thread(s); Python {platform.python_version()}, "
        f"torch {torch.__version__}, lightnets {lightnets.__version__}"
    )
    print(
        f"# digits, {args.epochs} epochs, batch {args.batch_size}, SGD lr 0.1 cosine, "
        f"seed {args.seed}; eval-mode test top-1 (%)"
    )
    print("| family | model | precise BN | running averages | s |")
    print("|---|---|--:|--:|--:|")
    for family, model in FAMILIES.items():
        scores = []
        tic = time.perf_counter()
        for precise in (10_000, 0):
            config = TrainConfig(
                model=model,
                epochs=args.epochs,
                batch_size=args.batch_size,
                seed=args.seed,
                precise_bn=precise,
            )
            result = train(config, data=data, progress=False, log=lambda _m: None)
            scores.append(100 * result.metrics["top1"])
        seconds = time.perf_counter() - tic
        print(f"| {family} | {model} | {scores[0]:.2f} | {scores[1]:.2f} | {seconds:.0f} |")


if __name__ == "__main__":
    main()
