"""FSDP2 (fully_shard) on CPU (gloo) with a sharded Gram monitor:

    torchrun --nproc-per-node 2 examples/fsdp.py [--steps N] [--out DIR]

Each rank holds a shard of every parameter (DTensor); the monitor watches the local shards
(``local_shards``) and sums the shards' dot products over the ranks (``shard_group``), so every
rank reports the Gram of the full parameter vector. To check it, every rank also trains an
unsharded copy of the model on the whole global batch and monitors it; the largest relative
difference between the two monitors' Grams is printed (float64) and written by rank 0 to
summary.json with the history and Grams.
"""

from __future__ import annotations

import argparse
import copy
import sys
from pathlib import Path

import numpy as np
import torch
import torch.distributed as dist
from torch.distributed.fsdp import fully_shard

from spectral_edge.validation.integrations import local_shards, max_rank_difference
from spectral_edge.validation.monitor import GramMonitor

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _shared import parse_args, run_in_gloo_group, write_rank0  # noqa: E402


def train_step(model, optimizer, x, y) -> None:
    optimizer.zero_grad()
    torch.nn.functional.mse_loss(model(x), y).backward()
    optimizer.step()


def main(argv: list[str] | None = None) -> None:
    args = parse_args(__doc__, argv, steps=100, stride=False,
                      out_help="rank 0's output directory")
    run_in_gloo_group(lambda rank, world: train(rank, world, args))


def train(rank: int, world: int, args: argparse.Namespace) -> None:
    """One rank: FSDP2 and an unsharded reference trained side by side, their monitors' Grams
    compared, rank 0 writes."""
    torch.manual_seed(0)
    net = torch.nn.Sequential(torch.nn.Linear(16, 63), torch.nn.Tanh(),  # 63: uneven shards
                              torch.nn.Linear(63, 1)).double()
    reference = copy.deepcopy(net)  # unsharded, trained on the whole global batch
    for layer in net:
        if isinstance(layer, torch.nn.Linear):
            fully_shard(layer)
    fully_shard(net)
    opt = torch.optim.Adam(net.parameters(), lr=1e-2)
    ref_opt = torch.optim.Adam(reference.parameters(), lr=1e-2)
    gen = torch.Generator().manual_seed(7)  # the same global batches on every rank
    monitor = ref_monitor = None
    for step in range(args.steps):
        x = torch.randn(8 * world, 16, generator=gen, dtype=torch.float64)
        y = torch.sin(2 * x[:, :1])
        mine = slice(8 * rank, 8 * (rank + 1))
        train_step(net, opt, x[mine], y[mine])  # gradients averaged over the ranks
        train_step(reference, ref_opt, x, y)
        if step == 0:  # after FSDP's lazy initialisation: the local tensors are final
            monitor = GramMonitor(local_shards(net), window=args.window, optimizer=opt,
                                  shard_group=dist.group.WORLD)
            ref_monitor = GramMonitor(reference, window=args.window, optimizer=ref_opt)
        else:
            monitor.step()
            ref_monitor.step()
    grams, ref = monitor.grams(), ref_monitor.grams()
    vs_unsharded = float(np.max(np.abs(grams - ref)) / np.max(np.abs(ref)))
    across_ranks = max_rank_difference(grams)
    local = sum(p.numel() for _, p in local_shards(net))
    print(f"rank {rank}: {local} of {monitor.n_params} parameters here, sigma_1..3 = "
          f"{monitor.stats.sigma[:3].tolist()}", flush=True)
    worst = torch.tensor([vs_unsharded], dtype=torch.float64)
    dist.all_reduce(worst, op=dist.ReduceOp.MAX)
    if rank == 0:
        summary = {"world_size": world, "steps": args.steps, "n_params": monitor.n_params,
                   "sigma": monitor.stats.sigma.tolist(),
                   "max_rel_gram_diff_vs_unsharded": float(worst),
                   "max_rel_gram_diff_across_ranks": across_ranks}
        write_rank0(monitor, args.out, "fsdp-gram-", summary,
                    "max relative Gram difference, sharded vs unsharded: "
                    f"{float(worst):.3g}; across {world} ranks: {across_ranks:.3g}")


if __name__ == "__main__":
    main()
