"""The properties ``spectral-edge verify`` searches, each with the knob its negative control
turns (:mod:`spectral_edge.numerics.consequences` pairs them).

A property is a predicate of one drawn example. Each one takes a keyword that, at its
default, states the theorem's consequence, and at another value states a deliberately false
variant of it (a bound off by a factor, a sign flipped, a bound one tighter, the scale
separation removed): the negative control, which must be falsified. Because the control runs
the same code with one knob turned, a property weakened until it tests nothing (a mutant) lets
its control hold, and ``verify`` fails.

>>> import numpy as np
>>> r10_scaling({"nu": 1.0, "P": 100, "W": 4}), r10_scaling({"nu": 1.0, "P": 100, "W": 4}, 4.0)
(True, False)
"""

from __future__ import annotations

import numpy as np
from hypothesis import strategies as st

from spectral_edge.numerics import spectra
from spectral_edge.numerics.strategies import gram_matrices, separated_quadratic
from spectral_edge.theory import lambdified as tx

__all__ = [
    "KRYLOV_BATCH",
    "KRYLOV_SEPARATIONS",
    "alpha_hierarchy",
    "bbp_case",
    "block_case",
    "davis_kahan",
    "dyson_case",
    "equilibrium_spectrum",
    "krylov_asymptotic",
    "krylov_fraction",
    "perturbed_gram",
    "r1_stable",
    "r3_ordered",
    "r4_equilibrium",
    "r6_interval",
    "r7_block",
    "r8_threshold",
    "r10_scaling",
]


# ------------------------------------------------------------------------------ R5
@st.composite
def perturbed_gram(draw: st.DrawFn) -> tuple[np.ndarray, np.ndarray]:
    """A Gram matrix and a symmetric perturbation of size 10⁻⁶ … 10."""
    a = draw(gram_matrices())
    n = a.shape[0]
    scale = draw(st.floats(1e-6, 10.0))
    raw = np.array(draw(st.lists(st.floats(-1.0, 1.0), min_size=n * n, max_size=n * n)))
    e = raw.reshape(n, n)
    return a, scale * (e + e.T) / 2


def davis_kahan(case: tuple[np.ndarray, np.ndarray], constant: float = 1.0) -> bool:
    """sin θ_j ≤ ``constant`` × the Yu–Wang–Samworth bound 2‖E‖_op/δ_j (control: 1/20)."""
    a, e = case
    lam, vec = np.linalg.eigh(a)
    _, vec2 = np.linalg.eigh(a + e)
    lam, vec, vec2 = lam[::-1], vec[:, ::-1], vec2[:, ::-1]
    cos = np.clip(np.abs(np.sum(vec * vec2, axis=0)), 0.0, 1.0)
    sin = np.sqrt(1.0 - cos**2)
    bound = spectra.davis_kahan_bound(lam, float(np.linalg.norm(e, 2)), "yws")
    return bool(np.all(sin <= constant * bound + 1e-7))


# ------------------------------------------------------------------------------ R1
def r1_stable(p: dict, factor: float = 1.0) -> bool:
    """ḋ = 0 and ∂ḋ/∂d < 0 at ``factor`` × d* (control: factor 1.1)."""
    args = (p["h"], p["Gamma"], p["eta"], p["omega"], p["W"])
    d_star = factor * float(tx.signal_steady_state(p["h"], p["Gamma"], p["omega"], p["W"]))
    scale = p["eta"] * (p["h"] + p["omega"]) * d_star
    eps = 1e-6 * d_star
    slope = (tx.signal_rhs(d_star + eps, *args) - tx.signal_rhs(d_star - eps, *args)) / (2 * eps)
    return bool(abs(float(tx.signal_rhs(d_star, *args))) <= 1e-8 * scale and slope < 0)


# ------------------------------------------------------------------------------ R3
@st.composite
def dyson_case(draw: st.DrawFn) -> dict:
    """Three ordered levels (neighbours at least 1% apart), their (h, Γ, N > 0), η, W, and
    the relative separation
    ``sep`` ∈ [10⁻¹⁰, 10⁻⁷] (contact: the repulsion ~ 1/sep dominates the drift
    there, for the drawn ranges) to which each neighbouring pair is squeezed."""
    n = 3
    fl = st.floats
    lowest = draw(fl(0.1, 10.0))
    ratios = np.array(draw(st.lists(fl(1.01, 10.0), min_size=n - 1, max_size=n - 1)))
    lam0 = lowest * np.concatenate([np.cumprod(ratios[::-1])[::-1], [1.0]])
    return {
        "lam0": lam0,
        "h": np.array(draw(st.lists(fl(0.0, 2.0), min_size=n, max_size=n))),
        "Gamma": np.array(draw(st.lists(fl(0.01, 2.0), min_size=n, max_size=n))),
        "N": np.array(draw(st.lists(fl(0.1, 20.0), min_size=n, max_size=n))),
        "eta": draw(fl(0.01, 0.3)),
        "W": draw(st.integers(2, 20)),
        "sep": draw(fl(1e-10, 1e-7)),
    }


def r3_ordered(p: dict, repulsion_sign: float = 1.0) -> bool:
    """At contact the two levels move apart. Each neighbouring pair j, j+1 of the ordered
    levels is squeezed to the relative separation ``sep`` (the others kept); R3's full rate
    (:func:`~spectral_edge.theory.lambdified.dyson_rhs`, drift + noise mean + repulsion) must
    give λ̇_j − λ̇_{j+1} > 0, and its repulsion part alone must exceed the drift's pull
    at every squeezed pair; a draw in which no pair could be squeezed does not count as held.
    The control flips the sign of the repulsion (the pair terms), keeping drift and noise
    mean.
    """
    lam0 = p["lam0"]
    checked = 0
    for j in range(lam0.size - 1):
        lam = lam0.copy()
        lam[j] = lam[j + 1] * (1 + p["sep"])
        if j > 0 and lam[j] >= lam[j - 1]:
            continue  # squeezing would break the order above; not an ordered state
        full = tx.dyson_rhs(lam, p["h"], p["Gamma"], p["N"], p["eta"], 0.0, p["W"])
        alone = np.array([tx.dyson_rhs(lam[[i]], p["h"][[i]], p["Gamma"][[i]], p["N"][[i]],
                                       p["eta"], 0.0, p["W"])[0] for i in range(lam.size)])
        rate = alone + repulsion_sign * (full - alone)  # drift + noise mean ± repulsion
        checked += 1
        if not rate[j] - rate[j + 1] > 0:
            return False
    return checked > 0


# ------------------------------------------------------------------------------ R4
def r4_equilibrium(p: dict, beta_sign: float = 1.0) -> bool:
    """g* > 0 solves c·g − η(h̄+ω)g² + β = 0 (control: the equation with −β) and
    ∂ġ/∂g < 0 there."""
    c, beta, eta, hw = p["c"], p["beta"], p["eta"], p["hw"]
    if beta == 0 and c <= 0:
        return True  # no positive equilibrium: outside R4's statement (g* → 0)
    g = float(tx.gap_equilibrium(c, beta, eta, hw))
    residual = c * g - eta * hw * g**2 + beta_sign * beta
    scale = abs(c) * g + eta * hw * g**2 + beta
    slope = float(tx.reduced_gap_slope(g, c, beta, eta, hw))
    return bool(g > 0 and abs(residual) <= 1e-9 * scale and slope < 0)


# ------------------------------------------------------------------------------ R6
def r6_interval(p: dict, wd_sign: float = 1.0) -> bool:
    """R6's exported interval contains ΔL' = −ηW Σ_j cos²θ_j (G_j^eff + ωθ_j) G_j^val for
    every cos²θ_j ∈ [α_j, 1] (typed here from A2's drive; the control flips the sign of the
    weight-decay term ωθ_j)."""
    alpha, t = p["alpha"], p["t"]
    cos2 = alpha + t * (1.0 - alpha)
    drive = p["G_eff"] + wd_sign * p["omega"] * p["theta"]
    change = float(np.sum(-p["eta"] * p["W"] * cos2 * drive * p["G_val"]))
    lo, hi = tx.loss_change_interval(alpha, p["G_eff"], p["omega"], p["theta"], p["G_val"],
                                     p["eta"], p["W"])
    slack = 1e-9 * (1.0 + float(np.sum(np.abs(p["eta"] * p["W"] * drive * p["G_val"]))))
    return bool(float(lo) - slack <= change <= float(hi) + slack)


# ------------------------------------------------------------------------------ R7
@st.composite
def block_case(draw: st.DrawFn) -> dict:
    """A basis of Rⁿ (n = 2 … 6), a block size b < n, a rotation, train and val gradients."""
    n = draw(st.integers(2, 6))
    fl = st.floats(-1.0, 1.0)
    mats = [np.array(draw(st.lists(fl, min_size=n * n, max_size=n * n))).reshape(n, n)
            for _ in range(2)]
    return {"n": n, "b": draw(st.integers(1, n - 1)), "A": mats[0], "B": mats[1],
            "tr": np.array(draw(st.lists(fl, min_size=n, max_size=n))),
            "val": np.array(draw(st.lists(fl, min_size=n, max_size=n)))}


def r7_block(p: dict, cross: bool = False) -> bool:
    """Σ_{j∈B} G_j^tr G_j^val is unchanged by a rotation inside the block B (control,
    ``cross``: the rotation also takes in the first mode outside B — a mix across k*)."""
    n, b = p["n"], p["b"]
    m = b + 1 if cross else b
    basis, _ = np.linalg.qr(p["A"] + 3 * np.eye(n))
    rot, _ = np.linalg.qr(p["B"][:m, :m] + 3 * np.eye(m))
    before = np.sum((basis[:, :b].T @ p["tr"]) * (basis[:, :b].T @ p["val"]))
    turned = (basis[:, :m] @ rot)[:, :b]
    after = np.sum((turned.T @ p["tr"]) * (turned.T @ p["val"]))
    return bool(abs(after - before) <= 1e-9 * (1 + np.abs(p["tr"]).sum() * np.abs(p["val"]).sum()))


# ------------------------------------------------------------------------------ R8
def _open_and_stable(p: dict, rho: float, W: int) -> tuple[bool, bool]:
    d_b = float(tx.signal_steady_state(p["h_b"], p["Gamma_b"], p["omega"], W))
    g = float(tx.feedback_fixed_points(d_b, rho, p["h"], p["Gamma0"], p["omega"], W).g_stable)
    is_open = bool(np.isfinite(g) and g > 1e-7 * d_b)
    if not is_open:
        return False, False
    eps = 1e-6 * max(g, d_b)
    rhs = [tx.feedback_rhs(g + s, d_b, rho, p["h"], p["Gamma0"], 1.0, p["omega"], W)
           for s in (eps, -eps)]
    return True, bool(rhs[0] - rhs[1] < 0)


def r8_threshold(p: dict, factor: float = 1.0) -> bool:
    """Just above ``factor`` × ρ_c (by the drawn relative distance ``delta``) a stable open
    gap exists; just below ρ_c (when ρ_c > 0) none does. q = 1 included (ρ_c = 1 there).
    The control puts the threshold at half its value."""
    W = 10
    rho_c = float(tx.feedback_threshold(p["h"], p["Gamma0"], p["h_b"], p["Gamma_b"], p["omega"]))
    above = factor * rho_c * (1 + p["delta"]) + (1e-9 if rho_c == 0 else 0.0)
    is_open, stable = _open_and_stable(p, above, W)
    if not (is_open and stable):
        return False
    if rho_c > 0:
        return not _open_and_stable(p, rho_c * (1 - p["delta"]), W)[0]
    return True


# --------------------------------------------------------------------- α hierarchy
@st.composite
def equilibrium_spectrum(draw: st.DrawFn) -> dict:
    """Curvatures, injections and ω of 3–8 modes; ``frac`` sets ‖ΔC‖ = frac·λ_1."""
    n = draw(st.integers(3, 8))
    fl = st.floats
    return {"h": np.array(draw(st.lists(fl(0.0, 5.0), min_size=n, max_size=n))),
            "Gamma": np.array(draw(st.lists(fl(0.01, 5.0), min_size=n, max_size=n))),
            "omega": draw(fl(0.01, 1.0)), "frac": draw(fl(1e-4, 0.5))}


def alpha_hierarchy(p: dict, order_sign: float = 1.0) -> bool:
    """On R1 equilibrium spectra α_j is ordered like the eigen-gaps δ_j (control: ordered
    against them)."""
    lam = np.sort(tx.signal_steady_state(p["h"], p["Gamma"], p["omega"], 10) ** 2)[::-1]
    alpha = spectra.stability_alpha(lam, p["frac"] * lam[0])
    sep = spectra.eigen_separation(lam)
    order = np.argsort(sep)
    return bool(np.all(order_sign * np.diff(alpha[order]) >= -1e-12))


# ----------------------------------------------------------------------------- R11
KRYLOV_SEPARATIONS: tuple[float, ...] = (0.01, 0.003, 0.001)
"""Levels of the separation parameter (flat modes' largest ηhW; stiff modes ηhW ≥ 2) at
which weighted k* ≤ K + 1 must hold for every case: the asymptotic statement of R11."""
KRYLOV_BATCH = 20
"""Cases per drawn seed (common random numbers across the separation levels)."""


def krylov_fraction(seed: int, flat_max: float, slack: int = 1,
                    batch: int = KRYLOV_BATCH) -> float:
    """The fraction of ``batch`` separated quadratics (seed ``seed``, flat ηhW ≤ ``flat_max``)
    whose weighted k* ≤ K + ``slack``.

    >>> krylov_fraction(0, 0.001)
    1.0
    """
    held = 0
    for index in range(batch):
        case = separated_quadratic(np.random.default_rng([seed, index]), flat_max)
        sigma = np.linalg.svd(case.window(), compute_uv=False)
        held += spectra.kstar(sigma, "weighted") <= case.K + slack
    return held / batch


def krylov_asymptotic(seed: int, slack: int = 1,
                      separations: tuple[float, ...] = KRYLOV_SEPARATIONS) -> bool:
    """Weighted k* ≤ K + ``slack`` for every case of the seed's batch at every separation
    level (controls: ``slack`` 0, the bound one tighter; ``separations`` (1.0,), no scale
    separation — both must be falsified)."""
    return all(krylov_fraction(seed, level, slack) == 1.0 for level in separations)


# ----------------------------------------------------------------------------- R10
@st.composite
def bbp_case(draw: st.DrawFn) -> dict:
    """Noise level ν, parameter count P and window W."""
    return {"nu": draw(st.floats(1e-3, 1e3)), "P": draw(st.integers(10, 10**9)),
            "W": draw(st.integers(2, 1000))}


def r10_scaling(p: dict, growth: float = 2.0) -> bool:
    """d_c/(ν√P) = (W/P)^{1/4}, and d_c grows by ``growth`` when P grows 16× (control: 4)."""
    nu, P, W = p["nu"], p["P"], p["W"]
    d_c = float(tx.bbp_threshold(nu, P, W))
    ratio = float(tx.bbp_threshold(nu, 16 * P, W)) / d_c
    return bool(abs(d_c / (nu * np.sqrt(P)) - (W / P) ** 0.25) <= 1e-9 * (W / P) ** 0.25
                and abs(ratio - growth) <= 1e-9)

