"""spectral_edge.numerics.consequences / spectral_edge.numerics.strategies: verify finds,
shrinks and reproduces."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings

from spectral_edge.common.errors import InputError
from spectral_edge.numerics.consequences import CONSEQUENCES, verify
from spectral_edge.numerics.strategies import gram_matrices, quadratic_problems, spectra


def test_every_consequence_holds_except_the_r11_forms() -> None:
    out = {o.id: o for o in verify(examples=40, seed=0)}
    assert set(out) == {c.id for c in CONSEQUENCES}
    for cid, o in out.items():
        if not cid.startswith("R11"):
            assert o.held, (cid, o.counterexample)
            assert o.examples == 40


def test_published_krylov_bound_is_falsified_and_shrunk_reproducibly() -> None:
    first = [o for o in verify(["R11"], examples=200, seed=3) if o.id == "R11 k* <= K"][0]
    again = [o for o in verify(["R11"], examples=200, seed=3) if o.id == "R11 k* <= K"][0]
    assert not first.held and first.counterexample
    assert first.counterexample == again.counterexample  # reproducible from the seed
    assert "K=" in first.counterexample and not first.expected_to_hold


def test_a_broken_property_is_falsified() -> None:
    import dataclasses

    from spectral_edge.numerics import consequences as cq

    broken = dataclasses.replace(cq.CONSEQUENCES[0], holds=lambda case: case[0].shape[0] < 4)
    saved = cq.CONSEQUENCES
    cq.CONSEQUENCES = (broken,)
    try:
        out = cq.verify(examples=50, seed=0)
    finally:
        cq.CONSEQUENCES = saved
    assert not out[0].held
    assert "array" in out[0].counterexample


@pytest.mark.parametrize("kwargs", [{"examples": 0}, {"seed": -1}, {"only": ["R99"]},
                                    {"only": [","]}])
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
