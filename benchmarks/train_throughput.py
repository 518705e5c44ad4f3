"""Training throughput of lightnets' MobileNetV3-Small against torchvision's, in one run.

Both networks get torchvision's weights (so they compute the same function: checked on an
eval-mode forward), the same batch of random images, the same loss and optimizer, and go
through the same training step, :func:`lightnets.vision.trainer.train_epoch` on one batch.
The steps are *interleaved*: each round times one step of each network, in alternating
order, so a change in machine load falls on both. Throughput is batch size / median step
time; the ratio lightnets / torchvision is the figure of merit (≥ 0.95 is the target). Each
network is timed under each of ``--precisions`` (default fp32 and bf16: autocast per forward
pass, float32 weights, :mod:`lightnets.precision`), so bf16 is compared with fp32 and with
torchvision's network under the same autocast; the CPU's bfloat16 flags are printed.

    .venv/bin/python benchmarks/train_throughput.py                # about 1 minute on 2 cores
    .venv/bin/python benchmarks/train_throughput.py --batch 64 --img-size 128 --rounds 40
    .venv/bin/python benchmarks/train_throughput.py --docs    # also writes docs/train-speed.md
"""

from __future__ import annotations

import argparse
import copy
import os
import statistics
import time
from pathlib import Path

import torch
import torchvision
from torch import nn

import lightnets
from _records import Transcript, write_page
from lightnets._table import format_table
from lightnets.precision import NATIVE_BF16_CPU_FLAGS, cpu_flags
from lightnets.runs import environment_info
from lightnets.vision.trainer import train_epoch


def _step_timer(model: nn.Module, images: torch.Tensor, labels: torch.Tensor, precision: str):
    optimizer = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9, nesterov=True)
    scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, lambda _t: 1.0)
    scaler = torch.amp.GradScaler("cpu", enabled=False)
    criterion = nn.CrossEntropyLoss()

    def step() -> float:
        tic = time.perf_counter()
        train_epoch(
            model,
            [(images, labels)],
            optimizer=optimizer,
            scheduler=scheduler,
            scaler=scaler,
            criterion=criterion,
            device=torch.device("cpu"),
            precision=precision,
        )
        return time.perf_counter() - tic

    return step


DOCS = Path(__file__).resolve().parents[1] / "docs" / "train-speed.md"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--img-size", type=int, default=224)
    parser.add_argument("--classes", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=30, help="timed steps of each network")
    parser.add_argument("--warmup", type=int, default=3, help="untimed steps of each first")
    parser.add_argument("--threads", type=int, help="intra-op threads (default: torch's)")
    parser.add_argument("--precisions", default="fp32,bf16", help="comma-separated (fp32,bf16)")
    parser.add_argument("--docs", nargs="?", const=str(DOCS), help="also write the page")
    args = parser.parse_args(argv)
    say = Transcript()

    if args.threads is not None:
        torch.set_num_threads(args.threads)

    torch.manual_seed(0)
    reference = torchvision.models.mobilenet_v3_small(num_classes=args.classes)
    ours = lightnets.create_model("mobilenet_v3_small_100", num_classes=args.classes)
    lightnets.load_torchvision_state_dict(ours, reference.state_dict())
    images = torch.randn(args.batch, 3, args.img_size, args.img_size)
    labels = torch.randint(0, args.classes, (args.batch,))
    with torch.inference_mode():
        same = torch.allclose(ours.eval()(images[:2]), reference.eval()(images[:2]), atol=1e-4)
    models = {"lightnets mobilenet_v3_small_100": ours, "torchvision mobilenet_v3_small": reference}
    precisions = [p for p in args.precisions.split(",") if p]
    # one copy of each network per precision: every copy starts from the same weights
    copies = {(name, p): copy.deepcopy(m) for name, m in models.items() for p in precisions}
    steps = {key: _step_timer(m, images, labels, key[1]) for key, m in copies.items()}
    names = list(steps)

    env = environment_info()
    load_before = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    say(
        f"Machine: {env['cpu']}, {env['cpu_count']} logical cores, {torch.get_num_threads()} "
        f"thread(s); torch {env['torch']}, torchvision {torchvision.__version__}, lightnets "
        f"{env['lightnets']}, Python {env['python']}"
    )
    flags = sorted(f for f in cpu_flags() if "bf16" in f or f.startswith("amx"))
    native = any(f in flags for f in NATIVE_BF16_CPU_FLAGS)
    say(f"CPU bf16 flags: {', '.join(flags) or 'none'} "
          f"({'native' if native else 'emulated'} bfloat16)")
    say(
        f"batch {args.batch} × 3×{args.img_size}×{args.img_size}, {args.classes} classes, SGD "
        f"(momentum 0.9), {'/'.join(precisions)}, train mode; {args.warmup} warm-up + "
        f"{args.rounds} timed steps each, interleaved; same function in eval mode: {same}"
    )
    for _ in range(args.warmup):
        for name in names:
            steps[name]()
    times: dict[str, list[float]] = {name: [] for name in names}
    for r in range(args.rounds):
        for name in names if r % 2 == 0 else names[::-1]:
            times[name].append(steps[name]())
    load_after = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")

    rows = []
    rate = {}
    for key in names:
        median = statistics.median(times[key])
        rate[key] = args.batch / median
        params = sum(p.numel() for p in copies[key].parameters())
        rows.append(
            (
                key[0],
                key[1],
                f"{params:,}",
                f"{1e3 * median:.1f}",
                f"{1e3 * min(times[key]):.1f}",
                f"{rate[key]:.1f}",
            )
        )
    say()
    say(
        format_table(
            ["network", "precision", "params", "median step (ms)", "fastest step (ms)",
             "images/s"],
            rows,
            align="llrrrr",
        )
    )
    ours_name, theirs_name = models
    say()
    for precision in precisions:
        a, b = (ours_name, precision), (theirs_name, precision)
        ratio = rate[a] / rate[b]
        paired = statistics.median(y / x for x, y in zip(times[a], times[b], strict=True))
        verdict = "met" if ratio >= 0.95 else "NOT met"
        say(
            f"{precision}: throughput ratio lightnets / torchvision: {ratio:.3f} (median of "
            f"per-round ratios {paired:.3f}); target ≥ 0.95: {verdict}"
        )
    for name in models:
        for precision in precisions[1:]:
            say(f"{name}: {precision} / {precisions[0]} images/s "
                  f"{rate[(name, precision)] / rate[(name, precisions[0])]:.2f}×")
    say(f"load average (1 min) before {load_before:.2f}, after {load_after:.2f}")
    if args.docs:
        write_page(
            args.docs,
            "Image training speed",
            "One training step (forward, loss, backward, SGD update) of lightnets' "
            "MobileNetV3-Small and of torchvision's, with the same weights and batch, timed in "
            "alternation; bf16 is autocast per forward pass with float32 weights "
            "(`lightnets train --precision bf16`).",
            say,
            argv=argv,
        )
        print(f"wrote {args.docs}")


if __name__ == "__main__":
    main()
