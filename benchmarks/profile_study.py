"""The efficient-CNN study: what depthwise, group and separable convolutions, the MobileNet
multipliers α and ρ and attention blocks cost in parameters, multiply-adds and measured time.

Writes ``docs/efficient-cnns.md`` and its plots under ``docs/figures/``; prints every table as
it goes. Latencies are CPU medians of single forward passes (batch 1, float32, eval +
inference mode), measured *interleaved*: each round runs every candidate of a section once,
so the ratios within a section share the machine's load. The load average is recorded
before and after each run.

    .venv/bin/python benchmarks/profile_study.py             # about 4 minutes on 2 cores
    .venv/bin/python benchmarks/profile_study.py --quick --out /tmp/study/efficient-cnns.md
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime as dt
import os
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
import torchvision
from torch import nn

import lightnets
from lightnets._table import format_table
from lightnets.layers import CBAM, SqueezeExcite
from lightnets.models import create_model, get_entry, list_models
from lightnets.profiling import (
    CONVENTION,
    LatencyResult,
    ProfileResult,
    measure_interleaved,
    profile,
)
from lightnets.profiling.plotting import plot_macs_vs_latency
from lightnets.runs import atomic_write_bytes, environment_info

ROOT = Path(__file__).resolve().parents[1]

# MobileNets (Howard et al. 2017), Table 6: α → (million mult-adds, million parameters) at 224.
TABLE6 = {1.0: (569, 4.2), 0.75: (325, 2.6), 0.5: (149, 1.3), 0.25: (41, 0.5)}
# MobileNets, Table 7: resolution → million mult-adds of 1.0 MobileNet (4.2 M parameters).
TABLE7 = {224: 569, 192: 418, 160: 290, 128: 186}
WIDTH_NAMES = {1.0: "mobilenet_v1_100", 0.75: "mobilenet_v1_075", 0.5: "mobilenet_v1_050",
               0.25: "mobilenet_v1_025"}


@dataclass
class Settings:
    threads: int
    quick: bool
    out: Path
    figures: Path
    # (warm-up, repeats) per section
    layer: tuple[int, int] = (10, 200)
    sweep: tuple[int, int] = (5, 80)
    attention: tuple[int, int] = (3, 60)
    zoo: tuple[int, int] = (2, 40)
    zoo_models: list[str] = field(default_factory=list)


@dataclass
class Run:
    """One interleaved latency run and the load around it."""

    results: dict[str, LatencyResult]
    load_before: float
    load_after: float

    def caption(self) -> str:
        first = next(iter(self.results.values()))
        return (
            f"Latency: median and 90th percentile of {first.repeats} interleaved rounds after "
            f"{first.warmup} warm-up pass(es), {first.threads} thread(s), batch "
            f"{first.batch_size}; 1-min load average {self.load_before:.2f} before, "
            f"{self.load_after:.2f} after."
        )


def load1() -> float:
    return os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")


def interleaved(
    candidates: dict[str, tuple[nn.Module, torch.Tensor]], timing: tuple[int, int], threads: int
) -> Run:
    before = load1()
    results = measure_interleaved(candidates, warmup=timing[0], repeats=timing[1],
                                  threads=threads)
    return Run(results, before, load1())


def build(name: str, **kwargs) -> nn.Module:
    torch.manual_seed(0)
    return create_model(name, **kwargs).eval()


def example(result: ProfileResult) -> torch.Tensor:
    return torch.randn(result.batch_size, *result.input_shape)


def mega(n: float) -> str:
    return f"{n / 1e6:,.2f}"


def pct(new: float, base: float) -> str:
    return f"{100 * (new - base) / base:+.1f}%"


def emit(lines: list[str], text: str = "") -> None:
    """Print a line of the page and keep it for the page."""
    print(text, flush=True)
    lines.append(text)


# --- 1. one layer, six ways ------------------------------------------------------------------


def layer_section(s: Settings, lines: list[str]) -> dict[str, float]:
    channels, size = 512, 14  # MobileNets Table 3: the 14×14×512 layer
    variants: list[tuple[str, nn.Module]] = [
        ("standard 3×3", nn.Conv2d(channels, channels, 3, padding=1, bias=False))
    ]
    for g in (2, 4, 8):
        variants.append((f"group 3×3, g = {g}",
                         nn.Conv2d(channels, channels, 3, padding=1, groups=g, bias=False)))
    variants += [
        ("depthwise 3×3 (g = 512)",
         nn.Conv2d(channels, channels, 3, padding=1, groups=channels, bias=False)),
        ("pointwise 1×1", nn.Conv2d(channels, channels, 1, bias=False)),
        ("depthwise separable (dw + pw)", nn.Sequential(
            nn.Conv2d(channels, channels, 3, padding=1, groups=channels, bias=False),
            nn.Conv2d(channels, channels, 1, bias=False))),
    ]
    shape = (channels, size, size)
    profiles = {label: profile(m, shape) for label, m in variants}
    x = torch.randn(1, *shape)
    run = interleaved({label: (m, x) for label, m in variants}, s.layer, s.threads)
    base_p = profiles["standard 3×3"]
    base_t = run.results["standard 3×3"].median_ms
    rows, facts = [], {}
    for label, _ in variants:
        p, t = profiles[label], run.results[label]
        # Bytes each tensor needs at least once: input, every tensor created, the weights.
        touched = 4 * x.numel() + p.activation_bytes + 4 * p.params
        rows.append([
            label, f"{p.params:,}", f"{p.macs:,}", f"{base_p.macs / p.macs:.1f}×",
            f"{t.median_ms:.3f}", f"{t.p90_ms:.3f}", f"{base_t / t.median_ms:.1f}×",
            f"{p.macs / t.median_ms / 1e6:.1f}", f"{p.macs / touched:.1f}",
        ])
        facts[label] = base_t / t.median_ms
        facts[label + " macs"] = p.macs
        facts[label + " intensity"] = p.macs / touched
    emit(lines, "## 1. One layer as standard, group, depthwise and depthwise-separable "
                "convolution")
    emit(lines)
    emit(lines, "The 14×14×512 → 14×14×512 3×3 layer of MobileNets Table 3, without batch norm "
                "(Table 3 counts convolution weights only).")
    emit(lines)
    emit(lines, format_table(
        ["layer", "params", "MACs", "fewer MACs", "median ms", "p90 ms", "speed-up",
         "GMAC/s", "MACs per byte"],
        rows, align="lrrrrrrrr"))
    emit(lines)
    emit(lines, run.caption() + " \"fewer MACs\" and \"speed-up\" are relative to the standard "
                "convolution; GMAC/s = MACs ÷ median time; MACs per byte = MACs ÷ the bytes "
                "of input, created tensors and weights, each touched once (float32).")
    emit(lines)
    g2, g8 = profiles["group 3×3, g = 2"].macs, profiles["group 3×3, g = 8"].macs
    dw = profiles["depthwise 3×3 (g = 512)"]
    sep = profiles["depthwise separable (dw + pw)"]
    emit(lines, (
        "**How depthwise and group convolution differ.** A group convolution with g groups "
        f"splits the {channels} channels into g independent sets and gives each a full 3×3 "
        f"convolution over {channels}/g inputs, so MACs and weights fall g-fold "
        f"({base_p.macs / 1e6:.1f} M → {g2 / 1e6:.1f} M at g = 2, {g8 / 1e6:.1f} M at g = 8) "
        f"while every output still mixes {channels}/g channels. Depthwise convolution is the "
        f"limit g = C_in = C_out = {channels}: each filter sees one channel, MACs fall "
        f"{base_p.macs // dw.macs}-fold to {dw.macs / 1e6:.2f} M, and channels no longer mix "
        "at all, so a 1×1 pointwise convolution must follow (the depthwise separable layer, "
        f"{sep.macs / 1e6:.1f} M MACs, {base_p.macs / sep.macs:.1f}× fewer than standard, "
        f"{100 * (sep.macs - dw.macs) / sep.macs:.0f}% of them in the 1×1). Measured here, "
        f"the depthwise layer is only {facts['depthwise 3×3 (g = 512)']:.1f}× faster than "
        f"the standard one for {base_p.macs // dw.macs}× fewer MACs: at "
        f"{facts['depthwise 3×3 (g = 512)' + ' intensity']:.1f} MACs per byte against "
        f"{facts['standard 3×3 intensity']:.0f} it is bound by memory traffic, not "
        "arithmetic."
    ))
    emit(lines)
    facts.update(network_split(s, lines))
    figure = s.figures / "conv-variants.png"
    plot_bars(figure, [label for label, _ in variants],
              {"fewer MACs (×)": [base_p.macs / profiles[lb].macs for lb, _ in variants],
               "speed-up (×)": [facts[lb] for lb, _ in variants]},
              "One 14×14×512 layer: MAC reduction against measured speed-up",
              "× relative to the standard 3×3 convolution (log scale)", log=True)
    emit(lines, f"![MAC reduction against speed-up]({rel(figure, s)})")
    emit(lines)
    return facts


def network_split(s: Settings, lines: list[str]) -> dict[str, float]:
    """Every convolution of MobileNetV1 1.0-224 timed alone on its own input, by kind."""
    model = build("mobilenet_v1_100")
    convs = {n: m for n, m in model.named_modules() if isinstance(m, nn.Conv2d)}
    shapes: dict[str, tuple[int, ...]] = {}
    def record(name: str) -> Callable[..., None]:
        def hook(_module: nn.Module, args: tuple) -> None:
            shapes[name] = tuple(args[0].shape)

        return hook

    hooks = [m.register_forward_pre_hook(record(n)) for n, m in convs.items()]
    with torch.no_grad():
        model(torch.zeros(1, 3, 224, 224))
    for hook in hooks:
        hook.remove()

    def kind(conv: nn.Conv2d) -> str:
        if conv.groups == conv.in_channels > 1:
            return "depthwise 3×3"
        return "pointwise 1×1" if conv.kernel_size == (1, 1) else "full 3×3 (stem)"

    macs = {n: profile(m, shapes[n][1:]).macs for n, m in convs.items()}
    run = interleaved({n: (m, torch.randn(shapes[n])) for n, m in convs.items()}, s.layer,
                      s.threads)
    kinds = ["full 3×3 (stem)", "depthwise 3×3", "pointwise 1×1"]
    total_macs = sum(macs.values())
    total_time = sum(r.median_ms for r in run.results.values())
    rows, shares = [], {}
    for k in kinds:
        names = [n for n, m in convs.items() if kind(m) == k]
        k_macs = sum(macs[n] for n in names)
        k_time = sum(run.results[n].median_ms for n in names)
        shares[k] = (k_macs / total_macs, k_time / total_time)
        rows.append([k, str(len(names)), mega(k_macs), f"{k_macs / total_macs:.1%}",
                     f"{k_time:.2f}", f"{k_time / total_time:.1%}",
                     f"{k_macs / k_time / 1e6:.1f}"])
    emit(lines, "The same split inside a network: each of the 27 convolutions of MobileNetV1 "
                "1.0-224, timed alone on its own input, summed by kind.")
    emit(lines)
    emit(lines, format_table(["convolution", "layers", "MACs (M)", "share of MACs",
                              "time (ms)", "share of time", "GMAC/s"], rows,
                             align="lrrrrrr"))
    emit(lines)
    emit(lines, run.caption() + " Time: sum of the layers' medians (batch norm and ReLU "
                "excluded).")
    emit(lines)
    return {"dw share macs": shares["depthwise 3×3"][0],
            "dw share time": shares["depthwise 3×3"][1]}


# --- 2. MobileNetV1 width and resolution multipliers ----------------------------------------


def dw_share(result: ProfileResult) -> float:
    """Share of a MobileNetV1's MACs in its depthwise convolutions (the ``dw`` layers)."""
    return sum(r.macs for r in result.layers if ".dw." in f".{r.name}.") / result.macs


def sweep_section(s: Settings, lines: list[str]) -> None:
    models = {alpha: build(name) for alpha, name in WIDTH_NAMES.items()}
    configs: dict[str, tuple[float, int]] = {}
    for alpha in TABLE6:
        configs[f"α = {alpha:g}, 224"] = (alpha, 224)
    for res in list(TABLE7)[1:]:
        configs[f"α = 1, {res}"] = (1.0, res)
    profiles = {key: profile(models[a], r) for key, (a, r) in configs.items()}
    run = interleaved({key: (models[a], example(profiles[key]))
                       for key, (a, _) in configs.items()}, s.sweep, s.threads)
    base_key = "α = 1, 224"
    base_p, base_t = profiles[base_key], run.results[base_key].median_ms
    emit(lines, "## 2. MobileNetV1: the width multiplier α and the resolution multiplier ρ")
    emit(lines)
    emit(lines, "α thins every layer (MACs and parameters fall by about α²); ρ shrinks the "
                "input (MACs fall by ρ², parameters stay). Paper figures: MobileNets Table 6 "
                "(α) and Table 7 (resolution).")
    emit(lines)
    rows = []
    for alpha, (paper_macs, paper_params) in TABLE6.items():
        key = f"α = {alpha:g}, 224"
        p, t = profiles[key], run.results[key]
        rows.append([f"{alpha:g}", mega(p.macs), str(paper_macs), mega(p.params),
                     f"{paper_params:g}", f"{p.macs / base_p.macs:.3f}", f"{alpha**2:.3f}",
                     f"{t.median_ms:.2f}", f"{t.p90_ms:.2f}", f"{t.median_ms / base_t:.3f}"])
    emit(lines, format_table(
        ["α", "MACs (M)", "paper", "params (M)", "paper", "MACs ÷ α=1", "α²", "median ms",
         "p90 ms", "time ÷ α=1"], rows, align="rrrrrrrrrr"))
    emit(lines)
    rows = []
    for res, paper_macs in TABLE7.items():
        key = f"α = 1, {res}"
        p, t = profiles[key], run.results[key]
        rho = res / 224
        rows.append([str(res), f"{rho:.3f}", mega(p.macs), str(paper_macs), mega(p.params),
                     f"{p.macs / base_p.macs:.3f}", f"{rho**2:.3f}", f"{t.median_ms:.2f}",
                     f"{t.p90_ms:.2f}", f"{t.median_ms / base_t:.3f}"])
    emit(lines, format_table(
        ["input", "ρ", "MACs (M)", "paper", "params (M)", "MACs ÷ 224", "ρ²", "median ms",
         "p90 ms", "time ÷ 224"], rows, align="rrrrrrrrrr"))
    emit(lines)
    emit(lines, run.caption() + " All seven configurations ran in the same interleaved run.")
    emit(lines)
    small_w, small_r = "α = 0.25, 224", "α = 1, 128"
    emit(lines, (
        f"α = 0.25 keeps {profiles[small_w].macs / base_p.macs:.1%} of the MACs and takes "
        f"{run.results[small_w].median_ms / base_t:.1%} of the time; 128×128 input keeps "
        f"{profiles[small_r].macs / base_p.macs:.1%} of the MACs and takes "
        f"{run.results[small_r].median_ms / base_t:.1%} of the time. Time falls more slowly "
        f"than MACs. The fixed cost of the network's {base_p.ops} ATen ops is the same at "
        "every α and ρ. And under α the depthwise MACs fall only linearly (one filter per "
        "channel) while the pointwise MACs fall with α², so thinner networks spend a larger "
        f"share in the slow, memory-bound depthwise layers ({dw_share(base_p):.1%} of the MACs "
        f"at α = 1, {dw_share(profiles[small_w]):.1%} at α = 0.25)."
    ))
    emit(lines)
    figure = s.figures / "mobilenet-v1-sweeps.png"
    plot_sweeps(figure, profiles, run.results, s)
    emit(lines, f"![MobileNetV1 α and ρ sweeps]({rel(figure, s)})")
    emit(lines)


# --- 3. attention overhead -------------------------------------------------------------------


def swap_se(model: nn.Module, make: Callable[[int], nn.Module]) -> nn.Module:
    """Replace every SqueezeExcite of ``model`` by ``make(channels)``, in place."""
    for module in list(model.modules()):
        for child_name, child in list(module.named_children()):
            if isinstance(child, SqueezeExcite):
                setattr(module, child_name, make(child.fc1.in_channels))
    return model


def attention_section(s: Settings, lines: list[str]) -> None:
    groups: list[tuple[str, list[tuple[str, nn.Module]]]] = [
        ("ResNet-50 (stride on the first 1×1, as SENet and CBAM)", [
            ("none", build("resnet50", stride_in_1x1=True)),
            ("SE (r = 16)", build("se_resnet50")),
            ("CBAM (r = 16, 7×7)", build("cbam_resnet50")),
        ]),
    ]
    for arch in ("large", "small"):
        name = f"mobilenet_v3_{arch}_100"
        groups.append((f"MobileNetV3-{arch.capitalize()}", [
            ("none (SE removed)", swap_se(build(name), lambda c: nn.Identity())),
            ("SE (r = 4, as published)", build(name)),
            ("CBAM (r = 4, 7×7) in place of SE", swap_se(build(name),
                                                         lambda c: CBAM(c, rd_ratio=0.25))),
        ]))
    profiles: dict[str, ProfileResult] = {}
    candidates = {}
    for network, variants in groups:
        for label, model in variants:
            key = f"{network} · {label}"
            profiles[key] = profile(model, 224)
            candidates[key] = (model, example(profiles[key]))
    run = interleaved(candidates, s.attention, s.threads)
    rows = []
    for network, variants in groups:
        base_key = f"{network} · {variants[0][0]}"
        b, bt = profiles[base_key], run.results[base_key].median_ms
        for label, _ in variants:
            key = f"{network} · {label}"
            p, t = profiles[key], run.results[key].median_ms
            elem, base_elem = sum(p.elementwise.values()), sum(b.elementwise.values())
            rows.append([network if label == variants[0][0] else "", label, mega(p.params),
                         pct(p.params, b.params), mega(p.macs), pct(p.macs, b.macs),
                         mega(elem), pct(elem, base_elem), f"{t:.2f}", pct(t, bt)])
    emit(lines, "## 3. What attention costs: SE and CBAM on ResNet-50 and MobileNetV3")
    emit(lines)
    emit(lines, format_table(
        ["network", "attention", "params (M)", "+params", "MACs (M)", "+MACs",
         "element ops (M)", "+element ops", "median ms", "+latency"],
        rows, align="llrrrrrrrr"))
    emit(lines)
    emit(lines, run.caption() + " All nine networks ran in the same interleaved run; "
                "percentages are relative to the first row of each network. \"Element ops\" "
                "are the per-element operations outside the MAC convention (normalisation, "
                "biases, pooling, activations, the attention's rescaling).")
    emit(lines)
    emit(lines, (
        "The two fully connected layers of an SE block act on a pooled vector: they add "
        "parameters (about 2C²/r per block) but almost no multiply-adds. The time goes to "
        "what MACs do not count: a global pooling pass and a rescaling pass over the whole "
        "feature map, both memory-bound, and a few more small kernels per block; CBAM adds a "
        "channel-max pass, two channel reductions and a 7×7 convolution over every position. "
        "SENet (§4) reports about 3.86 GFLOPs for ResNet-50 and 3.87 for SE-ResNet-50 "
        "(+0.26%) with about 2.5 M more parameters (+10%); the two FC layers alone, which is "
        "all the MAC convention counts, add less."
    ))
    emit(lines)
    figure = s.figures / "attention-overhead.png"
    labels, params, macs, lat = [], [], [], []
    for network, variants in groups:
        b = profiles[f"{network} · {variants[0][0]}"]
        bt = run.results[f"{network} · {variants[0][0]}"].median_ms
        for label, _ in variants[1:]:
            key = f"{network} · {label}"
            labels.append(f"{network.split(' (')[0]}\n{label.split(' (')[0]}")
            params.append(100 * (profiles[key].params - b.params) / b.params)
            macs.append(100 * (profiles[key].macs - b.macs) / b.macs)
            lat.append(100 * (run.results[key].median_ms - bt) / bt)
    plot_bars(figure, labels, {"+params %": params, "+MACs %": macs, "+latency %": lat},
              "Overhead of attention blocks", "increase over the network without them (%)")
    emit(lines, f"![Attention overhead]({rel(figure, s)})")
    emit(lines)


# --- 4. the zoo: MACs against measured latency -----------------------------------------------


def ranks(values: Sequence[float]) -> np.ndarray:
    return np.argsort(np.argsort(np.asarray(values, dtype=float))).astype(float)


def spearman(a: Sequence[float], b: Sequence[float]) -> float:
    return float(np.corrcoef(ranks(a), ranks(b))[0, 1])


def r_squared(columns: list[Sequence[float]], y: Sequence[float]) -> tuple[float, np.ndarray]:
    """Least squares of ``y`` on the columns plus an intercept: R² and the coefficients."""
    design = np.column_stack([*(np.asarray(c, dtype=float) for c in columns), np.ones(len(y))])
    target = np.asarray(y, dtype=float)
    coef, *_ = np.linalg.lstsq(design, target, rcond=None)
    residual = target - design @ coef
    return 1 - residual.var() / target.var(), coef


def op_overhead_us(s: Settings) -> float:
    """Median time per op of a chain of 50 tiny conv → batch norm → ReLU modules (150 ops)."""
    layers: list[nn.Module] = []
    for _ in range(50):
        layers += [nn.Conv2d(8, 8, 1, bias=False), nn.BatchNorm2d(8), nn.ReLU()]
    chain = nn.Sequential(*layers)
    ops = profile(chain, (8, 4, 4)).ops
    result = measure_interleaved({"chain": (chain, torch.randn(1, 8, 4, 4))},
                                 warmup=s.layer[0], repeats=s.layer[1], threads=s.threads)
    return result["chain"].median_ms * 1e3 / ops


def zoo_statistics(timed: list[ProfileResult]) -> dict[str, str]:
    """Rank correlations and linear fits of latency against the counted quantities."""
    macs = [r.macs for r in timed]
    lat = [r.latency.median_ms for r in timed]
    act = [r.activation_bytes for r in timed]
    ops = [r.ops for r in timed]
    r2_macs, _ = r_squared([macs], lat)
    r2_all, coef = r_squared([macs, act, ops], lat)
    inversions = sum(1 for i, a in enumerate(timed) for b in timed[i + 1:]
                     if (b.macs - a.macs) * (b.latency.median_ms - a.latency.median_ms) < 0)
    pairs = len(timed) * (len(timed) - 1) // 2
    return {
        "Spearman rank correlation, latency vs MACs": f"{spearman(macs, lat):.3f}",
        "Spearman, latency vs activation bytes": f"{spearman(act, lat):.3f}",
        "Spearman, latency vs ATen ops": f"{spearman(ops, lat):.3f}",
        "R², latency ~ MACs": f"{r2_macs:.3f}",
        "R², latency ~ MACs + activation bytes + ATen ops": f"{r2_all:.3f}",
        "fit coefficients": f"{coef[0] * 1e9:.2f} / {coef[1] * 1e9:.2f} / "
                            f"{coef[2] * 1e3:.1f} / {coef[3]:.2f}",
        "pairs ordered differently by MACs and by latency": f"{inversions} of {pairs}",
    }


def zoo_section(s: Settings, lines: list[str], layer_facts: dict[str, float]) -> None:
    models = {name: build(name) for name in s.zoo_models}
    profiles = {name: profile(m, label=name) for name, m in models.items()}
    run = interleaved({n: (m, example(profiles[n])) for n, m in models.items()}, s.zoo,
                      s.threads)
    timed = [dataclasses.replace(profiles[n], latency=run.results[n]) for n in models]
    timed.sort(key=lambda r: r.macs)
    rows = []
    for r in timed:
        t = r.latency
        rows.append([r.model, get_entry(r.model).family, mega(r.params), mega(r.macs),
                     f"{r.activation_bytes / 1e6:.1f}", str(r.ops), f"{t.median_ms:.2f}",
                     f"{t.p90_ms:.2f}", f"{r.macs / t.median_ms / 1e6:.1f}"])
    emit(lines, "## 4. MACs against measured latency across the zoo")
    emit(lines)
    emit(lines, format_table(
        ["model", "family", "params (M)", "MACs (M)", "activations (MB)", "ATen ops",
         "median ms", "p90 ms", "GMAC/s"], rows, align="llrrrrrrr"))
    emit(lines)
    emit(lines, run.caption() + f" {len(timed)} models at 224×224 in one interleaved run. "
                "Activations: bytes of every tensor the forward pass creates; ATen ops: "
                "kernels one forward runs.")
    emit(lines)
    efficient = [r for r in timed if r.macs < 1e9]
    subsets = [(f"all {len(timed)} models", timed),
               (f"{len(efficient)} models below 1 GMAC", efficient)]
    stats = [zoo_statistics(models_) for _, models_ in subsets]
    keys = list(stats[0])
    emit(lines, format_table(["statistic"] + [label for label, _ in subsets],
                             [[k] + [st[k] for st in stats] for k in keys],
                             align="l" + "r" * len(subsets)))
    emit(lines)
    emit(lines, "Fit: least squares of the median latency on MACs, activation bytes and ATen "
                "ops with an intercept; its coefficients are ms per GMAC / ms per GB / µs per "
                "op / ms.")
    emit(lines)
    inversions = [(a, b) for i, a in enumerate(timed) for b in timed[i + 1:]
                  if b.macs > a.macs and b.latency.median_ms < a.latency.median_ms]
    if inversions:
        emit(lines, "Largest disagreements (more MACs, yet faster; each model listed once):")
        emit(lines)
        ranked = sorted(inversions, key=lambda p: (p[1].macs / p[0].macs)
                        * (p[0].latency.median_ms / p[1].latency.median_ms), reverse=True)
        worst, seen = [], set()
        for a, b in ranked:
            if a.model not in seen and b.model not in seen:
                worst.append((a, b))
                seen |= {a.model, b.model}
        emit(lines, format_table(
            ["slower model", "MACs (M)", "ms", "faster model", "MACs (M)", "ms"],
            [[a.model, mega(a.macs), f"{a.latency.median_ms:.2f}", b.model, mega(b.macs),
              f"{b.latency.median_ms:.2f}"] for a, b in worst[:6]], align="lrrlrr"))
        emit(lines)
    by_name = {r.model: r for r in timed}
    dw_key = "depthwise 3×3 (g = 512)"
    emit(lines, "Why MACs and latency disagree on a CPU:")
    emit(lines)
    emit(lines, (
        "* **Depthwise convolution is memory-bound.** In section 1 the depthwise layer does "
        f"{layer_facts[dw_key + ' intensity']:.1f} MACs per byte it touches against "
        f"{layer_facts['standard 3×3 intensity']:.0f} for the standard convolution, so its "
        "time is set by moving activations, not by multiplying; inside MobileNetV1 the "
        f"depthwise layers hold {layer_facts['dw share macs']:.1%} of the convolution MACs "
        f"but take {layer_facts['dw share time']:.1%} of the convolution time."
    ))
    shuffle = [by_name.get(f"shufflenet_v1_g{g}_x1_0") for g in (1, 8)]
    shuffle_text = ""
    if all(shuffle):
        g1, g8 = shuffle
        shuffle_text = (
            f" ShuffleNetV1 1.0× from g = 1 to g = 8: MACs {pct(g8.macs, g1.macs)}, "
            f"activation bytes {pct(g8.activation_bytes, g1.activation_bytes)}, latency "
            f"{pct(g8.latency.median_ms, g1.latency.median_ms)} (wider feature maps for the "
            "same MACs, the effect ShuffleNet V2's guideline G2 warns about)."
        )
    emit(lines, (
        "* **Work and traffic outside the MAC count.** Batch norm (not folded into the "
        "convolutions in eager PyTorch), activations, residual additions, SE pooling and "
        "rescaling, and ShuffleNet's channel split, shuffle and concatenation all read and "
        "write whole feature maps; the \"activations\" column is that traffic, and it grows "
        "with the width and number of thin layers rather than with MACs." + shuffle_text
    ))
    per_op_us = op_overhead_us(s)
    thin = [r.ops for r in timed if get_entry(r.model).family.startswith(("mobilenet_v3",
                                                                        "shufflenet"))]
    thin_text = f" ({min(thin)}–{max(thin)} in MobileNetV3 and ShuffleNet)" if thin else ""
    v1 = by_name.get("mobilenet_v1_100")
    v3 = by_name.get("mobilenet_v3_small_100")
    example_text = ""
    if v3 is not None:
        example_text = (
            f"; for MobileNetV3-Small, {v3.ops} ops × {per_op_us:.1f} µs = "
            f"{v3.ops * per_op_us / 1e3:.1f} ms of its {v3.latency.median_ms:.1f} ms"
        )
    emit(lines, (
        "* **Fixed cost per kernel.** Every ATen op pays dispatch and call overhead whatever "
        f"its size: a chain of tiny convolution, batch-norm and ReLU modules takes "
        f"{per_op_us:.1f} µs per op here. Networks of many thin layers run hundreds of ops "
        f"per image{thin_text}" + (f", MobileNetV1 {v1.ops}" if v1 is not None else "")
        + example_text + "."
    ))
    gmacs = {r.model: r.macs / r.latency.median_ms / 1e6 for r in timed}
    slowest, fastest = min(gmacs, key=gmacs.get), max(gmacs, key=gmacs.get)
    emit(lines, (
        "* **Arithmetic throughput differs by a factor of "
        f"{gmacs[fastest] / gmacs[slowest]:.0f}.** From {gmacs[slowest]:.1f} GMAC/s "
        f"({slowest}) to {gmacs[fastest]:.1f} GMAC/s ({fastest}): wide, dense convolutions "
        "keep the vector units busy, thin layers cannot. ShuffleNet V2 (Ma et al. 2018, §2) "
        "draws the same conclusion: FLOPs are an indirect metric, so measure speed on the "
        "target platform."
    ))
    emit(lines)
    figure = s.figures / "zoo-macs-latency.png"
    named = {"mobilenet_v1_100", "mobilenet_v1_025", "mobilenet_v2_100", "mobilenet_v2_035",
             "mobilenet_v3_large_100", "mobilenet_v3_small_100", "shufflenet_v2_x1_0",
             "shufflenet_v2_x0_5", "shufflenet_v1_g3_x1_0", "shufflenet_v1_g8_x0_5",
             "shufflenet_v1_g8_x2_0", "resnet18", "resnet50", "cbam_resnet50"}
    plot_macs_vs_latency(timed, figure, annotate=named,
                         title="The zoo at 224×224: MACs against measured latency "
                               "(marker area ∝ parameters)")
    emit(lines, f"![MACs against latency]({rel(figure, s)})")
    emit(lines)


# --- 5. counting conventions and HybridSN ----------------------------------------------------


def conventions_section(lines: list[str]) -> None:
    names = ["mobilenet_v1_100", "mobilenet_v2_100", "mobilenet_v3_large_100",
             "shufflenet_v2_x1_0", "resnet50"]
    rows = []
    for name in names:
        p = profile(name)
        e = p.elementwise
        extra = sum(e.values())
        rows.append([name, mega(p.macs), mega(p.flops), mega(e["norm"]), mega(e["bias"]),
                     mega(e["pooling"]), mega(e["elementwise"]), f"{100 * extra / p.macs:.1f}%"])
    emit(lines, "## 5. Why published counts disagree")
    emit(lines)
    emit(lines, "The same networks under the MAC convention and the per-element work other "
                "counters add to it (millions per 224×224 image):")
    emit(lines)
    emit(lines, format_table(
        ["model", "MACs", "FLOPs = 2×MACs", "batch norm", "biases", "pooling",
         "activations & other element-wise", "element work ÷ MACs"],
        rows, align="lrrrrrrr"))
    emit(lines)
    emit(lines, (
        "Papers quote multiply-adds: MobileNets calls them Mult-Adds, ShuffleNet and SENet "
        "call them FLOPs, while other sources count a multiply-add as two FLOPs. Counting "
        "tools add different parts of the element-wise work: fvcore, for instance, adds "
        "batch norm and pooling to its multiply-add count, thop adds biases and batch norm. "
        "The columns above are those parts, so a figure from another tool can be reconciled "
        "with the papers' one; they are small next to the MACs, but, as section 4 shows, not "
        "small in time."
    ))
    emit(lines)


def hybridsn_section(lines: list[str]) -> None:
    model = build("hybridsn")  # Indian Pines: 30 PCA bands, 25×25 windows, 16 classes
    patch = profile(model)
    emit(lines, "## 6. HybridSN on Indian Pines")
    emit(lines)
    rows = [["patch path (one 25×25×30 window per pixel)", mega(patch.macs),
             f"{patch.params:,}"]]
    scene_macs = 0.0
    if hasattr(model, "scene_head") and hasattr(model, "forward_features"):
        height = width = 145  # the Indian Pines scene

        class ScenePath(nn.Module):
            """Convolutions over the padded scene, then the dense layers as convolutions."""

            def __init__(self, inner: nn.Module) -> None:
                super().__init__()
                self.inner = inner

            def forward(self, x: torch.Tensor) -> torch.Tensor:
                return self.inner.scene_head(self.inner.forward_features(x))

        pad = model.window - 1
        scene = profile(ScenePath(model), (model.bands, height + pad, width + pad))
        scene_macs = scene.macs / (height * width)
        rows.append([f"scene path (one pass over the padded {height}×{width} scene)",
                     mega(scene_macs), f"{scene.params:,}"])
    emit(lines, format_table(["path", "MACs per pixel (M)", "params"], rows, align="lrr"))
    emit(lines)
    emit(lines, (
        f"Classifying one pixel through its own patch costs {patch.macs:,} multiply-adds "
        f"({patch.macs / 1e6:.2f} M): {patch.macs * 10249 / 1e12:.2f} T multiply-adds for "
        "the 10,249 labelled pixels of Indian Pines. Neighbouring windows overlap almost "
        "entirely, so a single pass over the whole scene shares the convolutions between "
        "pixels" + (f" and needs {patch.macs / scene_macs:.0f}× fewer multiply-adds per pixel."
                    if scene_macs else ".")
    ))
    emit(lines)


def usage_section(lines: list[str]) -> None:
    emit(lines, "## Reproducing and profiling other models")
    emit(lines)
    emit(lines, "```")
    emit(lines, "python benchmarks/profile_study.py            # this page (--quick: smoke test)")
    emit(lines, "lightnets profile mobilenet_v2_100 --layers --latency --threads 1")
    emit(lines, "lightnets compare 'mobilenet_v3*' 'shufflenet_v2*' --latency --plot zoo.png")
    emit(lines, "```")
    emit(lines)
    emit(lines, "In Python, `lightnets.profiling.profile(name_or_module, input_size, batch_size, "
                "latency=True)` returns parameters, MACs, FLOPs, activation memory, the "
                "per-layer table (`result.layer_table()`) and the latency statistics; "
                "`lightnets.profiling.compare([...])` profiles many models and times them in "
                "one interleaved run.")
    emit(lines)


# --- plots -------------------------------------------------------------------------------------


def pyplot():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def save(fig, path: Path) -> None:
    import io

    buffer = io.BytesIO()
    fig.tight_layout()
    fig.savefig(buffer, format="png")
    atomic_write_bytes(path, buffer.getvalue())


def plot_bars(path: Path, labels: list[str], series: dict[str, list[float]], title: str,
              ylabel: str, log: bool = False) -> None:
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(9, 4.8), dpi=120)
    width = 0.8 / len(series)
    x = np.arange(len(labels))
    for i, (name, values) in enumerate(series.items()):
        ax.bar(x + (i - (len(series) - 1) / 2) * width, values, width, label=name)
    ax.set_xticks(x, labels, fontsize=7, rotation=20, ha="right")
    if log:
        ax.set_yscale("log")
    ax.axhline(1 if log else 0, color="black", linewidth=0.6)
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    ax.grid(True, axis="y", alpha=0.3)
    ax.legend(fontsize=8)
    save(fig, path)
    plt.close(fig)


def plot_sweeps(path: Path, profiles: dict[str, ProfileResult],
                results: dict[str, LatencyResult], s: Settings) -> None:
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(7, 4.8), dpi=120)
    widths = [f"α = {a:g}, 224" for a in TABLE6]
    resolutions = [f"α = 1, {r}" for r in TABLE7]
    for keys, label, marker in ((widths, "width α (224×224)", "o"),
                                (resolutions, "resolution (α = 1)", "s")):
        xs = [profiles[k].macs / 1e6 for k in keys]
        ys = [results[k].median_ms for k in keys]
        ax.plot(xs, ys, marker=marker, label=label)
        for k, x, y in zip(keys, xs, ys, strict=True):
            ax.annotate(k, (x, y), fontsize=7, xytext=(4, -10), textcoords="offset points")
    base = profiles["α = 1, 224"].macs / 1e6, results["α = 1, 224"].median_ms
    xs = np.linspace(30, base[0], 50)
    ax.plot(xs, base[1] * xs / base[0], "k:", linewidth=0.8, label="time ∝ MACs")
    ax.set_xlabel("multiply-adds (millions)")
    ax.set_ylabel(f"median latency, ms ({s.threads} thread(s), batch 1)")
    ax.set_title("MobileNetV1: MACs and measured latency under α and ρ")
    ax.grid(True, alpha=0.3)
    ax.legend(fontsize=8)
    save(fig, path)
    plt.close(fig)


def rel(path: Path, s: Settings) -> str:
    return os.path.relpath(path, s.out.parent)


# --- page --------------------------------------------------------------------------------------


def header(s: Settings, lines: list[str], env: dict) -> None:
    emit(lines, "# Efficient CNNs: parameters, multiply-adds and measured latency")
    emit(lines)
    emit(lines, "Generated by `benchmarks/profile_study.py`" + (" (`--quick`)" if s.quick else "")
         + "; every number and plot on this page comes from that run. Counts come from "
           "`lightnets.profile` (on the `meta` device); times from one interleaved run per "
           "section.")
    emit(lines)
    emit(lines, f"* Convention: {CONVENTION}")
    emit(lines, f"* Machine: {env['cpu']}, {env['cpu_count']} logical cores; latency on "
                f"{s.threads} intra-op thread(s), float32, batch 1, eval + inference mode, "
                "NCHW.")
    emit(lines, f"* Versions: Python {env['python']}, torch {env['torch']}, torchvision "
                f"{torchvision.__version__}, numpy {env['numpy']}, lightnets "
                f"{lightnets.__version__}; {env['platform']}.")
    emit(lines, f"* Date: {dt.datetime.now(dt.timezone.utc):%Y-%m-%d %H:%M} UTC.")
    emit(lines, "* The machine is shared: candidates that are compared run interleaved, "
                "round after round, and medians are reported; the 1-min load average before "
                "and after each run is under each table.")
    emit(lines)


def parse_args(argv: Sequence[str] | None) -> Settings:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true",
                        help="few repeats and a small zoo: a smoke test, not a measurement")
    parser.add_argument("--threads", type=int, default=1, help="intra-op threads (default 1)")
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "efficient-cnns.md")
    parser.add_argument("--figures", type=Path,
                        help="folder for the PNGs (default: figures/ beside --out)")
    args = parser.parse_args(argv)
    if args.threads < 1:
        parser.error(f"--threads: expected an integer >= 1, got {args.threads}")
    s = Settings(threads=args.threads, quick=args.quick, out=args.out,
                 figures=args.figures or args.out.parent / "figures")
    if args.quick:
        s.layer = s.sweep = s.attention = s.zoo = (1, 3)
        s.zoo_models = ["mobilenet_v1_025", "mobilenet_v3_small_100", "shufflenet_v2_x0_5",
                        "shufflenet_v1_g3_x0_5"]
    else:
        s.zoo_models = list_models(task="image")
    return s


def main(argv: Sequence[str] | None = None) -> int:
    s = parse_args(argv)
    env = environment_info()
    load_start = load1()
    lines: list[str] = []
    header(s, lines, env)
    facts = layer_section(s, lines)
    sweep_section(s, lines)
    attention_section(s, lines)
    zoo_section(s, lines, facts)
    conventions_section(lines)
    hybridsn_section(lines)
    usage_section(lines)
    emit(lines, f"1-min load average: {load_start:.2f} at the start, {load1():.2f} at the end.")
    atomic_write_bytes(s.out, ("\n".join(lines) + "\n").encode())
    print(f"\nwrote {s.out} and {s.figures}/*.png", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
