"""Named ODE scenarios: each integrates one of the theory's systems and shows one claim.

Time is in snapshots, η = 0.1 per snapshot and W = 10 throughout. Every trajectory is
reduced to what the monitor would report — the sorted levels σ_j(t), the gap at the current
k* (:func:`spectral_edge.numerics.spectra.kstar`, weighted variant), and the adiabatic parameter
A = ‖ΔC‖_F/(η g²) (:func:`spectral_edge.numerics.spectra.adiabatic_parameter`) with its regime.
In the ODE
the modes do not rotate (axiom A3), so ‖ΔC‖_F over one snapshot is the eigenvalue change
‖λ̇‖₂ (the Hoffman–Wielandt lower bound of the true window change).

>>> sorted(PRESETS)[:3]
['collapsing-gap', 'feedback-bistability', 'forgetting']
>>> res = run_scenario("plateau")
>>> set(res.trajectories[0].regime)
{'plateau'}
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field, replace

import numpy as np
import pandas as pd

from spectral_edge.common.errors import InputError
from spectral_edge.numerics import spectra
from spectral_edge.numerics.ode import (
    FeedbackSystem,
    GapCollapse,
    GapSystem,
    SignalSystem,
    integrate,
)

ETA = 0.1
W = 10


@dataclass(frozen=True)
class Trajectory:
    """One integrated run, in monitor terms: ``sigma`` (T, m) sorted levels, ``kstar``,
    ``g`` (at k*), ``A`` and ``regime`` per time point."""

    label: str
    t: np.ndarray = field(repr=False)
    sigma: np.ndarray = field(repr=False)
    kstar: np.ndarray = field(repr=False)
    g: np.ndarray = field(repr=False)
    A: np.ndarray = field(repr=False)
    regime: tuple[str, ...] = field(repr=False)


@dataclass(frozen=True)
class ScenarioResult:
    """A preset's trajectories plus the key numbers it is meant to show (``summary``)."""

    name: str
    description: str
    trajectories: tuple[Trajectory, ...]
    summary: dict[str, float | int | str]

    def frame(self) -> pd.DataFrame:
        """Long table: one row per (trajectory, time point).

        >>> run_scenario("viable-gap").frame().columns[:4].tolist()
        ['label', 't', 'kstar', 'g']

        Returns:
            Columns label, t, kstar, g, A, regime and sigma_1 … sigma_m.
        """
        rows = []
        for tr in self.trajectories:
            df = pd.DataFrame({"label": tr.label, "t": tr.t, "kstar": tr.kstar, "g": tr.g})
            df["A"] = tr.A
            df["regime"] = tr.regime
            for j in range(tr.sigma.shape[1]):
                df[f"sigma_{j + 1}"] = tr.sigma[:, j]
            rows.append(df)
        return pd.concat(rows, ignore_index=True)


def trajectory(system, sol, label: str) -> Trajectory:
    """Reduce an :class:`spectral_edge.numerics.ode.OdeSolution` of ``system`` to monitor
    quantities.

    >>> s = GapSystem(c=1.0, beta=0.0, eta=0.1, hw=1.0, dbar=20.0)
    >>> tr = trajectory(s, integrate(s, [1.0], (0, 5), t_eval=[0.0, 5.0]), "x")
    >>> tr.kstar.tolist(), round(float(tr.g[0]), 6)
    ([1, 1], 1.0)

    Args:
        system: The integrated system (``sigma``, ``lam_dot``, ``eta``).
        sol: Its solution.
        label: The trajectory's label.

    Returns:
        The :class:`Trajectory`.
    """
    sigma = np.asarray(system.sigma(sol.y)).T
    kst, gaps, A = [], [], []
    for ti, yi, si in zip(sol.t, sol.y.T, sigma, strict=True):
        k = spectra.kstar(si)
        g = spectra.gap(si, k)
        change = float(np.linalg.norm(system.lam_dot(ti, yi)))  # ‖ΔC‖ per snapshot (A3)
        kst.append(k)
        gaps.append(g)
        A.append(spectra.adiabatic_parameter(change, system.eta, g))
    return Trajectory(
        label=label,
        t=np.asarray(sol.t),
        sigma=sigma,
        kstar=np.array(kst),
        g=np.array(gaps),
        A=np.array(A),
        regime=tuple(spectra.adiabatic_regime(a) for a in A),
    )


def ramp(t0: float, t1: float, before, after) -> Callable[[float], np.ndarray]:
    """A schedule that moves linearly from ``before`` (t ≤ t0) to ``after`` (t ≥ t1).

    >>> ramp(0.0, 10.0, [1.0], [3.0])(5.0).tolist()
    [2.0]

    Args:
        t0: Where the ramp starts.
        t1: Where it ends, > t0.
        before: The value up to ``t0``.
        after: The value from ``t1`` on (the shape of ``before``).

    Returns:
        The schedule t ↦ value.

    Raises:
        InputError: If the shapes differ or t1 <= t0.
    """
    a, b = np.asarray(before, dtype=np.float64), np.asarray(after, dtype=np.float64)
    if a.shape != b.shape or not t1 > t0:
        raise InputError("ramp needs equal shapes and t1 > t0")

    def schedule(t: float) -> np.ndarray:
        return a + (b - a) * float(np.clip((t - t0) / (t1 - t0), 0.0, 1.0))

    return schedule


def _run_signal(system: SignalSystem, t_end: float, label: str, **kw) -> Trajectory:
    """Start at the stationary state of the full system (R1 + R3) under Γ(0), then run.

    Args:
        system: The signal system.
        t_end: The end of the run.
        label: The trajectory's label (and the error messages' prefix).
        **kw: Further arguments of :func:`integrate`.

    Returns:
        The run's :class:`Trajectory`.

    Raises:
        RuntimeError: If the burn-in or the integration fails.
    """
    frozen = replace(system, Gamma=system.gamma(0.0))
    relax = 20.0 / (2.0 * system.eta * float(np.min(system.h + system.omega)))
    burn = integrate(frozen, system.steady_sigma(0.0) ** 2, (0.0, relax))
    if not burn.success:
        raise RuntimeError(f"{label}: burn-in failed: {burn.message}")
    t = np.linspace(0.0, t_end, 601)
    sol = integrate(system, burn.y[:, -1], (0.0, t_end), t_eval=t, **kw)
    if not sol.success:
        raise RuntimeError(f"{label}: integration failed: {sol.message}")
    return trajectory(system, sol, label)


def _result(preset: Callable[[], ScenarioResult], trajectories, summary) -> ScenarioResult:
    """The :class:`ScenarioResult` of ``preset``: its name (``viable_gap`` → ``viable-gap``)
    and docstring, the trajectories and the summary.

    Args:
        preset: The preset function.
        trajectories: Its trajectories.
        summary: Its key numbers.

    Returns:
        The :class:`ScenarioResult`.
    """
    name = preset.__name__.replace("_", "-")
    return ScenarioResult(name, _description(preset), tuple(trajectories), summary)


def _description(preset: Callable[[], ScenarioResult]) -> str:
    """The preset's docstring without its ``Returns:``/``Raises:`` sections.

    Args:
        preset: The preset function.

    Returns:
        The prose of its docstring.
    """
    doc = preset.__doc__ or ""
    sections = re.search(r"\n\n\s*(?:Args|Returns|Raises):", doc)
    return doc[: sections.start()] if sections else doc


_STATS: dict[str, Callable[[Trajectory], float | int]] = {
    "A_max": lambda tr: float(tr.A.max()),
    "t_A_max": lambda tr: float(tr.t[np.argmax(tr.A)]),
    "kstar_start": lambda tr: int(tr.kstar[0]),
    "kstar_end": lambda tr: int(tr.kstar[-1]),
    "g_min": lambda tr: float(tr.g.min()),
}


def _signal_preset(preset: Callable[[], ScenarioResult], h, Gamma, N, t_end: float,
                   stats: tuple[str, ...], **kw) -> ScenarioResult:
    """One R1 + R3 run (η, W, ω = 0.1 of the presets) summarised by the named ``stats``.

    Args:
        preset: The preset function (its name and docstring label the result).
        h: The mode curvatures.
        Gamma: The injection rates or schedule.
        N: The noise powers.
        t_end: The end of the run.
        stats: Names of :data:`_STATS` entries for the summary.
        **kw: Further arguments of :func:`integrate`.

    Returns:
        The :class:`ScenarioResult`.
    """
    system = SignalSystem(h=np.array(h), Gamma=Gamma, eta=ETA, W=W, omega=0.1, N=N)
    name = preset.__name__.replace("_", "-")
    tr = _run_signal(system, t_end, name, **kw)
    return _result(preset, (tr,), {key: _STATS[key](tr) for key in stats})


def _collapse_time(sol) -> float:
    """When the GapCollapse event first fired, NaN when it did not.

    Args:
        sol: A solution integrated with a :class:`GapCollapse` event.

    Returns:
        The first collapse time, or NaN.
    """
    hits = sol.events("GapCollapse")
    return float(hits[0]) if hits.size else float("nan")


# --------------------------------------------------------------------------- presets


def plateau() -> ScenarioResult:
    """Three modes at their R1 steady state while the top injection drifts up by 30% over
    300 snapshots: the parameters move slowly compared with the relaxation rates η(h+ω), the
    spectrum follows adiabatically and A stays ≪ 1 (the plateau regime).

    Returns:
        The preset's :class:`ScenarioResult`.

    Raises:
        RuntimeError: If the burn-in or the integration fails.
    """
    return _signal_preset(plateau, [0.1, 0.5, 2.0], ramp(0, 300, [1, 1, 1], [1.3, 1, 1]),
                          np.ones(3), 300.0, ("A_max", "kstar_start", "kstar_end"))


def transition() -> ScenarioResult:
    """The injection into mode 2 rises 6× between snapshots 50 and 150; mode 2 climbs to
    mode 1, repulsion keeps them apart, and the edge moves from k* = 1 to k* = 2 (a new mode
    joins the dominant block). During the reorganisation A ~ 1 (the phase-transition
    regime); before and after, A ≪ 1.

    Returns:
        The preset's :class:`ScenarioResult`.

    Raises:
        RuntimeError: If the burn-in or the integration fails.
    """
    return _signal_preset(transition, [0.1, 0.3, 2.0], ramp(50, 150, [1, 0.5, 1], [1, 3, 1]),
                          np.ones(3), 400.0, ("A_max", "t_A_max", "kstar_start", "kstar_end"))


def forgetting() -> ScenarioResult:
    """The injection into the dominant, fairly stiff mode (h_1 = 1) stops at snapshot 50: it
    decays at rate 2η(h_1+ω) onto the lower levels, the gap at the edge shrinks while the
    spectrum changes fast, and A ≫ 1 (the forgetting regime). The noise power is N = 3:
    R3's noise mean Wη²N lifts every level, and at N = 10 the edge gap stays wide enough that
    the peak A is 9.0, just short of the forgetting threshold.

    Returns:
        The preset's :class:`ScenarioResult`.

    Raises:
        RuntimeError: If the burn-in or the integration fails.
    """
    return _signal_preset(forgetting, [1.0, 0.5, 2.0],
                          ramp(50, 51, [2, 0.3, 0.1], [0, 0.3, 0.1]), np.full(3, 3.0), 200.0,
                          ("A_max", "t_A_max", "g_min"), max_step=0.5)


def viable_gap() -> ScenarioResult:
    """R4 with c > 0: from a small gap, g rises to the viable equilibrium
    g* = (c + √(c² + 4η(h̄+ω)β))/(2η(h̄+ω)) ≈ c/(η(h̄+ω)); the repulsion β barely matters.

    Returns:
        The preset's :class:`ScenarioResult`.
    """
    system = GapSystem(c=0.5, beta=0.05, eta=ETA, hw=1.0, dbar=6.0)
    sol = integrate(system, [0.5], (0.0, 100.0), t_eval=np.linspace(0, 100, 401))
    tr = trajectory(system, sol, "c = 0.5, beta = 0.05")
    return _result(
        viable_gap,
        (tr,),
        {
            "g_star_theory": system.equilibrium(),
            "g_end": float(sol.y[0, -1]),
            "c_over_eta_hw": system.c / (system.eta * system.hw),
        },
    )


def collapsing_gap() -> ScenarioResult:
    """R4 with c < 0: the gap closes. With repulsion (β > 0) it settles at the small
    equilibrium g* ≈ β/|c| and never reaches 0 (collapse without crossing); with β = 0 the
    same flow hits g = 0 in finite time (the GapCollapse event fires).

    Returns:
        The preset's :class:`ScenarioResult`.
    """
    t = np.linspace(0.0, 100.0, 401)
    held = GapSystem(c=-0.5, beta=0.05, eta=ETA, hw=1.0, dbar=6.0)
    free = GapSystem(c=-0.5, beta=0.0, eta=ETA, hw=1.0, dbar=6.0)
    sol_h = integrate(held, [4.0], (0.0, 100.0), t_eval=t, method="Radau")
    sol_f = integrate(free, [4.0], (0.0, 100.0), t_eval=t, events=[GapCollapse(free, 1e-3)])
    return _result(
        collapsing_gap,
        (
            trajectory(held, sol_h, "beta = 0.05 (repulsion)"),
            trajectory(free, sol_f, "beta = 0 (no repulsion)"),
        ),
        {
            "g_star_theory": held.equilibrium(),
            "g_end_with_repulsion": float(sol_h.y[0, -1]),
            "beta_over_abs_c": held.beta / abs(held.c),
            "collapse_time_without_repulsion": _collapse_time(sol_f),
        },
    )


def optimizer_kstar() -> ScenarioResult:
    """The optimizer enters only through the effective curvatures h_j = v_jᵀM∇²L v_j (A2).
    Same injection Γ, two curvature spectra: a diagonal (AdamW-like) preconditioner that
    leaves modes 1–2 both soft gives the steady-state edge at k* = 2; an orthogonalising
    (Muon-like) map that equalises modes 2–4 leaves only mode 1 soft and k* = 1. The two
    spectra are illustrative choices, not measured from an optimizer.

    Returns:
        The preset's :class:`ScenarioResult`.
    """
    gamma = np.array([1.0, 0.8, 0.6, 0.4])
    spectra_h = {
        "AdamW-like h = (0.05, 0.08, 1, 1.2)": np.array([0.05, 0.08, 1.0, 1.2]),
        "Muon-like h = (0.05, 0.5, 1, 1.2)": np.array([0.05, 0.5, 1.0, 1.2]),
    }
    trs, summary = [], {}
    for label, h in spectra_h.items():
        system = SignalSystem(h=h, Gamma=gamma, eta=ETA, W=W, omega=0.1, N=np.full(4, 1.0))
        lam0 = np.array([4.0, 3.0, 2.0, 1.0])  # a common, uninformative start
        sol = integrate(system, lam0, (0.0, 600.0), t_eval=np.linspace(0, 600, 601))
        tr = trajectory(system, sol, label)
        trs.append(tr)
        summary[f"kstar_end[{label.split()[0]}]"] = int(tr.kstar[-1])
    return _result(optimizer_kstar, trs, summary)


def feedback_bistability() -> ScenarioResult:
    """R8: closing the loop Γ_k* = Γ₀(1 + ρα(g)) with the partner mode held at its steady
    level makes the gap bistable above the threshold ρ_c (which depends on h, ω, Γ only):
    with ρ = 8 > ρ_c ≈ 5.83, a start above the unstable fixed point settles on the open gap,
    a start below it collapses (GapCollapse fires); with ρ = 4 < ρ_c no open gap exists and
    even a wide start collapses.

    Returns:
        The preset's :class:`ScenarioResult`.
    """
    base = dict(h=1.0, Gamma0=1.0, h_b=1.0, Gamma_b=2.0, eta=ETA, W=W)
    strong, weak = FeedbackSystem(rho=8.0, **base), FeedbackSystem(rho=4.0, **base)
    g_unstable, g_stable = strong.fixed_points()
    t = np.linspace(0.0, 300.0, 601)
    runs = (
        ("rho8_above", strong, 1.3 * g_unstable, "rho = 8, start above g_unstable"),
        ("rho8_below", strong, 0.7 * g_unstable, "rho = 8, start below g_unstable"),
        ("rho4", weak, g_stable, "rho = 4, start at g_stable(rho = 8)"),
    )
    trs, collapse = [], {}
    for key, system, g0, label in runs:
        sol = integrate(system, [g0], (0.0, 300.0), t_eval=t, events=[GapCollapse(system, 1e-3)])
        collapse[f"collapse_time[{key}]"] = _collapse_time(sol)
        trs.append(trajectory(system, sol, label))
    return _result(
        feedback_bistability,
        trs,
        {
            "rho_c": strong.threshold(),
            "g_unstable": g_unstable,
            "g_stable": g_stable,
            "g_end_above": float(trs[0].g[-1]),
            **collapse,
        },
    )


PRESETS: dict[str, Callable[[], ScenarioResult]] = {
    "plateau": plateau,
    "transition": transition,
    "forgetting": forgetting,
    "viable-gap": viable_gap,
    "collapsing-gap": collapsing_gap,
    "optimizer-kstar": optimizer_kstar,
    "feedback-bistability": feedback_bistability,
}


def _preset(name: str) -> Callable[[], ScenarioResult]:
    if name not in PRESETS:
        raise InputError(f"unknown scenario {name!r}; use one of {sorted(PRESETS)}")
    return PRESETS[name]


def describe(name: str) -> str:
    """A preset's documentation on one line.

    >>> describe("viable-gap").startswith("R4 with c > 0")
    True

    Args:
        name: A key of :data:`PRESETS`.

    Returns:
        The docstring with its white space folded.

    Raises:
        InputError: If ``name`` is not a preset.
    """
    return " ".join(_description(_preset(name)).split())


def run_scenario(name: str) -> ScenarioResult:
    """Run the preset ``name`` (see :data:`PRESETS`).

    Args:
        name: A key of :data:`PRESETS`.

    Returns:
        The preset's :class:`ScenarioResult`.

    Raises:
        InputError: If ``name`` is not a preset.
    """
    return _preset(name)()
