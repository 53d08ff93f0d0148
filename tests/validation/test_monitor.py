"""GramMonitor: incremental Gram = batch Gram, robustness, resume, sketching."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from numerics import spectra
from numerics.errors import InputError
from validation.monitor import GramMonitor, select_parameters

SETTINGS = settings(max_examples=40, deadline=None)


def feed(mon: GramMonitor, params: list[torch.Tensor], updates: np.ndarray) -> None:
    """Apply each row of ``updates`` (split across ``params``) and call ``mon.step()``."""
    sizes = [p.numel() for p in params]
    for row in updates:
        with torch.no_grad():
            for p, chunk in zip(params, np.split(row, np.cumsum(sizes)[:-1]), strict=True):
                p.add_(torch.from_numpy(chunk).view_as(p).to(p.dtype))
        mon.step()


@SETTINGS
@given(
    seed=st.integers(0, 10_000),
    W=st.integers(2, 8),
    n=st.integers(1, 20),
    shapes=st.lists(st.integers(1, 30), min_size=1, max_size=4),
)
def test_incremental_gram_equals_batch_gram(seed: int, W: int, n: int, shapes: list[int]):
    rng = np.random.default_rng(seed)
    params = [torch.zeros(s, dtype=torch.float64, requires_grad=True) for s in shapes]
    mon = GramMonitor(params, window=W, dtype=torch.float64)
    P = sum(shapes)
    updates = rng.normal(size=(W + n, P)) * rng.uniform(1e-3, 1e3, size=(W + n, 1))
    feed(mon, params, updates)
    X = updates[-W:]
    G = mon.gram()
    np.testing.assert_allclose(G, X @ X.T, rtol=1e-10, atol=1e-10 * np.abs(X @ X.T).max())
    K = mon.gram_plus()
    Xp = updates[-(W + 1) :]
    np.testing.assert_allclose(K, Xp @ Xp.T, rtol=1e-10, atol=1e-10 * np.abs(Xp @ Xp.T).max())
    lam = np.linalg.eigvalsh(G)
    assert lam.min() >= -1e-10 * lam.max()  # PSD
    sv = np.zeros(W)
    sv[: min(W, P)] = np.linalg.svd(X, compute_uv=False)
    np.testing.assert_allclose(
        spectra.eigenvalues_from_gram(G, rtol=0.0),
        sv**2,
        rtol=1e-8,
        atol=1e-10 * lam.max(),
    )
    assert len(mon.history()) == n + 1


def test_float32_storage_is_accurate_to_float32_precision() -> None:
    rng = np.random.default_rng(0)
    p = torch.zeros(200_000, requires_grad=True)
    mon = GramMonitor([p], window=4)
    updates = rng.normal(size=(6, p.numel())).astype(np.float32)
    feed(mon, [p], updates)
    X = updates[-4:].astype(np.float64)
    np.testing.assert_allclose(mon.gram(), X @ X.T, rtol=1e-5, atol=1e-5 * (X @ X.T).max())


def test_stride_takes_every_sth_step_and_history_records_steps() -> None:
    p = torch.zeros(5, dtype=torch.float64, requires_grad=True)
    mon = GramMonitor([p], window=2, stride=3, dtype=torch.float64)
    rng = np.random.default_rng(1)
    updates = rng.normal(size=(12, 5))
    feed(mon, [p], updates)
    # snapshots after calls 3, 6, 9, 12: δ sums three steps each
    snaps = updates.reshape(4, 3, 5).sum(axis=1)
    np.testing.assert_allclose(mon.gram(), snaps[-2:] @ snaps[-2:].T, rtol=1e-10)
    assert mon.history()["step"].tolist() == [6, 9, 12]


def test_lr_from_optimizer_feeds_the_adiabatic_parameter() -> None:
    torch.manual_seed(0)
    model = torch.nn.Linear(6, 3)
    opt = torch.optim.SGD(model.parameters(), lr=0.05)
    mon = GramMonitor(model, window=3, optimizer=opt)
    for _ in range(6):
        opt.zero_grad()
        model(torch.randn(4, 6)).pow(2).sum().backward()
        opt.step()
        mon.step()
    hist = mon.history()
    assert np.isnan(hist["A"].iloc[0])  # the first window has no predecessor
    last = mon.stats
    assert last is not None and last.A == pytest.approx(
        last.delta_c_fro / (0.05 * last.g**2), rel=1e-12
    )


@pytest.mark.parametrize("bad", [float("nan"), float("inf")])
def test_nonfinite_update_is_skipped_and_window_unchanged(bad: float) -> None:
    p = torch.zeros(4, dtype=torch.float64, requires_grad=True)
    mon = GramMonitor([p], window=2, dtype=torch.float64)
    feed(mon, [p], np.eye(4)[:3])
    before = mon.gram_plus()
    with torch.no_grad():
        p[0] = bad
    with pytest.warns(RuntimeWarning, match="NaN/Inf"):
        assert mon.step() is False
    np.testing.assert_array_equal(mon.gram_plus(), before)
    assert mon.skipped == 1
    # training recovers (parameters reset by the user): the next update is from the last
    # finite snapshot
    with torch.no_grad():
        p.copy_(torch.tensor([1.0, 1.0, 1.0, 2.0], dtype=torch.float64))
    mon.step()
    np.testing.assert_allclose(mon.gram()[-1, -1], 4.0)  # δ = (0, 0, 0, 2)


def test_zero_update_raises_when_asked() -> None:
    p = torch.zeros(3, requires_grad=True)
    mon = GramMonitor([p], window=2, on_error="raise")
    with pytest.raises(InputError, match="zero update"):
        mon.step()
    mon_warn = GramMonitor([p], window=2)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        mon_warn.step()
    assert any("zero update" in str(w.message) for w in caught)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"window": 1}, "window must be"),
        ({"stride": 0}, "stride must be"),
        ({"select": "nothing_matches_this"}, "matches no trainable"),
        ({"select": "("}, "regular expression"),
        ({"sketch_dim": 3, "window": 10}, "sketch_dim"),
        ({"lr": -0.1}, "lr must be"),
    ],
)
def test_bad_configuration_raises(kwargs: dict, message: str) -> None:
    with pytest.raises(InputError, match=message):
        GramMonitor(torch.nn.Linear(3, 2), **kwargs)


def test_state_dict_round_trip_resumes_exactly() -> None:
    rng = np.random.default_rng(5)
    updates = rng.normal(size=(15, 30))
    p1 = torch.zeros(30, requires_grad=True)
    full = GramMonitor([p1], window=4)
    feed(full, [p1], updates)

    p2 = torch.zeros(30, requires_grad=True)
    first = GramMonitor([p2], window=4)
    feed(first, [p2], updates[:8])
    state = first.state_dict()
    resumed = GramMonitor([p2], window=4)
    resumed.load_state_dict(state)
    feed(resumed, [p2], updates[8:])
    np.testing.assert_array_equal(resumed.gram_plus(), full.gram_plus())
    assert resumed.history().equals(full.history())
    with pytest.raises(InputError, match="window"):
        GramMonitor([p2], window=5).load_state_dict(state)


def test_directions_are_the_right_singular_vectors() -> None:
    rng = np.random.default_rng(2)
    p = torch.zeros(50, dtype=torch.float64, requires_grad=True)
    mon = GramMonitor([p], window=5, dtype=torch.float64)
    updates = rng.normal(size=(7, 50)) * np.array([5, 4, 3, 2, 1, 0.5, 0.2])[:, None]
    feed(mon, [p], updates)
    V = mon.directions(3).numpy()
    Vt = np.linalg.svd(updates[-5:], full_matrices=False)[2][:3]
    np.testing.assert_allclose(np.abs(np.sum(V * Vt, axis=1)), 1.0, atol=1e-10)


def test_sketch_keeps_the_spectrum_roughly() -> None:
    rng = np.random.default_rng(4)
    W, P = 6, 20_000
    basis = rng.normal(size=(W, P))
    updates = (rng.normal(size=(W + 2, W)) * [8, 4, 2, 1, 0.5, 0.25]) @ basis
    exact_p = torch.zeros(P, dtype=torch.float64, requires_grad=True)
    sketch_p = torch.zeros(P, dtype=torch.float64, requires_grad=True)
    exact = GramMonitor([exact_p], window=W, dtype=torch.float64)
    sketch = GramMonitor([sketch_p], window=W, sketch_dim=40 * W, seed=1)
    feed(exact, [exact_p], updates)
    feed(sketch, [sketch_p], updates)
    rel = np.abs(sketch.stats.sigma - exact.stats.sigma) / exact.stats.sigma
    assert rel[:3].max() < 0.2
    with pytest.raises(InputError, match="exact mode"):
        sketch.directions(1)


def test_attention_selection_finds_projection_weights() -> None:
    mha = torch.nn.TransformerEncoderLayer(d_model=8, nhead=2, dim_feedforward=16)
    names = [n for n, _ in select_parameters(mha, "attention")]
    assert names == ["self_attn.in_proj_weight", "self_attn.out_proj.weight"]
