"""The probe_windows.csv columns for P4 and P15: the top of M^½HM^½ (``precond_top_<j>``,
``K_eta_precond``) and the joint ablation of v_1 and v_2 (``abl_top2_*``)."""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pytest
import torch

from spectral_edge.validation.monitor import GramMonitor
from spectral_edge.validation.probes import ablation, curvature
from spectral_edge.validation.probes import window as window_mod
from spectral_edge.validation.probes.window import (
    ProbeSettings,
    frame,
    probe_indices,
    probe_window,
)
from spectral_edge.validation.runs.models import ModelSizes, build_model
from spectral_edge.validation.runs.optimizers import build_optimizer
from spectral_edge.validation.runs.probing import probe_data, task_loss_of
from spectral_edge.validation.runs.tasks import make_task

SIZES = ModelSizes(d_model=8, n_heads=2, d_ff=8, n_layers=1)
SETTINGS = ProbeSettings(modes=3, batch=32, hess_k=4, hess_tol=1e-10, draws=2,
                         noise_batches=2)


@pytest.fixture(scope="module", autouse=True)
def one_thread():
    old = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(old)


def trained(optimizer: str, steps: int = 8):
    """A float64 transformer on modular addition (p = 7) after a few steps of
    ``optimizer``, with a monitor (W = 4) on its attention weights."""
    torch.manual_seed(0)
    task = make_task("modadd", seed=0, p=7)
    model = build_model(task, "transformer", SIZES).double()
    opt = build_optimizer(model, optimizer, lr=1e-2 if optimizer != "sgd" else 0.5,
                          weight_decay=0.0)
    mon = GramMonitor(model, window=4, stride=1, select="attention", optimizer=opt)
    gen = torch.Generator().manual_seed(1)
    for _ in range(steps):
        idx = torch.randint(0, task.n_train, (16,), generator=gen)
        opt.zero_grad()
        task_loss_of(model, task, task.x_train[idx], task.y_train[idx])(
            dict(model.named_parameters())).backward()
        opt.step()
        mon.step()
    return task, model, opt, mon


@pytest.fixture(scope="module")
def adam():
    return trained("adamw")


def _probe(task, model, opt, mon, settings: ProbeSettings = SETTINGS):
    return probe_window(model, opt, mon, probe_data(model, task, 64), step=8, seed=0,
                        batch_size=16, wd=0.0, settings=settings)


def _tops(window: dict, prefix: str) -> np.ndarray:
    return np.array([window[f"{prefix}_{i}"] for i in range(1, SETTINGS.hess_k + 1)])


def test_preconditioned_top_is_the_spectrum_of_m_half_h_m_half(adam) -> None:
    task, model, opt, mon = adam
    named = list(mon.names_params)
    result = _probe(task, model, opt, mon)
    # the same operator, built densely on the probe's training batch
    tr = torch.as_tensor(probe_indices(task.n_train, SETTINGS.batch, 0, 0))
    loss = curvature.FlatLoss(named, task_loss_of(model, task, task.x_train[tr],
                                                  task.y_train[tr]))
    H = torch.autograd.functional.hessian(lambda th: loss(th), loss.theta0.clone(),
                                          vectorize=True).numpy()
    m = curvature.preconditioner_diagonal(opt, named).numpy()
    assert np.ptp(m) > 0  # Adam's M is not a multiple of the identity
    A = np.sqrt(m)[:, None] * H * np.sqrt(m)[None, :]
    exact = np.sort(np.linalg.eigvalsh((A + A.T) / 2))[::-1][:SETTINGS.hess_k]
    np.testing.assert_allclose(_tops(result.window, "precond_top"), exact, rtol=1e-6)
    raw = np.sort(np.linalg.eigvalsh((H + H.T) / 2))[::-1][:SETTINGS.hess_k]
    np.testing.assert_allclose(_tops(result.window, "hess_top"), raw, rtol=1e-6)
    assert not np.allclose(exact, raw, rtol=1e-2)  # M changes the spectrum
    thr = 1.0 / (result.window["eta_eff"] * mon.window)
    assert result.window["K_eta_precond"] == int(np.sum(exact >= thr))
    assert result.window["precond_resid_max"] < 1e-6
    # the CSV order: precond_top_i before precond_resid_max, after hess_resid_max
    cols = list(frame([result.window], "windows").columns)
    assert cols.index("hess_resid_max") < cols.index("precond_top_1") < cols.index(
        "precond_top_4") < cols.index("precond_resid_max")


def test_with_sgd_the_preconditioned_top_equals_the_hessian_top() -> None:
    task, model, opt, mon = trained("sgd")
    named = list(mon.names_params)
    assert torch.equal(curvature.preconditioner_diagonal(opt, named),
                       torch.ones(mon.n_params, dtype=torch.float64))
    w = _probe(task, model, opt, mon).window
    np.testing.assert_allclose(_tops(w, "precond_top"), _tops(w, "hess_top"), rtol=1e-7)
    assert w["K_eta_precond"] == w["K_eta"]


def test_muon_has_no_diagonal_preconditioner_and_writes_nan() -> None:
    task, model, opt, mon = trained("muon", steps=5)
    assert curvature.preconditioner_diagonal(opt, list(mon.names_params)) is None
    w = _probe(task, model, opt, mon).window
    assert np.isfinite(_tops(w, "hess_top")).all()
    assert np.isnan(_tops(w, "precond_top")).all() and math.isnan(w["K_eta_precond"])


def test_skipped_hessian_windows_skip_the_preconditioned_top(adam) -> None:
    task, model, opt, mon = adam
    settings = ProbeSettings(modes=3, batch=32, hess_k=0, draws=2, noise_batches=2)
    w = _probe(task, model, opt, mon, settings).window
    assert not any(k.startswith("precond_top_") for k in w)
    assert math.isnan(w["K_eta_precond"]) and w["hess_k"] == 0


def test_top2_ablation_is_the_joint_ablation_of_v1_and_v2(adam) -> None:
    task, model, opt, mon = adam
    result = _probe(task, model, opt, mon)
    w = result.window
    data = probe_data(model, task, 64)
    te = torch.as_tensor(probe_indices(task.n_test, SETTINGS.batch, 0, 1))
    params = [p for _, p in mon.names_params]
    base = data.evaluate(data.x_test[te], data.y_test[te])
    V = mon.directions(2)
    joint = ablation.with_ablated(params, V, lambda: data.evaluate(data.x_test[te],
                                                                    data.y_test[te]))
    assert w["abl_top2_dloss"] == pytest.approx(joint["loss"] - base["loss"], rel=1e-9)
    assert w["abl_top2_dacc"] == pytest.approx(joint["acc"] - base["acc"], abs=1e-12)
    # not the sum of the single ablations (the loss is not additive over directions)
    singles = sum(r["abl_dloss"] for r in result.rows[:2])
    assert w["abl_top2_dloss"] != pytest.approx(singles, rel=1e-6)
    # the same block ablation as the edge's when k* = 2, another one when k* = 1
    win = window_mod._open_window(mon, opt, 8, 0, SETTINGS.modes)
    for kstar, same in ((2, True), (1, False)):
        abl = window_mod._ablations(dataclasses.replace(win, kstar=kstar), data, te,
                                    mon.n_params, 2)
        assert (abl["top2"] == abl["edge"]) is same
