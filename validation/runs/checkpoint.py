"""The ``checkpoint.pt`` schema: its keys and their types (:data:`CHECKPOINT_TYPES`), reading
one safely (:func:`read_checkpoint`), checking it fits a model (:func:`check_checkpoint`)
before any of it is used, and a run session's state out (:func:`session_state`) and back in
(:func:`restore_session`, :func:`load_checkpoint`).

>>> CHECKPOINT_VERSION, sorted(CHECKPOINT_TYPES)[:3]
(2, ['config', 'fit_step', 'grok_step'])
"""

from __future__ import annotations

import math
import pickle
from pathlib import Path
from typing import Any

import torch

from spectral_edge.common.errors import InputError
from spectral_edge.validation.monitor.state import portable, to_numpy
from spectral_edge.validation.runs.config import RunConfig

CHECKPOINT_VERSION = 2  # 2: monitor state with storage dtype, skip counters, gram steps

CHECKPOINT_TYPES: dict[str, tuple[type, ...]] = {
    "version": (int,),
    "config": (dict,),
    "step": (int,),
    "model": (dict,),
    "optimizer": (dict,),
    "monitor": (dict,),
    "torch_rng": (torch.Tensor,),
    "rows": (list,),
    "grok_step": (int, type(None)),
    "grok_wall_s": (float, int, type(None)),
    "fit_step": (int, type(None)),
    "stop_reason": (str, type(None)),
    "wall_s": (float, int),
}
"""The keys of ``checkpoint.pt`` and the types their values must have (an optional
``probes`` dict holds the probe rows)."""


def read_checkpoint(path: Path, device: str) -> Any:
    """``torch.load(path, weights_only=True)`` onto ``device``, as an ``InputError`` when it
    cannot be read.

    Args:
        path: the checkpoint file.
        device: where its tensors go (``map_location``).

    Returns:
        What the file holds (check it with :func:`check_checkpoint`).

    Raises:
        InputError: when the file is unreadable or holds objects other than tensors and
            plain data.
    """
    try:
        return torch.load(path, map_location=device, weights_only=True)
    except pickle.UnpicklingError:
        raise InputError(
            f"cannot read checkpoint {path}: it holds objects other than tensors and plain "
            "data (not a spectral-edge checkpoint; refused for safety)"
        ) from None
    except Exception as err:  # noqa: BLE001 - any unreadable checkpoint is bad input
        first = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
        raise InputError(f"cannot read checkpoint {path}: {first}") from None


def check_checkpoint(state: Any, path: Path, model: torch.nn.Module) -> None:
    """Check ``state`` against :data:`CHECKPOINT_TYPES` and ``model``'s tensors.

    Args:
        state: what :func:`read_checkpoint` returned.
        path: the file (for the messages).
        model: the model the checkpoint must fit (names and shapes of its tensors).

    Raises:
        InputError: naming the first key of ``state`` that is missing or wrong.
    """
    if not isinstance(state, dict):
        raise InputError(f"checkpoint {path} is not a dict of run state")
    for key, kinds in CHECKPOINT_TYPES.items():
        if key not in state:
            raise InputError(f"checkpoint {path} lacks the key {key!r}")
        value = state[key]
        if isinstance(value, bool) or not isinstance(value, kinds):
            kind = type(value).__name__
            raise InputError(f"checkpoint {path}: {key!r} has the wrong type {kind}")
    if state["version"] != CHECKPOINT_VERSION:
        raise InputError(f"checkpoint {path} has an unknown version {state['version']}")
    for key in ("step", "grok_step", "fit_step"):
        if state[key] is not None and state[key] < 0:
            raise InputError(f"checkpoint {path}: {key!r} must be >= 0, got {state[key]}")
    if not math.isfinite(state["wall_s"]) or state["wall_s"] < 0:
        raise InputError(f"checkpoint {path}: 'wall_s' must be a finite time >= 0")
    if not all(isinstance(row, dict) for row in state["rows"]):
        raise InputError(f"checkpoint {path}: 'rows' must be a list of metric rows")
    if not isinstance(state.get("probes") or {}, dict):
        raise InputError(f"checkpoint {path}: 'probes' must be a dict")
    _check_model(state["model"], path, model.state_dict())


def session_state(session: Any) -> dict[str, Any]:
    """The checkpoint's contents of a run session, in checkpoint form (NumPy arrays as
    tensors, NumPy scalars as numbers: :func:`~spectral_edge.validation.monitor.state.portable`),
    ready for ``torch.save``.

    Args:
        session: a :class:`~spectral_edge.validation.runs.session.RunSession`.

    Returns:
        A dict with the keys of ``CHECKPOINT_TYPES`` and ``probes``.
    """
    return portable({
        "version": CHECKPOINT_VERSION,
        "config": session.config.to_dict(),
        "step": session.step,
        "model": session.model.state_dict(),
        "optimizer": session.optimizer.state_dict(),
        "monitor": session.monitor.state_dict(),
        "torch_rng": torch.get_rng_state(),
        "rows": session.rows,
        "grok_step": session.grok_step,
        "grok_wall_s": session.grok_wall_s,
        "fit_step": session.fit_step,
        "stop_reason": session.stop_reason,
        "wall_s": session.wall_s,
        "probes": {
            "rows": session.probe_rows,
            "windows": session.probe_windows,
            "wall_s": session.probe_wall_s,
            "timing": session.probe_timing,
        },
    })


def load_checkpoint(session: Any, path: Path) -> None:
    """Restore the checkpoint at ``path`` into ``session``; its contents are checked
    (:func:`check_checkpoint`) before any of it is used.

    Args:
        session: a fresh :class:`~spectral_edge.validation.runs.session.RunSession` of the
            run's config.
        path: the checkpoint file.

    Raises:
        InputError: for an unreadable file, a missing key, a wrong type, a tensor of the wrong
            shape or a checkpoint of another config.
    """
    state = read_checkpoint(path, session.config.device)
    check_checkpoint(state, path, session.model)
    monitor_state = dict(state["monitor"])
    if isinstance(monitor_state.get("grams"), list):
        monitor_state["grams"] = [to_numpy(g) for g in monitor_state["grams"]]
    restore_session(session, state | {"monitor": monitor_state}, path)

def restore_session(session: Any, state: dict[str, Any], path: Path) -> None:
    """Give a run session a checked checkpoint's contents (:func:`check_checkpoint`).

    Args:
        session: a :class:`~spectral_edge.validation.runs.session.RunSession`.
        state: the checkpoint, its monitor grams as NumPy arrays.
        path: its file (for the messages).

    Raises:
        InputError: when it was written by a different config or does not fit this run.
    """
    if RunConfig.from_dict(state["config"]) != session.config:
        raise InputError(f"checkpoint {path} was written by a different config")
    try:
        session.model.load_state_dict(state["model"])
        session.optimizer.load_state_dict(state["optimizer"])
        session.monitor.load_state_dict(state["monitor"])
        torch.set_rng_state(state["torch_rng"])
    except (RuntimeError, ValueError, KeyError, TypeError, AttributeError) as err:
        first = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
        raise InputError(f"checkpoint {path} does not fit this run: {first}") from None
    session.step, session.rows = int(state["step"]), [dict(r) for r in state["rows"]]
    session.grok_step, session.fit_step = state["grok_step"], state["fit_step"]
    session.grok_wall_s, session.stop_reason = state["grok_wall_s"], state["stop_reason"]
    session.wall_s = float(state["wall_s"])
    probes = state.get("probes") or {}
    session.probe_rows = [dict(r) for r in probes.get("rows", [])]
    session.probe_windows = [dict(r) for r in probes.get("windows", [])]
    session.probe_wall_s = float(probes.get("wall_s", 0.0))
    session.probe_timing = [dict(r) for r in probes.get("timing", [])]



def _check_model(got: dict, path: Path, expected: dict) -> None:
    if set(got) != set(expected):
        missing = sorted(set(expected) - set(got)) or sorted(set(got) - set(expected))
        raise InputError(f"checkpoint {path}: model tensors differ from this run's ({missing[0]})")
    for name, tensor in expected.items():
        if not isinstance(got[name], torch.Tensor):
            kind = type(got[name]).__name__
            raise InputError(f"checkpoint {path}: model entry {name!r} is a {kind}, not a tensor")
        if got[name].shape != tensor.shape:
            raise InputError(
                f"checkpoint {path}: model tensor {name!r} has shape {tuple(got[name].shape)}, "
                f"this run needs {tuple(tensor.shape)}"
            )
