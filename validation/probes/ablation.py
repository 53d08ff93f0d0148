"""Ablation: remove θ's component along chosen directions of the monitored parameters,
θ' = θ − Σ_k ⟨θ, v_k⟩ v_k (as the paper's scripts do; docs/spec.md §8), measure, and put
the parameters back exactly.

>>> import torch
>>> ablated(torch.tensor([3.0, 4.0]), torch.tensor([[1.0, 0.0]])).tolist()
[0.0, 4.0]
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TypeVar

import numpy as np
import torch

from spectral_edge.common.errors import InputError
from spectral_edge.common.validate import check_int

T = TypeVar("T")


def ablated(theta: torch.Tensor, directions: torch.Tensor) -> torch.Tensor:
    """θ − Σ_k ⟨θ, v_k⟩ v_k for orthonormal rows v_k of ``directions``."""
    if directions.ndim != 2 or directions.shape[1] != theta.shape[0]:
        raise InputError(
            f"directions: need shape (k, {theta.shape[0]}), got {tuple(directions.shape)}"
        )
    d = directions.to(theta)
    return theta - d.T @ (d @ theta)


def random_directions(P: int, k: int, rng: np.random.Generator) -> torch.Tensor:
    """``k`` orthonormal random unit directions in R^P (rows), float64, from ``rng``.

    >>> d = random_directions(5, 2, np.random.default_rng(0))
    >>> bool(torch.allclose(d @ d.T, torch.eye(2, dtype=torch.float64)))
    True
    """
    P, k = check_int("P", P, 1), check_int("k", k, 1, P)
    q, _ = np.linalg.qr(rng.standard_normal((P, k)))
    return torch.from_numpy(np.ascontiguousarray(q.T))


@torch.no_grad()
def with_ablated(
    params: Sequence[torch.Tensor], directions: torch.Tensor, measure: Callable[[], T]
) -> T:
    """Run ``measure()`` with ``params`` (flattened in order) ablated along ``directions``;
    the parameters are restored bitwise afterwards, even if ``measure`` raises.

    >>> w = torch.tensor([3.0, 4.0])
    >>> with_ablated([w], torch.tensor([[0.0, 1.0]]), lambda: w.tolist()), w.tolist()
    ([3.0, 0.0], [3.0, 4.0])
    """
    saved = [p.detach().clone() for p in params]
    theta = torch.cat([s.reshape(-1) for s in saved])
    new = ablated(theta.double(), directions.double())
    try:
        for p, part in zip(params, torch.split(new, [s.numel() for s in saved]), strict=True):
            p.copy_(part.view(p.shape).to(p.dtype))
        return measure()
    finally:
        for p, s in zip(params, saved, strict=True):
            p.copy_(s)
