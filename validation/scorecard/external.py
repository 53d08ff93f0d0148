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
Gram diag(σ²) (exact storage), computed for all windows at once (:func:`sigma_stats`;
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
from spectral_edge.numerics.columns import G23_LAMBDA, G_SIGMA, names, sigma_columns
from spectral_edge.numerics.spectra import DEFAULT_RTOL
from spectral_edge.validation.runs.rundir import no_duplicate_keys
from spectral_edge.validation.scorecard.rundata import RunData

SIGMA_RANGE = (1e-150, 1e150)
"""The largest σ of a window must lie here (σ² stays a normal float64)."""
MAX_W = 4096
"""The most σ columns per window."""
MAX_P = 10**15
"""The largest parameter count accepted."""
PLACEHOLDER_P = 10**9
"""P used for the σ-only statistics of a file that gives no P (the P-dependent columns are
then NaN)."""
P_COLUMNS = ("nu", "d_crit", "d_crit_textbook", "vacuity")
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
        if frame[col].map(lambda v: isinstance(v, bool | list | dict)).any():
            i = int(np.flatnonzero(frame[col].map(
                lambda v: isinstance(v, bool | list | dict)).to_numpy())[0])
            raise _fail(path, f"row {i + 1}, field {col}: ", "must be a number")
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


def sigma_stats(steps: np.ndarray, sigma: np.ndarray, P: int | None) -> pd.DataFrame:
    """The ``spectra.csv`` rows :func:`~spectral_edge.numerics.spectra.window_stats` gives for
    the Grams diag(σ²), all windows at once (rank guard at the default rtol, rank capped at
    P; without P the P-dependent columns and ``P`` are NaN).

    Args:
        steps: The windows' steps, shape (n,).
        sigma: σ per window, descending, shape (n, W), the largest of each row > 0.
        P: The parameter count, or ``None``.

    Returns:
        One row per window: ``step`` and the columns of ``WindowStats.as_row()``.
    """
    n, W = sigma.shape
    cap = P or PLACEHOLDER_P
    rtol = DEFAULT_RTOL
    lam = sigma**2
    lam[np.sqrt(lam) < rtol * np.sqrt(lam[:, :1])] = 0.0
    lam[:, cap:] = 0.0
    s = np.sqrt(lam)
    rank = np.minimum(np.count_nonzero((s >= rtol * s[:, :1]) & (s > 0), axis=1), cap)
    below = np.arange(1, W)[None, :] < rank[:, None]
    with np.errstate(divide="ignore", invalid="ignore"):
        r = np.where(below, s[:, :-1] / np.where(below, s[:, 1:], 1.0), np.nan)
        weighted = s[:, :-1] / s.sum(axis=1, keepdims=True) * r
    nu = np.sqrt(np.mean(s[:, W // 2:] ** 2, axis=1) / cap)
    edge = nu * (np.sqrt(cap) + np.sqrt(W))
    ks = {}
    for method, score, valid in (("ratio", r, below), ("weighted", weighted, below),
                                 ("signal", r, below & (s[:, 1:] > edge[:, None]))):
        best = np.argmax(np.where(valid, score, -np.inf), axis=1) + 1
        ks[method] = np.where(valid.any(axis=1), best, 1)
    k = ks["weighted"]
    idx = np.arange(n)
    hi, lo = s[idx, k - 1], s[idx, k]
    with np.errstate(divide="ignore", invalid="ignore"):
        R = np.where(lo > 0, hi / np.where(lo > 0, lo, 1.0), np.inf)
        d_crit = nu * (cap * (W - 1)) ** 0.25
        vacuity = np.where(d_crit > 0, s[:, -1] / d_crit, np.nan)
    nan = np.full(n, np.nan)
    cols: dict[str, Any] = {
        "step": steps, "W": W, "P": cap, "rank": rank, "kstar": k, "kstar_method": "weighted",
        "kstar_ratio": ks["ratio"], "kstar_weighted": ks["weighted"],
        "kstar_signal": ks["signal"], "R": R, G_SIGMA: hi - lo,
        G23_LAMBDA: lam[:, 1] - lam[:, 2] if W >= 3 else nan, "nu": nu, "d_crit": d_crit,
        "d_crit_textbook": nu * (cap * W) ** 0.25, "vacuity": vacuity, "delta_c_fro": nan,
        "delta_c_op": nan, "A": nan, "A_dk": nan, "regime": "unknown", "rtol": rtol,
    }
    cols |= {f"sigma_{j + 1}": s[:, j] for j in range(W)}
    cols |= {f"alpha_{j + 1}": nan for j in range(W)}
    frame = pd.DataFrame(cols)
    if P is None:
        frame.loc[:, list(P_COLUMNS)] = np.nan
        frame["P"] = np.nan
    return frame


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
