"""One run as the scorecard sees it (:class:`RunData`) and the run-directory reader.

:func:`load_run` reads a run directory — ``spectra.csv`` (required), ``config.json``,
``summary.json``, ``metrics.csv``, ``grams.npz``, ``probes.csv``, ``probe_windows.csv`` —
and checks what the predictions rely on: every file parses, holds the right kind of JSON
value, and has the columns the scorecard reads (``step``, ``W``, ``kstar`` and ``sigma_1..``
in ``spectra.csv``; ``step`` in ``metrics.csv``). Anything else is an
:class:`~spectral_edge.common.errors.InputError` naming the file (and the column). External
spectra files are read by :mod:`spectral_edge.validation.scorecard.external`.
"""

from __future__ import annotations

import math
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from spectral_edge.common.errors import InputError
from spectral_edge.numerics.columns import LEGACY, sigma_columns, upgrade
from spectral_edge.validation.runs.rundir import read_json
from spectral_edge.validation.runs.shortrun import no_window_message

REQUIRED = {"spectra.csv": ("step", "W", "kstar"), "metrics.csv": ("step",)}
"""Columns a run file must hold (besides ``sigma_1..`` in ``spectra.csv``)."""


@dataclass(frozen=True)
class RunData:
    """One run as the predictions see it. ``external`` marks a spectra file (σ only)."""

    name: str
    path: Path
    spectra: pd.DataFrame = field(repr=False)
    config: dict[str, Any] = field(default_factory=dict, repr=False)
    summary: dict[str, Any] = field(default_factory=dict, repr=False)
    metrics: pd.DataFrame | None = field(default=None, repr=False)
    grams: np.ndarray | None = field(default=None, repr=False)
    probes: pd.DataFrame | None = field(default=None, repr=False)
    probe_windows: pd.DataFrame | None = field(default=None, repr=False)
    external: bool = False

    @property
    def W(self) -> int:
        """Window length."""
        return int(self.spectra["W"].iloc[0])

    def get(self, key: str, default: Any = None) -> Any:
        """A config field (or ``default``)."""
        return self.config.get(key, default)

    @property
    def eta_eff(self) -> float:
        """η·stride, the learning rate per snapshot (NaN when unknown)."""
        lr = self.config.get("lr")
        if lr is None and "lr" in self.spectra:
            lr = float(self.spectra["lr"].iloc[-1])
        stride = self.config.get("stride", 1)
        try:
            return float(lr) * float(stride) if lr is not None else math.nan
        except (TypeError, ValueError):
            return math.nan

    def sigma(self) -> np.ndarray:
        """σ_1..σ_W per window, shape (windows, W)."""
        return self.spectra[sigma_columns(self.spectra)].to_numpy(dtype=np.float64)

    def alpha(self) -> np.ndarray:
        """α_1..α_W per window (exact, from ‖ΔC‖_F), shape (windows, W)."""
        cols = [c for c in self.spectra if c.startswith("alpha_")]
        cols.sort(key=lambda c: int(c.split("_")[1]))
        return self.spectra[cols].to_numpy(dtype=np.float64)


def _read_csv(path: Path, required: bool) -> pd.DataFrame | None:
    """A run CSV, its legacy columns renamed and its required columns checked numeric."""
    if not path.exists():
        if required:
            raise InputError(f"{path.parent} has no {path.name}: not a run directory")
        return None
    try:
        frame = pd.read_csv(path)
    except pd.errors.EmptyDataError:
        frame = pd.DataFrame()
    except (ValueError, UnicodeError, OSError) as err:
        raise InputError(f"{path} is not a readable CSV: {' '.join(str(err).split())}") from err
    if path.name in LEGACY:  # a run directory written before the column renames
        frame = upgrade(frame, path.name)
    needed = list(REQUIRED.get(path.name, ()))
    if path.name == "spectra.csv" and not frame.empty:
        needed += sigma_columns(frame)[:2]
    for col in needed:
        if col not in frame:
            raise InputError(f"{path}: no {col} column")
        values = pd.to_numeric(frame[col], errors="coerce")
        bad = np.flatnonzero(~np.isfinite(values.to_numpy(np.float64)))
        if bad.size:
            raise InputError(f"{path}: row {bad[0] + 1}, column {col}: "
                             f"{frame[col].iloc[bad[0]]!r} is not a finite number")
    if path.name in ("spectra.csv", "metrics.csv") and not frame.empty:
        _check_values(path, frame)
    return frame


def _first_bad(path: Path, frame: pd.DataFrame, col: str, bad: np.ndarray, rule: str) -> None:
    hit = np.flatnonzero(bad)
    if hit.size:
        i = int(hit[0])
        value = frame[col].iloc[i]
        shown = repr(value) if isinstance(value, str) else str(value)
        raise InputError(f"{path}: row {i + 1}, column {col}: {shown} {rule}")


def _check_values(path: Path, frame: pd.DataFrame) -> None:
    """The values the scorecard computes with: steps non-negative integers, increasing in
    ``spectra.csv``; ``W`` one integer >= 2; ``kstar`` integers in 1..W-1; σ >= 0."""
    step = pd.to_numeric(frame["step"], errors="coerce").to_numpy(np.float64)
    _first_bad(path, frame, "step", (step < 0) | (step != np.floor(step)) | (step > 2.0**62),
               "must be an integer in 0..2**62")
    if path.name != "spectra.csv":
        return
    _first_bad(path, frame, "step", np.r_[False, np.diff(step) <= 0],
               "is not above the previous row's (steps must be strictly increasing)")
    W = pd.to_numeric(frame["W"], errors="coerce").to_numpy(np.float64)
    _first_bad(path, frame, "W", (W != W[0]) | (W < 2) | (W != np.floor(W)),
               "must be one integer >= 2 in every row")
    k = pd.to_numeric(frame["kstar"], errors="coerce").to_numpy(np.float64)
    _first_bad(path, frame, "kstar", (k < 1) | (k > W - 1) | (k != np.floor(k)),
               "must be an integer in 1..W-1")
    for col in sigma_columns(frame):
        v = pd.to_numeric(frame[col], errors="coerce").to_numpy(np.float64)
        _first_bad(path, frame, col, v < 0, "must be >= 0")


def _read_json(path: Path) -> dict[str, Any]:
    """A run's JSON object ({} when the file is missing)."""
    if not path.exists():
        return {}
    data = read_json(path)
    if not isinstance(data, dict):
        raise InputError(f"{path} must hold a JSON object, not {type(data).__name__}")
    return data


def _checked_config(path: Path) -> dict[str, Any]:
    """``config.json`` with the fields the scorecard computes with checked (``lr``, ``wd``:
    finite numbers >= 0; ``stride``, ``window``: positive integers)."""
    config = _read_json(path)
    for key, integer in (("lr", False), ("wd", False), ("stride", True), ("window", True)):
        value = config.get(key)
        if value is None:
            continue
        ok = (not isinstance(value, bool) and isinstance(value, int | float)
              and math.isfinite(value) and value >= 0)
        if ok and integer:
            ok = value == int(value) and value >= 1
        if not ok:
            kind = "a positive integer" if integer else "a finite number >= 0"
            raise InputError(f"{path}: field {key} must be {kind}, got {value!r}")
    return config


def read_plan_file(path: Path) -> dict[str, Any]:
    """``reproduce.json`` (``{}`` when missing), its fields checked.

    Args:
        path: The file ``reproduce`` wrote.

    Returns:
        Its object: ``notes`` and ``commands`` lists of strings, ``wall_s`` a number or null,
        ``calls`` a list of ``{"runs", "workers", "wall_s"}`` (the calls that trained).

    Raises:
        InputError: If the file is not such an object (the message names the field).
    """
    made = _read_json(path)
    for key in ("notes", "commands"):
        value = made.get(key, [])
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise InputError(f"{path}: field {key} must be a list of strings")
    wall = made.get("wall_s")
    if wall is not None and (isinstance(wall, bool) or not isinstance(wall, int | float)):
        raise InputError(f"{path}: field wall_s must be a number or null, got {wall!r}")
    calls = made.get("calls", [])
    if not isinstance(calls, list) or not all(
            isinstance(c, dict) and set(c) == {"runs", "workers", "wall_s"}
            and all(isinstance(v, int | float) and not isinstance(v, bool) and v >= 0
                    for v in c.values()) for c in calls):
        raise InputError(f"{path}: field calls must be a list of {{runs, workers, wall_s}} "
                         "objects of numbers >= 0")
    return made


def _read_grams(path: Path, windows: int) -> np.ndarray | None:
    if not path.exists():
        return None
    try:
        with np.load(path, allow_pickle=False) as data:
            grams = np.asarray(data["grams"], dtype=np.float64)
    except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile) as err:
        raise InputError(f"{path} is unreadable: {' '.join(str(err).split())}") from err
    if grams.ndim != 3 or grams.shape[1] != grams.shape[2]:
        raise InputError(f"{path}: grams must have shape (windows, W+1, W+1), got {grams.shape}")
    return grams if len(grams) == windows else None  # another checkpoint's: do not mix


def load_run(path: str | Path) -> RunData:
    """A run directory (``spectra.csv`` required; every other file optional).

    Args:
        path: The run directory.

    Returns:
        The run's :class:`RunData`.

    Raises:
        InputError: If ``path`` is not a directory, ``spectra.csv`` has no windows, or any
            file is corrupt or lacks a column the scorecard reads (the message names it).
    """
    path = Path(path)
    if not path.is_dir():
        raise InputError(f"run directory {path} does not exist")
    short = no_window_message(path) if _has_no_window(path / "spectra.csv") else None
    if short is not None:
        raise InputError(f"{path}: {short}")
    spectra = _read_csv(path / "spectra.csv", required=True)
    if spectra is None or spectra.empty or "sigma_1" not in spectra:
        raise InputError(f"{path / 'spectra.csv'} has no windows (no sigma_1 column or rows)")
    return RunData(
        name=path.name,
        path=path,
        spectra=spectra,
        config=_checked_config(path / "config.json"),
        summary=_read_json(path / "summary.json"),
        metrics=_read_csv(path / "metrics.csv", required=False),
        grams=_read_grams(path / "grams.npz", len(spectra)),
        probes=_read_csv(path / "probes.csv", required=False),
        probe_windows=_read_csv(path / "probe_windows.csv", required=False),
    )


def _has_no_window(spectra: Path) -> bool:
    """A run that has not written a window yet: ``spectra.csv`` empty or a header alone."""
    try:
        with spectra.open("rb") as handle:
            return len([line for line in handle.read(1 << 16).splitlines()[:2]
                        if line.strip()]) < 2
    except OSError:
        return False


def find_runs(root: str | Path, skipped: list[str] | None = None) -> list[RunData]:
    """Every run directory under ``root`` (``root`` itself if it is one), sorted by name.

    A folder counts as a run when it holds ``spectra.csv`` and ``config.json``; one without
    ``config.json`` (an external spectra file named ``spectra.csv``) and a run with no
    window yet are left out and listed in ``skipped``. A run with a corrupt file is an error.

    Args:
        root: The folder searched (recursively).
        skipped: A list that receives ``"DIR: reason"`` for each folder left out.

    Returns:
        The runs, sorted by directory.

    Raises:
        InputError: If ``root`` is not a directory or a run under it is corrupt.
    """
    root = Path(root)
    if not root.is_dir():
        raise InputError(f"run root {root} is not a directory")
    dirs = sorted({p.parent for p in root.rglob("spectra.csv")})
    runs = []
    for d in dirs:
        reason = ("no config.json: not a run directory" if not (d / "config.json").exists()
                  else "no window written yet" if _has_no_window(d / "spectra.csv") else None)
        if reason is not None:
            if skipped is not None:
                skipped.append(f"{d}: {reason}")
            continue
        runs.append(load_run(d))
    return runs
