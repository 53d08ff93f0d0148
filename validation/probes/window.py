"""One probe of one window: the ``probes.csv`` rows (one per mode) and the
``probe_windows.csv`` row.

:func:`probe_window` reads the monitor's current window (exact mode), takes its edge
directions v_1 … v_m (m = min(W, rank, ``modes``)), and measures along them on fixed probe
batches (docs/probes.md): ``batch`` training examples and ``batch`` test examples, drawn once
per run from ``(seed, 0x9B0BE)`` — the same examples at every window. It never touches the
global torch/NumPy RNG (private generators seeded from (seed, step)), never writes
``.grad``, and restores the parameters bitwise and the model's train/eval mode, so a run
with probes trains exactly as one without.

The task enters only through :class:`ProbeData` (the data and two callables), so this
module knows nothing of tasks, models or runs; :mod:`spectral_edge.validation.runs.probing`
builds it for a training run.

>>> ProbeSettings().modes
6
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
import torch

from spectral_edge.common.errors import InputError
from spectral_edge.common.validate import check_finite_number, check_int
from spectral_edge.numerics import spectra
from spectral_edge.validation.probes import ablation, curvature, injection, mixing, projections

PROBE_SEED_TAG = 0x9B0BE
NOISE_TAG = 0x4015E
RANDOM_TAG = 0xAB1A7
HESS_TAG = 0x4E55
PRECOND_TAG = 0x9C0D


@dataclass(frozen=True)
class ProbeSettings:
    """How a probe runs (docs/probes.md). These defaults are the only ones: ``RunConfig``'s
    ``probe_*`` fields take theirs from here.

    ``modes``: at most this many edge directions; ``batch``: size of the fixed probe
    batches; ``hess_k``: top Hessian eigenvalues (0: skip ``eigsh``); ``hess_tol``: ARPACK
    tolerance; ``noise_batches``: minibatches for N_j; ``draws``: random-direction ablation
    draws; ``phi``: mixing angle (radians); ``fd_rel``: finite-difference ε/‖θ‖.
    """

    modes: int = 6
    batch: int = 512
    hess_k: int = 20
    hess_tol: float = 1e-4
    noise_batches: int = 4
    draws: int = 5
    phi: float = math.pi / 4
    fd_rel: float = 1e-3

    def __post_init__(self) -> None:
        check_int("probe_modes", self.modes, 1)
        check_int("probe_batch", self.batch, 1)
        check_int("probe_hess_k", self.hess_k, 0)
        check_finite_number("probe_hess_tol", self.hess_tol, 0.0)
        check_int("probe_noise_batches", self.noise_batches, 2)
        check_int("probe_draws", self.draws, 1)
        check_finite_number("probe_phi", self.phi)
        check_finite_number("probe_fd_rel", self.fd_rel, 0.0, strict=True)

    @classmethod
    def from_config(cls, config: Any) -> ProbeSettings:
        """Settings from a ``RunConfig``'s ``probe_*`` fields (defaults where absent)."""
        names = {"modes", "batch", "hess_k", "hess_tol", "noise_batches", "draws", "phi"}
        return cls(**{n: getattr(config, f"probe_{n}") for n in names
                      if hasattr(config, f"probe_{n}")})


@dataclass(frozen=True)
class WindowProbe:
    """What one probe measured: ``rows`` (``probes.csv``, one per mode), ``window``
    (``probe_windows.csv``), the Hessian-vector products used, the probe's wall time and the
    part of it spent in ``eigsh`` (times are kept out of the CSV rows, which must be
    identical after a resume)."""

    rows: tuple[dict[str, Any], ...] = field(repr=False)
    window: dict[str, Any] = field(repr=False)
    n_hvp: int
    wall_s: float
    hess_wall_s: float = 0.0


LossOf = Callable[[torch.Tensor, torch.Tensor], Callable[[dict[str, torch.Tensor]], torch.Tensor]]
"""``(x, y) -> ({name: tensor} -> loss)``: the task loss on (x, y) with parameters replaced."""


@dataclass(frozen=True)
class ProbeData:
    """What a probe needs of the task: the train and test splits, the loss as a function of
    the parameters on a batch (``loss_of``), and ``evaluate(x, y) -> {"loss", "acc"}`` of
    the model as it stands (used for the ablations)."""

    x_train: torch.Tensor = field(repr=False)
    y_train: torch.Tensor = field(repr=False)
    x_test: torch.Tensor = field(repr=False)
    y_test: torch.Tensor = field(repr=False)
    loss_of: LossOf = field(repr=False)
    evaluate: Callable[[torch.Tensor, torch.Tensor], dict[str, float]] = field(repr=False)

    @property
    def n_train(self) -> int:
        return len(self.x_train)

    @property
    def n_test(self) -> int:
        return len(self.x_test)


def is_probe_step(step: int, stride: int, every: int | None) -> bool:
    """Whether the window ending at ``step`` is probed: every ``every``-th snapshot window
    (``step/stride`` divisible by ``every``); never when ``every`` is None.

    >>> [s for s in range(0, 1001, 100) if is_probe_step(s, 100, 5)]
    [0, 500, 1000]
    """
    return every is not None and step % stride == 0 and (step // stride) % every == 0


def probe_indices(n: int, size: int, seed: int, split: int) -> np.ndarray:
    """The fixed probe batch: ``min(n, size)`` distinct indices drawn from
    ``(seed, 0x9B0BE, split)``, sorted (split 0 train, 1 test).

    >>> probe_indices(10, 3, seed=0, split=0).tolist() == probe_indices(10, 3, 0, 0).tolist()
    True
    """
    rng = np.random.default_rng([seed, PROBE_SEED_TAG, split])
    return np.sort(rng.choice(n, size=min(n, size), replace=False))


def _grad(loss: curvature.FlatLoss) -> torch.Tensor:
    theta = loss.theta0.clone().requires_grad_(True)
    with torch.enable_grad():
        (g,) = torch.autograd.grad(loss(theta), theta)
    return g


@dataclass
class _Window:
    """The window being probed: its spectrum, edge directions and the model's parameters."""

    step: int
    seed: int
    sigma: np.ndarray
    U: np.ndarray
    rank: int
    kstar: int
    m: int
    n_dir: int
    named: list[tuple[str, torch.Tensor]]
    V_all: torch.Tensor
    V: torch.Tensor
    eta_eff: float
    W: int


def _open_window(monitor: Any, optimizer: torch.optim.Optimizer, step: int, seed: int,
                 modes: int) -> _Window:
    stats = monitor.stats
    if stats is None:
        raise InputError("monitor: no full window to probe yet")
    W = monitor.window
    lam, U = spectra.eigh_gram(
        monitor.gram(), eps=float(torch.finfo(monitor.dtype).eps), max_rank=monitor.n_params
    )
    rank = int(np.count_nonzero(lam))
    kstar = int(stats.kstar_weighted)
    m = min(W, rank, modes)
    n_dir = min(rank, max(m, 2 * kstar))
    named = list(monitor.names_params)
    V_all = monitor.directions(n_dir).to(named[0][1].dtype)
    lr = float(optimizer.param_groups[0]["lr"])
    return _Window(step, seed, np.sqrt(lam), U, rank, kstar, m, n_dir, named, V_all,
                   V_all[:m], lr * monitor.stride, W)


def _curvature_part(win: _Window, data: ProbeData, tr: torch.Tensor, precond: Any,
                    fd_rel: float) -> tuple[curvature.FlatLoss, curvature.Curvature, dict]:
    """h_j, h_j^precond and the finite-difference h_j on the train probe batch."""
    train_loss = curvature.FlatLoss(win.named, data.loss_of(data.x_train[tr], data.y_train[tr]))
    curv = curvature.Curvature(train_loss)
    h, h_pre = curvature.mode_curvatures(curv, win.V, precond)
    eps = curvature.fd_epsilon(train_loss.theta0, fd_rel)
    h_fd = curvature.finite_difference_curvature(train_loss, win.V, eps, float(curv.loss))
    return train_loss, curv, {"h": h, "h_precond": h_pre, "h_fd": h_fd, "fd_eps": eps}


def _projection_part(win: _Window, data: ProbeData, te: torch.Tensor, precond: Any,
                     curv: curvature.Curvature, theta: torch.Tensor, wd: float) -> dict:
    """G_j (train, val, effective), the weight-decay part and the energy split."""
    g_train = curv.grad
    g_val = _grad(curvature.FlatLoss(win.named, data.loss_of(data.x_test[te], data.y_test[te])))
    G_eff = projections.project(win.V, precond(g_train))
    wd_part = wd * projections.project(win.V, theta)
    frac = projections.energy_split(
        projections.window_update_projections(win.sigma, win.U, win.m),
        projections.project(win.V, theta), win.eta_eff, wd,
    )
    return {"G_train": projections.project(win.V_all, g_train),
            "G_val": projections.project(win.V_all, g_val),
            "G_eff": G_eff, "wd_part": wd_part, "grad_energy_frac": frac}


def _noise_part(win: _Window, data: ProbeData, precond: Any, batch_size: int,
                noise_batches: int, G_eff: np.ndarray, wd_part: np.ndarray) -> dict:
    """N_j from independent minibatches of the run's batch size (private generator), Γ_j."""
    rng = np.random.default_rng([win.seed, win.step, NOISE_TAG])
    dev = data.x_train.device
    samples = []
    for _ in range(noise_batches):
        idx = torch.as_tensor(
            rng.choice(data.n_train, size=min(batch_size, data.n_train), replace=False),
            device=dev,
        )
        gb = _grad(curvature.FlatLoss(
            win.named, data.loss_of(data.x_train[idx], data.y_train[idx])
        ))
        samples.append(projections.project(win.V, precond(gb)))
    return {"N": injection.noise_power(np.array(samples)),
            "Gamma": injection.injection(G_eff, wd_part)}


def _top(win: _Window, curv: curvature.Curvature, k: int, tol: float, tag: int,
         diag: torch.Tensor | None = None) -> tuple[np.ndarray, float, float]:
    """(top-``k`` eigenvalues of H, or of M^½HM^½ with ``diag`` = diag M; their largest
    residual; K_η)."""
    top = curvature.hessian_top(
        curv, k=k, tol=tol, diag=diag,
        seed=int(np.random.default_rng([win.seed, win.step, tag]).integers(2**31)),
    )
    finite = top.residuals[np.isfinite(top.residuals)]
    return (top.eigenvalues, float(finite.max()) if finite.size else math.nan,
            curvature.count_stiff(top.eigenvalues, win.eta_eff, win.W)
            if win.eta_eff > 0 else math.nan)


def _hessian_top(win: _Window, curv: curvature.Curvature, k: int, tol: float,
                 diag: torch.Tensor | None) -> dict:
    """The top-``k`` eigenvalues of H and of M^½HM^½ (``diag`` = diag M; None when M is not
    diagonal: NaN), their largest residuals and K_η (k = 0: none)."""
    if k <= 0:
        return {"hess": np.zeros(0), "hess_resid_max": math.nan, "K_eta": math.nan,
                "precond": np.zeros(0), "precond_resid_max": math.nan,
                "K_eta_precond": math.nan}
    hess, resid, K_eta = _top(win, curv, k, tol, HESS_TAG)
    if diag is None:
        pre, pre_resid, K_pre = np.full(k, math.nan), math.nan, math.nan
    else:
        pre, pre_resid, K_pre = _top(win, curv, k, tol, PRECOND_TAG, diag)
    return {"hess": hess, "hess_resid_max": resid, "K_eta": K_eta, "precond": pre,
            "precond_resid_max": pre_resid, "K_eta_precond": K_pre}


def _ablations(win: _Window, data: ProbeData, te: torch.Tensor, P: int, draws: int) -> dict:
    """Loss/accuracy changes on the fixed test probe batch when the parameters lose their
    component along each mode, the edge, v_1+v_2 jointly, the next k* modes and random
    k*-planes (paired:
    the same examples before and after, so the differences carry no sampling noise)."""
    params = [p for _, p in win.named]
    x_abl, y_abl = data.x_test[te], data.y_test[te]

    def measure() -> tuple[float, float]:
        out = data.evaluate(x_abl, y_abl)
        return out["loss"], out["acc"]

    base_loss, base_acc = measure()

    def delta(directions: torch.Tensor) -> tuple[float, float]:
        loss, acc = ablation.with_ablated(params, directions, measure)
        return loss - base_loss, acc - base_acc

    k, V_all = win.kstar, win.V_all
    rand_rng = np.random.default_rng([win.seed, win.step, RANDOM_TAG])
    return {
        "modes": [delta(win.V[j : j + 1]) for j in range(win.m)],
        "edge": delta(V_all[:k]),
        "top2": delta(V_all[:2]) if win.n_dir >= 2 else (math.nan, math.nan),
        "next": delta(V_all[k : 2 * k]) if win.n_dir >= 2 * k else (math.nan, math.nan),
        "rand": np.array([delta(ablation.random_directions(P, k, rand_rng))
                          for _ in range(draws)]),
        "base": (base_loss, base_acc),
    }


def _mode_rows(win: _Window, wd: float, phi: float, part: dict, abl: dict,
               a: np.ndarray) -> list[dict[str, Any]]:
    """The ``probes.csv`` rows, one per mode."""
    rows = []
    for j in range(win.m):
        last = j == win.m - 1
        rows.append({
            "step": win.step, "mode": j + 1, "kstar_weighted": win.kstar,
            "sigma": float(win.sigma[j]), "eta_eff": win.eta_eff, "wd": wd,
            **{key: part[key][j] for key in ("h", "h_precond", "h_fd", "G_train", "G_val",
                                             "G_eff", "wd_part", "grad_energy_frac", "Gamma",
                                             "N")},
            "abl_dloss": abl["modes"][j][0],
            "abl_dacc": abl["modes"][j][1],
            "mix_pair": "" if last else mixing.pair_kind(j + 1, win.kstar),
            "mix_dloss": math.nan if last else mixing.rotation_change(a, part["G_val"], j, phi),
            "mix_phi": math.nan if last else phi,
            "a_sum": a[j],
            "fd_eps": part["fd_eps"],
        })
    return rows


def _window_row(win: _Window, hess: dict, abl: dict, probe_train_loss: float,
                n_hvp: int) -> dict[str, Any]:
    """The ``probe_windows.csv`` row."""
    rand = abl["rand"]
    return {
        "step": win.step,
        "kstar_weighted": win.kstar,
        "rank": win.rank,
        "modes": win.m,
        "K_eta": hess["K_eta"],
        "eta_eff": win.eta_eff,
        **{f"hess_top_{i + 1}": float(v) for i, v in enumerate(hess["hess"])},
        "hess_k": len(hess["hess"]),
        "hess_resid_max": hess["hess_resid_max"],
        "K_eta_precond": hess["K_eta_precond"],
        **{f"precond_top_{i + 1}": float(v) for i, v in enumerate(hess["precond"])},
        "precond_resid_max": hess["precond_resid_max"],
        "abl_edge_dloss": abl["edge"][0],
        "abl_edge_dacc": abl["edge"][1],
        "abl_top2_dloss": abl["top2"][0],
        "abl_top2_dacc": abl["top2"][1],
        "abl_next_dloss": abl["next"][0],
        "abl_next_dacc": abl["next"][1],
        "abl_rand_dloss_mean": float(rand[:, 0].mean()),
        "abl_rand_dloss_std": float(rand[:, 0].std(ddof=1)) if len(rand) > 1 else math.nan,
        "abl_rand_dacc_mean": float(rand[:, 1].mean()),
        "abl_rand_dacc_std": float(rand[:, 1].std(ddof=1)) if len(rand) > 1 else math.nan,
        "abl_rand_draws": len(rand),
        "base_test_loss": abl["base"][0],
        "base_test_acc": abl["base"][1],
        "probe_train_loss": probe_train_loss,
        "n_hvp": n_hvp,
    }


def probe_window(
    model: torch.nn.Module,
    optimizer: torch.optim.Optimizer,
    monitor: Any,
    data: ProbeData,
    *,
    step: int,
    seed: int,
    batch_size: int,
    wd: float,
    settings: ProbeSettings | None = None,
) -> WindowProbe:
    """Probe the monitor's current window (see the module docstring and docs/probes.md).

    Args:
        model: the monitored model (its train/eval mode is restored).
        optimizer: its optimizer (the learning rate and the preconditioner M).
        monitor: a ``GramMonitor`` in exact mode with a full window.
        data: the task's probe data.
        step: the optimizer step at which the window ends (the ``spectra.csv`` step).
        seed: the run's seed.
        batch_size: the training minibatch size (for N_j).
        wd: the decoupled weight decay ω.
        settings: how to probe (default :class:`ProbeSettings`).

    Returns:
        The rows, the window row, the Hessian-vector product count and the timings.

    Raises:
        InputError: when the monitor has no full window yet.
    """
    settings = settings or ProbeSettings()
    tick = time.perf_counter()
    was_training = model.training
    win = _open_window(monitor, optimizer, step, seed, settings.modes)
    precond, _ = curvature.preconditioner(optimizer, win.named)
    diag = curvature.preconditioner_diagonal(optimizer, win.named)
    dev = data.x_train.device
    tr = torch.as_tensor(probe_indices(data.n_train, settings.batch, seed, 0), device=dev)
    te = torch.as_tensor(probe_indices(data.n_test, settings.batch, seed, 1), device=dev)
    try:
        model.train()
        train_loss, curv, part = _curvature_part(win, data, tr, precond, settings.fd_rel)
        part |= _projection_part(win, data, te, precond, curv, train_loss.theta0, wd)
        part |= _noise_part(win, data, precond, batch_size, settings.noise_batches,
                            part["G_eff"], part["wd_part"])
        hess_tick = time.perf_counter()
        hess = _hessian_top(win, curv, settings.hess_k, settings.hess_tol, diag)
        hess_wall_s = time.perf_counter() - hess_tick
        n_hvp, probe_train_loss = curv.n_hvp, float(curv.loss)
        del curv
        abl = _ablations(win, data, te, train_loss.P, settings.draws)
        a = mixing.summed_update_projections(win.sigma, win.U, win.m)
    finally:
        model.train(was_training)
    rows = _mode_rows(win, wd, settings.phi, part, abl, a)
    window = _window_row(win, hess, abl, probe_train_loss, n_hvp)
    return WindowProbe(tuple(rows), window, n_hvp, time.perf_counter() - tick, hess_wall_s)


ROW_COLUMNS = (
    "step", "mode", "kstar_weighted", "sigma", "eta_eff", "wd", "h", "h_precond", "h_fd",
    "G_train", "G_val", "G_eff", "wd_part", "grad_energy_frac", "Gamma", "N", "abl_dloss",
    "abl_dacc", "mix_pair", "mix_dloss", "mix_phi", "a_sum", "fd_eps",
)
"""Columns of ``probes.csv`` (docs/run-directory.md)."""

WINDOW_COLUMNS = (
    "step", "kstar_weighted", "rank", "modes", "K_eta", "eta_eff", "hess_k", "hess_resid_max",
    "K_eta_precond", "precond_resid_max",
    "abl_edge_dloss", "abl_edge_dacc", "abl_top2_dloss", "abl_top2_dacc",
    "abl_next_dloss", "abl_next_dacc",
    "abl_rand_dloss_mean", "abl_rand_dloss_std", "abl_rand_dacc_mean", "abl_rand_dacc_std",
    "abl_rand_draws", "base_test_loss", "base_test_acc", "probe_train_loss", "n_hvp",
)
"""Columns of ``probe_windows.csv`` besides ``hess_top_1..hess_top_K`` and
``precond_top_1..precond_top_K``."""

_TOPS = ("hess_top_", "precond_top_")


def frame(rows: list[dict[str, Any]], kind: str) -> pd.DataFrame:
    """Rows of ``probes.csv`` (``kind="rows"``) or ``probe_windows.csv`` (``"windows"``) as
    a DataFrame with the documented column order (header only when there are none).

    >>> list(frame([], "rows").columns)[:3]
    ['step', 'mode', 'kstar_weighted']
    """
    base = ROW_COLUMNS if kind == "rows" else WINDOW_COLUMNS
    extra = sorted({k for r in rows for k in r} - set(base),
                   key=lambda k: (k.rsplit("_", 1)[0], int(k.rsplit("_", 1)[1]))
                   if k.startswith(_TOPS) else (k, 0))
    columns = list(base)
    if kind == "windows":  # hess_top_i before hess_k, precond_top_i before precond_resid_max
        for prefix, before in zip(_TOPS, ("hess_k", "precond_resid_max"), strict=True):
            at = columns.index(before)
            columns[at:at] = [k for k in extra if k.startswith(prefix)]
        extra = [k for k in extra if not k.startswith(_TOPS)]
    return pd.DataFrame(rows, columns=columns + extra)
