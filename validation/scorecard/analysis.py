"""What the scorecard reads, and the definitions it scores with.

:func:`load` takes a run directory (read by :mod:`.rundata`) or an external spectra file
(read by :mod:`.external`, format in docs/analyze.md) and returns a :class:`RunData`.

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

import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from spectral_edge.common.errors import InputError
from spectral_edge.numerics.columns import G23_LAMBDA, KSTAR
from spectral_edge.numerics.spectra import eigenvalues_from_gram, g23, stability_alpha
from spectral_edge.validation.scorecard.external import load_spectra_file
from spectral_edge.validation.scorecard.rundata import (  # noqa: F401 (re-exported)
    RunData,
    find_runs,
    load_run,
)
from spectral_edge.validation.scorecard.sigma_stats import PLACEHOLDER_P  # noqa: F401


def load(path: str | Path) -> RunData:
    """A run directory or an external spectra file, by what ``path`` is.

    Args:
        path: A run directory, or a ``.csv``/``.json`` spectra file (docs/analyze.md).

    Returns:
        The run's :class:`RunData`.

    Raises:
        InputError: If ``path`` is neither, or what it holds is invalid.
    """
    path = Path(path)
    if path.is_dir():
        return load_run(path)
    if path.is_file():
        return load_spectra_file(path)
    raise InputError(f"PATH {path} is neither a run directory nor a spectra file")


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
    ‖ΔC‖_F) in place of ‖ΔC‖_F; NaN for the first window. Shape (windows, W).

    :func:`spectral_edge.numerics.spectra.stability_alpha` on every window at once.

    Args:
        run: a run or spectra file.

    Returns:
        α_j per window, NaN in the first row.
    """
    lam = run.sigma() ** 2
    out = np.full_like(lam, np.nan)
    if lam.shape[0] < 2:
        return out
    out[1:] = stability_alpha(lam[1:], np.linalg.norm(lam[1:] - lam[:-1], axis=1))
    return out


def val_loss_at(run: RunData, steps: np.ndarray) -> np.ndarray:
    """Test loss interpolated at ``steps`` (NaN without ``metrics.csv``)."""
    m = run.metrics
    if m is None or "test_loss" not in m:
        return np.full(len(steps), np.nan)
    return np.interp(steps, m["step"].to_numpy(float), m["test_loss"].to_numpy(float))


def gap_series(run: RunData) -> tuple[np.ndarray, np.ndarray, int]:
    """t (snapshots) and g = σ_k − σ_{k+1} at k = the run's modal k*, windows with g > 0.

    Args:
        run: a run or spectra file.

    Returns:
        (t, g, k).

    Raises:
        InputError: when the modal k* has no σ_(k*+1) column.
    """
    sp = run.spectra
    k = int(np.bincount(sp[KSTAR].to_numpy(np.int64)).argmax())
    if f"sigma_{k + 1}" not in sp:
        raise InputError(f"{run.name}: modal k* = {k} has no σ_(k*+1) column")
    g = (sp[f"sigma_{k}"] - sp[f"sigma_{k + 1}"]).to_numpy(float)
    stride = float(run.get("stride", 1))
    t = sp["step"].to_numpy(float) / stride
    ok = np.isfinite(g) & (g > 0)
    return t[ok], g[ok], k
