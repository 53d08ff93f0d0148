"""Accuracy of the sketched monitor on a real run's updates (prediction P14).

Trains the modular-addition transformer of docs/spec.md §7 (AdamW, weight decay 1.0) with two
monitors attached to the same parameters — exact, and sketched to m = 10·W dimensions —
and reports the relative error |σ̂_j − σ_j|/σ_j per window.

Run:  .venv/bin/python benchmarks/bench_sketch.py [--steps 600] [--stride 10] [--select all]
"""

from __future__ import annotations

import argparse

import numpy as np
import torch
import torch.nn.functional as F

from spectral_edge.validation.monitor import GramMonitor
from spectral_edge.validation.runs.models import build_model
from spectral_edge.validation.runs.tasks import make_task


def measure(steps: int, stride: int, window: int, select: str, factor: int, seeds: int):
    torch.manual_seed(0)
    task = make_task("modadd", seed=42)
    model = build_model(task)
    opt = torch.optim.AdamW(model.parameters(), lr=1e-3, betas=(0.9, 0.98), weight_decay=1.0)
    exact = GramMonitor(model, window=window, stride=stride, select=select)
    sketches = [
        GramMonitor(model, window=window, stride=stride, select=select,
                    sketch_dim=factor * window, seed=s)
        for s in range(seeds)
    ]
    gen = torch.Generator().manual_seed(0)
    x, y = task.x_train, task.y_train
    errors = []
    for _ in range(steps):
        idx = torch.randint(0, x.shape[0], (512,), generator=gen)
        loss = F.cross_entropy(model(x[idx])[:, 0], y[idx, 0])
        opt.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        new_window = exact.step()
        for sk in sketches:
            if sk.step() and new_window:
                errors.append(np.abs(sk.stats.sigma - exact.stats.sigma) / exact.stats.sigma)
    return exact.n_params, np.array(errors)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=600)
    parser.add_argument("--stride", type=int, default=10)
    parser.add_argument("--window", type=int, default=10)
    parser.add_argument("--select", default="attention")
    parser.add_argument("--factor", type=int, default=10, help="m = factor * W")
    parser.add_argument("--seeds", type=int, default=3, help="independent sketch hashes")
    args = parser.parse_args()
    torch.set_num_threads(1)
    P, err = measure(args.steps, args.stride, args.window, args.select, args.factor, args.seeds)
    m = args.factor * args.window
    print(f"P = {P}, W = {args.window}, m = {m}, windows x hashes = {len(err)}")
    print("mean relative sigma error per mode j: "
          + " ".join(f"{v:.3f}" for v in err.mean(axis=0)))
    print(f"mean over modes and windows: {err.mean():.3f}; "
          f"median of per-window max: {np.median(err.max(axis=1)):.3f}; "
          f"sigma_1 mean {err[:, 0].mean():.3f}")


if __name__ == "__main__":
    main()
