"""Sketch mode: the monitor stores S δ instead of δ (``GramMonitor(..., sketch_dim=m)``).

S is an m×P sparse random-sign projection (CountSketch: one ±1 per coordinate, so
E[⟨Sx, Sy⟩] = ⟨x, y⟩). δ is formed exactly, as in exact mode, and S δ accumulated in
float64, so memory is O(W·m) plus θ_{t−1} and one int32 hash per coordinate. A rank-one
window's σ has relative standard error ≈ 1/√(2m); see ``docs/monitor.md`` for the accuracy
measured on real runs.

>>> w = torch.zeros(6, dtype=torch.float64)
>>> store = SketchStorage([w], window=2, sketch_dim=4, seed=0)
>>> _ = w.add_(1.0)
>>> dots = store.write(0)
>>> bool(dots[0] == (store.rows[0] ** 2).sum())
True
"""

from __future__ import annotations

import torch

from spectral_edge.validation.monitor.storage import BLOCK, UpdateStorage


def countsketch_hash(n: int, sketch_dim: int, seed: int) -> torch.Tensor:
    """One int32 code per coordinate: ``bucket + sketch_dim * negative`` (bucket in
    0..m−1, negative 0 or 1), drawn on the CPU from ``seed``.

    Args:
        n: number of coordinates.
        sketch_dim: m.
        seed: seed of the generator.

    Returns:
        An int32 tensor of length ``n``.

    >>> countsketch_hash(5, 3, seed=0).tolist() == countsketch_hash(5, 3, seed=0).tolist()
    True
    """
    gen = torch.Generator(device="cpu").manual_seed(seed)
    bucket = torch.randint(0, sketch_dim, (n,), generator=gen)
    negative = torch.randint(0, 2, (n,), generator=gen)
    return (bucket + sketch_dim * negative).to(torch.int32)


class SketchStorage(UpdateStorage):
    """Sketch mode: row i is S δ (float64, length ``sketch_dim``).

    Args:
        params: the monitored tensors (one device).
        window: W.
        sketch_dim: m, the sketch dimension.
        seed: seed of the hash (:func:`countsketch_hash`).

    >>> store = SketchStorage([torch.zeros(3)], window=2, sketch_dim=2, seed=1)
    >>> store.rows.shape, store.hash.dtype
    (torch.Size([4, 2]), torch.int32)
    """

    def __init__(self, params: list[torch.Tensor], window: int, sketch_dim: int,
                 seed: int) -> None:
        self.sketch_dim = sketch_dim
        local = sum(p.numel() for p in params)
        self.hash = countsketch_hash(local, sketch_dim, seed).to(params[0].device)
        self._acc = torch.zeros(2 * sketch_dim, dtype=torch.float64, device=params[0].device)
        self._delta = torch.zeros(min(local, BLOCK), dtype=torch.float64,
                                  device=params[0].device)
        super().__init__(params, window, torch.float64)

    def row_dim(self) -> int:
        return self.sketch_dim

    def rebind(self, params: list[torch.Tensor]) -> None:
        super().rebind(params)
        self._codes = [[self.hash[pc.flat] for pc in pieces] for _, pieces in self.plan]

    @property
    def memory_bytes(self) -> int:
        return (super().memory_bytes + 4 * self.hash.numel()
                + 8 * (self._acc.numel() + self._delta.numel()))

    def extra_state(self) -> dict[str, torch.Tensor]:
        return {"hash": self.hash}

    def write(self, slot: int, drop: int | None = None) -> list[float]:
        if self._copied:
            self._src = self._sources()
        prev, staged = self._prev_views[self._cur], self._prev_views[1 - self._cur]
        acc, m = self._acc, self.sketch_dim
        acc.zero_()
        for b, src in enumerate(self._src):
            for s, p, t, code in zip(src, prev[b], staged[b], self._codes[b], strict=True):
                delta = self._delta[: s.numel()]
                torch.sub(s, p, out=delta)  # formed in θ_{t−1}'s dtype (exact), then float64
                acc.index_add_(0, code, delta)
                t.copy_(s)
        torch.sub(acc[:m], acc[m:], out=self.rows[slot])
        dots = (self.rows @ self.rows[slot]).tolist()
        if drop is not None:
            dots[drop] = 0.0
        return dots


def sketch_storage_bytes(local: int, window: int, sketch_dim: int,
                         param_dtype: torch.dtype) -> int:
    """:attr:`SketchStorage.memory_bytes` before building one (for the memory check).

    Args:
        local: entries of this process's parameters.
        window: W.
        sketch_dim: m.
        param_dtype: θ_{t−1}'s dtype.

    Returns:
        Bytes.

    >>> sketch_storage_bytes(3, 2, 2, torch.float32)
    156
    """
    return (8 * (window + 2) * sketch_dim + 2 * local * param_dtype.itemsize + 4 * local
            + 8 * (2 * sketch_dim + min(local, BLOCK)))
