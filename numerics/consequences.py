"""The theorems' consequences as executable properties (``spectral-edge verify``).

Each :class:`Consequence` is tied to the result it follows from (docs/spec.md §4), draws its
examples from a strategy of :mod:`spectral_edge.numerics.strategies` and states a property of
one example.
:func:`verify` searches for a counterexample with Hypothesis itself (``hypothesis.find``:
generation, then shrinking to a minimal counterexample), seeded so a run is reproducible
from ``seed``. A consequence that is a published form the theory does *not* derive
(``expected_to_hold=False``: R11's k* ≤ K) is reported like the others, but its failure does
not fail the run.

>>> out = verify(only=["R10"], examples=20, seed=0)
>>> [(o.id, o.held) for o in out]
[('R10 scaling', True)]
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

import numpy as np
from hypothesis import HealthCheck, Phase, find, settings
from hypothesis import strategies as st
from hypothesis.errors import NoSuchExample, Unsatisfiable

from spectral_edge.common.errors import InputError
from spectral_edge.common.validate import check_int
from spectral_edge.numerics import spectra
from spectral_edge.numerics.strategies import (
    feedback_parameters,
    gap_parameters,
    gram_matrices,
    quadratic_problems,
    signal_parameters,
)
from spectral_edge.theory import lambdified as tx

__all__ = ["CONSEQUENCES", "Consequence", "Outcome", "verify"]


@dataclass(frozen=True)
class Consequence:
    """A property ``holds(example)`` of examples drawn from ``strategy``, following from
    result ``result``."""

    id: str
    result: str
    statement: str
    strategy: Callable[[], st.SearchStrategy[Any]]
    holds: Callable[[Any], bool]
    expected_to_hold: bool = True


@dataclass(frozen=True)
class Outcome:
    """What :func:`verify` found for one consequence: ``held`` after ``examples`` examples,
    or the shrunk ``counterexample`` (its text), in ``seconds``."""

    id: str
    result: str
    statement: str
    held: bool
    examples: int
    counterexample: str | None
    expected_to_hold: bool
    seconds: float


# ----------------------------------------------------------------------------- properties
@st.composite
def _perturbed_gram(draw: st.DrawFn) -> tuple[np.ndarray, np.ndarray]:
    a = draw(gram_matrices())
    n = a.shape[0]
    scale = draw(st.floats(1e-6, 10.0))
    raw = np.array(draw(st.lists(st.floats(-1.0, 1.0), min_size=n * n, max_size=n * n)))
    e = raw.reshape(n, n)
    return a, scale * (e + e.T) / 2


def _davis_kahan(case: tuple[np.ndarray, np.ndarray]) -> bool:
    a, e = case
    lam, vec = np.linalg.eigh(a)
    lam2, vec2 = np.linalg.eigh(a + e)
    lam, vec, vec2 = lam[::-1], vec[:, ::-1], vec2[:, ::-1]
    cos = np.clip(np.abs(np.sum(vec * vec2, axis=0)), 0.0, 1.0)
    sin = np.sqrt(1.0 - cos**2)
    bound = spectra.davis_kahan_bound(lam, float(np.linalg.norm(e, 2)), "yws")
    return bool(np.all(sin <= bound + 1e-7))


def _r1_stable(p: dict) -> bool:
    args = (p["h"], p["Gamma"], p["eta"], p["omega"], p["W"])
    d_star = float(tx.signal_steady_state(p["h"], p["Gamma"], p["omega"], p["W"]))
    scale = p["eta"] * (p["h"] + p["omega"]) * d_star
    eps = 1e-6 * d_star
    slope = (tx.signal_rhs(d_star + eps, *args) - tx.signal_rhs(d_star - eps, *args)) / (2 * eps)
    return bool(abs(float(tx.signal_rhs(d_star, *args))) <= 1e-8 * scale and slope < 0)


@st.composite
def _dyson_case(draw: st.DrawFn) -> dict:
    n = 3
    fl = lambda lo, hi: st.floats(lo, hi)  # noqa: E731
    lam0 = np.sort(np.array(draw(st.lists(fl(0.1, 100.0), min_size=n, max_size=n,
                                          unique=True))))[::-1]
    return {
        "lam0": lam0,
        "h": np.array(draw(st.lists(fl(0.0, 2.0), min_size=n, max_size=n))),
        "Gamma": np.array(draw(st.lists(fl(0.01, 2.0), min_size=n, max_size=n))),
        "N": np.array(draw(st.lists(fl(0.1, 20.0), min_size=n, max_size=n))),
        "eta": draw(fl(0.01, 0.3)),
        "W": draw(st.integers(2, 20)),
    }


def _r3_ordered(p: dict) -> bool:
    """At every contact the two levels move apart: squeeze each neighbouring pair of the
    ordered levels to a relative separation of 1e-6 and ask that λ̇_j − λ̇_{j+1} > 0 (so an
    ordered state can never reach a crossing)."""
    lam0 = p["lam0"]
    for j in range(lam0.size - 1):
        lam = lam0.copy()
        lam[j] = lam[j + 1] * (1 + 1e-6)
        if j > 0 and lam[j] >= lam[j - 1]:
            continue  # squeezing would break the order above; not an ordered state
        rate = tx.dyson_rhs(lam, p["h"], p["Gamma"], p["N"], p["eta"], 0.0, p["W"])
        if not rate[j] - rate[j + 1] > 0:
            return False
    return True


def _r4_equilibrium(p: dict) -> bool:
    c, beta, eta, hw = p["c"], p["beta"], p["eta"], p["hw"]
    if beta == 0 and c <= 0:
        return True  # no positive equilibrium: outside R4's statement (g* → 0)
    g = float(tx.gap_equilibrium(c, beta, eta, hw))
    residual = c * g - eta * hw * g**2 + beta
    scale = abs(c) * g + eta * hw * g**2 + beta
    slope = float(tx.reduced_gap_slope(g, c, beta, eta, hw))
    return bool(g > 0 and abs(residual) <= 1e-9 * scale and slope < 0)


@st.composite
def _block_case(draw: st.DrawFn) -> dict:
    n = draw(st.integers(2, 6))
    fl = st.floats(-1.0, 1.0)
    mats = [np.array(draw(st.lists(fl, min_size=n * n, max_size=n * n))).reshape(n, n)
            for _ in range(2)]
    return {"n": n, "b": draw(st.integers(1, n)), "A": mats[0], "B": mats[1],
            "tr": np.array(draw(st.lists(fl, min_size=n, max_size=n))),
            "val": np.array(draw(st.lists(fl, min_size=n, max_size=n)))}


def _r7_block(p: dict) -> bool:
    n, b = p["n"], p["b"]
    basis, _ = np.linalg.qr(p["A"] + 3 * np.eye(n))
    rot, _ = np.linalg.qr(p["B"][:b, :b] + 3 * np.eye(b))
    before = np.sum((basis[:, :b].T @ p["tr"]) * (basis[:, :b].T @ p["val"]))
    turned = basis[:, :b] @ rot
    after = np.sum((turned.T @ p["tr"]) * (turned.T @ p["val"]))
    return bool(abs(after - before) <= 1e-9 * (1 + np.abs(p["tr"]).sum() * np.abs(p["val"]).sum()))


def _r8_threshold(p: dict) -> bool:
    W = 10
    rho_c = float(tx.feedback_threshold(p["h"], p["Gamma0"], p["h_b"], p["Gamma_b"], p["omega"]))
    d_b = float(tx.signal_steady_state(p["h_b"], p["Gamma_b"], p["omega"], W))
    fp = tx.feedback_fixed_points(d_b, p["rho"], p["h"], p["Gamma0"], p["omega"], W)
    g = float(fp.g_stable)
    open_gap = np.isfinite(g) and g > 1e-9 * d_b
    q = float(tx.feedback_ratio(p["h"], p["Gamma0"], p["h_b"], p["Gamma_b"], p["omega"]))
    if abs(q - 1.0) < 1e-12:
        return True  # q = 1: the open fixed point meets collapse (y₊ = q) for ρ ≤ 1
    if p["rho"] > rho_c * (1 + 1e-6) + 1e-12:
        if not open_gap:
            return False
        eps = 1e-6 * max(g, d_b)
        slope = (tx.feedback_rhs(g + eps, d_b, p["rho"], p["h"], p["Gamma0"], 1.0, p["omega"], W)
                 - tx.feedback_rhs(g - eps, d_b, p["rho"], p["h"], p["Gamma0"], 1.0,
                                   p["omega"], W)) / (2 * eps)
        return bool(slope < 0)
    if rho_c > 0 and p["rho"] < rho_c * (1 - 1e-6):
        return not open_gap
    return True


@st.composite
def _equilibrium_spectrum(draw: st.DrawFn) -> dict:
    n = draw(st.integers(3, 8))
    fl = lambda lo, hi: st.floats(lo, hi)  # noqa: E731
    return {"h": np.array(draw(st.lists(fl(0.0, 5.0), min_size=n, max_size=n))),
            "Gamma": np.array(draw(st.lists(fl(0.01, 5.0), min_size=n, max_size=n))),
            "omega": draw(fl(0.01, 1.0)), "frac": draw(fl(1e-4, 1.0))}


def _alpha_hierarchy(p: dict) -> bool:
    lam = np.sort(tx.signal_steady_state(p["h"], p["Gamma"], p["omega"], 10) ** 2)[::-1]
    alpha = spectra.stability_alpha(lam, p["frac"] * lam[0])
    sep = spectra.eigen_separation(lam)
    order = np.argsort(sep)
    return bool(np.all(np.diff(alpha[order]) >= -1e-12))


def _krylov(slack: int) -> Callable[[Any], bool]:
    def holds(case) -> bool:
        if case.K < 1:
            return True  # the bound says nothing without a stiff mode
        sigma = np.linalg.svd(case.window(), compute_uv=False)
        return spectra.kstar(sigma, "weighted") <= case.K + slack
    return holds


@st.composite
def _bbp_case(draw: st.DrawFn) -> dict:
    return {"nu": draw(st.floats(1e-3, 1e3)), "P": draw(st.integers(10, 10**9)),
            "W": draw(st.integers(2, 1000))}


def _r10_scaling(p: dict) -> bool:
    nu, P, W = p["nu"], p["P"], p["W"]
    d_c = float(tx.bbp_threshold(nu, P, W))
    quarter = float(tx.bbp_threshold(nu, 16 * P, W)) / d_c
    return bool(abs(d_c / (nu * np.sqrt(P)) - (W / P) ** 0.25) <= 1e-9 * (W / P) ** 0.25
                and abs(quarter - 2.0) <= 1e-9)


CONSEQUENCES: tuple[Consequence, ...] = (
    Consequence("R5 Davis–Kahan", "R5",
                "sin θ_j ≤ 2‖E‖_op/δ_j (Yu–Wang–Samworth, no assumption) for G + E",
                _perturbed_gram, _davis_kahan),
    Consequence("R1 stable steady state", "R1",
                "ḋ(d*) = 0 and ∂ḋ/∂d < 0 at d* = √(WΓ/(h+ω))", signal_parameters, _r1_stable),
    Consequence("R3 ordered levels", "R3",
                "ordered levels stay ordered: at contact the repulsion pushes them apart "
                "(N > 0)", _dyson_case, _r3_ordered),
    Consequence("R4 equilibrium", "R4",
                "g* solves c·g − η(h̄+ω)g² + β = 0, g* > 0, and ∂ġ/∂g < 0 there",
                gap_parameters, _r4_equilibrium),
    Consequence("R7 block invariance", "R7",
                "Σ_{j∈B} G_j^tr G_j^val is unchanged by a rotation inside B", _block_case,
                _r7_block),
    Consequence("R8 threshold", "R8",
                "ρ > ρ_c: a stable open-gap fixed point; ρ < ρ_c (q > 1): none",
                feedback_parameters, _r8_threshold),
    Consequence("alpha hierarchy", "R5",
                "on R1 equilibrium spectra α_j is ordered like the eigen-gaps δ_j",
                _equilibrium_spectrum, _alpha_hierarchy),
    Consequence("R11 k* <= K+1", "R11",
                "gradient descent on a quadratic: k* ≤ K + 1 (the derived form)",
                quadratic_problems, _krylov(1)),
    Consequence("R11 k* <= K", "R11",
                "gradient descent on a quadratic: k* ≤ K (the published form; not derived)",
                quadratic_problems, _krylov(0), expected_to_hold=False),
    Consequence("R10 scaling", "R10",
                "d_c/(ν√P) = (W/P)^{1/4}; d_c doubles when P grows 16×", _bbp_case,
                _r10_scaling),
)
"""Every consequence, in the order ``verify`` runs them."""


def _describe(example: Any) -> str:
    with np.printoptions(precision=6, suppress=False, threshold=50):
        if hasattr(example, "__dataclass_fields__"):
            fields = {k: getattr(example, k) for k in example.__dataclass_fields__}
            extra = f", K={example.K}" if hasattr(example, "K") else ""
            return f"{type(example).__name__}({fields}{extra})".replace("\n", " ")
        return " ".join(repr(example).split())


def verify(only: Iterable[str] | None = None, examples: int = 100,
           seed: int = 0) -> tuple[Outcome, ...]:
    """Search each consequence (those of the results in ``only``, all by default) for a
    counterexample among ``examples`` examples; ``seed`` makes the search reproducible.

    ``InputError`` for an unknown result id, ``examples < 1`` or a negative seed.
    """
    examples = check_int("--examples", examples, minimum=1)
    seed = check_int("--seed", seed, minimum=0)
    chosen = list(CONSEQUENCES)
    if only is not None:
        wanted = [w.strip().upper() for item in only for w in item.split(",") if w.strip()]
        known = sorted({c.result for c in CONSEQUENCES}, key=lambda r: int(r[1:]))
        if not wanted:
            raise InputError(f"--only names no result; known: {', '.join(known)}")
        for w in wanted:
            if w not in known:
                raise InputError(f"no consequence of {w!r}; known: {', '.join(known)}")
        chosen = [c for c in CONSEQUENCES if c.result in wanted]
    config = settings(max_examples=examples, database=None, deadline=None,
                      phases=[Phase.generate, Phase.shrink],
                      suppress_health_check=list(HealthCheck))
    out = []
    for cons in chosen:
        calls = [0]

        def fails(example: Any, cons: Consequence = cons, calls: list = calls) -> bool:
            calls[0] += 1
            return not cons.holds(example)

        start = time.perf_counter()
        try:
            found = find(cons.strategy(), fails, settings=config, random=random.Random(seed))
        except (NoSuchExample, Unsatisfiable):
            out.append(Outcome(cons.id, cons.result, cons.statement, True, calls[0], None,
                               cons.expected_to_hold, time.perf_counter() - start))
            continue
        out.append(Outcome(cons.id, cons.result, cons.statement, False, calls[0],
                           _describe(found), cons.expected_to_hold,
                           time.perf_counter() - start))
    return tuple(out)
