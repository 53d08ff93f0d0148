"""ODE systems built on spectral_edge.theory.lambdified, against closed-form solutions
(numerics/ode.py)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from spectral_edge.common.errors import InputError
from spectral_edge.numerics.ode import (
    METHODS,
    CloseApproach,
    FeedbackSystem,
    GapCollapse,
    GapSystem,
    PairSystem,
    SignalSystem,
    integrate,
    sweep_reduced_gap,
)

SETTINGS = settings(max_examples=8, deadline=None)


@SETTINGS
@given(
    h=st.lists(st.floats(0.0, 2.0), min_size=2, max_size=4),
    omega=st.floats(0.05, 0.5),
    t_end=st.floats(1.0, 50.0),
)
def test_signal_system_without_noise_is_linear_relaxation(h, omega, t_end) -> None:
    """N = 0: λ_j(t) = λ*_j + (λ_j(0) − λ*_j)·exp(−2η(h_j+ω)t), typed independently here."""
    h = np.array(h)
    n = h.size
    gamma = np.linspace(1.0, 0.2, n)
    eta, W = 0.1, 10
    system = SignalSystem(h=h, Gamma=gamma, eta=eta, W=W, omega=omega)
    lam0 = np.linspace(5.0, 1.0, n)
    sol = integrate(system, lam0, (0.0, t_end), t_eval=[t_end], rtol=1e-10, atol=1e-12)
    lam_star = W * gamma / (h + omega)
    expected = lam_star + (lam0 - lam_star) * np.exp(-2 * eta * (h + omega) * t_end)
    np.testing.assert_allclose(sol.y[:, -1], expected, rtol=1e-7)
    np.testing.assert_allclose(system.steady_sigma() ** 2, lam_star, rtol=1e-12)


def test_pair_system_agrees_with_the_signal_system() -> None:
    """R2 (gap_flow_rhs) integrated for (g, d̄) gives the same gap as R1 for both modes."""
    kw = dict(eta=0.1, W=10, omega=0.1)
    pair = PairSystem(h_k=0.1, h_k1=0.8, Gamma_k=1.0, Gamma_k1=0.7, **kw)
    sig = SignalSystem(h=np.array([0.1, 0.8]), Gamma=np.array([1.0, 0.7]), **kw)
    d0 = np.array([4.0, 3.0])
    t = np.linspace(0.0, 80.0, 41)
    sol_p = integrate(pair, [d0[0] - d0[1], d0.mean()], (0, 80), t_eval=t, rtol=1e-10)
    sol_s = integrate(sig, d0**2, (0, 80), t_eval=t, rtol=1e-10)
    g_s = np.sqrt(sol_s.y[0]) - np.sqrt(sol_s.y[1])
    np.testing.assert_allclose(sol_p.y[0], g_s, rtol=1e-6, atol=1e-8)


def test_reduced_gap_equilibrium_and_collapse_event_time() -> None:
    viable = GapSystem(c=0.5, beta=0.05, eta=0.1, hw=1.0)
    sol = integrate(viable, [0.5], (0.0, 300.0))
    assert sol.y[0, -1] == pytest.approx(viable.equilibrium(), rel=1e-6)
    assert viable.equilibrium() == pytest.approx(5.0, rel=0.02)  # ≈ c/(η·hw) for small β
    free = GapSystem(c=-1.0, beta=0.0, eta=0.1, hw=1.0)
    sol = integrate(free, [1.0], (0.0, 50.0), events=[GapCollapse(free, 0.0)])
    # ġ = −1 − 0.1g, g(0) = 1: g = 11e^{−0.1t} − 10 = 0 at t = 10 ln 1.1
    assert sol.status == 1
    assert sol.events("GapCollapse")[0] == pytest.approx(10 * np.log(1.1), rel=1e-6)


def test_repulsion_holds_a_collapsing_gap_at_beta_over_c() -> None:
    held = GapSystem(c=-0.5, beta=1e-3, eta=0.1, hw=1.0)
    sol = integrate(held, [3.0], (0.0, 200.0), method="Radau", events=[GapCollapse(held, 1e-6)])
    assert sol.status == 0  # never collapses
    assert sol.y[0, -1] == pytest.approx(held.equilibrium(), rel=1e-5)
    assert held.equilibrium() == pytest.approx(1e-3 / 0.5, rel=1e-3)


@pytest.mark.parametrize("method", METHODS)
def test_every_method_reaches_the_same_state(method: str) -> None:
    system = SignalSystem(
        h=np.array([0.2, 1.0, 2.0]), Gamma=np.ones(3), eta=0.1, W=10, omega=0.1, N=np.full(3, 2.0)
    )
    ref = integrate(system, [9.0, 6.0, 3.0], (0.0, 30.0), method="DOP853", rtol=1e-11, atol=1e-12)
    sol = integrate(system, [9.0, 6.0, 3.0], (0.0, 30.0), method=method, rtol=1e-8)
    assert sol.success and sol.method == method
    np.testing.assert_allclose(sol.y[:, -1], ref.y[:, -1], rtol=1e-5)


def test_close_approach_event_fires_when_levels_meet() -> None:
    # mode 2 overtakes mode 1 without repulsion: their separation passes through zero
    system = SignalSystem(h=np.array([0.5, 0.1]), Gamma=np.array([1.0, 1.0]), eta=0.1, W=10)
    event = CloseApproach(system, 0.05)
    sol = integrate(system, [20.0, 5.0], (0.0, 100.0), events=[event], max_step=0.5)
    hits = sol.events("CloseApproach")
    assert hits.size >= 1
    lam = sol.y_events[0][0]
    assert abs(lam[0] - lam[1]) / max(lam) == pytest.approx(0.05, abs=1e-6)


def test_sweep_matches_a_loop_of_solve_ivp() -> None:
    c = np.array([-0.5, 0.0, 0.5])[:, None]
    beta = np.array([0.0, 0.01, 0.2])[None, :]
    kw = dict(eta=0.1, g0=1.0, t_span=(0.0, 150.0), n_t=60, rtol=1e-9, atol=1e-12)
    sweep = sweep_reduced_gap(c, beta, 1.0, **kw)
    t = np.linspace(0.0, 150.0, 60)
    loop = np.array([[integrate(GapSystem(ci, bi, 0.1, 1.0), [1.0], (0.0, 150.0), t_eval=t,
                                rtol=1e-9, atol=1e-12).y[0] for bi in beta[0]] for ci in c[:, 0]])
    assert sweep.success and sweep.g.shape == (3, 3, 60)
    np.testing.assert_allclose(sweep.g, loop, rtol=1e-5, atol=1e-7)
    # with β > 0 every trajectory approaches the theory's equilibrium
    held = sweep.beta > 0
    np.testing.assert_allclose(sweep.g_final[held], sweep.g_star[held], rtol=1e-3)
    # c < 0 without repulsion crosses zero; with it never
    assert sweep.collapsed[0, 0] and not sweep.collapsed[0, 1:].any()


def test_feedback_system_is_bistable_above_threshold() -> None:
    fb = FeedbackSystem(rho=8.0, h=1.0, Gamma0=1.0, h_b=1.0, Gamma_b=2.0, eta=0.1, W=10)
    g_u, g_s = fb.fixed_points()
    assert fb.rho > fb.threshold() and 0 < g_u < g_s
    up = integrate(fb, [1.2 * g_u], (0.0, 400.0))
    assert up.y[0, -1] == pytest.approx(g_s, rel=1e-5)
    down = integrate(fb, [0.8 * g_u], (0.0, 400.0), events=[GapCollapse(fb, 1e-3)])
    assert down.status == 1
    assert fb.rhs(0.0, np.array([g_s]))[0] == pytest.approx(0.0, abs=1e-9)
    weak = FeedbackSystem(rho=4.0, h=1.0, Gamma0=1.0, h_b=1.0, Gamma_b=2.0, eta=0.1, W=10)
    assert np.isnan(weak.fixed_points()[1])


@pytest.mark.parametrize(
    "build",
    [
        lambda: SignalSystem(h=np.array([1.0, -1.0]), Gamma=np.ones(2), eta=0.1, W=10),
        lambda: SignalSystem(h=np.ones(2), Gamma=np.ones(2), eta=-0.1, W=10),
        lambda: SignalSystem(h=np.ones(2), Gamma=np.ones(2), eta=0.1, W=1),
        lambda: SignalSystem(h=np.ones(2), Gamma=np.ones(3), eta=0.1, W=10),
        lambda: SignalSystem(h=np.ones(2), Gamma=np.ones(2), eta=0.1, W=10, k=2),
        lambda: GapSystem(c=1.0, beta=-1.0, eta=0.1, hw=1.0),
        lambda: GapSystem(c=1.0, beta=0.0, eta=0.1, hw=0.0),
        lambda: integrate(GapSystem(1.0, 0.0, 0.1, 1.0), [1.0], (0.0, 1.0), method="Euler"),
        lambda: integrate(GapSystem(1.0, 0.0, 0.1, 1.0), [1.0], (0.0, 1.0), rtol=0.0),
        lambda: integrate(GapSystem(1.0, 0.0, 0.1, 1.0), [1.0], (1.0, 0.0)),
        lambda: sweep_reduced_gap(1.0, -0.1, 1.0, eta=0.1, g0=1.0, t_span=(0, 1)),
    ],
)
def test_bad_input_raises(build) -> None:
    with pytest.raises(InputError):
        build()
