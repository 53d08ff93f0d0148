"""DDP on CPU (gloo) with a Gram monitor on every rank:

    torchrun --nproc-per-node 2 examples/ddp.py [--steps N] [--out DIR]

Parameters are replicated, so every rank's monitor sees the same updates and reports the same
spectrum; nothing is communicated for the monitor. The ranks' Grams are compared at the end
(max relative difference, printed); only rank 0 writes files (history, Grams, summary.json).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import torch
from torch.nn.parallel import DistributedDataParallel

from spectral_edge.validation.integrations import max_rank_difference
from spectral_edge.validation.monitor import GramMonitor

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _shared import parse_args, run_in_gloo_group, write_rank0  # noqa: E402


def main(argv: list[str] | None = None) -> None:
    args = parse_args(__doc__, argv, steps=200, stride=False,
                      out_help="rank 0's output directory")
    run_in_gloo_group(lambda rank, world: train(rank, world, args))


def train(rank: int, world: int, args: argparse.Namespace) -> None:
    """One rank: DDP training with a monitor, the ranks' spectra compared, rank 0 writes."""
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
        summary = {"world_size": world, "steps": args.steps, "n_params": monitor.n_params,
                   "sigma": stats.sigma.tolist(), "max_rel_gram_diff_across_ranks": gram_diff,
                   "max_rel_sigma_diff_across_ranks": sigma_diff}
        write_rank0(monitor, args.out, "ddp-gram-", summary,
                    f"max relative Gram difference across {world} ranks: {gram_diff:.3g}")


if __name__ == "__main__":
    main()
