"""What every integration shares: the logged statistics, the monitor's checkpoint state in
``weights_only``-loadable form, and the run-directory files (atomic writes).

Imports only torch, numpy and the project (never transformers or lightning).

>>> import torch
>>> from spectral_edge.validation.monitor import GramMonitor
>>> w = torch.zeros(3, requires_grad=True)
>>> mon = GramMonitor([w], window=2)
>>> for v in ([1.0, 0, 0], [1.0, 2.0, 0], [1.0, 2.0, 3.0]):
...     with torch.no_grad():
...         _ = w.copy_(torch.tensor(v))
...     _ = mon.step()
>>> metrics = latest_metrics(mon, top=2)
>>> {k: round(v, 3) for k, v in metrics.items()}  # doctest: +NORMALIZE_WHITESPACE
{'gram/sigma_1': 3.0, 'gram/sigma_2': 2.0, 'gram/kstar': 1, 'gram/g_sigma': 1.0,
 'gram/R': 1.5, 'gram/A_dk': 1.811, 'gram/vacuity': 1.316}
"""

from __future__ import annotations

import math
import os
import pickle
import zipfile
from pathlib import Path
from typing import Any

import torch

from spectral_edge.common.errors import InputError
from spectral_edge.numerics.columns import G23_LAMBDA, G_SIGMA
from spectral_edge.validation.monitor import GramMonitor
from spectral_edge.validation.monitor.state import portable
from spectral_edge.validation.runs import rundir

HISTORY_NAME = "gram_history.csv"
"""The monitor's :meth:`~spectral_edge.validation.monitor.GramMonitor.history`, one row per
window."""
GRAMS_NAME = "gram_grams.npz"
"""The kept (W+1)-Grams (``grams``, oldest first) and their steps (``steps``)."""
STATE_NAME = "gram_monitor.pt"
"""The monitor's state in a checkpoint folder (``torch.load(..., weights_only=True)``)."""

MONITOR_DEFAULTS = {"window": 10, "stride": 1, "select": "all", "sketch_dim": None}


def latest_metrics(monitor: GramMonitor | None, top: int = 3, prefix: str = "gram/") -> dict:
    """The latest window's σ_1..σ_top, k*, g, R, g₂₃, A, the dimensionless A_dk and the BBP
    ratio σ_W/d_crit (``vacuity``) as ``{prefix + name: number}``,
    named as the columns of ``spectra.csv`` (``g_sigma``, ``g23_lambda``: the unit in the
    name; the same statistics ``train --tensorboard`` logs); non-finite values (A of the
    first window, g₂₃ of a rank-2 window) are left out, and the dict is empty before the
    first full window."""
    stats = None if monitor is None else monitor.stats
    if stats is None:
        return {}
    out: dict[str, float | int] = {}
    for j, s in enumerate(stats.sigma[:top]):
        out[f"{prefix}sigma_{j + 1}"] = float(s)
    out[f"{prefix}kstar"] = int(stats.kstar)
    for column, value in ((G_SIGMA, stats.g), ("R", stats.R), (G23_LAMBDA, stats.g23),
                          ("A", stats.A), ("A_dk", stats.A_dk),
                          ("vacuity", stats.vacuity)):
        if math.isfinite(value):
            out[f"{prefix}{column}"] = float(value)
    return out


def monitor_state(monitor: GramMonitor) -> dict[str, Any]:
    """:meth:`GramMonitor.state_dict`, loadable with ``weights_only=True`` (converted by
    :func:`spectral_edge.validation.monitor.state.portable`, a no-op on the monitor's own
    state, kept for states extended by callers)."""
    return portable(monitor.state_dict())


def save_state(monitor: GramMonitor, path: str | os.PathLike) -> None:
    """Atomically write the monitor's state to ``path``."""
    state = monitor_state(monitor)
    rundir.write_bytes_with(path, lambda handle: torch.save(state, handle))


def load_state(monitor: GramMonitor, path: str | os.PathLike) -> None:
    """Restore the monitor from a file written by :func:`save_state`.

    Args:
        monitor: The monitor to restore (unchanged when the file is refused).
        path: The state file.

    Raises:
        InputError: If the file is missing, corrupt, holds objects a weights-only load
            refuses, or is not a monitor state.
    """
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except (OSError, RuntimeError, EOFError, ValueError, pickle.UnpicklingError,
            zipfile.BadZipFile) as err:
        raise InputError(f"cannot read the monitor state {path}: "
                         f"{' '.join(str(err).split())[:300]}") from err
    monitor.load_state_dict(state)


_SETTINGS = ("lr", "kstar_method", "dtype", "on_error", "seed", "keep_grams",
             "max_memory_bytes")
_OTHER = ("optimizer", "shard_group")


def check_callback_args(monitor_args: dict[str, Any], log_top: Any, log_prefix: Any,
                        params: Any) -> None:
    """Check a framework callback's monitor arguments at construction, so that a bad
    window, regular expression or misspelt keyword fails before training starts.

    Args:
        monitor_args: ``window``, ``stride``, ``select``, ``sketch_dim`` and the extra
            :class:`GramMonitor` keywords.
        log_top: How many σ are logged.
        log_prefix: The logged names' prefix.
        params: ``None`` or a callable ``model -> model_or_params``.

    Raises:
        InputError: For an unknown keyword or an invalid value (the message names it).
    """
    import re

    from spectral_edge.common.validate import check_int
    from spectral_edge.validation.monitor.settings import MonitorSettings

    known = {"window", "stride", "select", "sketch_dim", *_SETTINGS, *_OTHER}
    unknown = sorted(set(monitor_args) - known)
    if unknown:
        raise InputError(f"unknown GramMonitor argument {unknown[0]!r}; use one of "
                         f"{', '.join(sorted(known))}")
    MonitorSettings.checked(
        monitor_args["window"], stride=monitor_args["stride"],
        sketch_dim=monitor_args["sketch_dim"],
        sharded=monitor_args.get("shard_group") is not None,
        **{k: monitor_args[k] for k in _SETTINGS if k in monitor_args})
    select = monitor_args["select"]
    if not isinstance(select, str):
        raise InputError(f"select must be a string, got {select!r}")
    try:
        re.compile(select)
    except re.error as err:
        raise InputError(f"select is not a valid regular expression: {err}") from err
    check_int("log_top", log_top, 1, 4096)
    if not isinstance(log_prefix, str):
        raise InputError(f"log_prefix must be a string, got {log_prefix!r}")
    if params is not None and not callable(params):
        raise InputError(f"params must be a callable model -> parameters, got {params!r}")


def write_outputs(monitor: GramMonitor, out_dir: str | os.PathLike) -> list[Path]:
    """Atomically write the history (CSV) and the kept Grams (npz) into ``out_dir``;
    returns the paths written."""
    out_dir = Path(out_dir)
    written = [out_dir / HISTORY_NAME]
    rundir.write_csv(written[0], monitor.history())
    if monitor.keep_grams:
        written.append(out_dir / GRAMS_NAME)
        rundir.write_npz(written[1], grams=monitor.grams(), steps=monitor.gram_steps())
    return written


def state_file(folder: str | os.PathLike, monitor: GramMonitor) -> Path:
    """The monitor's state file in a checkpoint folder: one per rank when the monitor is
    sharded (each rank holds its own shard of the updates), else one."""
    if monitor.shard_group is None:
        return Path(folder) / STATE_NAME
    import torch.distributed as dist

    rank = dist.get_rank(monitor.shard_group)
    return Path(folder) / f"gram_monitor.rank{rank}.pt"
