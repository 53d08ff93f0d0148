"""Where the monitor keeps its updates: the contract (:class:`UpdateStorage`) and exact mode.

A storage holds ``W + 2`` rows (the W+1 live updates and one spare for the incoming one) and
θ_{t−1}. One call of :meth:`UpdateStorage.write` does the whole O(P) work of a snapshot in a
single pass over the parameters, block by block (so a block of δ is still in cache when it
is used): it forms δ = θ_t − θ_{t−1} in θ_{t−1}'s dtype (exact: bfloat16/float16 kept in
float32, which holds them exactly), stores δ (or S δ) in the row, stages θ_t, and returns the
dot products of the new row with every row (float64 values in a list). A rejected update
leaves θ_{t−1} as it was (with one exception below); :meth:`UpdateStorage.commit` makes θ_t
the new θ_{t−1}. θ_{t−1} is double-buffered (the pass stages θ_t in the second buffer),
except in exact mode on the CPU, where the pass overwrites each block of θ_{t−1} in place
(see :class:`ExactStorage`; the exception: a non-finite block after the first, when it and
the blocks before it are already overwritten, leaves those entries of θ_{t−1} NaN).

:class:`ExactStorage` stores δ itself: each dot product is a sum, in float64, of
matrix–vector products over blocks of :data:`BLOCK` entries (a single float32 product over
P = 1e7 entries was off by 2e-3 relative). The sketch mode is
:class:`spectral_edge.validation.monitor.sketch.SketchStorage`.

>>> w = torch.zeros(3, dtype=torch.float64)
>>> store = ExactStorage([w], window=2, dtype=torch.float64)
>>> _ = w.add_(torch.tensor([1.0, 2.0, 2.0]))
>>> store.write(0)
[9.0, 0.0, 0.0, 0.0]
"""

from __future__ import annotations

import math
from abc import ABC, abstractmethod
from dataclasses import dataclass

import numpy as np
import torch

BLOCK = 1 << 18
"""Entries per block: dot products are summed in float64 over blocks of this many entries,
and a snapshot's pass over the parameters goes one block at a time."""
FOREACH_MIN = 4
"""A block made of at least this many tensor pieces is written with ``torch._foreach_*``."""


def widest(dtypes: list[torch.dtype]) -> torch.dtype:
    """θ_{t−1}'s dtype: float64 if any parameter is float64, else float32 (which holds
    bfloat16/float16 exactly).

    Args:
        dtypes: the parameters' dtypes.

    Returns:
        ``torch.float64`` or ``torch.float32``.

    >>> widest([torch.bfloat16, torch.float32])
    torch.float32
    """
    return torch.float64 if torch.float64 in set(dtypes) else torch.float32


@dataclass(frozen=True)
class Piece:
    """The part of one parameter that falls in one block: ``flat`` slices the flattened
    parameter vector, ``local`` the same entries within the block."""

    param: int
    start: int
    stop: int
    flat: slice
    local: slice


def plan_blocks(sizes: list[int], block: int = BLOCK) -> list[tuple[slice, list[Piece]]]:
    """Cut the flattened parameter vector into blocks of at most ``block`` entries.

    Args:
        sizes: number of entries of each parameter, in order.
        block: entries per block (> 0).

    Returns:
        One ``(slice of the flat vector, pieces)`` per block.

    >>> [(b, [(p.param, p.start, p.stop) for p in ps]) for b, ps in plan_blocks([3, 4], 5)]
    [(slice(0, 5, None), [(0, 0, 3), (1, 0, 2)]), (slice(5, 7, None), [(1, 2, 4)])]
    """
    total = sum(sizes)
    starts = np.concatenate([[0], np.cumsum(sizes)]).astype(int).tolist()
    out = []
    for b0 in range(0, total, block):
        b1 = min(b0 + block, total)
        pieces = []
        for i, size in enumerate(sizes):
            lo, hi = max(starts[i], b0), min(starts[i] + size, b1)
            if lo < hi:
                pieces.append(Piece(i, lo - starts[i], hi - starts[i], slice(lo, hi),
                                    slice(lo - b0, hi - b0)))
        out.append((slice(b0, b1), pieces))
    return out


def _flat(p: torch.Tensor) -> torch.Tensor:
    """A flat view of a parameter's values.

    Returns:
        A view (a copy if the parameter is not contiguous).
    """
    p = p.detach()
    return p.view(-1) if p.is_contiguous() else p.reshape(-1)


class UpdateStorage(ABC):
    """The contract every storage mode keeps.

    * ``rows``: a ``(W + 2, row_dim)`` tensor; row ``i`` holds one update (δ or S δ).
    * :meth:`write(slot, drop) <write>`: one pass over the current parameters; row
      ``slot`` becomes the update since θ_{t−1}, θ_t is staged, and the result is the
      list of ⟨row i, row ``slot``⟩ (float64 values) for every row i (this process's share: the
      caller sums it over a shard group), with 0 at row ``drop`` (the update leaving the
      window, whose product nobody reads: exact mode does not read that row at all).
      The other rows are not touched, nor is θ_{t−1} unless the storage keeps it in place
      (:class:`ExactStorage` on the CPU).
    * :meth:`commit`: θ_t becomes θ_{t−1} (after an accepted or a zero update, or a rejected
      one whose parameters are finite).
    * :meth:`resync`: θ_{t−1} ← the current parameters (construction, a NaN recovered).
    * :meth:`rebind`: the parameter tensors were replaced or moved (same shapes): rebuild
      every cached view.
    * Work on detached views only (no autograd graph, so no ``torch.no_grad`` needed on
      the hot path: its enter/exit cost microseconds per call).
    * ``theta_prev``, :attr:`memory_bytes`, and :meth:`extra_state` (tensors beyond
      ``rows`` and ``theta_prev`` that a checkpoint must hold).

    Args:
        params: the monitored tensors (one device).
        window: W.
        dtype: dtype of ``rows``.
        copies: buffers for θ_{t−1}: 2 (double-buffered: θ_t is staged in the other one)
            or 1 (the storage overwrites θ_{t−1} in place and keeps track of it itself).
    """

    def __init__(self, params: list[torch.Tensor], window: int, dtype: torch.dtype,
                 copies: int = 2) -> None:
        self.slots = window + 2
        self.dtype = dtype
        self.param_dtype = widest([p.dtype for p in params])
        self.device = params[0].device
        self.sizes = [p.numel() for p in params]
        self.local = sum(self.sizes)
        self.plan = plan_blocks(self.sizes, BLOCK)
        self._prev = torch.zeros(copies, self.local, dtype=self.param_dtype,
                                 device=self.device)
        self._cur = 0  # self._prev[self._cur] is θ_{t−1}; the other one (if any) is staged θ_t
        self.rows = torch.zeros(self.slots, self.row_dim(), dtype=dtype, device=self.device)
        self.rebind(params)

    @abstractmethod
    def row_dim(self) -> int:
        """Length of a stored update (P, or the sketch dimension m)."""

    @abstractmethod
    def write(self, slot: int, drop: int | None = None) -> list[float]:
        """Store the new update in row ``slot``; its dot products with every row but
        ``drop`` (0 there), as a list (a few Python floats cost less than a NumPy call)."""

    @property
    def memory_bytes(self) -> int:
        """Bytes of the rows, both θ buffers and any work arrays."""
        return (self.rows.numel() * self.rows.element_size()
                + self._prev.numel() * self._prev.element_size())

    @property
    def theta_prev(self) -> torch.Tensor:
        """θ_{t−1}, flattened in the parameters' order."""
        return self._prev[self._cur]

    def extra_state(self) -> dict[str, torch.Tensor]:
        """Tensors, beyond ``rows`` and ``theta_prev``, that a checkpoint must hold.

        Returns:
            ``{key: tensor}`` (empty in exact mode).
        """
        return {}

    def rebind(self, params: list[torch.Tensor]) -> None:
        """Rebuild the cached views of ``params`` (same sizes as at construction)."""
        self.params = list(params)
        self._copied = any(not p.is_contiguous() for p in params)  # views go stale: redo
        self._src = self._sources()
        self._prev_views = [[[buf[pc.flat] for pc in pieces] for _, pieces in self.plan]
                            for buf in self._prev]

    def _sources(self) -> list[list[torch.Tensor]]:
        """Flat views of the parameters' pieces.

        Returns:
            Per block, one view per piece (fresh copies of any non-contiguous parameter).
        """
        flats = [_flat(p) for p in self.params]
        return [[flats[pc.param][pc.start:pc.stop] for pc in pieces] for _, pieces in self.plan]

    def commit(self) -> None:
        """θ_{t−1} ← the θ_t staged by the last :meth:`write`."""
        self._cur = 1 - self._cur

    def resync(self) -> None:
        """θ_{t−1} ← the current parameters."""
        if self._copied:
            self._src = self._sources()
        for src, prev in zip(self._src, self._prev_views[self._cur], strict=True):
            torch._foreach_copy_(prev, src)


def _copy(dst: list[torch.Tensor], src: list[torch.Tensor]) -> None:
    """``dst[i] ← src[i]`` for each piece of a block (one ``torch._foreach_copy_`` call when
    the block has many pieces)."""
    if len(src) >= FOREACH_MIN:
        torch._foreach_copy_(dst, src)
    else:
        for d, s in zip(dst, src, strict=True):
            d.copy_(s)


def theta_copies(device: torch.device) -> int:
    """How many θ_{t−1} buffers exact mode keeps: one (overwritten in place, block by block)
    when the parameters are on the CPU, else two (θ_t staged in the second).

    Args:
        device: the parameters' device.

    Returns:
        1 or 2.

    >>> theta_copies(torch.device("cpu")), theta_copies(torch.device("cuda"))
    (1, 2)
    """
    return 1 if device.type == "cpu" else 2


class ExactStorage(UpdateStorage):
    """Exact mode: row i is the update δ itself (length P, ``dtype`` float32 or float64).

    Memory (W+2)·P numbers plus θ_{t−1} (:func:`theta_copies`: once or twice). A snapshot
    reads θ_t, θ_{t−1} and the W live rows once, and writes δ and θ_t once: W+4 streams of P
    numbers, against the W+1 of one matrix–vector product over the (W+1)-row buffer (the
    benchmark's floor).

    With two θ buffers each block's θ_t is staged in the second one and :meth:`commit` flips
    the two. With one (parameters on the CPU) each block's θ_t is written over its θ_{t−1}
    in place, into cache lines the pass has just read: no second buffer whose lines a staged
    copy would first have to read (write-allocate). The first block is written only after
    its dot products, if its δ·δ is finite (so its δ and θ_t are); later blocks right after
    their δ is formed, while θ_t and θ_{t−1} are still in cache (after the products they
    have been pushed out by the rows: 0.06–0.1 of the floor at P = 1e6). A block whose δ·δ
    is not finite ends the pass and the update is rejected (all products NaN):

    * in the first block, θ_{t−1} is left as it was, as staging leaves it (always the case
      for P ≤ one block, :data:`BLOCK`);
    * in a later block, that block and the ones before it already hold θ_t, and θ_{t−1}
      cannot be put back (θ_t − fl(θ_t − θ_{t−1}) is not θ_{t−1} when the subtraction
      rounded, e.g. θ_{t−1} = 2⁻³⁰, θ_t = 1 in float32), so those entries of θ_{t−1} are set
      to NaN: the next update is non-finite too and is rejected, and the monitor re-anchors
      at the first finite parameters (:meth:`commit`), instead of measuring that update
      from the last finite θ.

    :meth:`commit` after a rejected write copies θ_t (the current parameters) over θ_{t−1}.

    Args:
        params: the monitored tensors (one device).
        window: W.
        dtype: dtype of the rows.
        copies: θ_{t−1} buffers, 1 (in place) or 2 (staged); ``None``: :func:`theta_copies`.

    >>> w = torch.zeros(4)
    >>> store = ExactStorage([w], window=2, dtype=torch.float32)
    >>> store.rows.shape, store.memory_bytes
    (torch.Size([4, 4]), 96)
    """

    def __init__(self, params: list[torch.Tensor], window: int, dtype: torch.dtype,
                 copies: int | None = None) -> None:
        copies = theta_copies(params[0].device) if copies is None else copies
        self.in_place = copies == 1
        self._stale = False  # in place: θ_{t−1} still waits for the last write's θ_t
        super().__init__(params, window, dtype, copies=copies)

    def row_dim(self) -> int:
        return self.local

    def rebind(self, params: list[torch.Tensor]) -> None:
        super().rebind(params)
        self._cols = [self.rows[:, block] for block, _ in self.plan]
        self._dst = [[[self.rows[s, pc.flat] for pc in pieces] for _, pieces in self.plan]
                     for s in range(self.slots)]
        self._new = [[self.rows[s, block] for block, _ in self.plan] for s in range(self.slots)]
        self._partial = torch.zeros(len(self.plan), self.slots, dtype=self.dtype,
                                    device=self.device)
        # in place (CPU): each block's δ·δ, and one block's products, read through NumPy
        self._host = self._partial.numpy() if self.in_place else None
        # per leaving row: the (rows, out) views before and after it, for every block
        self._cut = [[[(self._cols[b][lo:hi], self._partial[b, lo:hi])
                       for lo, hi in ((0, drop), (drop + 1, self.slots)) if lo < hi]
                      for b in range(len(self.plan))] for drop in range(self.slots)]
        # δ straight into the row when the row's dtype holds θ − θ_{t−1} as formed
        self._foreach = self.dtype in (self.param_dtype, torch.float64)
        # in place, one block of one contiguous tensor: (θ_t, θ_{t−1}, the block's products)
        # for a pass with the least Python and no NumPy call (the fixed cost shows at small P)
        one = self.in_place and not self._copied and len(self.plan) == 1
        self._one = (self._src[0][0], self._prev_views[0][0][0], self._partial[0]) if (
            one and len(self._src[0]) == 1) else None

    @property
    def memory_bytes(self) -> int:
        return super().memory_bytes + self._partial.numel() * self._partial.element_size()

    def write(self, slot: int, drop: int | None = None) -> list[float]:
        if self._one is not None and drop is not None:
            return self._write_one(slot, drop)
        if self._copied:
            self._src = self._sources()
        prev, host = self._prev_views[self._cur], self._host
        staged = None if host is not None else self._prev_views[1 - self._cur]
        dst, new, partial = self._dst[slot], self._new[slot], self._partial
        cut = None if drop is None else self._cut[drop]
        for b, src in enumerate(self._src):
            if len(src) >= FOREACH_MIN and self._foreach:
                torch._foreach_copy_(dst[b], src)
                torch._foreach_sub_(dst[b], prev[b])
            else:
                for s, p, d in zip(src, prev[b], dst[b], strict=True):
                    torch.sub(s, p, out=d)  # formed in θ_{t−1}'s dtype, then stored
            if staged is not None:
                _copy(staged[b], src)
            elif b:  # in place, past the first block: θ_t over θ_{t−1} now, both in cache
                _copy(prev[b], src)
            if cut is None:
                torch.mv(self._cols[b], new[b], out=partial[b])
            else:
                for rows, out in cut[b]:  # the rows before and after the leaving one
                    torch.mv(rows, new[b], out=out)
            if host is not None:  # in place: the first block's θ_t once its δ is finite
                if not math.isfinite(host.item(b, slot)):
                    return self._reject(b)
                if not b:
                    _copy(prev[0], src)
        if host is None or len(host) > 1:
            dots = partial.sum(dim=0, dtype=torch.float64).tolist()
        else:  # one block: its float32 products as Python floats (exact; a −0 becomes +0
            dots = host[0].tolist()  # where the Gram takes them, as torch's sum makes it)
        self._stale = False
        if drop is not None:
            dots[drop] = 0.0
        return dots

    def _write_one(self, slot: int, drop: int) -> list[float]:
        """:meth:`write` for one block of one tensor, θ in place (the same operations; the
        products read with one torch ``tolist``, which costs less with cold caches than the
        NumPy view's ``item`` and ``tolist``).

        Returns:
            The products, as :meth:`write` returns them.
        """
        src, prev, products = self._one
        torch.sub(src, prev, out=self._dst[slot][0][0])
        new = self._new[slot][0]
        for rows, out in self._cut[drop][0]:
            torch.mv(rows, new, out=out)
        dots = products.tolist()  # float32 → Python floats, exact (−0 kept: see write)
        if not math.isfinite(dots[slot]):
            return self._reject(0)
        prev.copy_(src)
        self._stale = False
        dots[drop] = 0.0
        return dots

    def _reject(self, block: int) -> list[float]:
        """End an in-place pass at a block whose δ·δ is not finite.

        Args:
            block: the block's index; past the first, this block and the ones before it
                already hold θ_t, so their entries of θ_{t−1} become NaN (see the class
                docstring).

        Returns:
            The rejected update's products: all NaN.
        """
        self._stale = True
        if block:
            self._prev[0, :self.plan[block][0].stop].fill_(math.nan)
        return [math.nan] * self.slots

    def commit(self) -> None:
        """θ_{t−1} ← θ_t: flip the buffers, or (in place) copy θ_t if the last write was
        rejected."""
        if not self.in_place:
            super().commit()
        elif self._stale:
            self.resync()
            self._stale = False


def new_storage_bytes(local: int, window: int, dtype: torch.dtype,
                      param_dtype: torch.dtype, device: torch.device) -> int:
    """:attr:`ExactStorage.memory_bytes` before building one (for the memory check).

    Args:
        local: entries of this process's parameters.
        window: W.
        dtype: row dtype.
        param_dtype: θ_{t−1}'s dtype.
        device: the parameters' device (:func:`theta_copies`).

    Returns:
        Bytes.

    >>> new_storage_bytes(4, 2, torch.float32, torch.float32, torch.device("cpu"))
    96
    """
    slots = window + 2
    return (slots * local * dtype.itemsize
            + theta_copies(device) * local * param_dtype.itemsize
            + math.ceil(local / BLOCK) * slots * dtype.itemsize)
