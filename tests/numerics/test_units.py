"""Units from the axioms: the table is consistent with R1, R2 (+R3 noise), R3 and R9."""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import pytest
import sympy as sp

from spectral_edge.common.errors import InputError
from spectral_edge.numerics.units import ONE, TERMS, UNITS, Unit, dimension, units_markdown
from spectral_edge.theory.registry import derivation

U = UNITS
DOC = Path(__file__).parents[2] / "docs" / "predictions.md"


def same(*units: Unit) -> bool:
    return len(set(units)) == 1


# ----------------------------------------------------------- exponent arithmetic, by hand
def test_r1_terms_share_one_unit() -> None:
    # ḋ = −η(h+ω)d + ηWΓ/d  (W a count); a rate per snapshot of d has the unit of d
    rate = U["eta"] * U["h"]
    assert rate.dimensionless and same(U["h"], U["omega"])
    assert same(U["d"], rate * U["d"], U["eta"] * U["Gamma"] / U["d"])
    # steady state d*² = WΓ/(h+ω)
    assert same(U["d"] ** 2, U["Gamma"] / U["h"])


def test_gamma_from_steady_updates_is_eta_squared_h_u_squared() -> None:
    # d² = Wη²u² in a steady window, d*² = WΓ/(h+ω)  =>  Γ = η²(h+ω)u²
    assert same(U["d"] ** 2, U["eta"] ** 2 * U["u"] ** 2)
    assert same(U["Gamma"], U["eta"] ** 2 * U["h"] * U["u"] ** 2)
    assert U["u"] ** 2 != U["Gamma"]  # the version-1 Γ = u² has the wrong unit


def test_r2_with_r3_noise_terms_share_one_unit() -> None:
    d, eta = U["d"], U["eta"]
    terms = [
        eta * U["h"] * d,                      # curvature asymmetry η(h_k − h_k+1)d̄
        eta * U["h"] * U["g"],                 # damping η(h̄+ω)g
        eta * U["Gamma"] / d,                  # driving ηWΓ_k/d_k
        eta**2 * U["N"] / d,                   # Itô (W−1)η²N_k/(2d_k)
        eta**2 * U["N"] * d**2 / (d * d) / U["g"],  # repulsion β/g
    ]
    assert same(U["g"], *terms)
    # R3 in eigenvalue units: noise mean Wη²N_j and κ_ij/(λ_j − λ_i), κ = η²(N_jλ_i + N_iλ_j)
    lam = U["lambda"]
    assert same(lam, eta * U["h"] * lam, eta * U["Gamma"], eta**2 * U["N"],
                eta**2 * U["N"] * lam / lam)


def test_adiabatic_parameters() -> None:
    dC, eta, g = U["dC"], U["eta"], U["g"]
    assert same(U["A"], dC / (eta * g**2), ONE / eta)
    assert same(U["A"], U["A_dk"] * U["d"] / (eta * g))  # A = A_dk(σ_k+σ_k+1)/(ηg)
    assert same(U["A_dk"], dC / U["lambda"], ONE)
    assert same(U["A_star"], U["A_dk"] / (eta * U["h"]), ONE)
    assert not U["A"].dimensionless


def test_unit_arithmetic_and_text() -> None:
    assert Unit(1, -1) * Unit(1, 0) == Unit(2, -1)
    assert Unit(2, -1) ** Fraction(1, 2) == Unit(Fraction(1), Fraction(-1, 2))
    assert str(Unit(Fraction(1, 2), 0)) == "[δ]¹ᐟ²"
    assert [t.key for t in TERMS] == list(UNITS)


# ----------------------------------------------------------- the theory's derived equations
@pytest.mark.parametrize(
    ("rid", "name", "unit"),
    [
        ("R1", "d_dot", U["d"]),
        ("R1", "d_star", U["d"]),
        ("R2", "g_dot", U["g"]),
        ("R2", "beta", U["d"] ** 2),
        ("R3", "eigen_drift", U["lambda"]),
        ("R3", "noise_mean", U["lambda"]),
        ("R3", "pair_term", U["lambda"]),
        ("R9", "A", U["A"]),
    ],
)
def test_derived_equations_are_homogeneous(rid: str, name: str, unit: Unit) -> None:
    assert dimension(derivation(rid).output(name)) == unit


def test_a_wrong_unit_fails() -> None:
    # Γ in window units (u², as the version-1 probes write it) breaks R1's homogeneity
    with pytest.raises(InputError, match="homogeneous"):
        dimension(derivation("R1").output("d_dot"), extra={"Gamma": U["u"] ** 2})
    # N with the unit of Γ breaks R2's noise terms against its drift
    wrong_n = {"N_k": U["Gamma"], "N_k1": U["Gamma"]}
    with pytest.raises(InputError, match="homogeneous"):
        dimension(derivation("R2").output("g_dot"), extra=wrong_n)
    with pytest.raises(InputError, match="no unit"):
        dimension(sp.Symbol("mystery") + 1)


def test_docs_print_the_rendered_table() -> None:
    text = DOC.read_text()
    assert "## Units" in text
    assert units_markdown() in text
