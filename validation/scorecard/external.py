"""External spectra files (``spectral-edge analyze FILE``): read, validate, compute the
σ-only window statistics. The format is documented in docs/analyze.md.

A CSV has a header and one row per window; a JSON file holds a list of window objects, or
an object ``{"P": .., "eta": .., "W": .., "windows": [..]}``. Each window has ``step`` (a
non-negative integer, strictly increasing) and ``sigma_1..sigma_W`` (or ``sigma`` as a
list; finite, >= 0, the largest in [1e-150, 1e150]); optional fields are ``P`` (a positive
integer), ``eta`` or ``lr`` (finite, > 0) and ``W`` (an integer >= 2, the number of σ).
Every other column of a run's ``spectra.csv`` is accepted and ignored (the statistics are
recomputed); any other name is refused. Each bad value is an
:class:`~spectral_edge.common.errors.InputError` naming the file, the row and the field.

The statistics are those of :func:`spectral_edge.numerics.spectra.window_stats` for the
Gram diag(σ²) (exact storage), computed for all windows at once
(:func:`~spectral_edge.validation.scorecard.sigma_stats.sigma_stats`;
``tests/test_fuzz_readers.py`` checks them against ``window_stats`` row by row): 400,000
windows take a few seconds.

>>> import tempfile, pathlib
>>> f = pathlib.Path(tempfile.mkdtemp()) / "s.csv"
>>> _ = f.write_text("step,sigma_1,sigma_2,sigma_3\\n10,4,2,1\\n20,4,1,1\\n")
>>> run = load_spectra_file(f)
>>> run.spectra[["step", "kstar", "R"]].to_dict("list")
{'step': [10, 20], 'kstar': [1, 1], 'R': [2.0, 4.0]}
"""

from __future__ import annotations

import json
import math
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from spectral_edge.common.errors import InputError
from spectral_edge.numerics.columns import names, sigma_columns
from spectral_edge.validation.runs.rundir import no_duplicate_keys
from spectral_edge.validation.scorecard.rundata import RunData
from spectral_edge.validation.scorecard.sigma_stats import sigma_stats

SIGMA_RANGE = (1e-150, 1e150)
"""The largest σ of a window must lie here (σ² stays a normal float64)."""
MAX_W = 4096
"""The most σ columns per window."""
MAX_P = 10**15
"""The largest parameter count accepted."""
OPTIONAL = ("P", "eta", "lr", "W")
IGNORED = frozenset(names("spectra.csv")) - {"step", *OPTIONAL}
META_KEYS = frozenset({"windows", *OPTIONAL})


def _fail(path: Path, where: str, message: str) -> InputError:
    return InputError(f"{path}: {where}{message}")


def _number_column(path: Path, frame: pd.DataFrame, col: str, rows: np.ndarray) -> np.ndarray:
    """``frame[col]`` as float64; the first non-number names its row."""
    raw = frame[col]
    values = pd.to_numeric(raw, errors="coerce").to_numpy(np.float64)
    bad = np.flatnonzero(~np.isfinite(values))
    if bad.size:
        i = bad[0]
        shown = "missing" if pd.isna(raw.iloc[i]) else repr(raw.iloc[i])
        raise _fail(path, f"row {rows[i]}, field {col}: ", f"{shown} is not a finite number")
    return values


def _check_values(path: Path, values: np.ndarray, col: str, rows: np.ndarray, *,
                  integer: bool = False, minimum: float | None = None,
                  strict: bool = False, maximum: float | None = None) -> None:
    bad = np.zeros(values.shape, dtype=bool)
    want = []
    if integer:
        bad |= values != np.floor(values)
        want.append("an integer")
    if minimum is not None:
        bad |= values <= minimum if strict else values < minimum
        want.append(f"{'>' if strict else '>='} {minimum:g}")
    if maximum is not None:
        bad |= values > maximum
        want.append(f"<= {maximum:g}")
    hit = np.flatnonzero(bad)
    if hit.size:
        i = hit[0]
        raise _fail(path, f"row {rows[i]}, field {col}: ",
                    f"{values[i]!r} must be {' and '.join(want)}")


def _constant(path: Path, values: np.ndarray, col: str, rows: np.ndarray) -> float:
    hit = np.flatnonzero(values != values[0])
    if hit.size:
        raise _fail(path, f"row {rows[hit[0]]}, field {col}: ",
                    f"{values[hit[0]]!r} differs from row {rows[0]} ({values[0]!r}); "
                    f"{col} must be the same in every window")
    return float(values[0])


def _read_csv(path: Path) -> pd.DataFrame:
    with path.open("rb") as handle:
        handle.seek(0, 2)
        if handle.tell() == 0:
            raise _fail(path, "", "the file is empty")
        handle.seek(-1, 2)
        if handle.read(1) not in (b"\n", b"\r"):
            raise _fail(path, "", "the last row has no line end (a file cut short?)")
    try:
        with warnings.catch_warnings():  # a row longer than the header: refused, not cut
            warnings.simplefilter("error", pd.errors.ParserWarning)
            return pd.read_csv(path, keep_default_na=False, na_values=[""], index_col=False,
                               on_bad_lines="error", encoding="utf-8", low_memory=False)
    except pd.errors.ParserWarning as err:
        raise _fail(path, "", "a row has more fields than the header") from err
    except pd.errors.EmptyDataError as err:
        raise _fail(path, "", "no header row") from err
    except (ValueError, UnicodeError, OverflowError) as err:
        raise _fail(path, "", f"not a readable CSV ({' '.join(str(err).split())[:200]})"
                    ) from err


def _read_json(path: Path) -> tuple[pd.DataFrame, dict[str, Any]]:
    try:
        data = json.loads(path.read_bytes(), object_pairs_hook=no_duplicate_keys)
    except (ValueError, UnicodeError, RecursionError) as err:  # InputError is a ValueError
        raise _fail(path, "", f"not valid JSON ({' '.join(str(err).split())[:200]})") from err
    meta: dict[str, Any] = {}
    if isinstance(data, dict):
        unknown = sorted(set(data) - META_KEYS)
        if unknown:
            raise _fail(path, "", f"unknown key {unknown[0]!r} (allowed: "
                        f"{', '.join(sorted(META_KEYS))})")
        meta = {k: v for k, v in data.items() if k != "windows"}
        data = data.get("windows")
    if not isinstance(data, list) or not data:
        raise _fail(path, "", "expected a non-empty list of windows (objects with step and "
                    "sigma_1..) or an object with a 'windows' list")
    for i, row in enumerate(data):
        if not isinstance(row, dict):
            raise _fail(path, f"row {i + 1}: ", f"expected a list of windows (objects), "
                        f"got {type(row).__name__}")
        if "sigma" in row:
            sig = row["sigma"]
            if not isinstance(sig, list) or any(f"sigma_{j}" in row for j in range(1, 3)):
                raise _fail(path, f"row {i + 1}, field sigma: ", "must be a list of numbers "
                            "(and not given together with sigma_1..)")
    if "sigma" in data[0]:
        width = len(data[0]["sigma"])
        for i, row in enumerate(data):
            sig = row.get("sigma")
            if not isinstance(sig, list) or len(sig) != width:
                raise _fail(path, f"row {i + 1}, field sigma: ",
                            f"every window needs a list of {width} values, as row 1")
        frame = pd.DataFrame([{k: v for k, v in r.items() if k != "sigma"} for r in data])
        sig = pd.DataFrame([r["sigma"] for r in data],
                           columns=[f"sigma_{j + 1}" for j in range(width)])
        frame = pd.concat([frame.reset_index(drop=True), sig], axis=1)
    else:
        frame = pd.DataFrame(data)
    for col in frame.columns:
        if pd.api.types.is_numeric_dtype(frame[col]) and frame[col].dtype != bool:
            continue  # ints and floats only: nothing to look at
        bad = frame[col].map(lambda v: isinstance(v, bool | list | dict)).to_numpy()
        if bad.any():
            raise _fail(path, f"row {int(np.flatnonzero(bad)[0]) + 1}, field {col}: ",
                        "must be a number")
    return frame, meta


def read_spectra_file(path: str | Path) -> tuple[np.ndarray, np.ndarray, int | None,
                                                 float | None]:
    """Read and validate an external spectra file.

    Args:
        path: A ``.csv`` or ``.json`` file (format: docs/analyze.md).

    Returns:
        ``(steps, sigma, P, eta)``: int64 steps (windows,), σ sorted descending
        (windows, W), and P and η when the file gives them (else ``None``).

    Raises:
        InputError: If the file is missing, unreadable, or any field of any window is
            invalid; the message names the file, the row and the field.
    """
    path = Path(path)
    if not path.is_file():
        raise InputError(f"spectra file {path} does not exist")
    suffix = path.suffix.lower()
    if suffix == ".csv":
        frame, meta = _read_csv(path), {}
    elif suffix == ".json":
        frame, meta = _read_json(path)
    else:
        raise InputError(f"{path}: an external spectra file must be .csv or .json")
    frame.columns = [str(c) for c in frame.columns]
    cols = sigma_columns(frame)
    expected = [f"sigma_{j + 1}" for j in range(len(cols))]
    if cols != expected:
        missing = next(e for e, c in zip(expected + [""], cols + [""], strict=True) if e != c)
        raise _fail(path, "", f"the sigma columns must be sigma_1..sigma_W without a gap; "
                    f"{missing} is missing")
    for col in frame.columns:
        if col not in cols and col != "step" and col not in OPTIONAL and col not in IGNORED:
            raise _fail(path, f"field {col!r}: ", "unknown (allowed: step, sigma_1..sigma_W, "
                        "P, eta, lr, W, and the other spectra.csv columns)")
    if "step" not in frame or len(cols) < 2:
        raise _fail(path, "", "needs a step field and sigma_1..sigma_W (W >= 2) per window")
    if len(cols) > MAX_W:
        raise _fail(path, "", f"W = {len(cols)} sigma columns; at most {MAX_W}")
    if frame.empty:
        raise _fail(path, "", "no windows (a header without rows)")
    rows = np.arange(1, len(frame) + 1)
    steps = _number_column(path, frame, "step", rows)
    _check_values(path, steps, "step", rows, integer=True, minimum=0, maximum=2.0**62)
    back = np.flatnonzero(np.diff(steps) <= 0)
    if back.size:
        i = back[0] + 1
        raise _fail(path, f"row {rows[i]}, field step: ", f"{steps[i]:.0f} is not above the "
                    f"previous window's {steps[i - 1]:.0f} (steps must be strictly increasing)")
    sigma = np.empty((len(frame), len(cols)))
    for j, col in enumerate(cols):
        sigma[:, j] = _number_column(path, frame, col, rows)
        _check_values(path, sigma[:, j], col, rows, minimum=0)
    top = sigma.max(axis=1)
    out = np.flatnonzero((top < SIGMA_RANGE[0]) | (top > SIGMA_RANGE[1]))
    if out.size:
        i = out[0]
        col = cols[int(np.argmax(sigma[i]))]
        raise _fail(path, f"row {rows[i]}, field {col}: ",
                    f"the largest σ of a window must lie in [{SIGMA_RANGE[0]:g}, "
                    f"{SIGMA_RANGE[1]:g}], got {top[i]!r}" + (" (all σ are zero)" if top[i] == 0
                                                                else ""))
    values: dict[str, float | None] = {}
    for key in OPTIONAL:
        if key in meta and key in frame:
            raise _fail(path, f"field {key}: ", "given both at the top and per window")
        if key in meta:
            v = meta[key]
            if isinstance(v, bool) or not isinstance(v, int | float) or not math.isfinite(v):
                raise _fail(path, f"field {key}: ", f"{v!r} is not a finite number")
            values[key] = float(v)
            one = np.array([float(v)])
            _check_values(path, one, key, np.array([0]), **_RULES[key])
        elif key in frame:
            column = _number_column(path, frame, key, rows)
            _check_values(path, column, key, rows, **_RULES[key])
            values[key] = column[-1] if key in ("eta", "lr") else _constant(path, column, key,
                                                                             rows)
    if values.get("W") is not None and int(values["W"]) != len(cols):
        raise _fail(path, "field W: ", f"W = {values['W']:g} but the file has {len(cols)} "
                    "sigma columns")
    if values.get("eta") is not None and values.get("lr") is not None:
        raise _fail(path, "field lr: ", "give eta or lr, not both")
    eta = values.get("eta") if values.get("eta") is not None else values.get("lr")
    P = None if values.get("P") is None else int(values["P"])
    return steps.astype(np.int64), -np.sort(-sigma, axis=1), P, eta


_RULES: dict[str, dict[str, Any]] = {
    "P": {"integer": True, "minimum": 1, "maximum": MAX_P},
    "eta": {"minimum": 0, "strict": True},
    "lr": {"minimum": 0, "strict": True},
    "W": {"integer": True, "minimum": 2, "maximum": MAX_W},
}


def load_spectra_file(path: str | Path) -> RunData:
    """An external spectra file (CSV or JSON, docs/analyze.md), σ-only statistics computed.

    Args:
        path: The file.

    Returns:
        A :class:`RunData` with ``external=True`` (config: ``lr`` when the file gives η).

    Raises:
        InputError: If the file is missing, unreadable or holds an invalid field (the
            message names the file, the row and the field).
    """
    path = Path(path)
    steps, sigma, P, eta = read_spectra_file(path)
    spectra = sigma_stats(steps, sigma, P)
    config = {"lr": float(eta)} if eta is not None else {}
    return RunData(name=path.stem, path=path, spectra=spectra, config=config, external=True)
