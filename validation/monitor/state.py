"""The monitor's checkpoint state: plain Python values and tensors, so that
``torch.load(..., weights_only=True)`` reads it back, and the checks a state passes before
anything of it is copied into a monitor.

The two conversions between NumPy and checkpoint form live here (and only here):
:func:`portable` (arrays → tensors, NumPy scalars → Python numbers) and :func:`to_numpy`
(tensors → arrays).

>>> import io
>>> buf = io.BytesIO()
>>> torch.save(portable({"K": np.eye(2), "n": np.int64(3)}), buf)
>>> _ = buf.seek(0)
>>> back = torch.load(buf, weights_only=True)
>>> to_numpy(back["K"]).tolist(), back["n"]
([[1.0, 0.0], [0.0, 1.0]], 3)
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from spectral_edge.common.errors import InputError
from spectral_edge.common.validate import check_int

STATE_VERSION = 2
SKIP_KINDS = ("nonfinite", "zero")
"""Kinds of skipped updates counted in ``GramMonitor.skipped_by_kind``."""


def portable(value: Any) -> Any:
    """``value`` with NumPy arrays as tensors and NumPy scalars as Python numbers, through
    dicts, lists and tuples, so that ``torch.load(..., weights_only=True)`` reads it back.

    Args:
        value: anything (a state dict, a list of rows, an array...).

    Returns:
        A copy in checkpoint form (arrays copied into new tensors; other leaves as they are).

    >>> portable({"a": [np.float64(1.5), np.zeros(2)]})
    {'a': [1.5, tensor([0., 0.], dtype=torch.float64)]}
    """
    if isinstance(value, np.ndarray):
        return torch.from_numpy(np.array(value, copy=True, order="C"))
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, dict):
        return {k: portable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return type(value)(portable(v) for v in value)
    return value


def to_numpy(value: Any) -> Any:
    """A tensor as a NumPy array (on the CPU, detached); anything else as it is.

    Args:
        value: a tensor, or anything.

    Returns:
        ``value.detach().cpu().numpy()`` for a tensor, else ``value``.

    >>> to_numpy(torch.ones(2)).tolist(), to_numpy([1])
    ([1.0, 1.0], [1])
    """
    return value.detach().cpu().numpy() if isinstance(value, torch.Tensor) else value


@dataclass(frozen=True)
class StateSpec:
    """What a state must match: the monitor's settings and its tensors' shapes/dtypes."""

    window: int
    stride: int
    sketch_dim: int | None
    names: list[str]
    tensors: dict[str, tuple[tuple[int, ...], torch.dtype]]
    n_keep: int  # Grams kept (0: none)


@dataclass(frozen=True)
class CheckedState:
    """A state's values, converted and checked (nothing copied into a monitor yet)."""

    tensors: dict[str, torch.Tensor]
    gram_slots: np.ndarray
    order: list[int]
    counts: dict[str, int]
    skipped_by_kind: dict[str, int]
    stopped: str | None
    rows: list[dict[str, Any]]
    grams: list[np.ndarray]
    gram_steps: list[int]


def _get(state: Mapping, key: str) -> Any:
    if key not in state:
        raise InputError(f"monitor state has no {key!r}")
    return state[key]


def check_settings(state: Mapping, spec: StateSpec) -> None:
    """The state was written by a monitor with these settings and this version.

    Raises:
        InputError: naming the key.
    """
    for key in ("window", "stride", "sketch_dim", "names"):
        if _get(state, key) != getattr(spec, key):
            raise InputError(
                f"monitor state does not match this monitor: {key} is "
                f"{state.get(key)!r} in the state, {getattr(spec, key)!r} here"
            )
    version = state.get("version")
    if version != STATE_VERSION:
        raise InputError(
            f"monitor state has version {version!r}, this GramMonitor reads "
            f"{STATE_VERSION} (a checkpoint of an older monitor cannot resume exactly)"
        )


def check_tensor(state: Mapping, key: str, shape: tuple[int, ...],
                 dtype: torch.dtype) -> torch.Tensor:
    """``state[key]`` is a tensor of this shape and dtype.

    Returns:
        The tensor.

    Raises:
        InputError: naming the key.
    """
    value = _get(state, key)
    if not isinstance(value, torch.Tensor):
        raise InputError(f"monitor state {key!r} must be a tensor, got {type(value).__name__}")
    if tuple(value.shape) != tuple(shape) or value.dtype != dtype:
        raise InputError(f"monitor state {key!r} is {tuple(value.shape)} {value.dtype}, this "
                         f"monitor needs {tuple(shape)} {dtype}")
    return value


def check_ring(state: Mapping, slots: int) -> tuple[np.ndarray, list[int]]:
    """``gram_slots`` is a finite slots×slots matrix and ``order`` a permutation.

    Returns:
        Both, as a float64 array and a list.

    Raises:
        InputError: naming the key.
    """
    try:
        gram_slots = np.array(to_numpy(_get(state, "gram_slots")), dtype=np.float64)
    except (TypeError, ValueError, RuntimeError) as err:
        raise InputError(f"monitor state 'gram_slots' is not a matrix: {err}") from err
    if gram_slots.shape != (slots, slots) or not np.all(np.isfinite(gram_slots)):
        raise InputError(f"monitor state 'gram_slots' must be a finite {slots}×{slots} matrix, "
                         f"got shape {gram_slots.shape}")
    order = _get(state, "order")
    if not isinstance(order, list | tuple) or sorted(order) != list(range(slots)):
        raise InputError(f"monitor state 'order' must be a permutation of 0..{slots - 1}")
    return gram_slots, [int(i) for i in order]


def check_counters(state: Mapping) -> tuple[dict[str, int], dict[str, int], str | None]:
    """Counters ≥ 0, ``skipped_by_kind`` with every kind, ``stopped`` None or a string.

    Returns:
        The counters, the skipped counts by kind, and ``stopped``.

    Raises:
        InputError: naming the key.
    """
    counts = {key: check_int(f"monitor state {key!r}", _get(state, key), minimum=0)
              for key in ("n_updates", "calls", "skipped", "bad_lr")}
    kinds = _get(state, "skipped_by_kind")
    if not isinstance(kinds, Mapping) or set(kinds) != set(SKIP_KINDS):
        raise InputError(f"monitor state 'skipped_by_kind' must have the keys {SKIP_KINDS}")
    by_kind = {k: check_int(f"monitor state 'skipped_by_kind'[{k!r}]", kinds[k], minimum=0)
               for k in SKIP_KINDS}
    stopped = _get(state, "stopped")
    if stopped is not None and not isinstance(stopped, str):
        raise InputError("monitor state 'stopped' must be None or a string")
    return counts, by_kind, stopped


def check_rows(state: Mapping) -> list[dict[str, Any]]:
    """``rows`` is a list of dicts, each with a ``snapshot``.

    Returns:
        The rows (tensors as arrays).

    Raises:
        InputError: naming the key.
    """
    rows = _get(state, "rows")
    if not isinstance(rows, list | tuple) or not all(isinstance(r, Mapping) for r in rows):
        raise InputError("monitor state 'rows' must be a list of dicts")
    if any("snapshot" not in r for r in rows):
        raise InputError("monitor state 'rows' has a row without 'snapshot'")
    return [{k: to_numpy(v) for k, v in r.items()} for r in rows]


def check_grams(state: Mapping, window: int, n_keep: int) -> tuple[list[np.ndarray], list[int]]:
    """``grams`` and ``gram_steps``: lists of one length; the latest ``n_keep`` are kept.

    Returns:
        The kept Grams (float64 arrays) and their steps.

    Raises:
        InputError: naming the key.
    """
    grams, steps = _get(state, "grams"), _get(state, "gram_steps")
    if (not isinstance(grams, list | tuple) or not isinstance(steps, list | tuple)
            or len(grams) != len(steps)):
        raise InputError("monitor state 'grams' and 'gram_steps' must be lists of one length")
    shape = (window + 1, window + 1)
    kept = []
    for K in list(grams)[-n_keep:] if n_keep else []:
        K = np.array(to_numpy(K), dtype=np.float64)
        if K.shape != shape:
            raise InputError(f"monitor state 'grams' holds a {K.shape} matrix, not {shape}")
        kept.append(K)
    return kept, [int(s) for s in steps][len(steps) - len(kept):]


def check_state(state: Any, spec: StateSpec) -> CheckedState:
    """Every check of a monitor state against ``spec``; nothing is copied anywhere.

    Args:
        state: what ``GramMonitor.state_dict()`` returned (possibly through
            ``torch.save``/``torch.load(weights_only=True)``).
        spec: the loading monitor's settings.

    Returns:
        The converted values.

    Raises:
        InputError: naming the first key that is missing or wrong.

    >>> spec = StateSpec(2, 1, None, ["w"], {}, 0)
    >>> check_state({"window": 3}, spec)
    Traceback (most recent call last):
    ...
    spectral_edge.common.errors.InputError: monitor state does not match this monitor: ...
    """
    if not isinstance(state, Mapping):
        raise InputError(f"monitor state must be a dict, got {type(state).__name__}")
    check_settings(state, spec)
    tensors = {key: check_tensor(state, key, *like) for key, like in spec.tensors.items()}
    gram_slots, order = check_ring(state, spec.window + 2)
    counts, by_kind, stopped = check_counters(state)
    rows = check_rows(state)
    grams, steps = check_grams(state, spec.window, spec.n_keep)
    return CheckedState(tensors, gram_slots, order, counts, by_kind, stopped, rows, grams,
                        steps)
