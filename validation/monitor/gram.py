"""Streaming rolling-window Gram monitor for PyTorch training (docs/spec.md §1–2).

``GramMonitor`` watches a set of parameters, forms the update δ_t = θ_t − θ_{t−1} at every
snapshot (every ``stride`` calls of :meth:`GramMonitor.step`), and keeps the
(W+1)×(W+1) Gram of the last W+1 updates up to date with one pass over its ring buffer:
a new update costs W+2 dot products, never a re-stack and SVD of X. Statistics come from
:mod:`spectral_edge.numerics.spectra` (one definition of each quantity).

Precision: θ_{t−1} is kept in the parameters' own dtype (the widest of them; bfloat16 and
float16 are kept in float32, which holds them exactly), so δ = θ_t − θ_{t−1} is formed
without cancellation. The updates are stored in ``dtype``, by default the parameters' own
(float64 parameters: float64; float32, bfloat16, float16: float32).

Two storage modes:

* **exact** (default): the last W+1 updates are kept (each dot product is a sum, in float64,
  of matrix–vector products over blocks of 2¹⁸ entries — a single float32 product over
  P = 1e7 entries was off by 2e-3 relative). Memory (W+2)·P numbers plus θ_{t−1}.
* **sketch** (``sketch_dim=m``): each update is replaced by S δ, S an m×P sparse random-sign
  projection (CountSketch: one ±1 per coordinate, so E[⟨Sx, Sy⟩] = ⟨x, y⟩). δ is formed
  exactly (as above) and S δ accumulated in float64, so memory is O(W·m) plus θ_{t−1} and
  one int32 hash per coordinate. A rank-one window's σ has relative standard error
  ≈ 1/√(2m); see ``docs/monitor.md`` for the accuracy measured on real runs.

A bad update (NaN/Inf or exactly zero) never enters the window: by default it is skipped
with a warning (``on_error="warn"``) and counted (:attr:`GramMonitor.skipped`,
:attr:`GramMonitor.skipped_by_kind`, the ``skipped`` column of
:meth:`GramMonitor.history`); ``on_error="raise"`` raises
:class:`spectral_edge.common.errors.InputError` instead. Either way the window is left as it was.

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
import re
import warnings
from collections import deque
from collections.abc import Iterable, Mapping
from typing import Any, Literal

import numpy as np
import pandas as pd
import torch

from spectral_edge.common.errors import InputError
from spectral_edge.common.validate import check_choice, check_finite_number, check_int, check_window
from spectral_edge.numerics import spectra

ATTENTION_PATTERN = (
    r"(^|\.)(q_proj|k_proj|v_proj|o_proj|out_proj|query|key|value|c_attn|W_[QKVO])\.weight$"
    r"|(^|\.)in_proj_weight$|attn\.c_proj\.weight$"
)
"""Names taken by ``select="attention"``: the Q/K/V/O projection weights of common layouts
(separate ``q_proj``/``k_proj``/``v_proj``/``out_proj``, ``nn.MultiheadAttention``'s
``in_proj_weight``, GPT-2's ``attn.c_attn``/``attn.c_proj``)."""

BLOCK = 1 << 18  # dot products are summed in float64 over blocks of this many entries
PENDING_LIMIT = 256  # windows whose statistics wait to be computed, at most ...
PENDING_BYTES = 64 << 20  # ... and at most this many bytes of waiting (W+1)-Grams
DEFAULT_MAX_MEMORY = 2 << 30
"""``max_memory_bytes`` default (2 GiB): a monitor whose memory estimate
(:attr:`GramMonitor.memory_bytes`) is larger is refused unless the caller opts in."""
KEEP_GRAMS_BYTES = 256 << 20
"""``keep_grams=True`` keeps the (W+1)-Grams of the latest windows up to this many bytes
(256 MiB: 277,000 windows at W = 10, one window above W ≈ 5,800); older ones are dropped."""
SKIP_KINDS = ("nonfinite", "zero")
"""Kinds of skipped updates counted in :attr:`GramMonitor.skipped_by_kind`."""
STATE_VERSION = 2

ParamsLike = torch.nn.Module | Iterable[torch.Tensor] | Iterable[tuple[str, torch.Tensor]]


def _named(source: Any) -> list[tuple[str, torch.Tensor]]:
    """``(name, tensor)`` pairs of a module or an iterable of tensors / pairs, checked."""
    if isinstance(source, torch.nn.Module):
        return list(source.named_parameters())
    if isinstance(source, torch.Tensor):
        raise InputError("model_or_params is a single tensor; pass a list of tensors ([w])")
    if isinstance(source, str | bytes | Mapping) or not isinstance(source, Iterable):
        raise InputError(
            "model_or_params must be an nn.Module, an iterable of tensors or of (name, tensor) "
            f"pairs, got {type(source).__name__}"
        )
    named = []
    for i, item in enumerate(source):
        if isinstance(item, torch.Tensor):
            named.append((f"param{i:04d}", item))
        elif (isinstance(item, tuple | list) and len(item) == 2
              and isinstance(item[1], torch.Tensor)):
            named.append((str(item[0]), item[1]))
        else:
            raise InputError(
                f"model_or_params item {i} is {type(item).__name__} {item!r:.40}, "
                "not a tensor or a (name, tensor)"
            )
    return named


def _check_tensors(chosen: list[tuple[str, torch.Tensor]]) -> None:
    """Refuse what the monitor cannot watch: meta, complex, non-float, sparse, mixed devices,
    repeated names or tensors."""
    for name, p in chosen:
        if hasattr(p, "to_local") and hasattr(p, "placements"):  # a DTensor (FSDP2, TP)
            raise InputError(
                f"parameter {name!r} is a DTensor (FSDP2 / tensor parallel); give the monitor "
                "the local shards, GramMonitor(local_shards(model), "
                "shard_group=group), built after the first optimizer step"
            )
        if p.device.type == "meta":
            raise InputError(
                f"parameter {name!r} is on the meta device (it has no values yet); build the "
                "monitor after the model is materialized (to_empty()/load_state_dict())"
            )
        if p.is_complex():
            raise InputError(
                f"parameter {name!r} is complex ({p.dtype}); GramMonitor watches real "
                "parameters (monitor torch.view_as_real(p) to include both parts)"
            )
        if not p.is_floating_point():
            raise InputError(f"parameter {name!r} has dtype {p.dtype}, not a floating type")
        if p.layout != torch.strided:
            raise InputError(f"parameter {name!r} has layout {p.layout}; only dense tensors")
    devices = {p.device for _, p in chosen}
    if len(devices) > 1:
        raise InputError(
            f"monitored parameters are on several devices ({sorted(map(str, devices))}); "
            "monitor each device's parameters separately or use shard_group"
        )
    names = [n for n, _ in chosen]
    if len(set(names)) != len(names):
        repeated = sorted({n for n in names if names.count(n) > 1})
        raise InputError(f"parameter names repeat: {repeated}")
    if len({id(p) for _, p in chosen}) != len(chosen):
        raise InputError("the same tensor is listed twice in model_or_params")


def select_parameters(
    source: ParamsLike, select: str = "all"
) -> list[tuple[str, torch.Tensor]]:
    """The monitored ``(name, tensor)`` pairs, sorted by name.

    ``select`` is ``"all"`` (every trainable parameter), ``"attention"`` (Q/K/V/O projection
    weights, :data:`ATTENTION_PATTERN`) or a regular expression searched in the names.
    Meta-device, complex, integer and sparse tensors, tensors on several devices and
    anything that is not a tensor raise :class:`spectral_edge.common.errors.InputError`.

    >>> net = torch.nn.Sequential(torch.nn.Linear(2, 3), torch.nn.Linear(3, 1))
    >>> [n for n, _ in select_parameters(net, r"weight")]
    ['0.weight', '1.weight']
    >>> select_parameters([1, 2, 3])
    Traceback (most recent call last):
    ...
    spectral_edge.common.errors.InputError: model_or_params item 0 is int 1, not a tensor or a ...
    """
    named = [(n, p) for n, p in _named(source) if p.requires_grad]
    if not isinstance(select, str):
        raise InputError(f"select must be a string, got {select!r}")
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
    _check_tensors(chosen)
    return sorted(chosen, key=lambda item: item[0])


def _widest(dtypes: Iterable[torch.dtype]) -> torch.dtype:
    """float64 if any parameter is float64, else float32 (holds bfloat16/float16 exactly)."""
    return torch.float64 if torch.float64 in set(dtypes) else torch.float32


def _numpy(value: Any) -> Any:
    """A tensor as a NumPy array (checkpoints store arrays as tensors); anything else as is."""
    return value.detach().cpu().numpy() if isinstance(value, torch.Tensor) else value


def _gib(n: float) -> str:
    return f"{n / 2**30:.2f} GiB"


class GramMonitor:
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
            latest :data:`KEEP_GRAMS_BYTES` worth (every window unless W is large; a warning
            says when the first is dropped), an integer N the latest N, ``False`` none.
        max_memory_bytes: refuse (``InputError``) a monitor whose memory estimate
            :attr:`memory_bytes` exceeds this; default :data:`DEFAULT_MAX_MEMORY` (2 GiB),
            ``None`` opts out of the check.
        shard_group: a ``torch.distributed`` process group whose ranks each hold a disjoint
            shard of the monitored parameters (FSDP, tensor parallelism): each rank computes
            the dot products of its shard and they are summed over the group, so every rank
            sees the Gram of the full parameter vector. Exact mode only. (With replicated
            parameters, as in DDP, no group is needed: every rank sees the same updates.)

    Attributes read by training runners: ``skipped`` (skipped updates, total),
    ``skipped_by_kind`` (``{"nonfinite": n, "zero": n}``), ``bad_lr`` (snapshots whose
    optimizer learning rate was not a finite number ≥ 0), ``stopped`` (``None``, or why the
    monitor stopped after a parameter changed shape), ``n_params``, ``names``, ``dtype``
    (update storage), ``param_dtype`` (θ_{t−1}), ``memory_bytes``.

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
        dtype: torch.dtype | None = None,
        on_error: Literal["warn", "raise"] = "warn",
        seed: int = 0,
        keep_grams: bool | int = True,
        max_memory_bytes: int | None = DEFAULT_MAX_MEMORY,
        shard_group: Any = None,
    ) -> None:
        window = check_window(window, "window")
        stride = check_int("stride", stride, minimum=1)
        if sketch_dim is not None:
            sketch_dim = check_int("sketch_dim", sketch_dim, minimum=window)
        if lr is not None:
            lr = check_finite_number("lr", lr, minimum=0.0, strict=True)
        check_choice("kstar_method", kstar_method, spectra.KSTAR_METHODS)
        check_choice("on_error", on_error, ("warn", "raise"))
        if dtype is not None and dtype not in (torch.float32, torch.float64):
            raise InputError(f"dtype must be None, torch.float32 or torch.float64, got {dtype}")
        if isinstance(keep_grams, bool):
            n_keep = None if keep_grams else 0
        else:
            n_keep = check_int("keep_grams", keep_grams, minimum=0)
        if max_memory_bytes is not None:
            max_memory_bytes = check_int("max_memory_bytes", max_memory_bytes, minimum=0)
        if shard_group is not None and sketch_dim is not None:
            raise InputError("shard_group works in exact mode only (sketch_dim=None)")
        seed = check_int("seed", seed)
        if optimizer is not None and not hasattr(optimizer, "param_groups"):
            raise InputError(f"optimizer has no param_groups: {type(optimizer).__name__}")

        self.window, self.stride, self.sketch_dim = window, stride, sketch_dim
        self.optimizer, self.lr, self.kstar_method = optimizer, lr, kstar_method
        self.on_error = on_error
        self.names_params = select_parameters(model_or_params, select)
        self.names = [n for n, _ in self.names_params]
        self._params = [p for _, p in self.names_params]
        self._root = model_or_params if isinstance(model_or_params, torch.nn.Module) else None
        self._edges, self._owners = self._walk() if self._root is not None else ([], None)
        self._layout = [(p.shape, p.dtype) for p in self._params]
        self.shard_group = shard_group
        self.param_dtype = _widest(p.dtype for p in self._params)
        if sketch_dim is not None:
            self.dtype = torch.float64  # sketches are float64 (dtype only sets exact mode)
        else:
            self.dtype = self.param_dtype if dtype is None else dtype
        # δ in the storage buffer directly when it holds θ exactly; else via θ_{t−1}'s dtype
        self._direct = self.dtype == self.param_dtype or self.dtype == torch.float64
        local = sum(p.numel() for p in self._params)
        slots = window + 2  # W+1 live updates and one spare slot for the incoming update
        gram_bytes = 8 * (window + 1) ** 2
        self._pending_limit = max(1, min(PENDING_LIMIT, PENDING_BYTES // gram_bytes))
        self.keep_grams = n_keep is None or n_keep > 0
        self._keep_auto = n_keep is None
        self._n_keep = max(1, KEEP_GRAMS_BYTES // gram_bytes) if n_keep is None else n_keep
        row_bytes = (sketch_dim or local) * self.dtype.itemsize
        buffer_bytes = slots * row_bytes + local * self.param_dtype.itemsize
        if sketch_dim is None:
            buffer_bytes += math.ceil(local / BLOCK) * slots * self.dtype.itemsize
        else:
            buffer_bytes += 4 * local + 16 * sketch_dim
        # ring Gram, waiting windows, kept windows, and ~2 W×W work arrays of the eigensolver
        n_grams = 1 + self._pending_limit + (self._n_keep if self.keep_grams else 0) + 2
        grams_bytes = 8 * slots**2 + (n_grams - 1) * gram_bytes
        self.memory_bytes = int(buffer_bytes + grams_bytes)
        """Estimated memory of the monitor in bytes: update buffer and θ_{t−1} (on the
        parameters' device) plus its (W+1)-Grams (ring, waiting, kept, eigensolver work)."""
        if max_memory_bytes is not None and self.memory_bytes > max_memory_bytes:
            raise InputError(
                f"GramMonitor(window={window}) needs about {_gib(self.memory_bytes)} "
                f"(updates {_gib(buffer_bytes)}, {n_grams} float64 Grams of about (W+1)² "
                f"{_gib(grams_bytes)}), above max_memory_bytes={max_memory_bytes} "
                f"({_gib(max_memory_bytes)}); pass max_memory_bytes=None (or a larger limit) to "
                "opt in, or use a smaller window, keep_grams=False or sketch_dim"
            )
        self.n_params = int(self._all_reduce(np.array([float(local)]))[0])
        self._eps = float(torch.finfo(self.dtype).eps)
        device = self._params[0].device
        self._slices: list[slice] = []
        start = 0
        for p in self._params:
            self._slices.append(slice(start, start + p.numel()))
            start += p.numel()
        self._theta_prev = torch.zeros(local, dtype=self.param_dtype, device=device)
        # per-tensor views, so one foreach call covers every monitored tensor
        self._prev_views = self._views(self._theta_prev)
        if sketch_dim is None:
            self._buf = torch.zeros(slots, local, dtype=self.dtype, device=device)
            n_blocks = math.ceil(local / BLOCK)
            self._blocks = [slice(i * BLOCK, (i + 1) * BLOCK) for i in range(n_blocks)]
            self._partial = torch.zeros(n_blocks, slots, dtype=self.dtype, device=device)
            self._slot_views = [self._views(self._buf[i]) for i in range(slots)]
        else:
            gen = torch.Generator(device="cpu").manual_seed(seed)
            bucket = torch.randint(0, sketch_dim, (local,), generator=gen)
            negative = torch.randint(0, 2, (local,), generator=gen)
            self._hash = (bucket + sketch_dim * negative).to(torch.int32).to(device)
            self._buf = torch.zeros(slots, sketch_dim, dtype=torch.float64, device=device)
        # order[i] is the slot of the i-th oldest live update; order[-1] is the spare slot
        self._order: list[int] = list(range(slots))
        self._gram_slots = np.zeros((slots, slots))
        self._n_updates = 0  # accepted updates so far
        self._calls = 0  # calls of step()
        self._pending: list[tuple[int, int, float | None, bool, np.ndarray, int]] = []
        self._rows: list[dict[str, Any]] = []
        self._grams: deque[tuple[int, np.ndarray]] = deque(maxlen=max(self._n_keep, 1))
        self._dropped_warned = False
        self._last_stats: spectra.WindowStats | None = None
        self.skipped = 0
        self.skipped_by_kind = dict.fromkeys(SKIP_KINDS, 0)
        self.bad_lr = 0
        self.stopped: str | None = None
        self._snapshot_into_prev()

    # ------------------------------------------------------------------ snapshot helpers

    def _walk(self) -> tuple[list[tuple[dict, str, Any]], list[tuple[dict, str]]]:
        """From the root module: every (parent ``_modules`` table, name, child) edge on the
        way to a monitored parameter, and each parameter's owning ``_parameters`` table and
        attribute, so a replaced submodule or ``nn.Parameter`` is found with one dict
        look-up per module and per tensor. Raises ``KeyError(name)`` for a missing one."""
        edges: dict[tuple[int, str], tuple[dict, str, Any]] = {}
        owners = []
        for name in self.names:
            *path, attr = name.split(".")
            module = self._root
            for part in path:
                child = module._modules.get(part)
                if child is None:
                    raise KeyError(name)
                edges[(id(module), part)] = (module._modules, part, child)
                module = child
            owners.append((module._parameters, attr))
        return list(edges.values()), owners

    def _views(self, flat: torch.Tensor) -> list[torch.Tensor]:
        return [flat[sl].view(p.shape) for p, sl in zip(self._params, self._slices, strict=True)]

    def _check_bindings(self) -> str | None:
        """O(number of tensors): follow a replaced ``nn.Parameter`` of the same shape and
        dtype; describe any change of shape/dtype (or a removed parameter)."""
        if self._owners is not None:
            if any(table.get(key) is not child for table, key, child in self._edges):
                try:  # a submodule was replaced: find the parameters again by name
                    self._edges, self._owners = self._walk()
                except KeyError as err:
                    return f"parameter {err.args[0]!r} was removed from the model"
            for i, (table, attr) in enumerate(self._owners):
                current = table.get(attr)
                if current is self._params[i]:
                    continue
                name = self.names[i]
                if not isinstance(current, torch.Tensor):
                    return f"parameter {name!r} was removed from the model"
                old = self._params[i]
                if (current.shape, current.dtype, current.device) != (
                    old.shape, old.dtype, old.device
                ):
                    return (
                        f"parameter {name!r} was replaced by a tensor of shape "
                        f"{tuple(current.shape)} {current.dtype} on {current.device} (was "
                        f"{tuple(old.shape)} {old.dtype} on {old.device})"
                    )
                self._params[i] = current
                self.names_params[i] = (name, current)
                warnings.warn(
                    f"GramMonitor: parameter {name!r} was replaced by a new tensor of the same "
                    "shape and dtype; the monitor follows the new tensor (this snapshot's "
                    "update is new minus old values)",
                    RuntimeWarning,
                    stacklevel=4,  # the caller of step() (through torch.no_grad's wrapper)
                )
        layout = [(p.shape, p.dtype) for p in self._params]
        if layout != self._layout:
            for name, (shape, dt), (old_shape, old_dt) in zip(
                self.names, layout, self._layout, strict=True
            ):
                if (shape, dt) != (old_shape, old_dt):
                    return (
                        f"parameter {name!r} changed from {tuple(old_shape)} {old_dt} to "
                        f"{tuple(shape)} {dt}"
                    )
        return None

    @torch.no_grad()
    def _sketch_delta(self, out: torch.Tensor) -> None:
        """out = S δ, δ = θ − θ_{t−1} formed in θ_{t−1}'s dtype, summed in float64."""
        acc = torch.zeros(2 * self.sketch_dim, dtype=torch.float64, device=out.device)
        for p, prev, sl in zip(self._params, self._prev_views, self._slices, strict=True):
            delta = (p.detach() - prev).reshape(-1)
            acc.index_add_(0, self._hash[sl], delta.to(torch.float64))
        torch.sub(acc[: self.sketch_dim], acc[self.sketch_dim :], out=out)

    @torch.no_grad()
    def _snapshot_into_prev(self) -> None:
        torch._foreach_copy_(self._prev_views, self._params)

    @torch.no_grad()
    def _write_update(self, slot: int) -> None:
        """Write δ (or S δ) into ``slot``."""
        if self.sketch_dim is not None:
            self._sketch_delta(self._buf[slot])
            return
        views = self._slot_views[slot]
        if self._direct:  # the storage holds θ exactly: θ_t − θ_{t−1} in the storage dtype
            torch._foreach_copy_(views, self._params)
            torch._foreach_sub_(views, self._prev_views)
        else:  # narrower storage than θ (dtype=float32 for float64 parameters)
            for view, p, prev in zip(views, self._params, self._prev_views, strict=True):
                view.copy_(p.detach() - prev)

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

    def _current_lr(self, step: int) -> float | None:
        """The learning rate for this snapshot; a non-finite or negative optimizer value
        raises (``on_error="raise"``) or is recorded as NaN with a warning."""
        if self.optimizer is None:
            return self.lr
        raw = self.optimizer.param_groups[0]["lr"]
        try:
            lr = float(raw)
        except (TypeError, ValueError, RuntimeError):
            lr = float("nan")
        if math.isfinite(lr) and lr >= 0.0:
            return lr
        message = (
            f"GramMonitor: the optimizer's learning rate at step {step} is {raw!r}, not a "
            "finite number >= 0"
        )
        if self.on_error == "raise":
            raise InputError(message)
        self.bad_lr += 1
        warnings.warn(f"{message}; recorded as NaN (A is NaN)", RuntimeWarning, stacklevel=4)
        return float("nan")

    @torch.no_grad()
    def step(self) -> bool:
        """Record the parameters after an optimizer step. Returns whether a new window was
        recorded (``False`` between snapshots, before the first full window, for a skipped
        update, or once the monitor has stopped). Statistics are computed when read
        (:attr:`stats`, :meth:`history`), so this hot path is the O(P) work only.

        A parameter replaced by a new ``nn.Parameter`` of the same shape and dtype (monitor
        built from a module) is followed with a warning. A parameter that changes shape or
        dtype, or disappears, raises :class:`InputError` (``on_error="raise"``; the monitor
        is unchanged) or stops the monitor with a warning (``on_error="warn"``: training
        goes on, :attr:`stopped` says why, ``step()`` does nothing from then on, history and
        Grams stay readable).

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
        changed = self._check_bindings()
        if changed is not None:
            message = (
                f"GramMonitor: {changed} after the monitor was built; the window cannot "
                "continue"
            )
            if self.on_error == "raise":
                raise InputError(message)
            self.stopped = message
            warnings.warn(f"{message}; the monitor stops (build a new one to go on)",
                          RuntimeWarning, stacklevel=3)
            return False
        records = self._n_updates + 1 >= self.window
        lr = self._current_lr(calls) if records else None
        self._calls = calls
        spare = self._order[-1]
        self._write_update(spare)
        dots = self._dots(spare)
        total = float(dots.sum())
        kind = None
        if not math.isfinite(total):
            kind, problem = "nonfinite", "a NaN/Inf update"
        elif dots[spare] == 0.0:
            kind, problem = "zero", "a zero update (the parameters did not change)"
        if kind is not None:
            if all(bool(torch.isfinite(p).all()) for p in self._params):
                self._snapshot_into_prev()  # the next update is measured from here
            self.skipped += 1
            self.skipped_by_kind[kind] += 1
            message = f"GramMonitor: skipped {problem} at step {calls}; window unchanged"
            if self.on_error == "raise":
                raise InputError(message)
            warnings.warn(message, RuntimeWarning, stacklevel=3)
            return False
        self._gram_slots[spare, :] = dots
        self._gram_slots[:, spare] = dots
        # the spare slot now holds the newest update; the oldest slot becomes the spare
        self._order = self._order[1:-1] + [spare, self._order[0]]
        self._snapshot_into_prev()
        self._n_updates += 1
        if not records:
            return False
        first = self._n_updates == self.window  # no previous window: no ΔC, α or A
        self._pending.append((calls, self._n_updates, lr, first, self.gram_plus(),
                              self.skipped))
        if len(self._pending) >= self._pending_limit:
            self._flush()
        return True

    def _compute(self, lr: float | None, first: bool, K: np.ndarray) -> spectra.WindowStats:
        kw = {"P": self.n_params, "method": self.kstar_method, "eps": self._eps}
        if first:
            return spectra.window_stats(K[1:, 1:], **kw)
        eta_eff = lr * self.stride if lr is not None and lr > 0 else None
        return spectra.window_stats(gram_plus=K, eta_eff=eta_eff, **kw)

    def _flush(self) -> None:
        """Compute the statistics of every window recorded since the last flush."""
        pending, self._pending = self._pending, []
        for step, snapshot, lr, first, K, skipped in pending:
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
            self._rows.append(
                {"step": step, "snapshot": snapshot, "lr": lr, "skipped": skipped}
                | stats.as_row()
            )
            if self.keep_grams:
                if len(self._grams) == self._n_keep and self._keep_auto and not (
                    self._dropped_warned
                ):
                    self._dropped_warned = True
                    warnings.warn(
                        f"GramMonitor: keep_grams=True keeps the latest {self._n_keep} window "
                        f"Grams ({_gib(self._n_keep * K.nbytes)}); older ones are dropped "
                        "(gram_steps() lists the windows kept)",
                        RuntimeWarning,
                        stacklevel=3,
                    )
                self._grams.append((step, K))

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
        """The current W×W window Gram G = X Xᵀ (oldest update first).

        >>> mon = GramMonitor([torch.zeros(2, requires_grad=True)], window=2)
        >>> mon.gram()
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
        """One row per window: step, snapshot, lr, skipped (updates skipped so far, all
        kinds) and every field of ``WindowStats`` (``rtol``: the rank guard's threshold).

        >>> GramMonitor([torch.zeros(2, requires_grad=True)], window=2).history().shape
        (0, 0)
        """
        self._flush()
        return pd.DataFrame(self._rows)

    def grams(self) -> np.ndarray:
        """The kept windows' (W+1)-Grams, shape (n_kept, W+1, W+1), oldest first; every
        window's unless ``keep_grams`` dropped the oldest (see :meth:`gram_steps`).

        >>> GramMonitor([torch.zeros(2, requires_grad=True)], window=2).grams().shape
        (0, 3, 3)
        """
        self._flush()
        if not self.keep_grams:
            raise InputError("this monitor was created with keep_grams=False")
        if not self._grams:
            return np.zeros((0, self.window + 1, self.window + 1))
        return np.stack([K for _, K in self._grams])

    def gram_steps(self) -> np.ndarray:
        """The ``step`` (history column) of each Gram that :meth:`grams` returns.

        >>> GramMonitor([torch.zeros(2, requires_grad=True)], window=2).gram_steps().tolist()
        []
        """
        self._flush()
        return np.array([step for step, _ in self._grams], dtype=np.int64)

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
        lam, U = spectra.eigh_gram(self.gram(), eps=self._eps, max_rank=self.n_params)
        rank = int(np.count_nonzero(lam))
        if not 1 <= k <= rank:
            raise InputError(f"k must be in 1..{rank} (the window's numerical rank), got {k}")
        rows = self._buf[self._order[1:-1]].to(torch.float64)
        coef = torch.from_numpy(U[:, :k] / np.sqrt(lam[:k])).to(rows.device)
        return (coef.T @ rows).to(self._buf.dtype)

    # ------------------------------------------------------------------ persistence

    def state_dict(self) -> dict[str, Any]:
        """Everything needed to resume exactly (buffers, counters, skipped updates, history).

        >>> mon = GramMonitor([torch.zeros(2, requires_grad=True)], window=2)
        >>> sorted(mon.state_dict())[:4]
        ['bad_lr', 'buf', 'calls', 'gram_slots']
        """
        self._flush()
        return {
            "version": STATE_VERSION,
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
            "skipped_by_kind": dict(self.skipped_by_kind),
            "bad_lr": self.bad_lr,
            "stopped": self.stopped,
            "rows": [dict(r) for r in self._rows],
            "grams": [K.copy() for _, K in self._grams],
            "gram_steps": [int(step) for step, _ in self._grams],
            "hash": None if self.sketch_dim is None else self._hash.clone(),
        }

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Restore :meth:`state_dict` output into a monitor built with the same settings.

        Everything is checked before anything is copied: a bad state raises
        :class:`InputError` naming the key and leaves this monitor as it was.

        >>> mon = GramMonitor([torch.zeros(2, requires_grad=True)], window=2)
        >>> mon.load_state_dict({"version": 2})
        Traceback (most recent call last):
        ...
        spectral_edge.common.errors.InputError: monitor state has no 'window'
        """
        new = self._validated_state(state)
        rows = new["rows"]
        last_stats = None
        if rows:
            last = rows[-1]
            live = new["order"][:-1]
            K = new["gram_slots"][np.ix_(live, live)]
            try:
                last_stats = self._compute(last.get("lr"), last["snapshot"] == self.window, K)
            except (ValueError, ArithmeticError, KeyError, TypeError) as err:
                raise InputError(f"monitor state: its latest window is unusable: {err}") from err
        # all checked: copy
        self._buf.copy_(new["buf"])
        self._theta_prev.copy_(new["theta_prev"])
        self._gram_slots[...] = new["gram_slots"]
        self._order = new["order"]
        self._n_updates, self._calls = new["n_updates"], new["calls"]
        self.skipped, self.skipped_by_kind = new["skipped"], new["skipped_by_kind"]
        self.bad_lr, self.stopped = new["bad_lr"], new["stopped"]
        self._rows = rows
        self._grams.clear()
        self._grams.extend(zip(new["gram_steps"], new["grams"], strict=True))
        if self.sketch_dim is not None:
            self._hash.copy_(new["hash"])
        self._pending = []
        self._last_stats = last_stats

    def _validated_state(self, state: Any) -> dict[str, Any]:
        """The state's values, converted and checked against this monitor (nothing copied)."""
        if not isinstance(state, Mapping):
            raise InputError(f"monitor state must be a dict, got {type(state).__name__}")

        def get(key: str) -> Any:
            if key not in state:
                raise InputError(f"monitor state has no {key!r}")
            return state[key]

        def count(key: str) -> int:
            return check_int(f"monitor state {key!r}", get(key), minimum=0)

        def tensor(key: str, like: torch.Tensor) -> torch.Tensor:
            value = get(key)
            if not isinstance(value, torch.Tensor):
                raise InputError(f"monitor state {key!r} must be a tensor, got "
                                 f"{type(value).__name__}")
            if tuple(value.shape) != tuple(like.shape) or value.dtype != like.dtype:
                raise InputError(
                    f"monitor state {key!r} is {tuple(value.shape)} {value.dtype}, this "
                    f"monitor needs {tuple(like.shape)} {like.dtype}"
                )
            return value

        version = state.get("version")
        for key in ("window", "stride", "sketch_dim", "names"):
            if get(key) != getattr(self, key):
                raise InputError(
                    f"monitor state does not match this monitor: {key} is "
                    f"{state.get(key)!r} in the state, {getattr(self, key)!r} here"
                )
        if version != STATE_VERSION:
            raise InputError(
                f"monitor state has version {version!r}, this GramMonitor reads "
                f"{STATE_VERSION} (a checkpoint of an older monitor cannot resume exactly)"
            )
        slots = self.window + 2
        new: dict[str, Any] = {
            "buf": tensor("buf", self._buf),
            "theta_prev": tensor("theta_prev", self._theta_prev),
        }
        try:
            gram_slots = np.array(_numpy(get("gram_slots")), dtype=np.float64)
        except (TypeError, ValueError, RuntimeError) as err:
            raise InputError(f"monitor state 'gram_slots' is not a matrix: {err}") from err
        if gram_slots.shape != (slots, slots) or not np.all(np.isfinite(gram_slots)):
            raise InputError(
                f"monitor state 'gram_slots' must be a finite {slots}×{slots} matrix, got "
                f"shape {gram_slots.shape}"
            )
        new["gram_slots"] = gram_slots
        order = get("order")
        if not isinstance(order, list | tuple) or sorted(order) != list(range(slots)):
            raise InputError(f"monitor state 'order' must be a permutation of 0..{slots - 1}")
        new["order"] = [int(i) for i in order]
        for key in ("n_updates", "calls", "skipped", "bad_lr"):
            new[key] = count(key)
        kinds = get("skipped_by_kind")
        if not isinstance(kinds, Mapping) or set(kinds) != set(SKIP_KINDS):
            raise InputError(f"monitor state 'skipped_by_kind' must have the keys {SKIP_KINDS}")
        new["skipped_by_kind"] = {
            k: check_int(f"monitor state 'skipped_by_kind'[{k!r}]", kinds[k], minimum=0)
            for k in SKIP_KINDS
        }
        stopped = get("stopped")
        if stopped is not None and not isinstance(stopped, str):
            raise InputError("monitor state 'stopped' must be None or a string")
        new["stopped"] = stopped
        rows = get("rows")
        if not isinstance(rows, list | tuple) or not all(isinstance(r, Mapping) for r in rows):
            raise InputError("monitor state 'rows' must be a list of dicts")
        if any("snapshot" not in r for r in rows):
            raise InputError("monitor state 'rows' has a row without 'snapshot'")
        new["rows"] = [dict(r) for r in rows]
        grams, steps = get("grams"), get("gram_steps")
        if not isinstance(grams, list | tuple) or not isinstance(steps, list | tuple) or len(
            grams
        ) != len(steps):
            raise InputError("monitor state 'grams' and 'gram_steps' must be lists of one length")
        shape = (self.window + 1, self.window + 1)
        new_grams = []
        for K in list(grams)[-self._n_keep:] if self.keep_grams else []:
            K = np.array(_numpy(K), dtype=np.float64)
            if K.shape != shape:
                raise InputError(f"monitor state 'grams' holds a {K.shape} matrix, not {shape}")
            new_grams.append(K)
        new["grams"] = new_grams
        new["gram_steps"] = [int(s) for s in steps][len(steps) - len(new_grams):]
        if self.sketch_dim is not None:
            new["hash"] = tensor("hash", self._hash)
        return new
