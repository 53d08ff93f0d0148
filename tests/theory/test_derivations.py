"""Every derivation R1–R12: its check passes, its claims can fail, its record is complete."""

from __future__ import annotations

import pytest
import sympy as sp

from spectral_edge.theory.axioms import AXIOMS, axiom, drive, slot
from spectral_edge.theory.derivation import Check, Claim, Derivation, Step
from spectral_edge.theory.registry import IDS, all_derivations, derivation
from spectral_edge.theory.signal_flow import window_sum_rate
from spectral_edge.theory.symbols import Gamma, W, lam, s, t

_ZETA = sp.Symbol("zeta_perturbation", positive=True)


def test_registry_lists_r1_to_r12_in_order() -> None:
    assert IDS == tuple(f"R{k}" for k in range(1, 13))
    assert [der.id for der in all_derivations()] == list(IDS)


def test_unknown_derivation_is_a_value_error() -> None:
    with pytest.raises(ValueError, match="unknown derivation"):
        derivation("R13")


@pytest.mark.parametrize("derivation_id", IDS)
def test_check_passes(derivation_id: str) -> None:
    outcome = derivation(derivation_id).check()
    assert isinstance(outcome, Check)
    assert outcome.passed, (outcome.failures, outcome.residual)
    assert outcome.residual == 0


@pytest.mark.parametrize("derivation_id", IDS)
def test_record_is_complete(derivation_id: str) -> None:
    der = derivation(derivation_id)
    assert der.title and der.steps and der.claims
    assert set(der.axioms) <= {a.id for a in AXIOMS}
    assert der.status in ("derived", "partly stated")
    assert (der.status == "partly stated") == bool(der.typed)
    assert all(isinstance(step, Step) and step.description for step in der.steps)
    assert isinstance(der.result, sp.Basic)


@pytest.mark.parametrize("derivation_id", IDS)
def test_equal_claims_are_not_tautologies(derivation_id: str) -> None:
    """Shifting the stated closed form by a fresh symbol must make every 'equal' claim fail,
    so no claim compares an expression with itself or holds vacuously."""
    for claim in derivation(derivation_id).claims:
        if claim.kind != "equal":
            continue
        shift = _ZETA * sp.ones(*claim.stated.shape) if isinstance(
            claim.stated, sp.MatrixBase) else _ZETA
        broken = Claim(claim.description, claim.derived, claim.stated + shift)
        holds, _ = broken.decide()
        assert not holds, claim.description


@pytest.fixture(scope="module")
def dependency_audit():
    from spectral_edge.theory.audit import audit

    return audit()


def test_axiom_labels_match_the_dependency_audit(dependency_audit) -> None:
    """A derivation's ``axioms`` label is exactly what perturbing the axioms finds."""
    for der in all_derivations():
        assert tuple(der.axioms) == dependency_audit.axioms_used(der.id), der.id


def test_stated_sides_are_typed_independently(dependency_audit) -> None:
    """No perturbed axiom reaches the stated side of an independent claim (a stated side
    computed from the axioms would make the claim a tautology, e.g. Claim(x, x))."""
    assert dependency_audit.tainted_claims == ()


def test_audit_catches_a_self_comparison() -> None:
    from spectral_edge.theory.audit import _zeta, perturbed_set

    part = ("A3", "eigenvalue")
    der = derivation("R1", perturbed_set([part]))
    x = der.output("d_star")
    assert _zeta(part) in Claim("x = x", x, x).stated.free_symbols


def test_r2_has_no_free_dyson_term_and_r4_beta_is_r3s() -> None:
    from spectral_edge.theory.symbols import D

    assert not derivation("R2").output("g_dot").has(D)
    assert sp.simplify(derivation("R4").output("beta") - derivation("R3").output("beta")) == 0


def test_r6_keeps_weight_decay() -> None:
    from spectral_edge.theory.symbols import omega

    assert derivation("R6").result.rhs.has(omega)


def test_variants() -> None:
    from spectral_edge.theory.audit import compare_variant
    from spectral_edge.theory.axioms import VARIANTS, variant

    assert set(VARIANTS) >= {"a1-cross-curvature", "a2-noiseless", "a2-momentum",
                             "a3-continuous"}
    with pytest.raises(ValueError, match="unknown axiom variant"):
        variant("nope")
    cmp = compare_variant("a2-noiseless", ["R1", "R3"])
    assert cmp.by_status("survives") == ("R1",) and cmp.by_status("changes") == ("R3",)
    cross = compare_variant("a1-cross-curvature", ["R1", "R11"])
    assert cross.by_status("underivable") == ("R1",) and cross.by_status("survives") == ("R11",)


def test_check_reports_a_failing_claim() -> None:
    a = sp.Symbol("a", positive=True)
    der = Derivation(
        "RX", "broken", ("A1",), (Step("a", a),), a,
        (Claim("a = a + 1", a, a + 1), Claim("a > 0", a, 0, "positive")),
    )
    outcome = der.check()
    assert not outcome.passed
    assert outcome.failures == ("a = a + 1",)
    assert outcome.residual == -1


def test_claim_kinds() -> None:
    a = sp.Symbol("a", positive=True)
    x = sp.Symbol("x", real=True)
    assert Claim("sign", -a, 0, "negative").decide()[0]
    assert not Claim("sign", x, 0, "negative").decide()[0]  # undecidable is not a pass
    assert Claim("nz", x**2, 0, "nonzero", ((x, sp.Rational(1, 2)),)).decide()[0]
    assert not Claim("nz", x**2 - x, 0, "nonzero", ((x, sp.Integer(1)),)).decide()[0]
    assert Claim("true", sp.true, sp.true, "true").decide()[0]
    assert not Claim("true", sp.false, sp.true, "true").decide()[0]


def test_unknown_output_is_a_value_error() -> None:
    with pytest.raises(ValueError, match="no output"):
        derivation("R1").output("nothing")


def test_axioms() -> None:
    assert [a.id for a in AXIOMS] == ["A1", "A2", "A3"]
    for ax in AXIOMS:
        assert ax.name and len(ax.statement) > 80 and ax.relations
        for _, relation in ax.relations:
            assert isinstance(relation, sp.Basic) and relation not in (sp.true, sp.false)
    assert axiom("A3").rel("eigenvalue").rhs == sp.Symbol("d", positive=True) ** 2
    with pytest.raises(ValueError, match="no relation"):
        axiom("A1").rel("nonexistent")
    with pytest.raises(ValueError, match="unknown axiom"):
        axiom("A4")


def test_window_sum_rate_follows_the_slot_dynamics() -> None:
    """R1's window-sum differentiation uses the slot dynamics it is given (nothing typed)."""
    rate = window_sum_rate(-slot(s, t) + 3 * drive(s, t))
    assert sp.expand(rate - (-2 * lam + 6 * W * Gamma)) == 0
