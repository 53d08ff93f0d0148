"""Probes: exact curvature, Hessian top-K, projections, finite differences, ablation, the
probe of a window, and that probes leave training untouched."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from spectral_edge.common.errors import InputError
from spectral_edge.validation.monitor import GramMonitor
from spectral_edge.validation.probes import ablation, curvature, injection, mixing, projections
from spectral_edge.validation.probes.window import (
    ROW_COLUMNS,
    WINDOW_COLUMNS,
    ProbeSettings,
    is_probe_step,
    probe_window,
)
from spectral_edge.validation.runs.models import ModelSizes, build_model
from spectral_edge.validation.runs.probing import probe_data, task_loss_of
from spectral_edge.validation.runs.tasks import make_task

SIZES = ModelSizes(d_model=8, n_heads=2, d_ff=8, n_layers=1)


@pytest.fixture(scope="module", autouse=True)
def one_thread():
    old = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(old)


@pytest.fixture(scope="module")
def setup(one_thread):
    """A float64 transformer on modular addition (p = 7), P ≤ 2,000 monitored parameters,
    trained a few AdamW steps with a monitor (W = 4) attached."""
    torch.manual_seed(0)
    task = make_task("modadd", seed=0, p=7)
    model = build_model(task, "transformer", SIZES).double()
    opt = torch.optim.AdamW(model.parameters(), lr=1e-2, weight_decay=0.5, betas=(0.9, 0.98))
    mon = GramMonitor(model, window=4, stride=1, select="attention", optimizer=opt)
    gen = torch.Generator().manual_seed(1)
    for _ in range(8):
        idx = torch.randint(0, task.n_train, (16,), generator=gen)
        opt.zero_grad()
        loss_fn = task_loss_of(model, task, task.x_train[idx], task.y_train[idx])
        loss_fn(dict(model.named_parameters())).backward()
        opt.step()
        mon.step()
    assert mon.n_params <= 2000
    return task, model, opt, mon


def flat_loss(task, model, mon) -> curvature.FlatLoss:
    named = list(mon.names_params)
    return curvature.FlatLoss(named, task_loss_of(model, task, task.x_train, task.y_train))


def full_hessian(loss: curvature.FlatLoss) -> torch.Tensor:
    return torch.autograd.functional.hessian(
        lambda th: loss(th), loss.theta0.clone(), vectorize=True
    )


def test_mode_curvature_equals_the_full_hessian(setup) -> None:
    task, model, opt, mon = setup
    loss = flat_loss(task, model, mon)
    H = full_hessian(loss)
    V = mon.directions(4)
    curv = curvature.Curvature(loss)
    h, h_pre = curvature.mode_curvatures(curv, V)
    direct = torch.einsum("jp,pq,jq->j", V, H, V).numpy()
    assert np.abs(direct).min() > 1e-6  # a real test: the curvatures are not ~0
    np.testing.assert_allclose(h, direct, rtol=1e-8, atol=0)
    np.testing.assert_allclose(h_pre, h, rtol=0, atol=0)  # no preconditioner: identical
    # the preconditioned form with Adam's diagonal M
    M, kind = curvature.preconditioner(opt, list(mon.names_params))
    assert kind == "adam"
    _, h_adam = curvature.mode_curvatures(curv, V, M)
    m_diag = M(torch.ones(loss.P, dtype=torch.float64))
    expected = torch.einsum("jp,p,pq,jq->j", V, m_diag, H, V).numpy()
    np.testing.assert_allclose(h_adam, expected, rtol=1e-8)


def test_adam_preconditioner_is_the_bias_corrected_second_moment(setup) -> None:
    _, model, opt, mon = setup
    name, p = mon.names_params[0]
    state, group = opt.state[p], opt.param_groups[0]
    step = float(state["step"])
    v_hat = state["exp_avg_sq"] / (1 - group["betas"][1] ** step)
    expected = (1 / (v_hat.sqrt() + group["eps"])).reshape(-1)
    M, _ = curvature.preconditioner(opt, [(name, p)])
    torch.testing.assert_close(M(torch.ones(p.numel(), dtype=p.dtype)), expected)


def test_top_k_eigenvalues_equal_eigvalsh(setup) -> None:
    task, model, _, mon = setup
    loss = flat_loss(task, model, mon)
    H = full_hessian(loss).numpy()
    exact = np.sort(np.linalg.eigvalsh((H + H.T) / 2))[::-1][:6]
    top = curvature.hessian_top(curvature.Curvature(loss), k=6, tol=1e-10, seed=3)
    assert top.converged and top.n_hvp > 6
    np.testing.assert_allclose(top.eigenvalues, exact, rtol=1e-6)
    assert top.residuals.max() < 1e-6
    stiff = curvature.count_stiff(top.eigenvalues, eta_eff=0.1, W=4)
    assert stiff == int(np.sum(exact >= 1 / 0.4))


def test_gradient_projections_equal_a_direct_projection(setup) -> None:
    task, model, _, mon = setup
    loss = flat_loss(task, model, mon)
    V = mon.directions(3)
    theta = loss.theta0.clone().requires_grad_(True)
    (g,) = torch.autograd.grad(loss(theta), theta)
    named_grads = torch.autograd.grad(
        task_loss_of(model, task, task.x_train, task.y_train)(dict(model.named_parameters())),
        [p for _, p in mon.names_params],
    )
    g_direct = torch.cat([t.reshape(-1) for t in named_grads])
    torch.testing.assert_close(g, g_direct, rtol=1e-12, atol=1e-14)
    G = projections.project(V, g)
    np.testing.assert_allclose(G, [float(v @ g_direct) for v in V], rtol=1e-12)


def test_finite_difference_agrees_with_the_exact_curvature(setup) -> None:
    task, model, _, mon = setup
    loss = flat_loss(task, model, mon)
    V = mon.directions(3)
    h, _ = curvature.mode_curvatures(curvature.Curvature(loss), V)
    fd = curvature.finite_difference_curvature(loss, V, curvature.fd_epsilon(loss.theta0))
    np.testing.assert_allclose(fd, h, rtol=1e-3)
    # a large step no longer agrees: the check can fail
    far = curvature.finite_difference_curvature(loss, V, 50 * loss.theta0.norm().item())
    assert not np.allclose(far, h, rtol=1e-3)


def test_ablating_an_orthonormal_basis_removes_exactly_that_component() -> None:
    rng = np.random.default_rng(0)
    P, k = 50, 4
    basis = ablation.random_directions(P, k, rng)
    theta = torch.from_numpy(rng.standard_normal(P))
    out = ablation.ablated(theta, basis)
    assert torch.allclose(basis @ out, torch.zeros(k, dtype=torch.float64), atol=1e-13)
    rest = theta - basis.T @ (basis @ theta)
    torch.testing.assert_close(out, rest)
    # any other basis of the same subspace gives the same result
    q, _ = np.linalg.qr(rng.standard_normal((k, k)))
    torch.testing.assert_close(ablation.ablated(theta, torch.from_numpy(q) @ basis), out)
    # parameters come back bitwise, also when the measurement raises
    w = torch.from_numpy(rng.standard_normal(P))
    before = w.clone()
    seen = ablation.with_ablated([w], basis, lambda: (basis @ w).abs().max().item())
    assert seen < 1e-13 and torch.equal(w, before)
    with pytest.raises(RuntimeError):
        ablation.with_ablated([w], basis, lambda: (_ for _ in ()).throw(RuntimeError("x")))
    assert torch.equal(w, before)


def test_energy_split_and_mixing_closed_forms() -> None:
    # one update along v, θ_end·v = 2, ω·η = 0.5: θ_before = 1, wd part −0.5·1.5
    frac = projections.energy_split(np.array([[1.0]]), np.array([2.0]), 0.5, 1.0)
    grad, wd = 1.0 + 0.75, -0.75
    assert frac[0] == pytest.approx(grad**2 / (grad**2 + wd**2))
    a, g = np.array([1.0, 2.0, 0.0]), np.array([0.5, -1.0, 3.0])
    # φ = 0 changes nothing; rotating by π swaps signs in the plane
    assert mixing.rotation_change(a, g, 0, 0.0) == 0.0
    assert mixing.rotation_change(a, g, 0, math.pi) == pytest.approx(-2 * (0.5 * 1 - 1 * 2))
    assert injection.injection(np.array([1.0]), np.array([-1.0]))[0] == 0.0
    with pytest.raises(InputError, match="samples"):
        injection.noise_power(np.ones((1, 2)))


def test_probe_window_rows_and_no_side_effects(setup) -> None:
    task, model, opt, mon = setup
    before = {k: v.clone() for k, v in model.state_dict().items()}
    rng_torch, rng_np = torch.get_rng_state(), np.random.get_state()
    model.eval()
    for p in model.parameters():
        p.grad = None
    result = probe_window(
        model, opt, mon, probe_data(model, task, 64), step=8, seed=0, batch_size=16, wd=0.5,
        settings=ProbeSettings(modes=3, batch=32, hess_k=4, draws=3, noise_batches=3),
    )
    assert not model.training  # mode restored
    assert all(torch.equal(before[k], v) for k, v in model.state_dict().items())
    assert torch.equal(torch.get_rng_state(), rng_torch)
    assert np.array_equal(np.random.get_state()[1], rng_np[1])
    assert all(p.grad is None for p in model.parameters())  # no .grad written
    assert len(result.rows) == 3 and set(ROW_COLUMNS) <= set(result.rows[0])
    assert set(WINDOW_COLUMNS) - {"hess_k"} <= set(result.window)
    assert [r["mode"] for r in result.rows] == [1, 2, 3]
    assert result.rows[-1]["mix_pair"] == "" and math.isnan(result.rows[-1]["mix_dloss"])
    kstar = result.window["kstar_weighted"]
    assert result.rows[kstar - 1]["mix_pair"] == "across"
    assert {f"hess_top_{i}" for i in range(1, 5)} <= set(result.window)
    # the window's σ and the row's agree with the monitor
    np.testing.assert_allclose([r["sigma"] for r in result.rows], mon.stats.sigma[:3])
    # G_train on the fixed probe batch equals a direct projection
    V = mon.directions(3)
    again = probe_window(
        model, opt, mon, probe_data(model, task, 64), step=8, seed=0, batch_size=16, wd=0.5,
        settings=ProbeSettings(modes=3, batch=32, hess_k=4, draws=3, noise_batches=3),
    )
    assert again.rows == result.rows and again.window == result.window  # reproducible
    assert V.shape[0] == 3
    model.train()


def test_bad_settings_name_the_argument() -> None:
    with pytest.raises(InputError, match="probe_noise_batches"):
        ProbeSettings(noise_batches=1)
    with pytest.raises(InputError, match="eps"):
        curvature.finite_difference_curvature(None, torch.zeros(1, 1), 0.0)
    assert [s for s in range(0, 50, 5) if is_probe_step(s, 5, 3)] == [0, 15, 30, 45]
    assert not is_probe_step(30, 5, None)


def test_muon_preconditioner_is_the_linearised_orthogonalisation() -> None:
    from spectral_edge.validation.runs.optimizers import build_optimizer

    torch.manual_seed(0)
    net = torch.nn.Sequential()
    net.add_module("fc", torch.nn.Linear(6, 4, bias=False))
    net.add_module("head", torch.nn.Linear(4, 2))
    opt = build_optimizer(net, "muon", lr=1e-2, weight_decay=0.0)
    for _ in range(3):
        opt.zero_grad()
        net(torch.randn(8, 6)).pow(2).mean().backward()
        opt.step()
    w = net.fc.weight
    M, kind = curvature.preconditioner(opt, [("fc.weight", w)])
    assert kind == "muon"
    B = next(s["momentum_buffer"] for s in opt.optimizers[0].state.values())
    U, _, Vh = torch.linalg.svd(B.double(), full_matrices=False)
    scale = 0.2 * math.sqrt(max(w.shape))
    mb = M(B.reshape(-1)).view(w.shape).double()
    torch.testing.assert_close(mb, scale * (U @ Vh), rtol=1e-4, atol=1e-5)  # B -> c·UVᵀ
    x, y = torch.randn(w.numel()), torch.randn(w.numel())
    assert float(x @ M(y)) == pytest.approx(float(M(x) @ y), rel=1e-4)  # symmetric
    assert float(x @ M(x)) >= 0  # positive semi-definite
    # SGD: the identity
    sgd = torch.optim.SGD(net.parameters(), lr=0.1)
    M_sgd, kind_sgd = curvature.preconditioner(sgd, [("fc.weight", w)])
    assert kind_sgd == "identity" and torch.equal(M_sgd(x), x)


def test_probe_defaults_are_declared_once() -> None:
    from spectral_edge.validation.runs.config import RunConfig

    config, settings = RunConfig(), ProbeSettings()
    assert ProbeSettings.from_config(config) == settings
    assert config.probe_batch == settings.batch == 512
