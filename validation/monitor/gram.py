"""Streaming rolling-window Gram monitor for PyTorch training (docs/spec.md §1–2).

``GramMonitor`` watches a set of parameters (:mod:`.selection`), forms the update
δ_t = θ_t − θ_{t−1} at every snapshot (every ``stride`` calls of :meth:`GramMonitor.step`),
and keeps the (W+1)×(W+1) Gram of the last W+1 updates up to date with one pass over the
parameters and the stored updates (:mod:`.storage`: exact, or :mod:`.sketch`): a new update
costs W+2 dot products, never a re-stack and SVD of X. Statistics come from
:mod:`spectral_edge.numerics.spectra` (one definition of each quantity), computed when read
(:mod:`.records`). The checkpoint state is in :mod:`.state`, the sum over a shard group in
:mod:`.shards`.

A bad update (NaN/Inf or exactly zero) never enters the window: by default it is skipped
with a warning (``on_error="warn"``) and counted (:attr:`GramMonitor.skipped`,
:attr:`GramMonitor.skipped_by_kind`, the ``skipped`` column of
:meth:`GramMonitor.history`); ``on_error="raise"`` raises
:class:`spectral_edge.common.errors.InputError` instead. Either way the window is left as it was,
and the next update is measured from the last finite parameters, except in exact mode on the
CPU when the first NaN/Inf entry lies beyond the first block of 2¹⁸ entries: θ_{t−1} is then
partly lost, the next update with finite parameters is skipped too (as non-finite) and the
monitor re-anchors there (:class:`~spectral_edge.validation.monitor.storage.ExactStorage`).

>>> import torch
>>> model = torch.nn.Linear(20, 5)
>>> opt = torch.optim.SGD(model.parameters(), lr=0.1)
>>> mon = GramMonitor(model, window=4, optimizer=opt)
>>> for _ in range(6):
...     opt.zero_grad(); model(torch.randn(8, 20)).pow(2).mean().backward(); opt.step()
...     _ = mon.step()
>>> mon.stats.W, mon.gram().shape, len(mon.history()), mon.skipped
(4, (4, 4), 3, 0)
"""

from __future__ import annotations

import math
import warnings
from typing import Any, Literal

import numpy as np
import torch

from spectral_edge.common.errors import InputError
from spectral_edge.numerics import spectra
from spectral_edge.validation.monitor import state as monitor_state
from spectral_edge.validation.monitor.readout import MonitorReadout
from spectral_edge.validation.monitor.records import WindowLog, snapshot_lr
from spectral_edge.validation.monitor.selection import Bindings, ParamsLike, select_parameters
from spectral_edge.validation.monitor.settings import (
    DEFAULT_MAX_MEMORY,
    MonitorSettings,
    check_memory,
)
from spectral_edge.validation.monitor.shards import all_reduce_sum
from spectral_edge.validation.monitor.sketch import SketchStorage, sketch_storage_bytes
from spectral_edge.validation.monitor.state import SKIP_KINDS, STATE_VERSION, portable
from spectral_edge.validation.monitor.storage import ExactStorage, new_storage_bytes, widest


class GramMonitor(MonitorReadout):
    """Rolling-window Gram monitor; call :meth:`step` after every ``optimizer.step()``.

    Args:
        model_or_params: an ``nn.Module``, an iterable of tensors, or of ``(name, tensor)``.
        window: W, the number of updates in a window (≥ 2; W > P is allowed, the rank is
            then at most P).
        stride: take a snapshot every ``stride`` calls of :meth:`step` (≥ 1).
        select: ``"all"``, ``"attention"`` or a name regex (see :func:`select_parameters`).
        sketch_dim: store m-dimensional sketches of the updates instead of the updates.
        optimizer: read the learning rate (first param group) at each snapshot, for A.
        lr: a fixed learning rate for A when no optimizer is given (finite, > 0).
        kstar_method: the k* variant reported as ``kstar`` (``weighted`` by default).
        dtype: storage dtype of the exact-mode updates (``torch.float32`` or ``float64``);
            ``None`` (default): the parameters' own (float64 stays float64; float32,
            bfloat16, float16 store float32; mixed: the widest). θ_{t−1} is always kept in
            the parameters' dtype, so δ is exact either way.
        on_error: ``"warn"`` (skip a bad update, keep training) or ``"raise"``.
        seed: seed of the sketch hash.
        keep_grams: keep the windows' (W+1)-Grams for :meth:`grams`: ``True`` keeps the
            latest ``KEEP_GRAMS_BYTES`` worth (every window unless W is large; a warning
            says when the first is dropped), an integer N the latest N, ``False`` none.
        max_memory_bytes: refuse (``InputError``) a monitor whose memory estimate
            :attr:`memory_bytes` exceeds this; default 2 GiB, ``None`` opts out.
        shard_group: a ``torch.distributed`` process group whose ranks each hold a disjoint
            shard of the monitored parameters (FSDP, tensor parallelism): the dot products
            are summed over the group, so every rank sees the Gram of the full parameter
            vector. Exact mode only. (Replicated parameters, as in DDP, need no group.)

    Raises:
        InputError: a bad argument, nothing to watch, or a memory estimate above
            ``max_memory_bytes``.

    Attributes read by training runners: ``skipped``, ``skipped_by_kind``
    (``{"nonfinite": n, "zero": n}``), ``bad_lr`` (snapshots whose optimizer learning rate
    was not a finite number ≥ 0), ``stopped`` (``None``, or why the monitor stopped after a
    parameter changed shape), ``n_params``, ``names``, ``names_params``, ``dtype`` (update
    storage), ``param_dtype`` (θ_{t−1}), ``memory_bytes``.

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
        self, model_or_params: ParamsLike, window: int = 10, stride: int = 1,
        select: str = "all", sketch_dim: int | None = None, *,
        optimizer: torch.optim.Optimizer | None = None, lr: float | None = None,
        kstar_method: spectra.KStarMethod = "weighted", dtype: torch.dtype | None = None,
        on_error: Literal["warn", "raise"] = "warn", seed: int = 0,
        keep_grams: bool | int = True, max_memory_bytes: int | None = DEFAULT_MAX_MEMORY,
        shard_group: Any = None,
    ) -> None:
        cfg = MonitorSettings.checked(
            window, stride=stride, sketch_dim=sketch_dim, lr=lr, kstar_method=kstar_method,
            dtype=dtype, on_error=on_error, seed=seed, keep_grams=keep_grams,
            max_memory_bytes=max_memory_bytes, sharded=shard_group is not None)
        if optimizer is not None and not hasattr(optimizer, "param_groups"):
            raise InputError(f"optimizer has no param_groups: {type(optimizer).__name__}")
        self.settings = cfg
        self.window, self.stride, self.sketch_dim = cfg.window, cfg.stride, cfg.sketch_dim
        self.optimizer, self.lr, self.kstar_method = optimizer, cfg.lr, cfg.kstar_method
        self.on_error, self.shard_group = cfg.on_error, shard_group
        self.names_params = select_parameters(model_or_params, select)
        root = model_or_params if isinstance(model_or_params, torch.nn.Module) else None
        self._bindings = Bindings(root, self.names_params)
        self.names = self._bindings.names
        params = self._bindings.params
        self.param_dtype = widest([p.dtype for p in params])
        self.dtype = (torch.float64 if cfg.sketch_dim is not None
                      else cfg.dtype or self.param_dtype)
        self._device = params[0].device
        local = sum(p.numel() for p in params)
        self.n_params = int(all_reduce_sum(np.array([float(local)]), shard_group,
                                           self._device)[0])
        self._eps = float(torch.finfo(self.dtype).eps)
        self._log = WindowLog(cfg.window, self.n_params, cfg.kstar_method, self._eps,
                              cfg.keep_grams, cfg.stride)
        self.keep_grams = self._log.keep
        slots = cfg.window + 2  # W+1 live updates and one spare slot for the incoming update
        if cfg.sketch_dim is None:
            buffer_bytes = new_storage_bytes(local, cfg.window, self.dtype, self.param_dtype,
                                             self._device)
        else:
            buffer_bytes = sketch_storage_bytes(local, cfg.window, cfg.sketch_dim,
                                                self.param_dtype)
        self.memory_bytes = check_memory(cfg, buffer_bytes, 8 * slots**2 + self._log.memory_bytes)
        """Estimated memory of the monitor in bytes: update buffer and θ_{t−1} (on the
        parameters' device) plus its (W+1)-Grams (ring, waiting, kept, eigensolver work)."""
        if cfg.sketch_dim is None:
            self._storage = ExactStorage(params, cfg.window, self.dtype)
        else:
            self._storage = SketchStorage(params, cfg.window, cfg.sketch_dim, cfg.seed)
        self._bound = self._bindings.signature
        # order[i] is the slot of the i-th oldest live update; order[-1] is the spare slot
        self._order: list[int] = list(range(slots))
        self._n_updates = 0  # accepted updates so far
        self._calls = 0  # calls of step()
        self.skipped, self.skipped_by_kind = 0, dict.fromkeys(SKIP_KINDS, 0)
        self.bad_lr, self.stopped = 0, None
        self._storage.resync()

    def _stop(self, changed: str) -> bool:
        message = f"GramMonitor: {changed} after the monitor was built; the window cannot continue"
        if self.on_error == "raise":
            raise InputError(message)
        self.stopped = message
        warnings.warn(f"{message}; the monitor stops (build a new one to go on)",
                      RuntimeWarning, stacklevel=3)
        return False

    def _skip(self, kind: str, problem: str, calls: int) -> bool:
        if all(bool(torch.isfinite(p).all()) for p in self._bindings.params):
            self._storage.commit()  # the next update is measured from here
        self.skipped += 1
        self.skipped_by_kind[kind] += 1
        message = f"GramMonitor: skipped {problem} at step {calls}; window unchanged"
        if self.on_error == "raise":
            raise InputError(message)
        warnings.warn(message, RuntimeWarning, stacklevel=3)
        return False

    def step(self) -> bool:
        """Record the parameters after an optimizer step.

        Statistics are computed when read (:attr:`stats`, :meth:`history`), so this hot
        path is the O(P) work only. A parameter replaced by a new ``nn.Parameter`` of the
        same shape and dtype (monitor built from a module) is followed with a warning; one
        that changes shape or dtype, or disappears, raises (``on_error="raise"``; the
        monitor is unchanged) or stops the monitor with a warning (``on_error="warn"``:
        :attr:`stopped` says why, ``step()`` does nothing from then on, history and Grams
        stay readable).

        Returns:
            Whether a new window was recorded (``False`` between snapshots, before the
            first full window, for a skipped update, or once the monitor has stopped).

        Raises:
            InputError: with ``on_error="raise"``: a bad update, a bad learning rate, or a
                parameter that changed shape or dtype.

        >>> w = torch.zeros(2, requires_grad=True)
        >>> mon = GramMonitor([("w", w)], window=2, on_error="raise")
        >>> w.data = torch.zeros(3)
        >>> try:
        ...     mon.step()
        ... except InputError as err:
        ...     print(str(err)[:58])
        GramMonitor: parameter 'w' changed from (2,) torch.float32
        """
        if self.stopped is not None:
            return False
        calls = self._calls + 1
        if calls % self.stride:
            self._calls = calls
            return False
        bindings = self._bindings
        changed = bindings.check()
        if changed is not None:
            return self._stop(changed)
        if bindings.signature is not self._bound:
            self._storage.rebind(bindings.params)
            self._bound = bindings.signature
        n_updates = self._n_updates + 1
        records, lr = n_updates >= self.window, None
        if records:
            lr, bad = snapshot_lr(self.optimizer, self.lr, calls, self.on_error)
            self.bad_lr += bad
        self._calls = calls
        order = self._order
        spare = order[-1]
        dots = self._storage.write(spare, order[0])
        if self.shard_group is not None:
            dots = all_reduce_sum(np.array(dots), self.shard_group, self._device).tolist()
        if not math.isfinite(sum(dots)):
            return self._skip("nonfinite", "a NaN/Inf update", calls)
        if dots[spare] == 0.0:
            return self._skip("zero", "a zero update (the parameters did not change)", calls)
        # the spare slot now holds the newest update; the oldest slot becomes the spare
        self._order = order = order[1:-1] + [spare, order[0]]
        self._storage.commit()
        self._n_updates = n_updates
        self._log.add(spare, dots, order, calls, n_updates, lr, self.skipped, self.on_error)
        return records

    # ------------------------------------------------------------------ persistence

    def state_dict(self) -> dict[str, Any]:
        """Everything needed to resume exactly (buffers, counters, skipped updates,
        history), as tensors and plain Python values: ``torch.load(weights_only=True)``
        reads it back.

        Returns:
            The state (a new dict; tensors are copies).

        >>> mon = GramMonitor([torch.zeros(2, requires_grad=True)], window=2)
        >>> sorted(mon.state_dict())[:4]
        ['bad_lr', 'buf', 'calls', 'gram_slots']
        """
        self._log.flush(self.on_error)
        extra = {"hash": None} | {k: v.clone() for k, v in self._storage.extra_state().items()}
        return portable({
            "version": STATE_VERSION, "window": self.window, "stride": self.stride,
            "sketch_dim": self.sketch_dim, "names": list(self.names),
            "buf": self._storage.rows.clone(), "theta_prev": self._storage.theta_prev.clone(),
            "gram_slots": self._log.slots, "order": list(self._order),
            "n_updates": self._n_updates, "calls": self._calls, "skipped": self.skipped,
            "skipped_by_kind": dict(self.skipped_by_kind), "bad_lr": self.bad_lr,
            "stopped": self.stopped, "rows": [dict(r) for r in self._log.rows],
            "grams": [K for _, K in self._log.kept],
            "gram_steps": [int(step) for step, _ in self._log.kept],
        } | extra)

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Restore :meth:`state_dict` output into a monitor built with the same settings.

        Args:
            state: a state dict (NumPy arrays are accepted where it holds tensors).

        Raises:
            InputError: naming the bad key; everything is checked before anything is
                copied, so this monitor is left as it was.

        >>> mon = GramMonitor([torch.zeros(2, requires_grad=True)], window=2)
        >>> mon.load_state_dict({"version": 2})
        Traceback (most recent call last):
        ...
        spectral_edge.common.errors.InputError: monitor state has no 'window'
        """
        store = self._storage
        like = {"buf": store.rows, "theta_prev": store.theta_prev} | store.extra_state()
        spec = monitor_state.StateSpec(
            self.window, self.stride, self.sketch_dim, list(self.names),
            {k: (tuple(v.shape), v.dtype) for k, v in like.items()},
            self._log.n_keep if self.keep_grams else 0)
        new = monitor_state.check_state(state, spec)
        last_stats = None
        if new.rows:
            last, live = new.rows[-1], new.order[:-1]
            try:
                last_stats = self._log.compute(new.gram_slots[np.ix_(live, live)],
                                               last["snapshot"] == self.window, last.get("lr"))
            except (ValueError, ArithmeticError, KeyError, TypeError) as err:
                raise InputError(f"monitor state: its latest window is unusable: {err}") from err
        for key, value in new.tensors.items():  # all checked: copy
            like[key].copy_(value)
        self._order = new.order
        self._n_updates, self._calls = new.counts["n_updates"], new.counts["calls"]
        self.skipped, self.bad_lr = new.counts["skipped"], new.counts["bad_lr"]
        self.skipped_by_kind, self.stopped = new.skipped_by_kind, new.stopped
        self._log.restore(new.gram_slots, new.rows, new.gram_steps, new.grams, last_stats)
