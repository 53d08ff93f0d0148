"""Sharded parameters across two processes (gloo): the summed Gram equals the full one."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.distributed as dist
import torch.multiprocessing as mp

from spectral_edge.validation.monitor import GramMonitor

W, P, STEPS = 3, 40, 7


def updates() -> np.ndarray:
    return np.random.default_rng(11).normal(size=(STEPS, P))


def worker(rank: int, init_file: str, out_file: str) -> None:
    dist.init_process_group("gloo", init_method=f"file://{init_file}", rank=rank, world_size=2)
    try:
        shard = slice(rank * P // 2, (rank + 1) * P // 2)
        p = torch.zeros(P // 2, dtype=torch.float64, requires_grad=True)
        mon = GramMonitor([p], window=W, dtype=torch.float64, shard_group=dist.group.WORLD)
        for row in updates():
            with torch.no_grad():
                p.add_(torch.from_numpy(row[shard]))
            mon.step()
        np.savez(f"{out_file}.{rank}.npz", gram=mon.gram_plus(), n=mon.n_params,
                 sigma=mon.stats.sigma)
    finally:
        dist.destroy_process_group()


@pytest.mark.xdist_group("distributed")  # one multi-process job at a time
def test_sharded_gram_equals_full_gram(tmp_path) -> None:
    mp.spawn(worker, args=(str(tmp_path / "init"), str(tmp_path / "out")), nprocs=2)
    X = updates()[-(W + 1) :]
    for rank in (0, 1):
        got = np.load(tmp_path / f"out.{rank}.npz")
        assert int(got["n"]) == P  # the global parameter count
        np.testing.assert_allclose(got["gram"], X @ X.T, rtol=1e-12)
        np.testing.assert_allclose(got["sigma"], np.linalg.svd(X[1:], compute_uv=False),
                                   rtol=1e-9)


def test_sharding_needs_exact_mode() -> None:
    import pytest

    from spectral_edge.common.errors import InputError

    with pytest.raises(InputError, match="exact mode"):
        GramMonitor([torch.zeros(4, requires_grad=True)], window=2, sketch_dim=8,
                    shard_group=object())


def test_dtensor_parameters_get_a_clear_error(tmp_path) -> None:
    from torch.distributed.device_mesh import init_device_mesh
    from torch.distributed.tensor import Shard, distribute_tensor

    from spectral_edge.common.errors import InputError
    from spectral_edge.validation.monitor import GramMonitor

    dist.init_process_group("gloo", init_method=f"file://{tmp_path}/store", rank=0,
                            world_size=1)
    try:
        mesh = init_device_mesh("cpu", (1,))
        weight = torch.nn.Parameter(distribute_tensor(torch.randn(4, 3), mesh, [Shard(0)]))
        with pytest.raises(InputError, match="DTensor.*local_shards"):
            GramMonitor([("w", weight)], window=2)
    finally:
        dist.destroy_process_group()
