"""Streaming rolling-window Gram monitor for PyTorch training (THEORY.md §1–2).

``GramMonitor`` watches a set of parameters, forms the update δ_t = θ_t − θ_{t−1} at every
snapshot (every ``stride`` calls of :meth:`GramMonitor.step`), and keeps the
(W+1)×(W+1) Gram of the last W+1 updates up to date with one pass over its ring buffer:
a new update costs W+2 dot products, never a re-stack and SVD of X. Statistics come from
:mod:`numerics.spectra` (one definition of each quantity).

Two storage modes:

* **exact** (default): the last W+1 updates are kept (float32 by default; each dot product
  is a sum, in float64, of matrix–vector products over blocks of 2¹⁸ entries — a single
  float32 product over P = 1e7 entries was off by 2e-3 relative). Memory (W+2)·P numbers.
* **sketch** (``sketch_dim=m``): each update is replaced by S δ, S an m×P sparse random-sign
  projection (CountSketch: one ±1 per coordinate, so E[⟨Sx, Sy⟩] = ⟨x, y⟩). S θ is
  accumulated in float64 and S δ_t = S θ_t − S θ_{t−1}, so memory is O(W·m) plus one int32
  hash per coordinate. A rank-one window's σ has relative standard error ≈ 1/√(2m); see
  ``docs/monitor.md`` for the accuracy measured on real runs.

A bad update (NaN/Inf or exactly zero) never enters the window: by default it is skipped
with a warning (``on_error="warn"``); ``on_error="raise"`` raises
:class:`numerics.errors.InputError` instead. Either way the window is left as it was.

>>> import torch
>>> model = torch.nn.Linear(20, 5)
>>> opt = torch.optim.SGD(model.parameters(), lr=0.1)
>>> mon = GramMonitor(model, window=4, optimizer=opt)
>>> for _ in range(6):
...     opt.zero_grad(); model(torch.randn(8, 20)).pow(2).mean().backward(); opt.step()
...     _ = mon.step()
>>> mon.stats.W, mon.gram().shape, len(mon.history())
(4, (4, 4), 3)
"""

from __future__ import annotations

import math
import re
import warnings
from collections.abc import Iterable
from typing import Any, Literal

import numpy as np
import pandas as pd
import torch

from numerics import spectra
from numerics.errors import InputError

ATTENTION_PATTERN = (
    r"(^|\.)(q_proj|k_proj|v_proj|o_proj|out_proj|query|key|value|c_attn|W_[QKVO])\.weight$"
    r"|(^|\.)in_proj_weight$|attn\.c_proj\.weight$"
)
"""Names taken by ``select="attention"``: the Q/K/V/O projection weights of common layouts
(separate ``q_proj``/``k_proj``/``v_proj``/``out_proj``, ``nn.MultiheadAttention``'s
``in_proj_weight``, GPT-2's ``attn.c_attn``/``attn.c_proj``)."""

BLOCK = 1 << 18  # dot products are summed in float64 over blocks of this many entries
PENDING_LIMIT = 256  # windows whose statistics wait to be computed, at most

ParamsLike = torch.nn.Module | Iterable[torch.Tensor] | Iterable[tuple[str, torch.Tensor]]


def select_parameters(
    source: ParamsLike, select: str = "all"
) -> list[tuple[str, torch.Tensor]]:
    """The monitored ``(name, tensor)`` pairs, sorted by name.

    ``select`` is ``"all"`` (every trainable parameter), ``"attention"`` (Q/K/V/O projection
    weights, :data:`ATTENTION_PATTERN`) or a regular expression searched in the names.

    >>> net = torch.nn.Sequential(torch.nn.Linear(2, 3), torch.nn.Linear(3, 1))
    >>> [n for n, _ in select_parameters(net, r"weight")]
    ['0.weight', '1.weight']
    """
    if isinstance(source, torch.nn.Module):
        named = list(source.named_parameters())
    else:
        items = list(source)
        if items and isinstance(items[0], torch.Tensor):
            named = [(f"param{i:04d}", p) for i, p in enumerate(items)]
        else:
            named = [(str(n), p) for n, p in items]
    named = [(n, p) for n, p in named if p.requires_grad]
    if select == "attention":
        pattern = re.compile(ATTENTION_PATTERN)
    elif select == "all":
        pattern = None
    else:
        try:
            pattern = re.compile(select)
        except re.error as err:
            raise InputError(f"select is not a valid regular expression: {err}") from err
    chosen = [(n, p) for n, p in named if pattern is None or pattern.search(n)]
    if not chosen:
        raise InputError(f"select={select!r} matches no trainable parameter")
    return sorted(chosen, key=lambda item: item[0])


class GramMonitor:
    """Rolling-window Gram monitor; call :meth:`step` after every ``optimizer.step()``.

    Args:
        model_or_params: an ``nn.Module``, an iterable of tensors, or of ``(name, tensor)``.
        window: W, the number of updates in a window (≥ 2).
        stride: take a snapshot every ``stride`` calls of :meth:`step` (≥ 1).
        select: ``"all"``, ``"attention"`` or a name regex (see :func:`select_parameters`).
        sketch_dim: store m-dimensional sketches of the updates instead of the updates.
        optimizer: read the learning rate (first param group) at each snapshot, for A.
        lr: a fixed learning rate for A when no optimizer is given.
        kstar_method: the k* variant reported as ``kstar`` (``weighted`` by default).
        dtype: storage dtype of the exact-mode buffer (``torch.float32`` or ``float64``).
        on_error: ``"warn"`` (skip a bad update) or ``"raise"``.
        seed: seed of the sketch hash.
        keep_grams: keep every window's (W+1)-Gram in memory (for :meth:`grams`).
        shard_group: a ``torch.distributed`` process group whose ranks each hold a disjoint
            shard of the monitored parameters (FSDP, tensor parallelism): each rank computes
            the dot products of its shard and they are summed over the group, so every rank
            sees the Gram of the full parameter vector. Exact mode only. (With replicated
            parameters, as in DDP, no group is needed: every rank sees the same updates.)

    >>> w = torch.zeros(3, requires_grad=True)
    >>> mon = GramMonitor([w], window=2)
    >>> for v in ([1.0, 0, 0], [1.0, 1.0, 0], [1.0, 1.0, 1.0]):
    ...     with torch.no_grad():
    ...         _ = w.copy_(torch.tensor(v))
    ...     _ = mon.step()
    >>> mon.gram().tolist()
    [[1.0, 0.0], [0.0, 1.0]]
    """

    def __init__(
        self,
        model_or_params: ParamsLike,
        window: int = 10,
        stride: int = 1,
        select: str = "all",
        sketch_dim: int | None = None,
        *,
        optimizer: torch.optim.Optimizer | None = None,
        lr: float | None = None,
        kstar_method: spectra.KStarMethod = "weighted",
        dtype: torch.dtype = torch.float32,
        on_error: Literal["warn", "raise"] = "warn",
        seed: int = 0,
        keep_grams: bool = True,
        shard_group: Any = None,
    ) -> None:
        if not isinstance(window, int) or window < 2:
            raise InputError(f"window must be an integer >= 2, got {window!r}")
        if not isinstance(stride, int) or stride < 1:
            raise InputError(f"stride must be an integer >= 1, got {stride!r}")
        if sketch_dim is not None and (not isinstance(sketch_dim, int) or sketch_dim < window):
            raise InputError(
                f"sketch_dim must be an integer >= window ({window}), got {sketch_dim!r}"
            )
        if lr is not None and not lr > 0:
            raise InputError(f"lr must be > 0, got {lr}")
        if kstar_method not in spectra.KSTAR_METHODS:
            raise InputError(f"kstar_method must be one of {spectra.KSTAR_METHODS}")
        if on_error not in ("warn", "raise"):
            raise InputError(f"on_error must be 'warn' or 'raise', got {on_error!r}")
        if dtype not in (torch.float32, torch.float64):
            raise InputError(f"dtype must be torch.float32 or torch.float64, got {dtype}")
        self.window, self.stride, self.sketch_dim = window, stride, sketch_dim
        self.optimizer, self.lr, self.kstar_method = optimizer, lr, kstar_method
        self.on_error, self.keep_grams = on_error, keep_grams
        self.names_params = select_parameters(model_or_params, select)
        self.names = [n for n, _ in self.names_params]
        self._params = [p for _, p in self.names_params]
        self.shard_group = shard_group
        if shard_group is not None and sketch_dim is not None:
            raise InputError("shard_group works in exact mode only (sketch_dim=None)")
        local = sum(p.numel() for p in self._params)
        self.n_params = int(self._all_reduce(np.array([float(local)]))[0])
        device = self._params[0].device
        self._slices: list[slice] = []
        start = 0
        for p in self._params:
            self._slices.append(slice(start, start + p.numel()))
            start += p.numel()
        slots = window + 2  # W+1 live updates and one spare slot for the incoming update
        if sketch_dim is None:
            self._buf = torch.zeros(slots, local, dtype=dtype, device=device)
            n_blocks = math.ceil(local / BLOCK)
            self._blocks = [slice(i * BLOCK, (i + 1) * BLOCK) for i in range(n_blocks)]
            self._partial = torch.zeros(n_blocks, slots, dtype=dtype, device=device)
            self._theta_prev = torch.zeros(local, dtype=dtype, device=device)
            # per-tensor views, so one foreach call covers every monitored tensor
            self._prev_views = self._views(self._theta_prev)
            self._slot_views = [self._views(self._buf[i]) for i in range(slots)]
        else:
            gen = torch.Generator(device="cpu").manual_seed(seed)
            bucket = torch.randint(0, sketch_dim, (local,), generator=gen)
            negative = torch.randint(0, 2, (local,), generator=gen)
            self._hash = (bucket + sketch_dim * negative).to(torch.int32).to(device)
            self._buf = torch.zeros(slots, sketch_dim, dtype=torch.float64, device=device)
            self._theta_prev = torch.zeros(sketch_dim, dtype=torch.float64, device=device)
        # order[i] is the slot of the i-th oldest live update; order[-1] is the spare slot
        self._order: list[int] = list(range(slots))
        self._gram_slots = np.zeros((slots, slots))
        self._n_updates = 0  # accepted updates so far
        self._calls = 0  # calls of step()
        self._pending: list[tuple[int, int, float | None, bool, np.ndarray]] = []
        self._rows: list[dict[str, Any]] = []
        self._grams: list[np.ndarray] = []
        self._last_stats: spectra.WindowStats | None = None
        self.skipped = 0
        self._snapshot_into_prev()

    # ------------------------------------------------------------------ snapshot helpers

    def _views(self, flat: torch.Tensor) -> list[torch.Tensor]:
        return [flat[sl].view(p.shape) for p, sl in zip(self._params, self._slices, strict=True)]

    @torch.no_grad()
    def _sketch(self) -> torch.Tensor:
        acc = torch.zeros(2 * self.sketch_dim, dtype=torch.float64, device=self._buf.device)
        for p, sl in zip(self._params, self._slices, strict=True):
            acc.index_add_(0, self._hash[sl], p.detach().reshape(-1).to(torch.float64))
        return acc[: self.sketch_dim] - acc[self.sketch_dim :]

    @torch.no_grad()
    def _snapshot_into_prev(self) -> None:
        if self.sketch_dim is not None:
            self._theta_prev.copy_(self._sketch())
            return
        torch._foreach_copy_(self._prev_views, self._params)

    @torch.no_grad()
    def _write_update(self, slot: int) -> bool:
        """Write δ into ``slot``; return whether the current parameters are finite."""
        row = self._buf[slot]
        if self.sketch_dim is not None:
            s = self._sketch()
            torch.sub(s, self._theta_prev, out=row)
            return bool(torch.isfinite(s).all())
        views = self._slot_views[slot]
        torch._foreach_copy_(views, self._params)
        torch._foreach_sub_(views, self._prev_views)
        return True

    @torch.no_grad()
    def _all_reduce(self, values: np.ndarray) -> np.ndarray:
        """Sum ``values`` over the shard group (identity without one)."""
        if self.shard_group is None:
            return values
        import torch.distributed as dist

        device = self._params[0].device if dist.get_backend(self.shard_group) == "nccl" else "cpu"
        summed = torch.from_numpy(np.ascontiguousarray(values, dtype=np.float64)).to(device)
        dist.all_reduce(summed, group=self.shard_group)
        return summed.cpu().numpy()

    def _dots(self, slot: int) -> np.ndarray:
        """⟨buffer row i, row ``slot``⟩ for every slot i, float64."""
        if self.sketch_dim is not None:
            return (self._buf @ self._buf[slot]).cpu().numpy()
        new = self._buf[slot]
        for i, sl in enumerate(self._blocks):
            torch.mv(self._buf[:, sl], new[sl], out=self._partial[i])
        return self._all_reduce(self._partial.to(torch.float64).sum(dim=0).cpu().numpy())

    # ------------------------------------------------------------------ public API

    def _current_lr(self) -> float | None:
        if self.optimizer is not None:
            return float(self.optimizer.param_groups[0]["lr"])
        return self.lr

    @torch.no_grad()
    def step(self) -> bool:
        """Record the parameters after an optimizer step. Returns whether a new window was
        recorded (``False`` between snapshots, before the first full window, or for a
        skipped update). Statistics are computed when read (:attr:`stats`,
        :meth:`history`), so this hot path is the O(P) work only."""
        self._calls += 1
        if self._calls % self.stride:
            return False
        spare = self._order[-1]
        params_finite = self._write_update(spare)
        dots = self._dots(spare)
        total = float(dots.sum())
        problem = None
        if not math.isfinite(total):
            problem = "a NaN/Inf update"
        elif dots[spare] == 0.0:
            problem = "a zero update (the parameters did not change)"
        if problem is not None:
            if params_finite and self.sketch_dim is None:
                params_finite = all(bool(torch.isfinite(p).all()) for p in self._params)
            if params_finite:
                self._snapshot_into_prev()  # the next update is measured from here
            self.skipped += 1
            message = f"GramMonitor: skipped {problem} at step {self._calls}; window unchanged"
            if self.on_error == "raise":
                raise InputError(message)
            warnings.warn(message, RuntimeWarning, stacklevel=2)
            return False
        self._gram_slots[spare, :] = dots
        self._gram_slots[:, spare] = dots
        # the spare slot now holds the newest update; the oldest slot becomes the spare
        self._order = self._order[1:-1] + [spare, self._order[0]]
        self._snapshot_into_prev()
        self._n_updates += 1
        if self._n_updates < self.window:
            return False
        first = self._n_updates == self.window  # no previous window: no ΔC, α or A
        self._pending.append((self._calls, self._n_updates, self._current_lr(), first,
                              self.gram_plus()))
        if len(self._pending) >= PENDING_LIMIT:
            self._flush()
        return True

    def _compute(self, lr: float | None, first: bool, K: np.ndarray) -> spectra.WindowStats:
        if first:
            return spectra.window_stats(K[1:, 1:], P=self.n_params, method=self.kstar_method)
        eta_eff = lr * self.stride if lr is not None and lr > 0 else None
        return spectra.window_stats(
            P=self.n_params, gram_plus=K, eta_eff=eta_eff, method=self.kstar_method
        )

    def _flush(self) -> None:
        """Compute the statistics of every window recorded since the last flush."""
        pending, self._pending = self._pending, []
        for step, snapshot, lr, first, K in pending:
            try:
                stats = self._compute(lr, first, K)
            except (ValueError, ArithmeticError) as err:
                if self.on_error == "raise":
                    raise
                warnings.warn(
                    f"GramMonitor: statistics of the window at step {step} failed: {err}",
                    RuntimeWarning,
                    stacklevel=3,
                )
                continue
            self._last_stats = stats
            self._rows.append({"step": step, "snapshot": snapshot, "lr": lr} | stats.as_row())
            if self.keep_grams:
                self._grams.append(K)

    @property
    def stats(self) -> spectra.WindowStats | None:
        """Statistics of the latest window (``None`` before the first full window)."""
        self._flush()
        return self._last_stats

    def gram_plus(self) -> np.ndarray:
        """The (W+1)×(W+1) Gram of the last W+1 updates, oldest first (zeros where a slot
        has not been filled yet).

        >>> mon = GramMonitor([torch.zeros(2, requires_grad=True)], window=2)
        >>> mon.gram_plus().shape
        (3, 3)
        """
        live = self._order[:-1]
        return self._gram_slots[np.ix_(live, live)]

    def gram(self) -> np.ndarray:
        """The current W×W window Gram G = X Xᵀ (oldest update first)."""
        if self._n_updates < self.window:
            raise InputError(
                f"no full window yet: {self._n_updates} of {self.window} updates recorded"
            )
        return self.gram_plus()[1:, 1:]

    def history(self) -> pd.DataFrame:
        """One row per window: step, snapshot, lr and every field of ``WindowStats``."""
        self._flush()
        return pd.DataFrame(self._rows)

    def grams(self) -> np.ndarray:
        """Every recorded window's (W+1)-Gram, shape (n_windows, W+1, W+1)."""
        self._flush()
        if not self.keep_grams:
            raise InputError("this monitor was created with keep_grams=False")
        if not self._grams:
            return np.zeros((0, self.window + 1, self.window + 1))
        return np.stack(self._grams)

    @torch.no_grad()
    def directions(self, k: int) -> torch.Tensor:
        """Edge directions v_1..v_k (rows, unit norm) of the current window, in parameter
        space: v_j = Xᵀu_j/σ_j. Exact mode only; with a ``shard_group``, this rank's shard.

        >>> w = torch.zeros(4, requires_grad=True)
        >>> mon = GramMonitor([w], window=2)
        >>> for v in ([2.0, 0, 0, 0], [2.0, 1.0, 0, 0], [2.0, 1.0, 0, 0.0]):
        ...     with torch.no_grad():
        ...         _ = w.add_(torch.tensor(v))
        ...     _ = mon.step()
        >>> mon.directions(1).abs().tolist()
        [[0.8944271802902222, 0.4472135901451111, 0.0, 0.0]]
        """
        if self.sketch_dim is not None:
            raise InputError("directions() needs exact mode (sketch_dim=None)")
        lam, U = spectra.eigh_gram(self.gram())
        rank = int(np.count_nonzero(lam))
        if not 1 <= k <= rank:
            raise InputError(f"k must be in 1..{rank} (the window's numerical rank), got {k}")
        rows = self._buf[self._order[1:-1]].to(torch.float64)
        coef = torch.from_numpy(U[:, :k] / np.sqrt(lam[:k])).to(rows.device)
        return (coef.T @ rows).to(self._buf.dtype)

    # ------------------------------------------------------------------ persistence

    def state_dict(self) -> dict[str, Any]:
        """Everything needed to resume exactly (buffers, counters, history).

        >>> mon = GramMonitor([torch.zeros(2, requires_grad=True)], window=2)
        >>> sorted(mon.state_dict())[:3]
        ['buf', 'calls', 'gram_slots']
        """
        self._flush()
        return {
            "window": self.window,
            "stride": self.stride,
            "sketch_dim": self.sketch_dim,
            "names": list(self.names),
            "buf": self._buf.clone(),
            "theta_prev": self._theta_prev.clone(),
            "gram_slots": self._gram_slots.copy(),
            "order": list(self._order),
            "n_updates": self._n_updates,
            "calls": self._calls,
            "skipped": self.skipped,
            "rows": [dict(r) for r in self._rows],
            "grams": [g.copy() for g in self._grams],
            "hash": None if self.sketch_dim is None else self._hash.clone(),
        }

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Restore :meth:`state_dict` output into a monitor built with the same settings."""
        for key in ("window", "stride", "sketch_dim", "names"):
            if state.get(key) != getattr(self, key):
                raise InputError(
                    f"monitor state does not match this monitor: {key} is "
                    f"{state.get(key)!r} in the state, {getattr(self, key)!r} here"
                )
        if tuple(state["buf"].shape) != tuple(self._buf.shape):
            raise InputError("monitor state has a buffer of the wrong shape")
        self._buf.copy_(state["buf"])
        self._theta_prev.copy_(state["theta_prev"])
        self._gram_slots[...] = np.asarray(state["gram_slots"])
        self._order = list(state["order"])
        self._n_updates, self._calls = int(state["n_updates"]), int(state["calls"])
        self.skipped = int(state["skipped"])
        self._rows = [dict(r) for r in state["rows"]]
        self._grams = [np.asarray(g) for g in state["grams"]]
        if self.sketch_dim is not None:
            self._hash.copy_(state["hash"])
        self._pending = []
        self._last_stats = None
        if self._rows:
            last = self._rows[-1]
            first = last["snapshot"] == self.window
            self._last_stats = self._compute(last["lr"], first, self.gram_plus())
