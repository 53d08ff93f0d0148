"""The LM plan's training step with and without the monitor: seconds per step, the monitor's
per-step overhead, and peak memory (CUDA: ``torch.cuda.max_memory_allocated``; CPU: the
process's peak resident set, which includes Python and torch themselves).

    .venv/bin/python benchmarks/bench_lm.py [--size tiny|small|paper] [--device cpu|cuda]
        [--steps 40] [--optimizer adamw|muon] [--exact] [--corpus FILE]

The configuration is the LM plan's (validation/experiments/lm_plan.py: ``tiny`` = LM_TINY,
``small`` = LM_SMALL, ``paper`` = LM_PAPER) with ``--steps`` steps timed after two warm-up
steps; the monitor is sketched as in the paper unless ``--exact``. Snapshots come every
``stride`` steps, so the per-step overhead is the snapshot cost averaged over the stride
(the timed steps cover at least one snapshot). On CUDA the runs use bf16 autocast. Without
``--corpus`` a generated corpus is written to a temporary file. GPU figures need a GPU: on
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


def seconds_per_step(session: RunSession, steps: int, monitor: bool) -> float:
    """Mean wall seconds of ``steps`` training steps (monitor on or off)."""
    if not monitor:
        session.monitor.step = lambda: False  # the same loop without the monitor
    sync = torch.cuda.synchronize if session.task.x_train.is_cuda else (lambda: None)
    for _ in range(2):
        session.train_step()
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
    args = parser.parse_args()
    corpus = args.corpus or str(generated_corpus(Path(tempfile.mkdtemp()) / "c.txt", 20_000))
    settings = SIZES[args.size] | {
        "task": "lm", "corpus": corpus, "device": args.device, "optimizer": args.optimizer,
        "precision": "fp32" if args.device == "cpu" else "bf16", "n_train": None,
        "steps": max(args.steps + 10, SIZES[args.size]["warmup_steps"] + 1),
        "stride": min(SIZES[args.size]["stride"], args.steps), "threads": args.threads,
    }
    if args.exact:
        settings["sketch_dim"] = None
    config = RunConfig.from_dict(settings)
    cuda = args.device.startswith("cuda")
    out = {}
    for monitor in (False, True):
        if cuda:
            torch.cuda.reset_peak_memory_stats()
        with torch_settings(config.threads, config.device):
            session = RunSession(config, Path(tempfile.mkdtemp()))
            n_params = sum(p.numel() for p in session.model.parameters())
            out[monitor] = seconds_per_step(session, args.steps, monitor)
        peak = (torch.cuda.max_memory_allocated() / 1e9 if cuda
                else resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1e6)
        label = "with monitor" if monitor else "no monitor  "
        print(f"{label} {out[monitor] * 1e3:9.2f} ms/step   peak memory {peak:6.2f} GB"
              f"{'' if cuda else ' (process RSS, cumulative)'}")
        del session
    mode = "exact" if args.exact else f"sketch {config.sketch_dim}"
    print(f"config: {args.size}, {args.optimizer}, {args.device} ({config.threads} thread), "
          f"monitor {mode}, "
          f"W={config.window}, stride {config.stride}, P={n_params:,}")
    print(f"monitor overhead per step: {(out[True] - out[False]) * 1e3:.2f} ms "
          f"({out[True] / out[False] - 1:+.1%})")


if __name__ == "__main__":
    main()
