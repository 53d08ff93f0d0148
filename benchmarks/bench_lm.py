"""The LM plan's training step with and without the monitor: seconds per step, the monitor's
per-step overhead, and peak memory (CUDA: ``torch.cuda.max_memory_allocated``; CPU: the
process's peak resident set, which includes Python and torch themselves).

    .venv/bin/python benchmarks/bench_lm.py [--size tiny|small|paper] [--device cpu|cuda]
        [--steps 40] [--optimizer adamw|muon] [--exact] [--corpus FILE]

The configuration is the LM plan's (validation/experiments/lm_plan.py: ``tiny`` =
LM_TINY, ``small`` = LM_SMALL, ``paper`` = LM_PAPER). Two sessions (monitor off, monitor
on) are timed in interleaved blocks of ``--steps`` steps, ``--repeats`` times, after two
warm-up steps; each reports its fastest block. The monitor is sketched as in the paper
unless ``--exact``. Snapshots come every ``stride`` steps, so the overhead is the snapshot
cost averaged over the stride (each block covers at least one snapshot). On CUDA the runs
use bf16 autocast. Without ``--corpus`` a generated corpus is written to a temporary file.
GPU figures need a GPU: on
a CPU-only machine run ``--device cpu``.
"""

from __future__ import annotations

import argparse
import resource
import tempfile
import time
from pathlib import Path

import torch

from spectral_edge.validation.experiments.lm_plan import LM_PAPER, LM_SMALL, LM_TINY
from spectral_edge.validation.runs.config import RunConfig
from spectral_edge.validation.runs.determinism import torch_settings
from spectral_edge.validation.runs.session import RunSession
from spectral_edge.validation.runs.tasks.lm import generated_corpus

SIZES = {"tiny": LM_TINY, "small": LM_SMALL, "paper": LM_PAPER}


def seconds_per_step(session: RunSession, steps: int) -> float:
    """Mean wall seconds of the next ``steps`` training steps of ``session``."""
    sync = torch.cuda.synchronize if session.task.x_train.is_cuda else (lambda: None)
    sync()
    start = time.perf_counter()
    for _ in range(steps):
        session.train_step()
    sync()
    return (time.perf_counter() - start) / steps


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", choices=SIZES, default="tiny")
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--steps", type=int, default=40)
    parser.add_argument("--optimizer", default="adamw")
    parser.add_argument("--exact", action="store_true", help="exact monitor (default sketch)")
    parser.add_argument("--corpus", default=None)
    parser.add_argument("--threads", type=int, default=1, help="torch threads (CPU)")
    parser.add_argument("--repeats", type=int, default=5, help="interleaved timing blocks")
    args = parser.parse_args()
    corpus = args.corpus or str(generated_corpus(Path(tempfile.mkdtemp()) / "c.txt", 20_000))
    settings = SIZES[args.size] | {
        "task": "lm", "corpus": corpus, "device": args.device, "optimizer": args.optimizer,
        "precision": "fp32" if args.device == "cpu" else "bf16", "n_train": None,
        "steps": max(args.steps * args.repeats + 10, SIZES[args.size]["warmup_steps"] + 1),
        "stride": min(SIZES[args.size]["stride"], args.steps), "threads": args.threads,
    }
    if args.exact:
        settings["sketch_dim"] = None
    config = RunConfig.from_dict(settings)
    cuda = args.device.startswith("cuda")
    best: dict[bool, float] = {}
    with torch_settings(config.threads, config.device):
        sessions = {}
        for monitor in (False, True):
            sessions[monitor] = RunSession(config, Path(tempfile.mkdtemp()))
            if not monitor:
                sessions[monitor].monitor.step = lambda: False  # the loop without the monitor
            for _ in range(2):  # warm-up
                sessions[monitor].train_step()
        n_params = sum(p.numel() for p in sessions[True].model.parameters())
        if cuda:
            torch.cuda.reset_peak_memory_stats()
        for _ in range(args.repeats):  # interleaved: off, on, off, on, ...
            for monitor in (False, True):
                t = seconds_per_step(sessions[monitor], args.steps)
                best[monitor] = min(best.get(monitor, t), t)
    peak = (f"{torch.cuda.max_memory_allocated() / 1e9:.2f} GB (both sessions)" if cuda else
            f"{resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1e6:.2f} GB (process RSS)")
    for monitor in (False, True):
        label = "with monitor" if monitor else "no monitor  "
        print(f"{label} {best[monitor] * 1e3:9.2f} ms/step (min of {args.repeats} blocks of "
              f"{args.steps} steps)")
    print(f"peak memory  {peak}")
    out = best
    mode = "exact" if args.exact else f"sketch {config.sketch_dim}"
    print(f"config: {args.size}, {args.optimizer}, {args.device} ({config.threads} thread), "
          f"monitor {mode}, "
          f"W={config.window}, stride {config.stride}, P={n_params:,}")
    print(f"monitor overhead per step: {(out[True] - out[False]) * 1e3:.2f} ms "
          f"({out[True] / out[False] - 1:+.1%})")


if __name__ == "__main__":
    main()
