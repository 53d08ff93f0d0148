"""Load what the scorecard reads: run directories and external spectra files.

:func:`load` takes a run directory (``config.json``, ``metrics.csv``, ``spectra.csv``,
``grams.npz``, ``summary.json``, and the probe files ``probes.csv`` /
``probe_windows.csv`` when the run was probed) or an external spectra file — a CSV or JSON
with ``step`` and ``sigma_1..sigma_W`` per window, optionally ``P``, ``eta``/``lr`` and ``W``
— and returns a :class:`RunData`. For an external file the window statistics are recomputed
with :func:`spectral_edge.numerics.spectra.window_stats` from the σ alone (the Gram diag(σ²) has
the same
spectrum); what needs two windows' Gram (‖ΔC‖, α, A) is then NaN, and without P the
P-dependent statistics (ν, d_crit, vacuity) are NaN.

The definitions that differ between the spec and the published scripts (docs/spec.md §8)
live here, each in both forms: :func:`grok_step` (``spec``: first evaluation ≥ 0.95;
``patience``: third consecutive evaluation ≥ 0.98), :func:`g23_decline` (full windows only,
or adaptive early windows w = min(W, available)) and :func:`alpha_proxy` (the
eigenvalue-change norm in place of ‖ΔC‖_F).

>>> import pandas as pd
>>> m = pd.DataFrame({"step": [0, 100, 200, 300, 400], "test_acc": [0, .96, .99, .99, .99]})
>>> grok_step(m, "spec"), grok_step(m, "patience")
(100, 400)
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from spectral_edge.common.errors import InputError
from spectral_edge.numerics.columns import G23_LAMBDA, LEGACY, sigma_columns, upgrade
from spectral_edge.numerics.spectra import eigenvalues_from_gram, g23, stability_alpha, window_stats

PLACEHOLDER_P = 10**9
"""P used to compute σ-only statistics of an external file that gives no P (the
P-dependent columns are then set to NaN)."""

P_COLUMNS = ("nu", "d_crit", "d_crit_textbook", "vacuity")


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
        return float(lr) * float(self.config.get("stride", 1)) if lr is not None else math.nan

    def sigma(self) -> np.ndarray:
        """σ_1..σ_W per window, shape (windows, W)."""
        return self.spectra[sigma_columns(self.spectra)].to_numpy(dtype=np.float64)

    def alpha(self) -> np.ndarray:
        """α_1..α_W per window (exact, from ‖ΔC‖_F), shape (windows, W)."""
        cols = [c for c in self.spectra if c.startswith("alpha_")]
        cols.sort(key=lambda c: int(c.split("_")[1]))
        return self.spectra[cols].to_numpy(dtype=np.float64)


def _read_csv(path: Path, required: bool) -> pd.DataFrame | None:
    if not path.exists():
        if required:
            raise InputError(f"{path.parent} has no {path.name}: not a run directory")
        return None
    try:
        frame = pd.read_csv(path)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as err:
        raise InputError(f"{path} is not a readable CSV: {' '.join(str(err).split())}") from err
    if path.name in LEGACY:  # a run directory written before the column renames
        frame = upgrade(frame, path.name)
    return frame


def _read_json(path: Path) -> dict[str, Any]:
    if not path.exists():
        return {}
    try:
        data = json.loads(path.read_text())
    except (json.JSONDecodeError, UnicodeDecodeError) as err:
        raise InputError(f"{path} is not valid JSON: {err}") from err
    if not isinstance(data, dict):
        raise InputError(f"{path} must hold a JSON object")
    return data


def load_run(path: str | Path) -> RunData:
    """A run directory (``spectra.csv`` required; every other file optional)."""
    path = Path(path)
    if not path.is_dir():
        raise InputError(f"run directory {path} does not exist")
    spectra = _read_csv(path / "spectra.csv", required=True)
    if spectra is None or spectra.empty or "sigma_1" not in spectra:
        raise InputError(f"{path / 'spectra.csv'} has no windows (no sigma_1 column or rows)")
    grams = None
    if (path / "grams.npz").exists():
        try:
            with np.load(path / "grams.npz") as data:
                grams = np.asarray(data["grams"], dtype=np.float64)
        except (OSError, ValueError, KeyError) as err:
            raise InputError(f"{path / 'grams.npz'} is unreadable: {err}") from err
        if len(grams) != len(spectra):
            grams = None  # written at a different checkpoint: do not mix
    return RunData(
        name=path.name,
        path=path,
        spectra=spectra,
        config=_read_json(path / "config.json"),
        summary=_read_json(path / "summary.json"),
        metrics=_read_csv(path / "metrics.csv", required=False),
        grams=grams,
        probes=_read_csv(path / "probes.csv", required=False),
        probe_windows=_read_csv(path / "probe_windows.csv", required=False),
    )


def _external_frame(path: Path) -> tuple[pd.DataFrame, dict[str, Any]]:
    suffix = path.suffix.lower()
    meta: dict[str, Any] = {}
    if suffix == ".csv":
        frame = _read_csv(path, required=True)
    elif suffix == ".json":
        data: Any
        try:
            data = json.loads(path.read_text())
        except (json.JSONDecodeError, UnicodeDecodeError) as err:
            raise InputError(f"{path} is not valid JSON: {err}") from err
        if isinstance(data, dict):
            meta = {k: v for k, v in data.items() if k != "windows"}
            data = data.get("windows")
        if not isinstance(data, list) or not all(isinstance(r, dict) for r in data):
            raise InputError(
                f"{path}: expected a list of windows (objects with step and sigma_1..) "
                "or an object with a 'windows' list"
            )
        frame = pd.DataFrame(data)
        if "sigma" in frame and "sigma_1" not in frame:  # {"step": .., "sigma": [..]}
            sig = pd.DataFrame(frame.pop("sigma").tolist())
            sig.columns = [f"sigma_{j + 1}" for j in range(sig.shape[1])]
            frame = pd.concat([frame, sig], axis=1)
    else:
        raise InputError(f"{path}: an external spectra file must be .csv or .json")
    assert frame is not None
    return frame, meta


def load_spectra_file(path: str | Path) -> RunData:
    """An external spectra file (CSV or JSON), σ-only statistics recomputed.

    Columns (CSV) or keys (JSON, a list of window objects, or ``{"P": .., "eta": ..,
    "windows": [..]}``): ``step``, ``sigma_1..sigma_W`` (or ``sigma`` as a list), optional
    ``P``, ``eta`` (or ``lr``), ``W``.
    """
    path = Path(path)
    if not path.is_file():
        raise InputError(f"spectra file {path} does not exist")
    frame, meta = _external_frame(path)
    cols = sigma_columns(frame)
    if "step" not in frame or len(cols) < 2 or frame.empty:
        raise InputError(f"{path}: needs a step column and sigma_1..sigma_W (W >= 2) per window")
    try:
        sigma = frame[cols].to_numpy(dtype=np.float64)
        steps = frame["step"].to_numpy(dtype=np.float64)
    except (ValueError, TypeError) as err:
        raise InputError(f"{path}: step and sigma columns must be numbers ({err})") from err
    if not np.all(np.isfinite(sigma)) or np.any(sigma < 0):
        raise InputError(f"{path}: sigma values must be finite and >= 0")
    if not np.all(np.isfinite(steps)) or np.any(np.diff(steps) <= 0):
        raise InputError(f"{path}: steps must be finite and strictly increasing")
    W = int(meta.get("W", frame["W"].iloc[0] if "W" in frame else len(cols)))
    if W != len(cols):
        raise InputError(f"{path}: W = {W} but {len(cols)} sigma columns")
    P = meta.get("P", frame["P"].iloc[0] if "P" in frame else None)
    eta = meta.get("eta", meta.get("lr"))
    for key in ("eta", "lr"):
        if eta is None and key in frame:
            eta = float(frame[key].iloc[0])
    rows = []
    for s, sig in zip(steps, sigma, strict=True):
        st = window_stats(np.diag(np.sort(sig)[::-1] ** 2), P=int(P or PLACEHOLDER_P))
        rows.append({"step": int(s)} | st.as_row())
    spectra = pd.DataFrame(rows)
    if P is None:
        spectra.loc[:, list(P_COLUMNS)] = np.nan
        spectra["P"] = np.nan
    config = {"lr": float(eta)} if eta is not None else {}
    return RunData(name=path.stem, path=path, spectra=spectra, config=config, external=True)


def load(path: str | Path) -> RunData:
    """A run directory or an external spectra file, by what ``path`` is."""
    path = Path(path)
    if path.is_dir():
        return load_run(path)
    if path.is_file():
        return load_spectra_file(path)
    raise InputError(f"PATH {path} is neither a run directory nor a spectra file")


def find_runs(root: str | Path) -> list[RunData]:
    """Every run directory under ``root`` (``root`` itself if it is one), sorted by name."""
    root = Path(root)
    if not root.is_dir():
        raise InputError(f"run root {root} is not a directory")
    dirs = sorted({p.parent for p in root.rglob("spectra.csv")})
    runs = []
    for d in dirs:
        try:
            runs.append(load_run(d))
        except InputError:
            continue  # a run that has not written a window yet
    return runs


# --------------------------------------------------------------------------- definitions


def grok_step(metrics: pd.DataFrame | None, rule: str = "spec", column: str = "test_acc",
              threshold: float | None = None, patience: int = 3) -> int | None:
    """The grok step by ``rule``: ``spec`` — the first evaluation with ``column`` ≥ 0.95
    (docs/spec.md §7); ``patience`` — the ``patience``-th consecutive evaluation ≥ 0.98 (the
    published scripts, §8). None when the run never groks."""
    if metrics is None or column not in metrics or metrics.empty:
        return None
    acc = metrics[column].to_numpy(dtype=np.float64)
    steps = metrics["step"].to_numpy()
    if rule == "spec":
        hits = np.flatnonzero(acc >= (0.95 if threshold is None else threshold))
        return int(steps[hits[0]]) if hits.size else None
    if rule == "patience":
        thr = 0.98 if threshold is None else threshold
        run = 0
        for s, a in zip(steps, acc, strict=True):
            run = run + 1 if a >= thr else 0
            if run >= patience:
                return int(s)
        return None
    raise InputError(f"grok rule must be 'spec' or 'patience', got {rule!r}")


def early_g23(run: RunData) -> pd.DataFrame:
    """g₂₃ of the adaptive early windows w = 2..W−1 (the Dyck/SCAN scripts), from the first
    stored (W+1)-Gram; λ padded with zeros to W, so a w = 2 window has g₂₃ = σ₂². Columns
    ``snapshot`` (updates seen) and ``g23_lambda``; empty without ``grams.npz``."""
    if run.grams is None or len(run.grams) == 0:
        return pd.DataFrame({"snapshot": [], G23_LAMBDA: []})
    W = run.W
    K = run.grams[0][1:, 1:]  # the first full window: updates 1..W
    first_snapshot = int(run.spectra["snapshot"].iloc[0]) if "snapshot" in run.spectra else W
    rows = []
    for w in range(2, W):
        lam = eigenvalues_from_gram(K[:w, :w])
        lam = np.concatenate([lam, np.zeros(max(0, 3 - lam.size))])
        rows.append({"snapshot": first_snapshot - W + w, G23_LAMBDA: g23(lam)})
    return pd.DataFrame(rows)


@dataclass(frozen=True)
class Decline:
    """g₂₃ peak before the grok step divided by g₂₃ at it (docs/spec.md §7): the ratio,
    where and what the peak and the end value are, and whether early windows were used."""

    ratio: float
    peak_step: float
    end_step: float
    adaptive: bool
    peak: float = math.nan
    end: float = math.nan


def g23_decline(run: RunData, grok: int | None, adaptive: bool = False) -> Decline:
    """The g₂₃ decline: peak at or before ``grok`` over g₂₃ in the last window ending at or
    before it (a run that never groks: peak over the final value).

    Args:
        run: a run; only ``spectra`` (``step``, ``g23_lambda``) is read unless ``adaptive``.
        grok: the grok step (None: the run never grokked).
        adaptive: add the early windows of :func:`early_g23` (before the first full
            window; needs ``grams.npz``).

    Returns:
        The :class:`Decline` (NaN when no finite window ends at or before ``grok``).

    >>> sp = pd.DataFrame({"step": [100, 200, 300], "g23_lambda": [2.0, 8.0, 1.0]})
    >>> d = g23_decline(RunData("r", Path("r"), sp), 300)
    >>> d.peak, d.end, d.ratio
    (8.0, 1.0, 8.0)
    """
    sp = run.spectra
    steps = sp["step"].to_numpy(dtype=np.float64)
    vals = sp[G23_LAMBDA].to_numpy(dtype=np.float64)
    if adaptive and "snapshot" in sp and len(sp) > 0:
        early = early_g23(run)
        if len(early):
            stride = float(run.get("stride", 1))
            first = float(sp["snapshot"].iloc[0])
            e_steps = steps[0] - (first - early["snapshot"].to_numpy()) * stride
            steps = np.concatenate([e_steps, steps])
            vals = np.concatenate([early[G23_LAMBDA].to_numpy(), vals])
    mask = steps <= grok if grok is not None else np.ones_like(steps, dtype=bool)
    mask &= np.isfinite(vals)
    if not mask.any():
        return Decline(math.nan, math.nan, math.nan, adaptive)
    s, v = steps[mask], vals[mask]
    i = int(np.argmax(v))
    end = v[-1]
    ratio = v[i] / end if end > 0 else math.inf
    return Decline(float(ratio), float(s[i]), float(s[-1]), adaptive, float(v[i]), float(end))


def alpha_proxy(run: RunData) -> np.ndarray:
    """The published scripts' α: ‖λ(t) − λ(t−1)‖ (eigenvalue-change norm, a lower bound on
    ‖ΔC‖_F) in place of ‖ΔC‖_F; NaN for the first window. Shape (windows, W)."""
    lam = run.sigma() ** 2
    out = np.full_like(lam, np.nan)
    for i in range(1, lam.shape[0]):
        out[i] = stability_alpha(lam[i], float(np.linalg.norm(lam[i] - lam[i - 1])))
    return out


def val_loss_at(run: RunData, steps: np.ndarray) -> np.ndarray:
    """Test loss interpolated at ``steps`` (NaN without ``metrics.csv``)."""
    m = run.metrics
    if m is None or "test_loss" not in m:
        return np.full(len(steps), np.nan)
    return np.interp(steps, m["step"].to_numpy(float), m["test_loss"].to_numpy(float))
