"""Fit the gap ODEs to measured spectra with ``scipy.optimize.least_squares``.

* :func:`fit_signal` fits the n-mode system of R1 + R3
(:class:`spectral_edge.numerics.ode.SignalSystem`)
  to measured singular values σ_1(t) ≥ … ≥ σ_n(t): per-mode curvatures h_j, injection rates
  Γ_j and (optionally) a common noise power N that sets the Dyson repulsion. The weight
  decay ω is an input: h_j and ω enter only as h_j + ω, so they cannot be told apart from
  σ(t) — the fitted h_j are "h_j given ω".
* :func:`fit_gap` fits the reduced gap equation R4 (c, β, h̄+ω) to a measured gap g(t).

Both fit on the part of the trajectory up to ``t_split`` only and report R² there, the
parameter standard errors from the Jacobian at the optimum (s²(JᵀJ)⁻¹; ``inf`` for a
direction the data do not determine) and a held-out forward prediction: the fitted model
integrated over the whole time range, with its R² on t > t_split.

>>> from spectral_edge.numerics.ode import GapSystem, integrate
>>> t = np.linspace(0.0, 60.0, 61)
>>> g = integrate(GapSystem(c=0.5, beta=0.05, eta=0.1, hw=1.0), [0.5], (0, 60), t_eval=t).y[0]
>>> fit = fit_gap(t, g, eta=0.1, t_split=30.0)
>>> np.round([fit.params["c"], fit.params["hw"]], 3).tolist(), fit.r2_fit > 0.999
([0.5, 1.0], True)
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from scipy.optimize import least_squares

from spectral_edge.common.errors import InputError
from spectral_edge.common.validate import check_finite_number, check_window
from spectral_edge.numerics.ode import GapSystem, SignalSystem, integrate
from spectral_edge.theory import lambdified as tx


@dataclass(frozen=True)
class FitResult:
    """Fitted parameters with standard errors, fit quality and the held-out prediction.

    ``params``/``stderr`` map names (``h_1``, ``Gamma_1``, …, ``N`` or ``c``, ``beta``,
    ``hw``) to values. ``r2_fit`` is R² on t ≤ t_split, ``r2_heldout`` on t > t_split
    (NaN when nothing is held out). ``prediction`` has the shape of the data.
    """

    model: str
    params: dict[str, float]
    stderr: dict[str, float]
    r2_fit: float
    r2_heldout: float
    t_split: float
    success: bool
    message: str
    nfev: int
    t: np.ndarray = field(repr=False)
    data: np.ndarray = field(repr=False)
    prediction: np.ndarray = field(repr=False)


def r_squared(data: np.ndarray, model: np.ndarray) -> float:
    """1 − SS_res/SS_tot over all entries (NaN for an empty or constant data set).

    >>> r_squared(np.array([1.0, 2.0, 3.0]), np.array([1.0, 2.0, 4.0]))
    0.5
    """
    data, model = np.asarray(data, dtype=float), np.asarray(model, dtype=float)
    if data.size == 0:
        return float("nan")
    ss_tot = float(np.sum((data - data.mean()) ** 2))
    if ss_tot == 0:
        return float("nan")
    return 1.0 - float(np.sum((data - model) ** 2)) / ss_tot


def _result(model: str, names: list[str], sol, t: np.ndarray, data: np.ndarray,
            prediction: np.ndarray, fit_mask: np.ndarray, t_split: float) -> FitResult:
    """The :class:`FitResult` of a ``least_squares`` solution ``sol``."""
    se = _stderr(sol.jac, sol.fun, sol.x.size)
    return FitResult(
        model=model,
        params=dict(zip(names, map(float, sol.x), strict=True)),
        stderr=dict(zip(names, map(float, se), strict=True)),
        r2_fit=r_squared(data[fit_mask], prediction[fit_mask]),
        r2_heldout=r_squared(data[~fit_mask], prediction[~fit_mask]),
        t_split=t_split,
        success=bool(sol.success),
        message=str(sol.message),
        nfev=int(sol.nfev),
        t=t,
        data=data,
        prediction=prediction,
    )


def _stderr(jac: np.ndarray, residual: np.ndarray, n_params: int) -> np.ndarray:
    dof = max(residual.size - n_params, 1)
    s2 = float(residual @ residual) / dof
    _, sv, vt = np.linalg.svd(jac, full_matrices=False)
    keep = sv > 1e-10 * sv[0] if sv.size and sv[0] > 0 else np.zeros_like(sv, dtype=bool)
    inv = np.where(keep, 1.0 / np.where(keep, sv, 1.0) ** 2, 0.0)
    var = (vt.T**2) @ inv * s2
    # a parameter with weight on an undetermined direction is itself undetermined
    undetermined = (np.abs(vt[~keep]) > 1e-6).any(axis=0) if (~keep).any() else False
    return np.where(undetermined, np.inf, np.sqrt(var))


def _split(t: np.ndarray, t_split: float | None) -> tuple[np.ndarray, float]:
    t = np.asarray(t, dtype=np.float64)
    if t.ndim != 1 or t.size < 4 or np.any(np.diff(t) <= 0):
        raise InputError("t must be a strictly increasing 1-D array of >= 4 times")
    t_split = float(t[-1]) if t_split is None else float(t_split)
    fit_mask = t <= t_split
    if fit_mask.sum() < 4:
        raise InputError(f"t_split = {t_split} leaves fewer than 4 points to fit")
    return fit_mask, t_split


# --------------------------------------------------------------------------- R1 + R3


def _initial_signal(t: np.ndarray, lam: np.ndarray, eta: float, omega: float, W: int):
    """Initial (h, Γ) per mode: least squares of the measured λ̇ against the theory's drift
    ``tx.eigen_drift`` (linear in h and Γ, no integration needed)."""
    lam_dot = np.gradient(lam, t, axis=0)
    h0, g0 = [], []
    for j in range(lam.shape[1]):

        def resid(p, j=j):
            drift = tx.eigen_drift(lam[:, j], p[0], p[1], eta, omega, W)
            return (drift - lam_dot[:, j]) / max(np.abs(lam[:, j]).max(), 1e-300)

        guess = [1.0 / (eta * (t[-1] - t[0])), lam[-1, j] / W]
        sol = least_squares(resid, guess, bounds=([0.0, 0.0], [np.inf, np.inf]))
        h0.append(sol.x[0])
        g0.append(max(sol.x[1], 1e-12))
    return np.array(h0), np.array(g0)


def fit_signal(
    t: np.ndarray,
    sigma: np.ndarray,
    *,
    eta: float,
    W: int,
    omega: float = 0.0,
    t_split: float | None = None,
    fit_noise: bool = True,
    rtol: float = 1e-7,
    atol: float = 1e-10,
) -> FitResult:
    """Fit h_j, Γ_j (and N) of R1 + R3 to σ(t), shape (len(t), n), sorted descending.

    The model starts from the measured λ(t_0) = σ(t_0)², mode j being the j-th level at t_0,
    and its sorted √λ is compared with σ.

    >>> from spectral_edge.numerics.ode import SignalSystem, integrate
    >>> true = SignalSystem(h=np.array([0.2, 1.0]), Gamma=np.array([1.0, 0.5]), eta=0.1, W=10)
    >>> t = np.linspace(0.0, 80.0, 81)
    >>> lam = integrate(true, [1.0, 0.5], (0, 80), t_eval=t).y
    >>> fit = fit_signal(t, np.sqrt(lam.T), eta=0.1, W=10, t_split=50.0, fit_noise=False)
    >>> np.round([fit.params["h_1"], fit.params["Gamma_2"]], 3).tolist(), fit.r2_heldout > 0.999
    ([0.2, 0.5], True)
    """
    W = check_window(W)
    eta = check_finite_number("eta", eta, minimum=0.0, strict=True)
    omega = check_finite_number("omega", omega, minimum=0.0)
    sigma = np.asarray(sigma, dtype=np.float64)
    fit_mask, t_split = _split(t, t_split)
    t = np.asarray(t, dtype=np.float64)
    if sigma.ndim != 2 or sigma.shape[0] != t.size or sigma.shape[1] < 2:
        raise InputError(f"sigma must have shape (len(t), n >= 2), got {sigma.shape}")
    if not np.all(np.isfinite(sigma)) or np.any(sigma <= 0):
        raise InputError("sigma must be finite and positive")
    n = sigma.shape[1]
    lam = sigma**2
    lam0 = lam[0].copy()
    if np.unique(lam0).size != n:
        raise InputError("the initial levels must be distinct")
    t_fit = t[fit_mask]
    h0, g0 = _initial_signal(t_fit, lam[fit_mask], eta, omega, W)

    def model(p: np.ndarray, t_eval: np.ndarray) -> np.ndarray:
        N = np.full(n, p[-1]) if fit_noise else None
        system = SignalSystem(h=p[:n], Gamma=p[n : 2 * n], eta=eta, W=W, omega=omega, N=N)
        sol = integrate(system, lam0, (t[0], t_eval[-1]), t_eval=t_eval, rtol=rtol, atol=atol)
        if not sol.success or sol.y.shape[1] != t_eval.size:
            return np.full((t_eval.size, n), np.nan)
        return system.sigma(sol.y).T

    scale = sigma[fit_mask].max()

    def resid(p: np.ndarray) -> np.ndarray:
        r = (model(p, t_fit) - sigma[fit_mask]) / scale
        return np.nan_to_num(r, nan=1e3).ravel()

    p0 = np.concatenate([h0, g0, [0.0]] if fit_noise else [h0, g0])
    sol = least_squares(resid, p0, bounds=(0.0, np.inf), x_scale="jac")
    names = [f"h_{j + 1}" for j in range(n)] + [f"Gamma_{j + 1}" for j in range(n)]
    names += ["N"] if fit_noise else []
    return _result("signal", names, sol, t, sigma, model(sol.x, t), fit_mask, t_split)


# --------------------------------------------------------------------------- R4


def fit_gap(
    t: np.ndarray,
    g: np.ndarray,
    *,
    eta: float,
    t_split: float | None = None,
    rtol: float = 1e-8,
    atol: float = 1e-12,
) -> FitResult:
    """Fit (c, β, hw = h̄+ω) of R4 to a measured gap g(t) > 0, starting from g(t_0).

    >>> from spectral_edge.numerics.ode import GapSystem, integrate
    >>> t = np.linspace(0.0, 50.0, 51)
    >>> g = integrate(GapSystem(c=-0.5, beta=0.2, eta=0.1, hw=1.0), [3.0], (0, 50),
    ...               t_eval=t).y[0]
    >>> fit = fit_gap(t, g, eta=0.1)
    >>> np.round([fit.params["c"], fit.params["beta"]], 3).tolist()
    [-0.5, 0.2]
    """
    eta = check_finite_number("eta", eta, minimum=0.0, strict=True)
    g = np.asarray(g, dtype=np.float64)
    fit_mask, t_split = _split(t, t_split)
    t = np.asarray(t, dtype=np.float64)
    if g.shape != t.shape or not np.all(np.isfinite(g)) or np.any(g <= 0):
        raise InputError("g must be finite, positive and have the shape of t")
    t_fit = t[fit_mask]

    def model(p: np.ndarray, t_eval: np.ndarray) -> np.ndarray:
        system = GapSystem(c=p[0], beta=p[1], eta=eta, hw=p[2])
        sol = integrate(
            system,
            [g[0]],
            (t[0], t_eval[-1]),
            t_eval=t_eval,
            method="LSODA",
            rtol=rtol,
            atol=atol,
        )
        if not sol.success or sol.y.shape[1] != t_eval.size:
            return np.full(t_eval.size, np.nan)
        return sol.y[0]

    scale = g[fit_mask].max()

    def resid(p: np.ndarray) -> np.ndarray:
        return np.nan_to_num((model(p, t_fit) - g[fit_mask]) / scale, nan=1e3)

    span = max(t_fit[-1] - t_fit[0], 1e-12)  # unit-scale initial guesses
    p0 = np.array([g[fit_mask][-1] / span, 0.0, 1.0 / (eta * span)])
    sol = least_squares(
        resid, p0, bounds=([-np.inf, 0.0, 1e-12], [np.inf, np.inf, np.inf]), x_scale="jac"
    )
    names = ["c", "beta", "hw"]
    return _result("gap", names, sol, t, g, model(sol.x, t), fit_mask, t_split)
