"""Surrogate run records for the event predictions P5, P8, P9, P12, P13, P15.

Each maker takes the real runs and a seed and returns surrogate :class:`RunData` matched
to the runs its measurement reads (same W, stride, window steps, evaluation steps, weight
decay, task, grok step — a real run that never grokked and must grok groks at the
evaluation nearest ⅔ of its last step), with the prediction true (``violate=False``) or
violated (``violate=True``); they are deterministic in the seed.

Window statistics come from synthetic updates (:func:`event_spectra`): in a P = 16
dimensional space, δ_t = Σ_j a_j(t)·s_j(t)·(1 + 0.02ξ)·e_j + 0.01·ξ_t with per-mode sign
patterns s_j (mode 1 constant, mode 2 alternating, mode 3 every other pair…; the patterns
keep the modes' temporal profiles apart within a window), amplitudes a_j(t) scheduled per
prediction, and every statistic computed by :func:`spectral_edge.numerics.spectra.window_stats`
on the (W+1)-Gram of the last W+1 updates. The probe-based makers (P13, P15) are
phenomenological; their docstrings state the generative model.

>>> df = event_spectra(np.tile([3.0, 1.0, 0.3], (12, 1)), [10, 11], W=4, eta_eff=0.1,
...                    rng=np.random.default_rng(0))
>>> df["kstar_weighted"].tolist(), len(df)
([1, 1], 2)
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

import numpy as np
import pandas as pd

from spectral_edge.numerics.columns import names
from spectral_edge.numerics.spectra import gradient_energy_fraction, window_stats
from spectral_edge.validation.scorecard.predictions.base import (
    forget_step,
    grok,
    trained,
    wd_of,
    window_at,
)
from spectral_edge.validation.scorecard.rundata import RunData

P_SURROGATE = 16
"""Dimension of the synthetic update space."""
NOISE = 0.01
"""Per-coordinate sd of the isotropic update noise (P8, P12: a near-noiseless edge)."""
BULK_NOISE = 0.1
"""The noise of P5 and P9: a bulk of σ ≈ 0.1(√P + √W) for k* to measure gaps against."""
JITTER = 0.02
"""Relative sd of the per-snapshot amplitude jitter of each mode."""

Maker = Callable[[list[RunData], int], list[RunData]]

MODULAR = ("modadd", "modsub", "modmul", "modsq", "modular")
"""Task names read as modular arithmetic (P13 reports them, does not score them)."""
LIFECYCLE_TASKS = ("dyck", "scan")
"""Tasks P13 scores."""


# --------------------------------------------------------------------------- shared


def snapshots(run: RunData) -> np.ndarray:
    """The snapshot index of each window of ``run`` (``snapshot`` column, else step/stride).

    Args:
        run: A run.

    Returns:
        Integer snapshot per window.
    """
    s = run.spectra
    if "snapshot" in s:
        return s["snapshot"].to_numpy(int)
    return (s["step"].to_numpy(int) // int(run.get("stride", 1) or 1)).astype(int)


def _eta(run: RunData) -> float:
    eta = run.eta_eff
    return eta if math.isfinite(eta) and eta > 0 else 0.1


def _signs(T: int, m: int) -> np.ndarray:
    t = np.arange(T)[:, None]
    j = np.arange(m)[None, :]
    return np.where(j == 0, 1.0, (-1.0) ** (t // 2 ** np.maximum(j - 1, 0)))


def event_spectra(amps: np.ndarray, snaps: Sequence[int], *, W: int, eta_eff: float,
                  rng: np.random.Generator, noise: float = NOISE) -> pd.DataFrame:
    """spectra.csv rows of the windows ending at ``snaps`` for scheduled mode amplitudes.

    Args:
        amps: Amplitude a_j(t) of mode j at snapshot t, shape (T, m), T > max(snaps).
        snaps: Snapshots whose windows are computed (each ≥ W).
        W: Window length.
        eta_eff: η per snapshot (for A).
        rng: Random stream (signs flipped per mode, jitter, noise).
        noise: Per-coordinate sd of the isotropic noise.

    Returns:
        One row per window (``window_stats(...).as_row()`` plus ``snapshot``).
    """
    amps = np.asarray(amps, float)
    T, m = amps.shape
    flip = rng.choice([-1.0, 1.0], size=m)
    coef = amps * _signs(T, m) * flip * (1.0 + JITTER * rng.normal(size=(T, m)))
    X = noise * rng.normal(size=(T, P_SURROGATE))
    X[:, :m] += coef
    rows = []
    for s in snaps:
        block = X[int(s) - W:int(s) + 1]
        row = window_stats(P=P_SURROGATE, gram_plus=block @ block.T, eta_eff=eta_eff).as_row()
        rows.append({"snapshot": int(s), **row})
    return pd.DataFrame(rows)


def _frame(run: RunData, amps: np.ndarray, idx: Sequence[int], rng: np.random.Generator,
           noise: float = NOISE) -> pd.DataFrame:
    """The surrogate spectra of ``run``'s windows ``idx`` (steps and stride as the run's)."""
    snaps = snapshots(run)[list(idx)]
    df = event_spectra(amps, snaps, W=run.W, eta_eff=_eta(run), rng=rng, noise=noise)
    df.insert(0, "step", run.spectra["step"].to_numpy(int)[list(idx)])
    df["lr"], df["skipped"] = float(run.get("lr", _eta(run)) or _eta(run)), 0
    return df


def eval_steps(run: RunData) -> np.ndarray:
    """The run's evaluation steps (``metrics.csv``; its window steps without one)."""
    if run.metrics is not None and len(run.metrics):
        return run.metrics["step"].to_numpy(int)
    return run.spectra["step"].to_numpy(int)


def grok_target(run: RunData) -> int:
    """The grok step a grokking surrogate of ``run`` gets: the real one, else the
    evaluation step nearest ⅔ of the last.

    Args:
        run: A run.

    Returns:
        A step of :func:`eval_steps`.
    """
    g = grok(run)
    if g is not None:
        return int(g)
    steps = eval_steps(run)
    return int(steps[np.argmin(np.abs(steps - steps[-1] * 2 / 3))])


def accuracy_metrics(steps: np.ndarray, grok_step: int | None,
                     test_loss: np.ndarray | None = None) -> pd.DataFrame:
    """metrics.csv rows whose test accuracy groks at ``grok_step`` (None: never).

    0.05, then a linear rise by 0.17 per evaluation over the four evaluations before the
    grok step (to 0.73), 0.99 from it on; without a grok step the accuracy stays at 0.5.

    Args:
        steps: Evaluation steps.
        grok_step: The first step with accuracy ≥ 0.95, or None.
        test_loss: The test loss per evaluation (default: 1 − accuracy).

    Returns:
        Columns step, train_loss, test_loss, train_acc, test_acc.

    >>> accuracy_metrics(np.arange(0, 800, 100), 500)["test_acc"].round(2).tolist()
    [0.05, 0.22, 0.39, 0.56, 0.73, 0.99, 0.99, 0.99]
    """
    steps = np.asarray(steps, int)
    if grok_step is None:
        acc = np.full(steps.size, 0.5)
    else:
        until = (steps < grok_step).sum() - np.arange(steps.size)  # 1: the last before it
        acc = np.where(steps >= grok_step, 0.99, 0.05 + 0.17 * np.clip(5 - until, 0, 4))
    loss = 1.0 - acc if test_loss is None else np.asarray(test_loss, float)
    return pd.DataFrame({"step": steps, "train_loss": 0.01, "test_loss": loss,
                         "train_acc": 1.0, "test_acc": acc})


def _copy(run: RunData, seed: int, **fields) -> RunData:
    base = {"spectra": run.spectra, "config": dict(run.config), "metrics": run.metrics}
    return RunData(name=f"{run.name}~{seed}", path=run.path, **(base | fields))


def _rng(seed: int, i: int, tag: int) -> np.random.Generator:
    return np.random.default_rng([seed, i, tag])


# --------------------------------------------------------------------------- P5


def p5_maker(violate: bool) -> Maker:
    """P5: mode 1's injection rises, holds and collapses — amplitude 3 in the snapshots
    that make the middle third of the windows (at least one snapshot), 0.3 like modes 2–3
    elsewhere, over a noise bulk — and the test loss follows it (1 + 0.5 in the evaluations
    whose window holds the high injection, noise sd 0.05). Control: a constant amplitude 3
    (no rise, plateau or collapse), the loss bump unchanged.

    Args:
        violate: Build the control.

    Returns:
        The maker.
    """
    def make(runs: list[RunData], seed: int) -> list[RunData]:
        out = []
        for i, r in enumerate(trained(runs)):
            n = len(r.spectra)
            if r.metrics is None or n < 6:
                continue
            rng, snaps, W = _rng(seed, i, 5), snapshots(r), r.W
            lo = int(snaps[n // 3])
            hi = max(lo + 1, int(snaps[2 * n // 3]) - W + 1)
            t = np.arange(snaps[-1] + 1)
            a1 = np.full(t.size, 3.0) if violate else np.where((t >= lo) & (t < hi), 3.0, 0.3)
            amps = np.stack([a1, np.full(t.size, 0.3), np.full(t.size, 0.3)], axis=1)
            spectra = _frame(r, amps, range(n), rng, BULK_NOISE)
            steps = eval_steps(r)
            s_eval = steps / float(r.get("stride", 1) or 1)
            high = (s_eval >= lo) & (s_eval < hi + W - 1)
            loss = 1.0 + 0.5 * high + 0.05 * rng.normal(size=steps.size)
            out.append(_copy(r, seed, spectra=spectra,
                             metrics=accuracy_metrics(steps, grok(r), loss)))
        return out
    return make


# --------------------------------------------------------------------------- P8


def p8_maker(violate: bool) -> Maker:
    """P8: weight-decay runs grok; mode 2's injection (1.5, between mode 1's 3 and mode
    3's 0.5) decays with time constant one snapshot from W + 2 snapshots before the grok
    step, or from the snapshot before the first window when the run has fewer (the decline
    precedes the grok step and is seen), so g₂₃ declines by it; no-decay runs never grok.
    Control (by seed parity): mode 2 stays on until the grok step (the decline only after
    it), or the no-decay runs grok too.

    Args:
        violate: Build the control.

    Returns:
        The maker.
    """
    def make(runs: list[RunData], seed: int) -> list[RunData]:
        out, late = [], violate and seed % 2 == 0
        for i, r in enumerate(trained(runs)):
            if r.metrics is None:
                continue
            rng, steps = _rng(seed, i, 8), eval_steps(r)
            if wd_of(r) == 0:
                g = grok_target(r) if violate and not late else None
                idx = [0]
                amps = np.tile([3.0, 1.5, 0.5], (snapshots(r)[0] + 1, 1))
            else:
                g = grok_target(r)
                gi = window_at(r, g)
                idx = range((gi if gi is not None else 0) + 1)
                t = np.arange(snapshots(r)[idx[-1]] + 1)
                start = max(snapshots(r)[idx[-1]] - r.W - 2, snapshots(r)[0] - 1)
                a2 = 1.5 * (np.ones(t.size) if late else np.exp(-np.clip(t - start, 0, None)))
                amps = np.stack([np.full(t.size, 3.0), a2, np.full(t.size, 0.5)], axis=1)
            out.append(_copy(r, seed, spectra=_frame(r, amps, idx, rng),
                             metrics=accuracy_metrics(steps, g)))
        return out
    return make


# --------------------------------------------------------------------------- P9


def p9_maker(violate: bool) -> Maker:
    """P9: in the window at the grok step mode 1 dominates (amplitudes 3, 1, 0.5 over a
    noise bulk); control: two equal dominant modes (3, 3, 0.5). Only that window is
    computed.

    Args:
        violate: Build the control.

    Returns:
        The maker.
    """
    def make(runs: list[RunData], seed: int) -> list[RunData]:
        out = []
        for i, r in enumerate(trained(runs)):
            g = grok(r)
            gi = window_at(r, g) if g is not None else None
            if gi is None:
                continue
            amps = np.tile([3.0, 3.0 if violate else 1.0, 0.5], (snapshots(r)[gi] + 1, 1))
            spectra = _frame(r, amps, [gi], _rng(seed, i, 9), BULK_NOISE)
            out.append(_copy(r, seed, spectra=spectra,
                             metrics=accuracy_metrics(eval_steps(r), g)))
        return out
    return make


# --------------------------------------------------------------------------- P12


def rotation_amps(T: int, at: int | None, W: int, *, sharp: bool = True) -> np.ndarray:
    """Amplitudes of a stable edge (mode 1 at a = 3, modes 2–3 at 0.1, 0.05) that rotates
    at snapshot ``at`` onto a new direction (mode 4; mode 1 then at 0.1).

    ``sharp``: the new amplitude is 8W·a, so k* stays 1 and A_dk ≈ b²/(b² − (W−1)a²) ≳ 1
    in the first window holding a new update, ≈ 1/n in the n-th (a single peak at the
    rotation); else 3·√(1.5(W−1)), so the first such window has its top two eigenvalues
    within a factor 1.5 and A_dk ≈ 3 there (an abrupt reset, as induced forgetting). In
    the stable stretches A_dk ≪ 0.1.

    Args:
        T: Snapshots.
        at: Snapshot of the rotation (None: none).
        W: Window length.
        sharp: Which new amplitude (above).

    Returns:
        Shape (T, 4).

    >>> rotation_amps(3, 1, 4)[:, [0, 3]].tolist()
    [[3.0, 0.0], [0.1, 96.0], [0.1, 96.0]]
    """
    t = np.arange(T)
    after = (t >= at) if at is not None else np.zeros(T, bool)
    b = 3.0 * 8 * W if sharp else 3.0 * math.sqrt(1.5 * max(W - 1, 1))
    return np.stack([np.where(after, 0.1, 3.0), np.full(T, 0.1), np.full(T, 0.05),
                     np.where(after, b, 0.0)], axis=1)


def _away(gi: int, n: int, W: int) -> int:
    for cand in (gi - W - 3, gi + 5):
        if 1 <= cand < n:
            return cand
    return 0 if gi >= n / 2 else n - 1


def p12_maker(violate: bool) -> Maker:
    """P12: grokking runs whose edge rotates sharply (:func:`rotation_amps`) in the window
    at the grok step; induced-forgetting runs reset abruptly (``sharp=False``) in the first
    window after ``forget_step``. Control: the grokking runs' rotation W + 3 windows before
    the grok step (or 5 after, or at the far end of a short run).

    Args:
        violate: Build the control.

    Returns:
        The maker.
    """
    def make(runs: list[RunData], seed: int) -> list[RunData]:
        out = []
        for i, r in enumerate(trained(runs)):
            n, snaps, fs = len(r.spectra), snapshots(r), forget_step(r)
            if fs is not None:
                after = np.flatnonzero(r.spectra["step"].to_numpy() > fs)
                at = int(snaps[after[0]]) if after.size else None
            elif r.get("sketch_dim") is None and (g := grok(r)) is not None:
                gi = window_at(r, g)
                if gi is None:
                    continue
                at = int(snaps[_away(gi, n, r.W) if violate else gi])
            else:
                continue
            amps = rotation_amps(int(snaps[-1]) + 1, at, r.W, sharp=fs is None)
            out.append(_copy(r, seed, spectra=_frame(r, amps, range(n), _rng(seed, i, 12))))
        return out
    return make


# --------------------------------------------------------------------------- P13


def p13_maker(violate: bool) -> Maker:
    """P13 (phenomenological): every probed window of a grokking weight-decay run gets
    mode 1's gradient and weight-decay projections over its W updates, c_grad ~ 1 + 0.1ξ,
    c_wd ~ 0.2 + 0.05ξ before the probed window at the grok step (fraction ≈ 0.96) and
    c_grad ~ 0.1 + 0.05ξ, c_wd ~ 1 + 0.1ξ from it on (≈ 0.01), the fraction computed by
    :func:`~spectral_edge.numerics.spectra.gradient_energy_fraction`. Control: gradient-
    driven throughout.

    Args:
        violate: Build the control.

    Returns:
        The maker.
    """
    def make(runs: list[RunData], seed: int) -> list[RunData]:
        out = []
        for i, r in enumerate(trained(runs)):
            g = grok(r)
            if r.probes is None or not len(r.probes) or wd_of(r) <= 0 or g is None:
                continue
            rng = _rng(seed, i, 13)
            steps = np.unique(r.probes["step"].to_numpy(int))
            at = steps[steps <= g].max() if (steps <= g).any() else steps.min()
            rows = []
            for st in steps:
                wd_driven = st >= at and not violate
                mean = (0.1, 1.0) if wd_driven else (1.0, 0.2)
                cg = mean[0] + 0.1 * mean[0] * rng.normal(size=(r.W, 1))
                cw = mean[1] + 0.1 * mean[1] * rng.normal(size=(r.W, 1))
                frac = float(gradient_energy_fraction(cg, cw)[0])
                rows += [{"step": int(st), "mode": 1, "kstar_weighted": 1, "wd": wd_of(r),
                          "grad_energy_frac": frac},
                         {"step": int(st), "mode": 2, "kstar_weighted": 1, "wd": wd_of(r),
                          "grad_energy_frac": 0.5}]
            probes = pd.DataFrame(rows).reindex(columns=list(names("probes.csv")))
            out.append(_copy(r, seed, probes=probes))
        return out
    return make


# --------------------------------------------------------------------------- P15


def _quantized(dacc: np.ndarray, n: int, base: np.ndarray) -> np.ndarray:
    """Accuracy changes rounded to 1/n and clipped to [−base, 0]."""
    return np.clip(np.round(dacc * n) / n, -base, 0.0)


def p15_maker(violate: bool) -> Maker:
    """P15 (phenomenological): per probed window the accuracy rests on the edge block:
    removing it costs Δacc ~ N(−0.58, 0.09) (clipped to [−base acc, 0]), a random plane
    of the same dimension N(0, (0.3/n)²) per draw (5 draws averaged), every value rounded
    to the resolution 1/n of the n-example probe batch. The edge value is written to every
    column the measure may read (``abl_top2_dacc`` where the real run has it,
    ``abl_edge_dacc``, mode 1's ``abl_dacc``). Control: the drop is spread evenly, so a
    random plane costs as much as the edge (both N(−0.58, 0.09)).

    Args:
        violate: Build the control.

    Returns:
        The maker.
    """
    def make(runs: list[RunData], seed: int) -> list[RunData]:
        out = []
        for i, r in enumerate(trained(runs)):
            pw = r.probe_windows
            if pw is None or not len(pw) or grok(r) is None:
                continue
            rng, n = _rng(seed, i, 15), probe_test_size(r) or 512
            base = np.where(pw["step"].to_numpy() >= grok(r), 0.99, 0.5)
            edge = _quantized(rng.normal(-0.58, 0.09, size=len(pw)), n, base)
            rand_draws = (rng.normal(-0.58, 0.09, size=(len(pw), 5)) if violate
                          else rng.normal(0.0, 0.3 / n, size=(len(pw), 5)))
            rand = np.mean([_quantized(d, n, base) for d in rand_draws.T], axis=0)
            new = pd.DataFrame({"step": pw["step"].to_numpy(int),
                                "kstar_weighted": pw["kstar_weighted"].to_numpy(int),
                                "abl_edge_dacc": edge, "abl_rand_dacc_mean": rand,
                                "base_test_acc": base, "abl_rand_draws": 5})
            if "abl_top2_dacc" in pw:
                new["abl_top2_dacc"] = edge
            probes = pd.DataFrame({"step": new["step"], "mode": 1, "abl_dacc": edge})
            out.append(_copy(r, seed, probe_windows=new, probes=probes))
        return out
    return make


def probe_test_size(run: RunData) -> int | None:
    """n_test of the ablations: the probe's test batch, min(``probe_batch``, ``n_test``)
    from the config (None when ``probe_batch`` is not recorded).

    Args:
        run: A run.

    Returns:
        The number of test examples the ablation accuracies are counted on, or None.

    >>> probe_test_size(RunData("r", "r", pd.DataFrame(), {"probe_batch": 512, "n_test": 500}))
    500
    """
    batch = run.get("probe_batch")
    if batch is None:
        return None
    n_test = run.get("n_test")
    return int(min(batch, n_test)) if n_test else int(batch)
