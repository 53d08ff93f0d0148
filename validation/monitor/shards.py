"""The distributed sum: with parameters sharded over a process group (FSDP, tensor
parallelism), each rank computes the dot products of its shard and they are summed here.

>>> all_reduce_sum(np.array([1.0, 2.0]), group=None).tolist()  # no group: as it is
[1.0, 2.0]
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch


def all_reduce_sum(values: np.ndarray, group: Any, device: torch.device | str = "cpu"
                   ) -> np.ndarray:
    """Sum ``values`` over the ranks of ``group`` (the identity without a group).

    Args:
        values: this rank's float64 values.
        group: a ``torch.distributed`` process group, or ``None``.
        device: the parameters' device (used with the NCCL backend, which sums on the GPU).

    Returns:
        The float64 sum over the group.

    >>> all_reduce_sum(np.zeros(1), None).tolist()
    [0.0]
    """
    if group is None:
        return values
    import torch.distributed as dist

    where = device if dist.get_backend(group) == "nccl" else "cpu"
    summed = torch.from_numpy(np.ascontiguousarray(values, dtype=np.float64)).to(where)
    with torch.no_grad():
        dist.all_reduce(summed, group=group)
    return summed.cpu().numpy()
