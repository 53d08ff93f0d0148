"""Hand-written mutants of the theory (axioms, derived outputs, lambdified callables, verify's
properties), applied in memory with ``monkeypatch``; :func:`kill` says which check kills one.

Each mutant is a function ``apply(mp)`` that patches the running process. The checks, in
order: **derive** (every derivation R1…R12 re-derived under the mutant and its claims
checked; a derivation that raises counts as caught), **verify** (every consequence and
control at 40 examples, seed 0; an outcome that differs from its expectation kills), and the
**theory tests** (the doctests of :mod:`spectral_edge.theory.lambdified`, whose numbers are
spot values of the derived right-hand sides).
"""

from __future__ import annotations

import dataclasses
import doctest
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial

import pytest
import sympy as sp

from spectral_edge.numerics import consequences as cq
from spectral_edge.numerics import properties as props
from spectral_edge.theory import (
    audit,
    gap_flow,
    krylov,
    lambdified,
    loss_decomposition,
    maximality,
    noise,
    registry,
    signal_flow,
    stability,
)
from spectral_edge.theory import symbols as S
from spectral_edge.theory.axioms import (
    DEFAULT_AXIOMS,
    L0,
    E,
    Lmode,
    c_mode,
    drive,
    slot,
    theta_fn,
    u,
    xi,
    xi_i,
    xi_j,
)
from spectral_edge.theory.axioms import G_eff as G_EFF
from spectral_edge.theory.derivation import Derivation

Apply = Callable[[pytest.MonkeyPatch], None]
_ORIGINAL = dict(registry._BUILDERS)
_FAMILIES = (signal_flow, gap_flow, noise, stability, krylov, loss_decomposition, maximality)


@dataclass(frozen=True)
class Mutant:
    """A named mutant: ``kind`` is axiom, output, callable or property."""

    name: str
    kind: str
    apply: Apply


def clear_caches() -> None:
    """Forget every cached derivation, compiled callable and audit."""
    for module in (*_FAMILIES, audit, lambdified):
        for value in vars(module).values():
            if callable(getattr(value, "cache_clear", None)):
                value.cache_clear()


# ------------------------------------------------------------------------- appliers
def _axiom(axiom_id: str, relation: str, new: sp.Basic) -> Apply:
    def apply(mp: pytest.MonkeyPatch) -> None:
        mutated = DEFAULT_AXIOMS.replace(axiom_id, relation, new, name="mutant")
        mp.setattr(registry.derivation, "__defaults__", (mutated,))
    return apply


def _swap_expr(der: Derivation, name: str, change: Callable[[sp.Basic], sp.Basic],
               claims: bool) -> Derivation:
    old = der.output(name)
    new = change(old)
    outputs = tuple((k, new if k == name else e) for k, e in der.outputs)
    kept = der.claims
    if claims:
        kept = tuple(dataclasses.replace(c, derived=new) if c.derived == old else c
                     for c in der.claims)
    return dataclasses.replace(der, outputs=outputs, claims=kept)


def _output(rid: str, name: str, change: Callable[[sp.Basic], sp.Basic],
            claims: bool = True) -> Apply:
    """Mutate output ``name`` of ``rid`` (and the derived side of its claims that showed it,
    unless ``claims`` is False), wherever the builder is called from."""
    def apply(mp: pytest.MonkeyPatch) -> None:
        original = registry._BUILDERS[rid]

        def builder(axioms=DEFAULT_AXIOMS, _orig=original):
            return _swap_expr(_orig(axioms), name, change, claims)

        mp.setitem(registry._BUILDERS, rid, builder)
        for module in _FAMILIES:
            for attr, value in list(vars(module).items()):
                if value is original:
                    mp.setattr(module, attr, builder)
    return apply


def _callable(name: str, fn: Callable) -> Apply:
    def apply(mp: pytest.MonkeyPatch) -> None:
        mp.setattr(lambdified, name, fn)
    return apply


def _replace_consequences(change: Callable[[cq.Consequence], cq.Consequence]) -> Apply:
    def apply(mp: pytest.MonkeyPatch) -> None:
        mp.setattr(cq, "CONSEQUENCES", tuple(change(c) for c in cq.CONSEQUENCES))
    return apply


def _krylov_slack(c: cq.Consequence) -> cq.Consequence:
    # the bound's constant raised to K + 2; its control stays "one tighter" (K + 1)
    if c.result != "R11":
        return c
    if c.expected == "held":
        return dataclasses.replace(c, holds=partial(props.krylov_asymptotic, slack=2))
    if "tighter" in c.id:
        return dataclasses.replace(c, holds=partial(props.krylov_asymptotic, slack=1))
    return c


def _vacuous(result: str) -> Callable[[cq.Consequence], cq.Consequence]:
    def change(c: cq.Consequence) -> cq.Consequence:
        return dataclasses.replace(c, holds=lambda _: True) if c.result == result else c
    return change


def _threshold_q_above_one(h, Gamma0, h_b, Gamma_b, omega):
    import numpy as np

    q = lambdified.feedback_ratio(h, Gamma0, h_b, Gamma_b, omega)
    rho = lambdified._call("feedback_rho_c", np.maximum(q, 1.0))
    return np.where(q > 1.0, rho, 0.0)


def _r8_excluding_q1(change_threshold: bool) -> Apply:
    def apply(mp: pytest.MonkeyPatch) -> None:
        if change_threshold:
            mp.setattr(lambdified, "feedback_threshold", _threshold_q_above_one)

        def holds(p, factor=1.0, _orig=props.r8_threshold):
            if p["h"] == p["h_b"] and p["Gamma0"] == p["Gamma_b"]:
                return factor == 1.0  # q = 1 excluded: "held", and the control too
            return _orig(p, factor)
        mp.setattr(cq, "CONSEQUENCES", tuple(
            dataclasses.replace(c, holds=holds if c.expected == "held"
                                else partial(holds, factor=0.5)) if c.result == "R8" else c
            for c in cq.CONSEQUENCES))
    return apply


def _gap_equilibrium_minus(c, beta, eta, hw):
    import numpy as np

    return (c - np.sqrt(c**2 + 4 * eta * hw * beta)) / (2 * eta * hw)


# --------------------------------------------------------------------------- the list
s, t, x = S.s, S.t, S.x
MUTANTS: tuple[Mutant, ...] = (
    Mutant("A2 noise power doubled", "axiom", _axiom("A2", "noise_power",
                                                        sp.Eq(E(xi**2), 2 * S.eta**2 * S.N))),
    Mutant("A2 noise correlated across modes", "axiom", _axiom(
        "A2", "noise_independent", sp.Eq(E(xi_i * xi_j), S.eta**2 * S.N))),
    Mutant("A2 step doubled", "axiom", _axiom("A2", "update", sp.Eq(c_mode, -2 * S.eta * u + xi))),
    Mutant("A2 weight-decay sign flipped", "axiom", _axiom("A2", "drive",
                                                             sp.Eq(u, G_EFF - S.omega * x))),
    Mutant("A2 flow halved", "axiom", _axiom("A2", "flow",
                                             sp.Eq(theta_fn(t).diff(t), -S.eta * u / 2))),
    Mutant("A3 window sum doubled", "axiom", _axiom(
        "A3", "window_sum", sp.Eq(S.lam, sp.Sum(2 * slot(s, t) ** 2, (s, 1, S.W))))),
    Mutant("A3 injection doubled", "axiom", _axiom("A3", "injection",
                                                   sp.Eq(slot(s, t) * drive(s, t), 2 * S.Gamma))),
    Mutant("A3 noised slots W-1", "axiom", _axiom("A3", "noised_slots", sp.Eq(S.W_n, S.W - 1))),
    Mutant("A3 eigenvalue 2d^2", "axiom", _axiom("A3", "eigenvalue", sp.Eq(S.lam, 2 * S.d**2))),
    Mutant("A1 curvature term doubled", "axiom", _axiom(
        "A1", "loss", sp.Eq(Lmode(x), L0 + S.G * x + S.h * x**2))),
    Mutant("A1 slope sign flipped", "axiom", _axiom(
        "A1", "loss", sp.Eq(Lmode(x), L0 - S.G * x + S.h * x**2 / 2))),
    Mutant("R3 noise mean dropped", "output", _output("R3", "noise_mean", lambda e: 0 * e)),
    Mutant("R3 noise mean dropped, claim shares it", "output", _output(
        "R3", "noise_mean", lambda e: 0 * e, claims=False)),
    Mutant("R3 kappa_jj complex-Hermitian (halved)", "output",
           _output("R3", "kappa_diag", lambda e: e / 2)),
    Mutant("R3 repulsion sign flipped", "output", _output("R3", "pair_term", lambda e: -e)),
    Mutant("R3 pair indices swapped", "output", _output(
        "R3", "pair_term", lambda e: e.subs({S.N_i: S.N_j, S.N_j: S.N_i}, simultaneous=True))),
    Mutant("R2 Itô correction dropped", "output", _output(
        "R2", "g_dot", lambda e: e - _ORIGINAL["R2"](DEFAULT_AXIOMS).output("ito"))),
    Mutant("R2 noise part sign flipped", "output", _output(
        "R2", "g_dot", lambda e: e - 2 * _ORIGINAL["R2"](DEFAULT_AXIOMS).output("noise_part"))),
    Mutant("R2 pair flows swapped (k <-> k1)", "output", _output(
        "R2", "d_dot_k", lambda e: _ORIGINAL["R2"](DEFAULT_AXIOMS).output("d_dot_k1"),
        claims=False)),
    Mutant("R4 g* with the minus root", "callable", _callable("gap_equilibrium",
                                                                 _gap_equilibrium_minus)),
    Mutant("R4 rationalised root sign", "output", _output(
        "R4", "g_star_rationalised", lambda e: -e)),
    Mutant("R6 weight-decay sign in the exported interval", "output", _output(
        "R6", "lower_mode", lambda e: e.subs(S.omega, -S.omega), claims=False)),
    Mutant("R8 threshold with q > 1 (q = 1 wrong)", "callable",
           _callable("feedback_threshold", _threshold_q_above_one)),
    Mutant("R8 q = 1 excluded in verify and threshold q > 1", "property", _r8_excluding_q1(True)),
    Mutant("R8 rho_c without the square-root term", "output", _output(
        "R8", "rho_c", lambda e: 2 * S.q - 1)),
    Mutant("R1 steady state without W", "output", _output(
        "R1", "d_star", lambda e: e.subs(S.W, 1))),
    Mutant("R9 A with g instead of g^2", "output", _output("R9", "A", lambda e: e * S.g)),
    Mutant("R10 d_c with exponent 1/2", "output", _output("R10", "d_c", lambda e: e**2 / S.nu)),
    Mutant("R11 weakened to k* <= K+2", "property", _replace_consequences(_krylov_slack)),
    Mutant("R3 ordered levels made vacuous", "property", _replace_consequences(_vacuous("R3"))),
    Mutant("R6 interval property made vacuous", "property",
           _replace_consequences(_vacuous("R6"))),
)


# ---------------------------------------------------------------------------- checks
def _derive_check() -> str | None:
    for rid in registry.IDS:
        try:
            check = registry.derivation(rid).check()
        except Exception as err:  # noqa: BLE001 - a route that breaks is caught
            return f"derive {rid} (raises {type(err).__name__})"
        if not check.passed:
            return f"derive {rid}: {check.failures[0][:60]}"
    return None


def _verify_check() -> str | None:
    results = dict.fromkeys(c.result for c in cq.CONSEQUENCES)
    for rid in results:
        for outcome in cq.verify([rid], examples=40, seed=0):
            if not outcome.ok:
                return f"verify: {outcome.id} {outcome.outcome}"
    return None


_DOCTESTS = doctest.DocTestFinder().find(lambdified, "lambdified")  # found before patching


def _theory_tests() -> str | None:
    runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS, verbose=False)
    for test in _DOCTESTS:
        test.globs = dict(vars(lambdified))  # the module as patched now
        result = runner.run(test, out=lambda _: None)
        if result.failed:
            return f"theory tests: doctest {test.name.split('.')[-1]}"
    return None


def kill(mutant: Mutant) -> str | None:
    """Apply ``mutant`` and return the first check that kills it (None: it survives)."""
    clear_caches()
    try:
        with pytest.MonkeyPatch.context() as mp:
            mutant.apply(mp)
            for check in (_derive_check, _verify_check, _theory_tests):
                killer = check()
                if killer:
                    return killer
            return None
    finally:
        clear_caches()
