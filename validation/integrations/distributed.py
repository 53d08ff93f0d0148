"""Distributed training: the local shards of FSDP2 parameters for a sharded
:class:`~spectral_edge.validation.monitor.GramMonitor`, and a cross-rank agreement check.

Under DDP the parameters are replicated, so a plain ``GramMonitor(model)`` on every rank sees
the same updates and needs no communication. Under FSDP2 (``fully_shard``) every parameter
is a ``DTensor`` whose rank-local piece is ``p.to_local()``; :func:`local_shards` hands the
monitor those pieces (views that follow the optimizer's in-place updates), and
``shard_group=`` sums the pieces' dot products over the ranks, so every rank sees the Gram
of the full parameter vector::

    fully_shard(model)                      # after the first optimizer step:
    monitor = GramMonitor(local_shards(model), window=10, shard_group=dist.group.WORLD)

Imports only torch (``torch.distributed.tensor`` when a DTensor is met).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

from spectral_edge.common.errors import InputError


def _dtensor_type() -> type | None:
    try:
        from torch.distributed.tensor import DTensor
    except ImportError:  # torch built without distributed
        return None
    return DTensor


def local_shards(
    model_or_named: torch.nn.Module | Any, group: Any = None
) -> list[tuple[str, torch.Tensor]]:
    """``(name, local tensor)`` pairs for a sharded monitor, one per trainable parameter.

    A ``DTensor`` sharded on a one-dimensional mesh (``Shard(d)``, FSDP2) gives its rank-local
    piece: a view of the storage the optimizer updates in place, so the monitor sees every
    step. A replicated one (``Replicate()``) or a plain tensor (a parameter FSDP does not
    manage) is the same on every rank: it is given on rank 0 of ``group`` only (default: the
    world), so the summed Gram counts it once. Meshes of more than one dimension (HSDP)
    raise :class:`InputError`: pass the shards of one replica to a monitor whose
    ``shard_group`` is that replica's shard group instead.

    Build the monitor after the first optimizer step, when FSDP's lazy initialisation has
    settled every local tensor.

    >>> net = torch.nn.Linear(2, 1)
    >>> [name for name, _ in local_shards(net)]  # no process group: plain tensors, kept
    ['weight', 'bias']
    """
    if isinstance(model_or_named, torch.nn.Module):
        named = list(model_or_named.named_parameters())
    else:
        named = [(str(n), p) for n, p in model_or_named]
    import torch.distributed as dist

    distributed = dist.is_available() and dist.is_initialized()
    first = not distributed or dist.get_rank(group) == 0
    DTensor = _dtensor_type()
    out = []
    for name, p in named:
        if not p.requires_grad:
            continue
        if DTensor is not None and isinstance(p, DTensor):
            if p.device_mesh.ndim != 1:
                raise InputError(
                    f"parameter {name!r} lives on a {p.device_mesh.ndim}-D device mesh; "
                    "local_shards supports one-dimensional meshes (FSDP2 fully_shard)"
                )
            (placement,) = p.placements
            if placement.is_shard():
                local = p.to_local().detach()  # a view: the optimizer's updates show here
            elif placement.is_replicate():
                if not first:
                    continue
                local = p.to_local().detach()
            else:
                raise InputError(
                    f"parameter {name!r} has placement {placement}; local_shards takes "
                    "Shard or Replicate"
                )
            local.requires_grad_(True)  # the monitor watches trainable tensors only
            out.append((name, local))
        elif first:
            out.append((name, p))
    return out


def max_rank_difference(array: np.ndarray, group: Any = None) -> float:
    """max |A_r − A_0| / max |A_0| over the ranks r of ``group`` (every rank gets the
    figure; 0.0 without a process group). Used to check that every rank's monitor reports
    the same Gram or spectrum."""
    import torch.distributed as dist

    if not (dist.is_available() and dist.is_initialized()):
        return 0.0
    gathered: list[Any] = [None] * dist.get_world_size(group)
    dist.all_gather_object(gathered, np.asarray(array, dtype=np.float64), group=group)
    ref = gathered[0]
    scale = float(np.max(np.abs(ref))) or 1.0
    return max(float(np.max(np.abs(a - ref))) / scale for a in gathered)
