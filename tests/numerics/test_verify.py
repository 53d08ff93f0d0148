"""spectral_edge.numerics.consequences / properties / strategies: verify finds, shrinks and
reproduces; every property has a negative control that is falsified."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings

from spectral_edge.common.errors import InputError
from spectral_edge.numerics import properties as P
from spectral_edge.numerics.consequences import CONSEQUENCES, MAX_EXAMPLES, verify
from spectral_edge.numerics.strategies import (
    gram_matrices,
    quadratic_problems,
    separated_quadratic,
    spectra,
)
from spectral_edge.theory import lambdified as tx


@pytest.mark.parametrize("examples", [20, 40, 200])
def test_every_outcome_is_the_expected_one(examples: int) -> None:
    out = verify(examples=examples, seed=0)
    assert [o.id for o in out] == [c.id for c in CONSEQUENCES]
    wrong = [(o.id, o.outcome, o.counterexample) for o in out if not o.ok]
    assert not wrong
    for o in out:
        if o.expected == "held":
            assert o.examples == examples and o.counterexample is None
        else:
            assert o.counterexample


def test_every_property_has_a_falsified_control() -> None:
    held = {c.id for c in CONSEQUENCES if c.expected == "held"}
    controlled = {c.control_of for c in CONSEQUENCES if c.expected == "falsified"}
    assert held == controlled and None not in controlled
    assert {c.result for c in CONSEQUENCES} >= {"R1", "R3", "R4", "R5", "R6", "R7", "R8",
                                                "R10", "R11"}


def test_counterexamples_are_shrunk_reproducibly() -> None:
    import dataclasses

    from spectral_edge.numerics import consequences as cq

    broken = dataclasses.replace(cq.CONSEQUENCES[0], holds=lambda case: case[0].shape[0] < 4)
    saved = cq.CONSEQUENCES
    cq.CONSEQUENCES = (broken,)
    try:
        first, again = cq.verify(examples=50, seed=3), cq.verify(examples=50, seed=3)
    finally:
        cq.CONSEQUENCES = saved
    assert first[0].outcome == "falsified" and not first[0].ok
    assert "array" in first[0].counterexample
    assert first[0].counterexample == again[0].counterexample


def test_r8_at_q_equal_one_has_threshold_one() -> None:
    p = {"h": 1.0, "Gamma0": 1.0, "h_b": 1.0, "Gamma_b": 1.0, "omega": 0.0, "delta": 0.1}
    assert float(tx.feedback_threshold(1.0, 1.0, 1.0, 1.0, 0.0)) == 1.0
    assert P.r8_threshold(p) and not P.r8_threshold(p, factor=0.5)
    fp = tx.feedback_fixed_points(np.sqrt(10.0), 0.5, 1.0, 1.0, 0.0, 10)
    assert abs(float(fp.g_stable)) < 1e-12  # ρ < 1 at q = 1: the gap collapses


def test_krylov_fraction_reaches_one_as_the_separation_grows() -> None:
    seeds = range(40)
    means = {level: np.mean([P.krylov_fraction(s, level) for s in seeds])
             for level in (1.0, 0.1, 0.01, 0.001)}
    assert means[1.0] < 1.0 and means[0.01] == 1.0 and means[0.001] == 1.0
    assert means[0.1] <= means[0.01]
    tighter = np.mean([P.krylov_fraction(s, 0.001, slack=0) for s in seeds])
    assert tighter < 1.0  # k* = K + 1 does happen: the +1 is needed


def test_separated_quadratics_respect_their_separation() -> None:
    for seed in range(20):
        case = separated_quadratic(np.random.default_rng(seed), 0.01)
        x = case.eta * case.h * case.W
        assert np.all((x <= 0.01) | (x >= 2.0)) and case.K == np.count_nonzero(x >= 2.0)
        assert np.all(case.eta * case.h < 2.0)
    with pytest.raises(ValueError):
        separated_quadratic(np.random.default_rng(0), 3.0)


@pytest.mark.parametrize("kwargs", [{"examples": 0}, {"examples": MAX_EXAMPLES + 1},
                                    {"seed": -1}, {"only": ["R99"]}, {"only": [","]}])
def test_bad_input(kwargs) -> None:
    with pytest.raises(InputError):
        verify(**kwargs)


@settings(max_examples=30, database=None)
@given(spectra(), gram_matrices(), quadratic_problems())
def test_strategies_give_valid_objects(sigma, gram, case) -> None:
    assert np.all(sigma > 0) and np.all(sigma[:-1] > sigma[1:])
    assert np.allclose(gram, gram.T) and np.linalg.eigvalsh(gram).min() > -1e-6 * (
        1 + np.abs(gram).max())
    assert case.window().shape == (case.W, case.h.size) and 0 <= case.K <= case.h.size
    assert np.all(case.eta * case.h < 2)
