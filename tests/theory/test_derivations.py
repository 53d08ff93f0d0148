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


def test_r2_coefficient_of_n_k_is_w_minus_one_eta_squared_over_two_d_k() -> None:
    """β held as a symbol: ∂ġ/∂N_k = (W−1)η²/(2d_k) (noise mean Wη²N_k/(2d_k) minus the
    Itô correction η²N_k/(2d_k)); the sign is what the omission of R3's noise mean flipped."""
    from spectral_edge.theory.symbols import N_k, N_k1, d_k, d_k1, eta

    der = derivation("R2")
    assert sp.simplify(der.output("n_k_coefficient") - (W - 1) * eta**2 / (2 * d_k)) == 0
    decomposed = der.result.rhs
    assert sp.simplify(sp.diff(decomposed, N_k1) + (W - 1) * eta**2 / (2 * d_k1)) == 0
    # a numerical value: η = 0.1, W = 10, N = 20, λ = (12, 6) gives −0.120 + 0.012 = −0.108
    part = der.output("noise_part").subs({eta: sp.Rational(1, 10), W: 10, N_k: 20, N_k1: 20,
                                           d_k: sp.sqrt(12), d_k1: sp.sqrt(6)})
    assert float(part) == pytest.approx(-0.1079, abs=1e-3)


def test_r3_noise_mean_and_ito_route() -> None:
    from spectral_edge.theory.symbols import N_j, eta

    der = derivation("R3")
    assert sp.simplify(der.output("noise_mean") - W * eta**2 * N_j) == 0
    assert any("Itô on the eigenvalues" in claim.description for claim in der.claims)
    assert "every slot re-noised" in der.noise_model


def test_sliding_window_variant_divides_kappa_by_w() -> None:
    from spectral_edge.theory.audit import compare_variant
    from spectral_edge.theory.axioms import variant
    from spectral_edge.theory.symbols import N_j, d_k, eta

    sliding = variant("a3-sliding")
    r3s, r3d = derivation("R3", sliding), derivation("R3")
    assert sp.simplify(r3s.output("kappa") - r3d.output("kappa") / W) == 0
    assert sp.simplify(r3s.output("noise_mean") - eta**2 * N_j) == 0
    assert "sliding window" in r3s.noise_model
    coefficient = derivation("R2", sliding).output("n_k_coefficient")
    assert sp.simplify(coefficient - (W - 1) * eta**2 / (2 * W * d_k)) == 0
    cmp = compare_variant("a3-sliding", ["R1", "R3"])
    assert cmp.by_status("survives") == ("R1",) and cmp.by_status("changes") == ("R3",)
