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
import json
import tempfile
from pathlib import Path

import numpy as np
import torch
import torch.distributed as dist
from torch.distributed.fsdp import fully_shard

from spectral_edge.validation.integrations import local_shards, max_rank_difference, write_outputs
from spectral_edge.validation.monitor import GramMonitor

COLUMNS = ["step", "sigma_1", "sigma_2", "sigma_3", "kstar", "R", "g23", "A"]


def train_step(model, optimizer, x, y) -> None:
    optimizer.zero_grad()
    torch.nn.functional.mse_loss(model(x), y).backward()
    optimizer.step()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--steps", type=int, default=100)
    parser.add_argument("--window", type=int, default=10)
    parser.add_argument("--out", default=None, help="rank 0's output directory")
    args = parser.parse_args(argv)

    dist.init_process_group("gloo")
    rank, world = dist.get_rank(), dist.get_world_size()
    try:
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
            out = Path(args.out or tempfile.mkdtemp(prefix="fsdp-gram-"))
            write_outputs(monitor, out)
            summary = {"world_size": world, "steps": args.steps, "n_params": monitor.n_params,
                       "sigma": monitor.stats.sigma.tolist(),
                       "max_rel_gram_diff_vs_unsharded": float(worst),
                       "max_rel_gram_diff_across_ranks": across_ranks}
            (out / "summary.json").write_text(json.dumps(summary, indent=2) + "\n")
            print(monitor.history()[COLUMNS].tail(5).to_string(index=False))
            print(f"max relative Gram difference, sharded vs unsharded: {float(worst):.3g}; "
                  f"across {world} ranks: {across_ranks:.3g}")
            print(f"files in {out}")
        dist.barrier()  # without it, destroy_process_group can abort the process at exit
    finally:
        dist.destroy_process_group()


if __name__ == "__main__":
    main()
