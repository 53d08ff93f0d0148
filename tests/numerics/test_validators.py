"""Every numerics entry point that takes a window length checks it with
spectral_edge.common.validate.check_window (one rule, one message)."""

from __future__ import annotations

import numpy as np
import pytest

from spectral_edge.common.errors import InputError
from spectral_edge.numerics.bbp import bbp_experiment
from spectral_edge.numerics.fit import fit_signal
from spectral_edge.numerics.krylov import krylov_experiment
from spectral_edge.numerics.ode import FeedbackSystem, PairSystem, SignalSystem
from spectral_edge.numerics.reference import QuadraticProblem, simulate

PROB = QuadraticProblem(h=np.array([1.0]), Gamma=np.array([0.1]), P=4)
ENTRY_POINTS = {
    "simulate": lambda W: simulate(PROB, "gd", eta=0.1, W=W, steps=10),
    "bbp_experiment": lambda W: bbp_experiment(P=100, W=W, ratios=np.linspace(0.5, 2, 4),
                                               trials=4),
    "krylov_experiment": lambda W: krylov_experiment(trials=1, P=10, W=W),
    "SignalSystem": lambda W: SignalSystem(h=np.ones(2), Gamma=np.ones(2), eta=0.1, W=W),
    "PairSystem": lambda W: PairSystem(h_k=0.1, h_k1=1.0, Gamma_k=1.0, Gamma_k1=1.0, eta=0.1,
                                       W=W),
    "FeedbackSystem": lambda W: FeedbackSystem(rho=1.0, h=1.0, Gamma0=1.0, h_b=1.0,
                                               Gamma_b=1.0, eta=0.1, W=W),
    "fit_signal": lambda W: fit_signal(np.arange(8.0), np.ones((8, 2)) * [2.0, 1.0], eta=0.1,
                                       W=W),
}


@pytest.mark.parametrize("name", sorted(ENTRY_POINTS))
@pytest.mark.parametrize("W", [1, 2.5, True, float("nan")])
def test_window_is_checked_by_the_shared_validator(name: str, W) -> None:
    with pytest.raises(InputError, match=r"^window W must be an integer >= 2, got "):
        ENTRY_POINTS[name](W)


@pytest.mark.parametrize("kwargs", [{"eta": float("nan")}, {"eta": float("inf")},
                                    {"omega": float("nan")}])
def test_non_finite_rates_are_refused(kwargs: dict) -> None:
    args = {"eta": 0.1, "W": 3, "steps": 10} | kwargs
    with pytest.raises(InputError, match="finite number"):
        simulate(PROB, "gd", **args)
