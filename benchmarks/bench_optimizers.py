"""Cost of a training step with each optimizer, as ratios to AdamW, side by side.

The modular-addition protocol model (docs/spec.md §7: d = 128, 2 layers, batch 512, monitor
on the attention weights) is built three times — AdamW, Muon as the runner builds it
(:class:`spectral_edge.validation.runs.optimizers.Float32Muon`, Newton–Schulz in float32) and
Muon with
``torch.optim.Muon``'s own step (Newton–Schulz in bfloat16) — and the three are stepped in
turn, ``--steps`` steps per turn, so all three see the same machine load. Prints the median
step time of each and its ratio to AdamW's.

Run:  .venv/bin/python benchmarks/bench_optimizers.py [--repeats 5] [--steps 5]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

import torch

from spectral_edge.validation.runs.config import RunConfig
from spectral_edge.validation.runs.optimizers import CombinedOptimizer, Float32Muon


def _runs() -> dict[str, object]:
    from spectral_edge.validation.runs.session import RunSession

    runs = {}
    for label, optimizer in (("adamw", "adamw"), ("muon (float32 NS)", "muon"),
                             ("muon (torch, bfloat16 NS)", "muon")):
        cfg = RunConfig.protocol("modadd", optimizer=optimizer, probe_every=None)
        state = RunSession(cfg, Path(tempfile.mkdtemp()))
        if label.startswith("muon (torch"):
            assert isinstance(state.optimizer, CombinedOptimizer)
            for part in state.optimizer.optimizers:
                if isinstance(part, Float32Muon):
                    part.__class__ = torch.optim.Muon  # torch's own step, bfloat16 NS
        runs[label] = state
    return runs


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--steps", type=int, default=5)
    args = parser.parse_args()
    torch.set_num_threads(1)
    runs = _runs()
    times: dict[str, list[float]] = {label: [] for label in runs}
    for _ in range(args.repeats):
        for label, state in runs.items():
            tick = time.perf_counter()
            for _ in range(args.steps):
                state.train_step()
            times[label].append((time.perf_counter() - tick) / args.steps)
    base = statistics.median(times["adamw"])
    for label, t in times.items():
        med = statistics.median(t)
        print(f"{label}: {med * 1e3:.1f} ms per step, {med / base:.2f}x AdamW")


if __name__ == "__main__":
    main()
