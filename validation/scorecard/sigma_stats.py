"""The σ-only window statistics of many windows at once (external spectra files).

:func:`sigma_stats` gives, for every window, the ``spectra.csv`` row that
:func:`spectral_edge.numerics.spectra.window_stats` gives for the Gram diag(σ²) — the same
definitions, evaluated on a (windows × W) array instead of one window at a time, so that
400,000 windows take about a second. ``tests/test_fuzz_readers.py`` checks the two agree
window by window (``window_stats`` stays the definition; this is its vectorised form).

>>> import numpy as np
>>> row = sigma_stats(np.array([10]), np.array([[4.0, 2.0, 1.0]]), P=None).iloc[0]
>>> int(row["kstar"]), float(row["R"]), float(row["g23_lambda"])
(1, 2.0, 3.0)
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from spectral_edge.numerics.columns import G23_LAMBDA, G_SIGMA
from spectral_edge.numerics.spectra import DEFAULT_RTOL

PLACEHOLDER_P = 10**9
"""P used for the σ-only statistics of a file that gives no P (the P-dependent columns are
then NaN)."""
P_COLUMNS = ("nu", "d_crit", "d_crit_textbook", "vacuity")


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
