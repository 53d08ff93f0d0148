"""Spiked-covariance surrogates of P1 (BBP vacuity) and P3 (the optimizer sets the gap).

Both predictions are about large models (P ~ 1e7–1e8), so the surrogates never form a
P-dimensional update. A window of W updates is X = C Vᵀ + Z: C (W×m) the coordinates of the
updates in an m-dimensional subspace span(V) (the spikes' row space), Z i.i.d. N(0, ν²) on
every one of the P coordinates. Split Z into its part in span(V), Z_B (W×m, i.i.d.
N(0, ν²)), and the rest; then exactly

    G = X Xᵀ = (C + Z_B)(C + Z_B)ᵀ + ν²·Wishart_W(P − m, I),

drawn with :func:`scipy.stats.wishart` (Bartlett's decomposition, exact at df = 1e8)
(:func:`subspace_grams`). Every window statistic is then computed from the Grams by
:mod:`spectral_edge.numerics.spectra` (:func:`spectra_frame`).

The surrogates of a run copy its steps, W and P and, per window, its measured noise level
ν (:func:`~spectral_edge.numerics.spectra.window_table` on its σ) and the strengths of its
spikes: s_j = √(σ_j² − ν²P) for each of the top ⌊W/2⌋ modes above the Marchenko–Pastur edge
ν(√P + √W), 0 otherwise (E[G] = s²uuᵀ + ν²P·I, so σ_j² ≈ s_j² + ν²P) — :func:`measured`.

* P1 (:func:`p1_maker`), runs with P ≥ 1e7 only. Theory true: the run's spikes plus
  isotropic noise at its ν (σ_W/d_crit ≈ (P/(W−1))^¼, 32 at P = 1e7, 58 at 1e8, W = 10).
  Control ``low_rank_updates``: every update lies in a (W−2)-dimensional subspace (the
  spikes plus Gaussian coordinates carrying the run's noise energy ν²P per update) plus an
  isotropic floor of power :data:`FLOOR`·ν², so σ_{W−1}, σ_W sit at the floor, far below
  d_crit measured from the bottom half. P1 reads ``vacuity`` and ``P`` per window only,
  so the windows are drawn independently (consecutive windows share no updates).
* P3 (:func:`p3_maker`), the AdamW and Muon runs of ``task = lm``. Theory true: AdamW's
  windows have a two-mode edge, spikes (a, 0.9a·e^{τξ}), Muon's a one-mode edge (a); a is
  the run's own measured mode-1 strength in that window (its drift and window-to-window
  noise as measured), τ the measured window-to-window sd of log σ_1 (:func:`edge_jitter`),
  so mode 2 moves about mode 1 as much as mode 1 moves between windows. Control
  ``same_edge_position``: Muon's windows get AdamW's two-mode edge.

>>> run = template_run("big", P=10**8, W=10, windows=4, spikes=(40.0, 20.0), nu=1e-3)
>>> tru, ctl = p1_maker(False)([run], 0)[0], p1_maker(True)([run], 0)[0]
>>> bool(tru.spectra["vacuity"].min() > 5), bool(ctl.spectra["vacuity"].max() < 5)
(True, True)
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from scipy.stats import wishart

from spectral_edge.common.errors import InputError
from spectral_edge.numerics import spectra as sp
from spectral_edge.numerics.columns import G23_LAMBDA, G_SIGMA
from spectral_edge.validation.scorecard.predictions.event_surrogates import _copy
from spectral_edge.validation.scorecard.predictions.rules import RULE_BY_ID
from spectral_edge.validation.scorecard.rundata import RunData

Maker = Callable[[list[RunData], int], list[RunData]]

FLOOR = 1e-6
"""Isotropic noise power of the ``low_rank_updates`` control, relative to the run's ν²."""
SECOND = 0.9
"""AdamW's second edge mode relative to its first (σ profile [a, 0.9a, bulk])."""
LM_OPTIMIZERS = ("adamw", "muon")
"""The optimizers P3 compares."""


# --------------------------------------------------------------------------- Grams


def subspace_grams(coords: np.ndarray, noise: np.ndarray | float, P: int,
                   rng: np.random.Generator) -> np.ndarray:
    """Window Grams G = X Xᵀ of X = C Vᵀ + Z without forming a P-dimensional vector.

    C (W×m per window) are the updates' coordinates in an m-dimensional subspace span(V);
    Z is i.i.d. N(0, noise²) on all P coordinates: G = (C + Z_B)(C + Z_B)ᵀ +
    noise²·Wishart_W(P − m, I), Z_B the noise inside span(V).

    Args:
        coords: C, shape (n, W, m) (m may be 0).
        noise: Per-coordinate sd of Z, one per window (shape (n,)) or one for all.
        P: Dimension of the update space (P − m ≥ W).
        rng: Random stream.

    Returns:
        The Grams, shape (n, W, W).

    Raises:
        InputError: When P − m < W (the Wishart needs df ≥ W).

    >>> G = subspace_grams(np.zeros((2, 3, 0)), 1.0, 10**8, np.random.default_rng(0))
    >>> G.shape, bool(np.allclose(np.diagonal(G, axis1=1, axis2=2) / 1e8, 1, atol=1e-3))
    ((2, 3, 3), True)
    """
    coords = np.asarray(coords, float)
    n, W, m = coords.shape
    if P - m < W:
        raise InputError(f"P − m = {P - m} < W = {W}: too few dimensions for the noise")
    sd = np.broadcast_to(np.asarray(noise, float), (n,))[:, None, None]
    B = coords + sd * rng.normal(size=coords.shape)
    rest = wishart(df=P - m, scale=np.eye(W)).rvs(size=n, random_state=rng)
    return B @ B.swapaxes(-1, -2) + sd**2 * np.reshape(rest, (n, W, W))


def spike_coords(strengths: np.ndarray, W: int, rng: np.random.Generator) -> np.ndarray:
    """Coordinates U·diag(s) of k spikes in their own row space: U (W×k) random orthonormal
    temporal profiles, s the spikes' singular values.

    Args:
        strengths: s per window, shape (n, k), k ≤ W.
        W: Window length.
        rng: Random stream.

    Returns:
        Shape (n, W, k).

    >>> C = spike_coords(np.array([[3.0, 1.0]]), 4, np.random.default_rng(0))
    >>> np.linalg.svd(C[0], compute_uv=False).round(6).tolist()
    [3.0, 1.0]
    """
    s = np.asarray(strengths, float)
    n, k = s.shape
    if k == 0:
        return np.zeros((n, W, 0))
    U, _ = np.linalg.qr(rng.normal(size=(n, W, k)))
    return U * s[:, None, :]


def window_grams(strengths: np.ndarray, nu: np.ndarray | float, P: int, W: int,
                 rng: np.random.Generator, *, low_rank: bool = False) -> np.ndarray:
    """Window Grams of spikes plus noise: the theory (isotropic noise) or updates confined
    to W − 2 directions (``low_rank``).

    Theory: X = S + Z, S of rank k (the spikes), Z i.i.d. N(0, ν²) on all P coordinates.
    ``low_rank``: X = C Vᵀ + F, C (W×(W−2)) the spikes plus i.i.d. N(0, ν²P/(W−2))
    coordinates (each update keeps its expected noise energy ν²P), F an isotropic floor
    N(0, :data:`FLOOR`·ν²).

    Args:
        strengths: Spike singular values per window, shape (n, k) (0: no spike; under
            ``low_rank`` at most W − 2 are kept).
        nu: Noise level per window (shape (n,)) or one for all.
        P: Dimension of the update space.
        W: Window length.
        rng: Random stream.
        low_rank: Build the ``low_rank_updates`` control.

    Returns:
        Shape (n, W, W).

    >>> G = window_grams(np.array([[1e3]]), 1e-2, 10**6, 4, np.random.default_rng(0))
    >>> int(sp.kstar(sp.sigma_from_gram(G[0]), "ratio"))
    1
    """
    s = np.asarray(strengths, float)
    n = s.shape[0]
    nu = np.broadcast_to(np.asarray(nu, float), (n,))
    if not low_rank:
        return subspace_grams(spike_coords(s, W, rng), nu, P, rng)
    m = max(W - 2, 1)
    C = spike_coords(s[:, :m], W, rng)
    C = np.concatenate([C, np.zeros((n, W, m - C.shape[2]))], axis=2)
    C = C + (nu * np.sqrt(P / m))[:, None, None] * rng.normal(size=C.shape)
    return subspace_grams(C, np.sqrt(FLOOR) * nu, P, rng)


def spectra_frame(grams: np.ndarray, P: int, steps: Sequence[int]) -> pd.DataFrame:
    """spectra.csv rows of window Grams, every statistic by
    :func:`~spectral_edge.numerics.spectra.window_table` (rank capped at P).

    Args:
        grams: Shape (n, W, W).
        P: The parameter count.
        steps: The step of each window.

    Returns:
        Columns step, W, P, rank, kstar (weighted), kstar_method, the three k* variants,
        R, g_sigma, g23_lambda, nu, d_crit, d_crit_textbook, vacuity, sigma_1..sigma_W.

    >>> df = spectra_frame(np.stack([np.diag([4.0, 1.0, 1.0])]), 100, [7])
    >>> df[["step", "W", "kstar", "sigma_1"]].to_numpy().tolist()
    [[7.0, 3.0, 1.0, 2.0]]
    """
    sigma = sp.sigma_from_gram(grams, max_rank=P)
    t = sp.window_table(sigma, P)
    W = sigma.shape[1]
    cols = {"step": np.asarray(steps, int), "W": W, "P": P, "rank": t["rank"],
            "kstar": t["kstar"], "kstar_method": "weighted"}
    cols |= {f"kstar_{m}": t[f"kstar_{m}"] for m in sp.KSTAR_METHODS}
    cols |= {"R": t["R"], G_SIGMA: t["g"], G23_LAMBDA: t["g23"], "nu": t["nu"],
             "d_crit": t["d_crit"], "d_crit_textbook": t["d_crit_textbook"],
             "vacuity": t["vacuity"]}
    cols |= {f"sigma_{j + 1}": t["sigma"][:, j] for j in range(W)}
    return pd.DataFrame(cols)


# --------------------------------------------------------------------------- a run


@dataclass(frozen=True)
class Measured:
    """What the surrogates copy from a run: its usable windows' steps, σ (n×W) and ν, its
    W and P, and the spike strengths of its top ⌊W/2⌋ modes (n×⌊W/2⌋, 0 below the
    Marchenko–Pastur edge)."""

    steps: np.ndarray
    sigma: np.ndarray
    nu: np.ndarray
    spikes: np.ndarray
    W: int
    P: int


def measured(run: RunData) -> Measured | None:
    """The window settings of ``run`` its surrogates copy (None: no P or no σ columns, or
    no window with a finite σ profile and a noise bulk, ν > 0; other windows are left out).

    Args:
        run: A run.

    Returns:
        Its :class:`Measured`, or None.

    >>> m = measured(template_run("r", P=10**6, W=4, windows=3, spikes=(50.0,), nu=0.01))
    >>> m.W, m.P, m.spikes.shape, bool(abs(m.spikes[0, 0] / 50 - 1) < 0.05)
    (4, 1000000, (3, 2), True)
    """
    s = run.spectra
    if not len(s) or "P" not in s or "W" not in s:
        return None
    W = run.W
    cols = [f"sigma_{j}" for j in range(1, W + 1)]
    if any(c not in s for c in cols):
        return None
    P = int(s["P"].iloc[-1])
    sigma = s[cols].to_numpy(float)
    ok = np.isfinite(sigma).all(axis=1) & (sigma[:, 0] > 0) & (sigma >= 0).all(axis=1)
    if not ok.any() or P < 1:
        return None
    sigma = -np.sort(-sigma[ok], axis=1)
    nu = sp.window_table(sigma, P)["nu"]
    noisy = nu > 0  # a window without a noise bulk (rank < W/2) has no ν to copy
    if not noisy.any():
        return None
    steps, sigma, nu = s["step"].to_numpy(int)[ok][noisy], sigma[noisy], nu[noisy]
    edge = np.array([sp.marchenko_pastur_edges(v, P, W)[1] for v in nu])
    top = sigma[:, :W // 2]
    spikes = np.where(top > edge[:, None],
                      np.sqrt(np.clip(top**2 - (nu**2 * P)[:, None], 0, None)), 0.0)
    return Measured(steps, sigma, nu, spikes, W, P)


def edge_jitter(runs: Sequence[RunData]) -> float:
    """The window-to-window sd of log σ_1: sd of its successive differences / √2 (blind to
    slow drift), the median over the runs with ≥ 3 usable windows (0 without one).

    Args:
        runs: Runs.

    Returns:
        τ.

    >>> edge_jitter([])
    0.0
    """
    taus = []
    for r in runs:
        m = measured(r)
        if m is not None and len(m.steps) >= 3:
            taus.append(float(np.std(np.diff(np.log(m.sigma[:, 0]))) / np.sqrt(2)))
    return float(np.median(taus)) if taus else 0.0


def template_run(name: str, *, P: int, W: int, windows: int, spikes: Sequence[float],
                 nu: float, config: dict | None = None, seed: int = 0) -> RunData:
    """A run record of spikes plus isotropic noise (a stand-in for a real run: tests,
    examples).

    Args:
        name: Run name.
        P: Parameter count.
        W: Window length.
        windows: Number of windows (steps 100, 200, …).
        spikes: Spike singular values (the same in every window).
        nu: Noise level.
        config: Its config (default: AdamW on ``lm``).
        seed: Seed.

    Returns:
        The run.

    >>> template_run("r", P=1000, W=4, windows=2, spikes=(9.0,), nu=0.1).spectra.shape[0]
    2
    """
    rng = np.random.default_rng([seed, 7])
    s = np.tile(np.asarray(spikes, float), (windows, 1))
    frame = spectra_frame(window_grams(s, nu, P, W, rng), P, 100 * np.arange(1, windows + 1))
    cfg = {"task": "lm", "optimizer": "adamw", "lr": 1e-3, "stride": 1} | (config or {})
    return RunData(name, Path(name), frame, cfg)


def _rng(seed: int, i: int, tag: int) -> np.random.Generator:
    return np.random.default_rng([seed, i, tag])


# --------------------------------------------------------------------------- P1


def p1_maker(violate: bool) -> Maker:
    """P1's surrogates: one per run with P ≥ 1e7 (the rule's ``min_P``), its steps, W, P
    and per-window ν and spikes (:func:`measured`); the theory (isotropic noise) or the
    ``low_rank_updates`` control (see the module docstring). Windows are independent:
    P1 reads ``vacuity`` and ``P`` only.

    Args:
        violate: Build the control.

    Returns:
        The maker ``(runs, seed) -> surrogate runs``.

    >>> p1_maker(False)([template_run("r", P=1000, W=4, windows=2, spikes=(), nu=1.0)], 0)
    []
    """
    min_P = RULE_BY_ID["P1"].params["min_P"]

    def make(runs: list[RunData], seed: int) -> list[RunData]:
        out = []
        for i, r in enumerate(runs):
            m = measured(r)
            if m is None or m.P < min_P:
                continue
            grams = window_grams(m.spikes, m.nu, m.P, m.W, _rng(seed, i, 1), low_rank=violate)
            out.append(_copy(r, seed, spectra=spectra_frame(grams, m.P, m.steps)))
        return out
    return make


# --------------------------------------------------------------------------- P3


def lm_runs(runs: Sequence[RunData]) -> list[RunData]:
    """The runs P3 reads: ``task = lm``, not external, optimizer AdamW or Muon.

    Args:
        runs: Runs.

    Returns:
        Those runs, in order.

    >>> lm_runs([template_run("r", P=1000, W=4, windows=2, spikes=(), nu=1.0)])[0].name
    'r'
    """
    return [r for r in runs if r.get("task") == "lm" and not r.external
            and r.get("optimizer") in LM_OPTIMIZERS]


def p3_maker(violate: bool) -> Maker:
    """P3's surrogates: one per AdamW or Muon LM run (:func:`lm_runs`), its steps, W, P
    and per-window ν; AdamW's windows with the two-mode edge (a, 0.9a·e^{τξ}), Muon's with
    the one-mode edge (a), or (control ``same_edge_position``) Muon's with AdamW's edge
    (see the module docstring).

    Args:
        violate: Build the control.

    Returns:
        The maker ``(runs, seed) -> surrogate runs``.

    >>> runs = [template_run(o, P=10**6, W=6, windows=3, spikes=(400.0, 350.0), nu=0.1,
    ...                      config={"optimizer": o}) for o in ("adamw", "muon")]
    >>> [int(r.spectra["kstar"].max()) for r in p3_maker(False)(runs, 0)]
    [2, 1]
    >>> [int(r.spectra["kstar"].max()) for r in p3_maker(True)(runs, 0)]
    [2, 2]
    """
    def make(runs: list[RunData], seed: int) -> list[RunData]:
        lm = lm_runs(runs)
        tau, out = edge_jitter(lm), []
        for i, r in enumerate(lm):
            m = measured(r)
            if m is None:
                continue
            rng = _rng(seed, i, 3)
            a = m.spikes[:, :1]
            if r.get("optimizer") == "adamw" or violate:
                a = np.hstack([a, SECOND * a * np.exp(tau * rng.normal(size=a.shape))])
            grams = window_grams(a, m.nu, m.P, m.W, rng)
            out.append(_copy(r, seed, spectra=spectra_frame(grams, m.P, m.steps)))
        return out
    return make
