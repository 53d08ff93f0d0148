"""DDP on CPU (gloo) with a Gram monitor on every rank:

    torchrun --nproc-per-node 2 examples/ddp.py [--steps N] [--out DIR]

Parameters are replicated, so every rank's monitor sees the same updates and reports the same
spectrum; nothing is communicated for the monitor. The ranks' Grams are compared at the end
(max relative difference, printed); only rank 0 writes files (history, Grams, summary.json).
"""

from __future__ import annotations

import argparse
import json
import tempfile
from pathlib import Path

import torch
import torch.distributed as dist
from torch.nn.parallel import DistributedDataParallel

from spectral_edge.validation.integrations import max_rank_difference, write_outputs
from spectral_edge.validation.monitor import GramMonitor

COLUMNS = ["step", "sigma_1", "sigma_2", "sigma_3", "kstar", "R", "g23", "A"]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--steps", type=int, default=200)
    parser.add_argument("--window", type=int, default=10)
    parser.add_argument("--out", default=None, help="rank 0's output directory")
    args = parser.parse_args(argv)

    dist.init_process_group("gloo")
    rank, world = dist.get_rank(), dist.get_world_size()
    try:
        torch.manual_seed(0)  # the same initial weights on every rank (DDP also broadcasts)
        net = torch.nn.Sequential(torch.nn.Linear(16, 64), torch.nn.Tanh(),
                                  torch.nn.Linear(64, 1)).double()
        model = DistributedDataParallel(net)
        optimizer = torch.optim.AdamW(model.parameters(), lr=1e-2, weight_decay=0.1)
        monitor = GramMonitor(net, window=args.window, optimizer=optimizer)
        gen = torch.Generator().manual_seed(100 + rank)  # each rank its own data
        for _ in range(args.steps):
            x = torch.randn(32, 16, generator=gen, dtype=torch.float64)
            y = torch.sin(2 * x[:, :1])
            optimizer.zero_grad()
            torch.nn.functional.mse_loss(model(x), y).backward()  # gradients all-reduced
            optimizer.step()
            monitor.step()
        stats = monitor.stats
        print(f"rank {rank}: sigma_1..3 = {stats.sigma[:3].tolist()}, k* = {stats.kstar}",
              flush=True)
        gram_diff = max_rank_difference(monitor.grams())  # every window, every rank
        sigma_diff = max_rank_difference(stats.sigma)
        if rank == 0:
            out = Path(args.out or tempfile.mkdtemp(prefix="ddp-gram-"))
            write_outputs(monitor, out)
            summary = {"world_size": world, "steps": args.steps, "n_params": monitor.n_params,
                       "sigma": stats.sigma.tolist(), "max_rel_gram_diff_across_ranks": gram_diff,
                       "max_rel_sigma_diff_across_ranks": sigma_diff}
            (out / "summary.json").write_text(json.dumps(summary, indent=2) + "\n")
            print(monitor.history()[COLUMNS].tail(5).to_string(index=False))
            print(f"max relative Gram difference across {world} ranks: {gram_diff:.3g}")
            print(f"files in {out}")
        dist.barrier()
    finally:
        dist.destroy_process_group()


if __name__ == "__main__":
    main()
