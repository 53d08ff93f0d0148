"""What a monitor gives back: the latest statistics, the history, the window Grams and the
edge directions (:class:`MonitorReadout`, the read-only half of ``GramMonitor``).

>>> from spectral_edge.validation.monitor import GramMonitor
>>> mon = GramMonitor([torch.zeros(2, requires_grad=True)], window=2)
>>> mon.stats is None, mon.gram_plus().shape, mon.history().shape
(True, (3, 3), (0, 0))
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import torch

from spectral_edge.common.errors import InputError
from spectral_edge.numerics import spectra
from spectral_edge.validation.monitor.records import WindowLog
from spectral_edge.validation.monitor.storage import UpdateStorage


class MonitorReadout:
    """Readers over a monitor's ring (``_order``, ``_storage``) and its window log (``_log``,
    which holds the ring's Gram); ``GramMonitor`` sets them."""

    window: int
    sketch_dim: int | None
    n_params: int
    on_error: str
    keep_grams: bool
    _eps: float
    _n_updates: int
    _order: list[int]
    _storage: UpdateStorage
    _log: WindowLog

    @property
    def stats(self) -> spectra.WindowStats | None:
        """Statistics of the latest window (``None`` before the first full window)."""
        self._log.flush(self.on_error)
        return self._log.last

    def gram_plus(self) -> np.ndarray:
        """The (W+1)×(W+1) Gram of the last W+1 updates.

        Returns:
            A new float64 array, oldest update first (zeros where a slot has not been
            filled yet).

        >>> from spectral_edge.validation.monitor import GramMonitor
        >>> GramMonitor([torch.zeros(2, requires_grad=True)], window=2).gram_plus().shape
        (3, 3)
        """
        live = self._order[:-1]
        return self._log.slots.take(live, axis=0).take(live, axis=1)

    def gram(self) -> np.ndarray:
        """The current W×W window Gram G = X Xᵀ.

        Returns:
            A new float64 array, oldest update first.

        Raises:
            InputError: fewer than W updates recorded.

        >>> from spectral_edge.validation.monitor import GramMonitor
        >>> GramMonitor([torch.zeros(2, requires_grad=True)], window=2).gram()
        Traceback (most recent call last):
        ...
        spectral_edge.common.errors.InputError: no full window yet: 0 of 2 updates recorded
        """
        if self._n_updates < self.window:
            raise InputError(
                f"no full window yet: {self._n_updates} of {self.window} updates recorded"
            )
        return self.gram_plus()[1:, 1:]

    def history(self) -> pd.DataFrame:
        """One row per window.

        Returns:
            Columns step, snapshot, lr, skipped (updates skipped so far, all kinds) and
            every field of ``WindowStats`` (``rtol``: the rank guard's threshold).

        >>> from spectral_edge.validation.monitor import GramMonitor
        >>> GramMonitor([torch.zeros(2, requires_grad=True)], window=2).history().shape
        (0, 0)
        """
        self._log.flush(self.on_error)
        return pd.DataFrame(self._log.rows)

    def grams(self) -> np.ndarray:
        """The kept windows' (W+1)-Grams; every window's unless ``keep_grams`` dropped the
        oldest (see :meth:`gram_steps`).

        Returns:
            Shape (n_kept, W+1, W+1), oldest first.

        Raises:
            InputError: the monitor was built with ``keep_grams=False``.

        >>> from spectral_edge.validation.monitor import GramMonitor
        >>> GramMonitor([torch.zeros(2, requires_grad=True)], window=2).grams().shape
        (0, 3, 3)
        """
        self._log.flush(self.on_error)
        return self._log.grams()

    def gram_steps(self) -> np.ndarray:
        """The ``step`` (history column) of each Gram that :meth:`grams` returns.

        Returns:
            An int64 array.

        >>> from spectral_edge.validation.monitor import GramMonitor
        >>> GramMonitor([torch.zeros(2, requires_grad=True)], window=2).gram_steps().tolist()
        []
        """
        self._log.flush(self.on_error)
        return np.array([step for step, _ in self._log.kept], dtype=np.int64)

    @torch.no_grad()
    def directions(self, k: int) -> torch.Tensor:
        """Edge directions v_1..v_k of the current window in parameter space:
        v_j = Xᵀu_j/σ_j. Exact mode only; with a ``shard_group``, this rank's shard.

        Args:
            k: how many (1 ≤ k ≤ the window's numerical rank).

        Returns:
            A (k, P) tensor of unit-norm rows, in the storage dtype.

        Raises:
            InputError: sketch mode, no full window, or k out of range.

        >>> from spectral_edge.validation.monitor import GramMonitor
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
        lam, U = spectra.eigh_gram(self.gram(), eps=self._eps, max_rank=self.n_params)
        rank = int(np.count_nonzero(lam))
        if not 1 <= k <= rank:
            raise InputError(f"k must be in 1..{rank} (the window's numerical rank), got {k}")
        buf = self._storage.rows
        rows = buf[self._order[1:-1]].to(torch.float64)
        coef = torch.from_numpy(U[:, :k] / np.sqrt(lam[:k])).to(rows.device)
        return (coef.T @ rows).to(buf.dtype)
