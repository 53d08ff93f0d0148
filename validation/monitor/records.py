"""The monitor's record of its windows: the ring's Gram, statistics computed when read,
history rows, kept (W+1)-Grams.

``step()`` only queues an accepted update (:meth:`WindowLog.add`: its slot, its dot products
and the ring's order after it); the queued updates are applied to the ring's Gram, and the
statistics of their windows computed, when something reads them (:attr:`WindowLog.slots`,
:meth:`WindowLog.flush`), so the training hot path is the O(P) work and one list append.

>>> log = WindowLog(window=2, n_params=3, method="weighted", eps=1e-7, keep_grams=True)
>>> for slot, dots in enumerate(([1.0, 0, 0, 0], [0, 4.0, 0, 0], [0, 0, 1.0, 0])):
...     order = [i for i in range(4) if i != slot + 1] + [slot + 1]
...     log.add(slot, dots, order, step=slot + 1, snapshot=slot + 1, lr=0.1, skipped=0)
>>> log.flush(on_error="raise"); len(log.rows), log.grams().shape
(2, (2, 3, 3))
"""

from __future__ import annotations

import math
import warnings
from collections import deque
from typing import Any, NamedTuple

import numpy as np

from spectral_edge.common.errors import InputError
from spectral_edge.numerics import spectra
from spectral_edge.validation.monitor.settings import gib

PENDING_LIMIT = 256  # windows whose statistics wait to be computed, at most ...
PENDING_BYTES = 64 << 20  # ... and at most this many bytes of waiting (W+1)-Grams
KEEP_GRAMS_BYTES = 256 << 20
"""``keep_grams=True`` keeps the (W+1)-Grams of the latest windows up to this many bytes
(256 MiB: 277,000 windows at W = 10, one window above W ≈ 5,800); older ones are dropped."""


Update = tuple[int, list[float], list[int], int, int, float | None, int]
"""An accepted update waiting to be applied to the ring's Gram: ``(slot, dots, order, step,
snapshot, lr, skipped)`` (see :meth:`WindowLog.add`; a plain tuple: it is built at every
snapshot, on the hot path, where a named tuple's constructor costs a Python call)."""


class Pending(NamedTuple):
    """A window whose statistics wait to be computed."""

    step: int
    snapshot: int
    lr: float | None
    first: bool
    K: np.ndarray
    skipped: int


def snapshot_lr(optimizer: Any, lr: float | None, step: int,
                on_error: str) -> tuple[float | None, int]:
    """The learning rate of a snapshot: the optimizer's first param group's, else ``lr``.

    Args:
        optimizer: an optimizer, or ``None``.
        lr: the fixed learning rate used without an optimizer.
        step: the step (for messages).
        on_error: ``"raise"`` or ``"warn"``.

    Returns:
        The learning rate (NaN, with a warning, for a value that is not a finite number
        ≥ 0) and 1 if it was bad, else 0.

    Raises:
        InputError: a bad optimizer value with ``on_error="raise"``.

    >>> import torch
    >>> opt = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=0.5)
    >>> snapshot_lr(opt, None, 1, "raise")
    (0.5, 0)
    """
    if optimizer is None:
        return lr, 0
    raw = optimizer.param_groups[0]["lr"]
    try:
        value = float(raw)
    except (TypeError, ValueError, RuntimeError):
        value = float("nan")
    if math.isfinite(value) and value >= 0.0:
        return value, 0
    message = (f"GramMonitor: the optimizer's learning rate at step {step} is {raw!r}, "
               "not a finite number >= 0")
    if on_error == "raise":
        raise InputError(message)
    warnings.warn(f"{message}; recorded as NaN (A is NaN)", RuntimeWarning, stacklevel=3)
    return float("nan"), 1


def window_stats(K: np.ndarray, *, first: bool, lr: float | None, stride: int, n_params: int,
                 method: spectra.KStarMethod, eps: float) -> spectra.WindowStats:
    """Statistics of one window from its (W+1)-Gram ``K``.

    Args:
        K: the (W+1)×(W+1) Gram, oldest update first.
        first: the first window (no previous one: no ΔC, α or A).
        lr: the learning rate (``None`` or ≤ 0: no A).
        stride: snapshots are ``stride`` optimizer steps apart (η_eff = lr · stride).
        n_params: P (the rank guard).
        method: the k* variant.
        eps: the storage dtype's machine epsilon.

    Returns:
        :class:`spectral_edge.numerics.spectra.WindowStats`.

    Raises:
        ValueError: the spectra computation failed.

    >>> window_stats(np.eye(3), first=True, lr=None, stride=1, n_params=5,
    ...              method="weighted", eps=1e-7).W
    2
    """
    kw = {"P": n_params, "method": method, "eps": eps}
    if first:
        return spectra.window_stats(K[1:, 1:], **kw)
    return spectra.window_stats(gram_plus=K, eta_eff=eta_of(lr, stride), **kw)


def eta_of(lr: float | None, stride: int) -> float | None:
    """η_eff = lr · stride of a snapshot, ``None`` (no A) without a learning rate > 0.

    Returns:
        The effective learning rate, or ``None``.

    >>> eta_of(0.01, 10), eta_of(None, 10), eta_of(float("nan"), 1)
    (0.1, None, None)
    """
    return lr * stride if lr is not None and lr > 0 else None


class WindowLog:
    """The ring's Gram, queued updates and windows, history rows and kept Grams of one
    monitor.

    Args:
        window: W.
        n_params: P.
        method: the k* variant reported as ``kstar``.
        eps: the storage dtype's machine epsilon.
        keep_grams: ``True`` (the latest :data:`KEEP_GRAMS_BYTES` worth), an integer N
            (the latest N) or ``False``/0 (none).
        stride: snapshot spacing in optimizer steps.
    """

    def __init__(self, window: int, n_params: int, method: spectra.KStarMethod, eps: float,
                 keep_grams: bool | int, stride: int = 1) -> None:
        self.window, self.n_params, self.method, self.eps = window, n_params, method, eps
        self.stride = stride
        gram_bytes = 8 * (window + 1) ** 2
        self.pending_limit = max(1, min(PENDING_LIMIT, PENDING_BYTES // gram_bytes))
        auto = keep_grams is True
        self.keep_auto = auto
        self.n_keep = max(1, KEEP_GRAMS_BYTES // gram_bytes) if auto else int(keep_grams)
        self.keep = self.n_keep > 0
        self._slots = np.zeros((window + 2, window + 2))
        self.updates: list[Update] = []
        self.pending: list[Pending] = []
        self.rows: list[dict[str, Any]] = []
        self.kept: deque[tuple[int, np.ndarray]] = deque(maxlen=max(self.n_keep, 1))
        self.last: spectra.WindowStats | None = None
        self._warned = False
        n_grams = 1 + self.pending_limit + (self.n_keep if self.keep else 0) + 2
        self.memory_bytes = (n_grams - 1) * gram_bytes
        """Bytes of waiting and kept Grams and ~2 W×W eigensolver work arrays."""

    def compute(self, K: np.ndarray, first: bool, lr: float | None) -> spectra.WindowStats:
        """:func:`window_stats` with this log's settings.

        Returns:
            The window's statistics.
        """
        return window_stats(K, first=first, lr=lr, stride=self.stride, n_params=self.n_params,
                            method=self.method, eps=self.eps)

    def add(self, slot: int, dots: list[float], order: list[int], step: int, snapshot: int,
            lr: float | None, skipped: int, on_error: str = "warn") -> None:
        """Queue an accepted update (applied to the Gram when read, its window's statistics
        computed at the next :meth:`flush`).

        Args:
            slot: the ring slot the update went into.
            dots: its dot products with every slot (float64 values; 0 at the slot that left).
            order: the ring's order after it (oldest slot first, the spare slot last).
            step: the monitor's ``step()`` calls so far.
            snapshot: accepted updates so far (a window is recorded from W on).
            lr: the learning rate read at this snapshot (``None`` before the first window).
            skipped: updates skipped so far.
            on_error: how :meth:`flush` treats a failure, if the queue is full (queued
                updates and windows together: at most ``pending_limit``).
        """
        updates = self.updates
        updates.append((slot, dots, order, step, snapshot, lr, skipped))
        if len(updates) + len(self.pending) >= self.pending_limit:  # Grams read, stats not
            self.flush(on_error)

    @property
    def slots(self) -> np.ndarray:
        """The (W+2)×(W+2) Gram of the ring's slots, every queued update applied (the
        array itself, not a copy)."""
        if self.updates:
            self._apply()
        return self._slots

    def _apply(self) -> None:
        """Apply the queued updates to the Gram; queue each recorded window's (W+1)-Gram."""
        updates, self.updates = self.updates, []
        slots, window = self._slots, self.window
        for slot, dots, order, step, snapshot, lr, skipped in updates:
            row = np.add(dots, 0.0)  # float64, −0 → +0
            slots[slot] = row
            slots[:, slot] = row
            if snapshot >= window:
                live = order[:-1]
                K = slots.take(live, axis=0).take(live, axis=1)
                self.pending.append(Pending(step, snapshot, lr, snapshot == window, K, skipped))

    def flush(self, on_error: str = "warn") -> None:
        """Compute the statistics of every queued window (a failure skips the window with
        a warning unless ``on_error="raise"``).

        Raises:
            ValueError: a window's statistics failed, with ``on_error="raise"``.
            ArithmeticError: likewise.
        """
        if self.updates:
            self._apply()
        pending, self.pending = self.pending, []
        for w, stats in zip(pending, self._computed(pending), strict=True):
            if stats is None:
                try:
                    stats = self.compute(w.K, w.first, w.lr)
                except (ValueError, ArithmeticError) as err:
                    if on_error == "raise":
                        raise
                    warnings.warn(
                        f"GramMonitor: statistics of the window at step {w.step} failed: "
                        f"{err}", RuntimeWarning, stacklevel=3,
                    )
                    continue
            self.last = stats
            self.rows.append({"step": w.step, "snapshot": w.snapshot, "lr": w.lr,
                              "skipped": w.skipped} | stats.as_row())
            if self.keep:
                self._keep(w.step, w.K)

    def _computed(self, pending: list[Pending]) -> list[spectra.WindowStats | None]:
        """The statistics of the waiting windows after the first, all at once
        (:func:`~spectral_edge.numerics.spectra.window_stats_many`: one eigensolver call for
        the stack).

        Returns:
            Per window, its statistics, or ``None`` for the first window and, if the batch
            fails, for every window (each is then computed alone, so the failing one is
            named).
        """
        out: list[spectra.WindowStats | None] = [None] * len(pending)
        idx = [i for i, w in enumerate(pending) if not w.first]
        if len(idx) < 2:
            return out
        etas = [eta_of(pending[i].lr, self.stride) for i in idx]
        try:
            many = spectra.window_stats_many(np.stack([pending[i].K for i in idx]),
                                             P=self.n_params, eta_eff=etas,
                                             method=self.method, eps=self.eps)
        except (ValueError, ArithmeticError):
            return out
        for i, stats in zip(idx, many, strict=True):
            out[i] = stats
        return out

    def _keep(self, step: int, K: np.ndarray) -> None:
        if len(self.kept) == self.n_keep and self.keep_auto and not self._warned:
            self._warned = True
            warnings.warn(
                f"GramMonitor: keep_grams=True keeps the latest {self.n_keep} window "
                f"Grams ({gib(self.n_keep * K.nbytes)}); older ones are dropped "
                "(gram_steps() lists the windows kept)",
                RuntimeWarning,
                stacklevel=4,
            )
        self.kept.append((step, K))

    def grams(self) -> np.ndarray:
        """The kept (W+1)-Grams.

        Returns:
            Shape (n_kept, W+1, W+1), oldest first.

        Raises:
            InputError: nothing is kept (``keep_grams=False``).
        """
        if not self.keep:
            raise InputError("this monitor was created with keep_grams=False")
        if not self.kept:
            return np.zeros((0, self.window + 1, self.window + 1))
        return np.stack([K for _, K in self.kept])

    def restore(self, gram_slots: np.ndarray, rows: list[dict[str, Any]], steps: list[int],
                grams: list[np.ndarray], last: spectra.WindowStats | None) -> None:
        """Replace everything with a checkpoint's (already checked) records."""
        self.updates, self.pending, self.rows, self.last = [], [], rows, last
        self._slots[...] = gram_slots
        self.kept.clear()
        self.kept.extend(zip(steps, grams, strict=True))
