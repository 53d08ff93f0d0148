"""The σ-only window statistics of many windows at once (external spectra files).

:func:`sigma_stats` gives, for every window, the ``spectra.csv`` row that
:func:`spectral_edge.numerics.spectra.window_stats` gives for the Gram diag(σ²) — the same
definitions (:func:`spectral_edge.numerics.spectra.window_table` evaluates them on a
(windows × W) array instead of one window at a time, so that 400,000 windows take about a
second); this module only lays them out as ``spectra.csv`` columns.
``tests/test_fuzz_readers.py`` checks the two agree window by window.

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
from spectral_edge.numerics.spectra import DEFAULT_RTOL, window_table

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
    t = window_table(sigma, P or PLACEHOLDER_P)
    s, nan = t["sigma"], np.full(n, np.nan)
    cols: dict[str, Any] = {
        "step": steps, "W": W, "P": P or PLACEHOLDER_P, "rank": t["rank"], "kstar": t["kstar"],
        "kstar_method": "weighted", "kstar_ratio": t["kstar_ratio"],
        "kstar_weighted": t["kstar_weighted"], "kstar_signal": t["kstar_signal"], "R": t["R"],
        G_SIGMA: t["g"], G23_LAMBDA: t["g23"], "nu": t["nu"], "d_crit": t["d_crit"],
        "d_crit_textbook": t["d_crit_textbook"], "vacuity": t["vacuity"],
        "delta_c_fro": nan, "delta_c_op": nan, "A": nan, "A_dk": nan, "regime": "unknown",
        "rtol": DEFAULT_RTOL,
    }
    cols |= {f"sigma_{j + 1}": s[:, j] for j in range(W)}
    cols |= {f"alpha_{j + 1}": nan for j in range(W)}
    frame = pd.DataFrame(cols)
    if P is None:
        frame.loc[:, list(P_COLUMNS)] = np.nan
        frame["P"] = np.nan
    return frame
