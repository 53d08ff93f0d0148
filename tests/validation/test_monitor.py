"""GramMonitor: incremental Gram = batch Gram, robustness, resume, sketching."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from spectral_edge.common.errors import InputError
from spectral_edge.numerics import spectra
from spectral_edge.validation.monitor import GramMonitor, select_parameters

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


# --------------------------------------------------------------------------- precision


def float64_mlp_run(lr: float, steps: int, **kwargs) -> tuple[GramMonitor, np.ndarray]:
    """A 3-layer float64 MLP with |θ| ≈ 3 trained by SGD; returns the monitor and the
    float64 updates recorded independently (flattened in the monitor's name order)."""
    torch.manual_seed(0)
    net = torch.nn.Sequential(
        torch.nn.Linear(8, 16), torch.nn.Tanh(), torch.nn.Linear(16, 16), torch.nn.Tanh(),
        torch.nn.Linear(16, 1),
    ).double()
    with torch.no_grad():
        for p in net.parameters():
            p.copy_(3.0 * torch.sign(torch.randn_like(p)) + 0.1 * torch.randn_like(p))
    opt = torch.optim.SGD(net.parameters(), lr=lr)
    mon = GramMonitor(net, optimizer=opt, **kwargs)
    named = dict(net.named_parameters())

    def flat() -> torch.Tensor:
        return torch.cat([named[n].detach().reshape(-1).clone() for n in mon.names])

    x, y = torch.randn(32, 8, dtype=torch.float64), torch.randn(32, 1, dtype=torch.float64)
    prev, deltas = flat(), []
    for _ in range(steps):
        opt.zero_grad()
        (0.05 * (net(x) - y) ** 2).mean().backward()  # gradients ~0.1: δ ~ 1e-7 ≪ |θ|
        opt.step()
        mon.step()
        current = flat()
        deltas.append((current - prev).numpy())
        prev = current
    return mon, np.array(deltas)


def rel_error(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.linalg.norm(a - b) / np.linalg.norm(b))


def test_float64_model_gram_is_exact_at_tiny_learning_rate() -> None:
    # θ_{t−1} used to be kept in float32: δ = θ_t − θ_{t−1} lost everything to cancellation
    mon, D = float64_mlp_run(lr=1e-6, steps=12, window=5)
    X = D[-5:]
    assert rel_error(mon.gram(), X @ X.T) < 1e-10  # was 0.24 (float32 θ_{t−1})
    assert rel_error(mon.gram_plus(), D[-6:] @ D[-6:].T) < 1e-10
    assert mon.dtype == torch.float64 and mon.param_dtype == torch.float64
    assert mon.skipped == 0


def test_float64_model_sketch_is_the_sketch_of_the_exact_updates() -> None:
    mon, D = float64_mlp_run(lr=1e-6, steps=12, window=5, sketch_dim=40)
    h = mon._storage.hash.numpy().astype(np.int64)
    S = np.zeros((40, D.shape[1]))
    S[h % 40, np.arange(D.shape[1])] = np.where(h >= 40, -1.0, 1.0)
    SX = D[-5:] @ S.T
    assert rel_error(mon.gram(), SX @ SX.T) < 1e-10


def test_storage_dtype_follows_the_parameters() -> None:
    def mon_for(*dtypes: torch.dtype, **kw) -> GramMonitor:
        return GramMonitor([torch.zeros(3, dtype=d, requires_grad=True) for d in dtypes],
                           window=2, **kw)

    assert mon_for(torch.float64).dtype == torch.float64
    assert mon_for(torch.float32).dtype == torch.float32
    assert mon_for(torch.bfloat16).dtype == torch.float32
    assert mon_for(torch.float16, torch.float32).dtype == torch.float32
    assert mon_for(torch.float32, torch.float64).dtype == torch.float64
    # explicit narrower storage: δ is still formed in float64, then rounded once
    narrow = mon_for(torch.float64, dtype=torch.float32)
    assert (narrow.dtype, narrow.param_dtype) == (torch.float32, torch.float64)


def test_explicit_float32_storage_of_float64_model_rounds_only_the_update() -> None:
    mon, D = float64_mlp_run(lr=1e-6, steps=12, window=5, dtype=torch.float32)
    X = D[-5:]
    assert rel_error(mon.gram(), X @ X.T) < 1e-5  # float32 rounding of δ, not of θ


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
@pytest.mark.parametrize("W", [50, 1000])
def test_rank_never_exceeds_P_when_the_window_is_longer(dtype: torch.dtype, W: int) -> None:
    # float32 storage used to report rank 28 (W = 50) and 505 (W = 1000) for P = 10
    rng = np.random.default_rng(W)
    p = torch.zeros(10, dtype=dtype, requires_grad=True)
    mon = GramMonitor([p], window=W, keep_grams=False)
    feed(mon, [p], rng.normal(size=(W + 1, 10)))
    st_ = mon.stats
    assert st_.rank <= 10 and np.count_nonzero(st_.sigma) <= 10
    assert mon.dtype == dtype
    assert st_.rtol == spectra.guard_rtol(W, torch.finfo(dtype).eps)
    assert mon.directions(10).shape == (10, 10)
    with pytest.raises(InputError, match="numerical rank"):
        mon.directions(11)


# --------------------------------------------------------------------------- persistence


def test_failed_load_leaves_the_monitor_unchanged_and_working() -> None:
    rng = np.random.default_rng(8)
    updates = rng.normal(size=(12, 20))
    p, ref_p = (torch.zeros(20, requires_grad=True) for _ in range(2))
    mon, ref = GramMonitor([p], window=3), GramMonitor([ref_p], window=3)
    feed(mon, [p], updates[:6])
    feed(ref, [ref_p], updates[:6])
    good = mon.state_dict()
    before = mon.state_dict()
    bad_states = [
        ({**good, "gram_slots": np.zeros((4, 4))}, "gram_slots"),
        ({**good, "buf": good["buf"][:, :5]}, "buf"),
        ({**good, "buf": good["buf"].numpy()}, "buf"),
        ({k: v for k, v in good.items() if k != "order"}, "order"),
        ({k: v for k, v in good.items() if k != "window"}, "window"),
        ({**good, "order": [0, 0, 1, 2, 3]}, "order"),
        ({**good, "skipped": -1}, "skipped"),
        ({**good, "skipped_by_kind": {"zero": 0}}, "skipped_by_kind"),
        ({**good, "grams": [np.eye(2)], "gram_steps": [6]}, "grams"),
        ({**good, "version": 1}, "version"),
        ([1, 2], "dict"),
        (None, "dict"),
    ]
    for state, key in bad_states:
        with pytest.raises(InputError, match=key):
            mon.load_state_dict(state)  # type: ignore[arg-type]
        after = mon.state_dict()
        assert sorted(after) == sorted(before)
        for k in before:
            if isinstance(before[k], torch.Tensor):
                assert torch.equal(after[k], before[k]), k
            elif isinstance(before[k], np.ndarray):
                np.testing.assert_array_equal(after[k], before[k])
            elif k == "grams":
                assert all(np.array_equal(a, b) for a, b in zip(after[k], before[k], strict=True))
            else:
                assert after[k] == before[k], k
    feed(mon, [p], updates[6:])
    feed(ref, [ref_p], updates[6:])
    np.testing.assert_array_equal(mon.gram_plus(), ref.gram_plus())
    X = updates[-3:]
    np.testing.assert_allclose(mon.gram(), X @ X.T, rtol=1e-5)


# --------------------------------------------------------------------------- parameters


def test_replaced_parameter_of_the_same_shape_is_followed() -> None:
    torch.manual_seed(1)
    model = torch.nn.Sequential(torch.nn.Linear(3, 2))
    mon = GramMonitor(model, window=2, dtype=torch.float64)
    old = model[0].weight
    new_values = old.detach().clone() + 1.0
    model[0].weight = torch.nn.Parameter(new_values.clone())
    with pytest.warns(RuntimeWarning, match="replaced by a new tensor"):
        mon.step()
    assert mon.names_params[mon.names.index("0.weight")][1] is model[0].weight
    with torch.no_grad():
        model[0].weight.add_(0.5)  # an update of the new tensor is seen
        model[0].bias.add_(0.25)
    mon.step()
    np.testing.assert_allclose(mon.gram().diagonal(), [6 * 1.0, 6 * 0.25 + 2 * 0.0625])
    # a replaced submodule of the same shapes is followed as well
    model[0] = torch.nn.Linear(3, 2)
    with pytest.warns(RuntimeWarning, match="was replaced by a new tensor") as caught:
        mon.step()
    assert {str(w.message).split("'")[1] for w in caught} == {"0.bias", "0.weight"}
    assert mon.names_params[mon.names.index("0.weight")][1] is model[0].weight


@pytest.mark.parametrize("how", ["replace", "resize", "submodule"])
def test_parameter_that_changes_shape_raises_or_stops(how: str) -> None:
    def build(on_error: str) -> tuple[torch.nn.Module, GramMonitor]:
        model = torch.nn.Sequential(torch.nn.Linear(3, 2), torch.nn.Linear(2, 1))
        mon = GramMonitor(model, window=2, on_error=on_error)
        with torch.no_grad():
            for q in model.parameters():
                q.add_(1.0)
        mon.step()
        # a consistent wider network: layer 0 gets 4 outputs
        if how == "replace":
            model[0].weight = torch.nn.Parameter(torch.zeros(4, 3))
            model[0].bias = torch.nn.Parameter(torch.zeros(4))
            model[1].weight = torch.nn.Parameter(torch.zeros(1, 4))
        elif how == "resize":
            model[0].weight.data = torch.zeros(4, 3)
            model[0].bias.data = torch.zeros(4)
            model[1].weight.data = torch.zeros(1, 4)
        else:
            model[0] = torch.nn.Linear(3, 4)
            model[1] = torch.nn.Linear(4, 1)
        return model, mon

    model, mon = build("raise")
    before = mon.gram_plus()
    with pytest.raises(InputError, match=r"'0\.bias'.*\(4,\)"):
        mon.step()
    np.testing.assert_array_equal(mon.gram_plus(), before)
    assert mon.stopped is None

    model, mon = build("warn")
    with pytest.warns(RuntimeWarning, match="monitor stops"):
        assert mon.step() is False
    assert "'0.bias'" in mon.stopped
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    for _ in range(3):  # training goes on; the monitor does nothing more
        opt.zero_grad()
        model(torch.randn(5, 3)).sum().backward()
        opt.step()
        assert mon.step() is False
    assert mon.history().empty and mon.state_dict()["stopped"] == mon.stopped


def test_removed_parameter_is_detected() -> None:
    model = torch.nn.Sequential(torch.nn.Linear(3, 2))
    mon = GramMonitor(model, window=2, on_error="raise")
    del model[0].bias
    with pytest.raises(InputError, match="'0.bias' was removed"):
        mon.step()


@pytest.mark.parametrize(
    ("source", "message"),
    [
        (lambda: torch.nn.Linear(3, 2, device="meta"), "meta device"),
        (lambda: [torch.zeros(3, dtype=torch.complex64, requires_grad=True)], "complex"),
        (lambda: [1, 2, 3], "item 0 is int"),
        (lambda: [("w", 1.0)], "item 0 is tuple"),
        (lambda: torch.zeros(3, 2, requires_grad=True), "single tensor"),
        (lambda: 5, "got int"),
        (lambda: [("a", torch.zeros(2, requires_grad=True))] * 2, "repeat"),
    ],
)
def test_unusable_parameters_are_refused_at_construction(source, message: str) -> None:
    with pytest.raises(InputError, match=message):
        GramMonitor(source(), window=2)


# --------------------------------------------------------------------------- memory


def test_huge_window_is_refused_unless_the_caller_opts_in() -> None:
    p = torch.zeros(10, requires_grad=True)
    with pytest.raises(InputError, match=r"window=10000\) needs about .* GiB.*=None"):
        GramMonitor([p], window=10_000)
    with pytest.raises(InputError, match="max_memory_bytes"):
        GramMonitor([p], window=600, max_memory_bytes=10 << 20)
    mon = GramMonitor([p], window=600, max_memory_bytes=None)  # opted in
    assert 10 << 20 < mon.memory_bytes < 2 << 30
    small = GramMonitor([p], window=10)
    assert small.memory_bytes < 300 << 20


def test_kept_grams_are_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    rng = np.random.default_rng(9)
    updates = rng.normal(size=(12, 6))
    p = torch.zeros(6, requires_grad=True)
    mon = GramMonitor([p], window=2, keep_grams=3)
    feed(mon, [p], updates)
    assert mon.grams().shape == (3, 3, 3) and len(mon.history()) == 11
    assert mon.gram_steps().tolist() == mon.history()["step"].tolist()[-3:]
    np.testing.assert_array_equal(mon.grams()[-1], mon.gram_plus())
    assert len(mon.state_dict()["grams"]) == 3
    # keep_grams=True keeps at most KEEP_GRAMS_BYTES of Grams; a warning when it drops one
    monkeypatch.setattr("spectral_edge.validation.monitor.records.KEEP_GRAMS_BYTES", 4 * 8 * 9)
    p2 = torch.zeros(6, requires_grad=True)
    auto = GramMonitor([p2], window=2)
    with pytest.warns(RuntimeWarning, match="keeps the latest 4 window Grams"):
        feed(auto, [p2], updates)
        auto.grams()
    assert auto.grams().shape == (4, 3, 3)
    # a resumed monitor keeps the same bounded list
    p3 = torch.zeros(6, requires_grad=True)
    resumed = GramMonitor([p3], window=2, keep_grams=3)
    resumed.load_state_dict(mon.state_dict())
    assert resumed.gram_steps().tolist() == mon.gram_steps().tolist()


# --------------------------------------------------------------------------- lr, skipped


@pytest.mark.parametrize("lr", [float("inf"), float("nan"), -0.1, 0.0, "0.1"])
def test_bad_fixed_learning_rate_is_refused(lr) -> None:
    with pytest.raises(InputError, match="lr must be a finite number > 0"):
        GramMonitor(torch.nn.Linear(3, 2), lr=lr)


def test_nonfinite_optimizer_lr_warns_or_raises_and_is_not_recorded() -> None:
    rng = np.random.default_rng(10)
    updates = rng.normal(size=(6, 4))
    p = torch.zeros(4, requires_grad=True)
    opt = torch.optim.SGD([p], lr=0.1)
    mon = GramMonitor([p], window=2, optimizer=opt)
    feed(mon, [p], updates[:3])
    opt.param_groups[0]["lr"] = float("nan")
    with pytest.warns(RuntimeWarning, match="learning rate at step 4 is nan"):
        feed(mon, [p], updates[3:4])
    opt.param_groups[0]["lr"] = 0.1
    feed(mon, [p], updates[4:5])
    hist = mon.history()
    assert np.isnan(hist["lr"].iloc[-2]) and np.isnan(hist["A"].iloc[-2])
    assert hist["lr"].iloc[-1] == 0.1 and np.isfinite(hist["A"].iloc[-1])
    assert mon.bad_lr == 1 and mon.state_dict()["bad_lr"] == 1

    strict = GramMonitor([p], window=2, optimizer=opt, on_error="raise")
    feed(strict, [p], updates[:3])
    before = strict.state_dict()
    opt.param_groups[0]["lr"] = float("inf")
    with torch.no_grad():
        p.add_(1.0)
    with pytest.raises(InputError, match="learning rate"):
        strict.step()
    assert strict.state_dict()["calls"] == before["calls"]
    np.testing.assert_array_equal(strict.gram_plus(), before["gram_slots"][
        np.ix_(before["order"][:-1], before["order"][:-1])])


def test_skipped_updates_are_counted_by_kind_in_history_and_state() -> None:
    rng = np.random.default_rng(12)
    p = torch.zeros(4, dtype=torch.float64, requires_grad=True)
    mon = GramMonitor([p], window=2)
    feed(mon, [p], rng.normal(size=(3, 4)))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        mon.step()  # zero update
        saved = p.detach().clone()
        with torch.no_grad():
            p[1] = float("inf")
        mon.step()  # non-finite update
        with torch.no_grad():
            p.copy_(saved)
        mon.step()  # back to the last finite snapshot: a zero update again
    assert mon.skipped == 3 and mon.skipped_by_kind == {"nonfinite": 1, "zero": 2}
    feed(mon, [p], rng.normal(size=(2, 4)))
    hist = mon.history()
    assert hist["skipped"].tolist() == [0, 0, 3, 3]
    state = mon.state_dict()
    assert state["skipped"] == 3 and state["skipped_by_kind"] == {"nonfinite": 1, "zero": 2}
    resumed = GramMonitor([p], window=2)
    resumed.load_state_dict(state)
    assert resumed.skipped == 3 and resumed.skipped_by_kind == mon.skipped_by_kind
    assert resumed.history().equals(hist)


# ------------------------------------------------------------------ storage classes, state


def _naive_rows(params: list[torch.Tensor], updates: np.ndarray):
    """Apply each row of ``updates`` to ``params``; yield after each one."""
    sizes = [p.numel() for p in params]
    for row in updates:
        with torch.no_grad():
            for p, chunk in zip(params, np.split(row, np.cumsum(sizes)[:-1]), strict=True):
                p.add_(torch.from_numpy(chunk).view_as(p).to(p.dtype))
        yield


@pytest.mark.parametrize("copies", [1, 2])  # θ in place (the CPU's), staged (the GPU's)
@pytest.mark.parametrize("block", [4, 64])  # several blocks, one
@pytest.mark.parametrize("shapes", [[7], [3, 5, 2], [40, 1]])
def test_exact_storage_dots_equal_a_naive_recomputation(shapes, block, copies,
                                                        monkeypatch) -> None:
    from spectral_edge.validation.monitor import storage

    monkeypatch.setattr(storage, "BLOCK", block)  # 4: several blocks, pieces across tensors
    rng = np.random.default_rng(0)
    params = [torch.zeros(s, dtype=torch.float64) for s in shapes]
    W = 3
    store = storage.ExactStorage(params, window=W, dtype=torch.float64, copies=copies)
    assert store.in_place == (copies == 1)
    store.resync()
    updates = rng.normal(size=(9, sum(shapes)))
    for t, _ in enumerate(_naive_rows(params, updates)):
        slot = t % store.slots
        dots = store.write(slot)
        store.commit()
        X = store.rows.numpy()  # naive: stack the rows, X @ X.T
        np.testing.assert_allclose(X[slot], updates[t], rtol=1e-12)
        np.testing.assert_allclose(dots, (X @ X.T)[slot], rtol=1e-10, atol=1e-12)
        np.testing.assert_allclose(store.theta_prev.numpy(), updates[: t + 1].sum(0),
                                   rtol=1e-10, atol=1e-12)


def test_exact_storage_leaves_theta_prev_until_commit() -> None:
    """Staged θ (two buffers, the GPU path): write() does not touch θ_{t−1}."""
    from spectral_edge.validation.monitor.storage import ExactStorage

    w = torch.zeros(5)
    store = ExactStorage([w], window=2, dtype=torch.float32, copies=2)
    w.add_(1.0)
    store.write(0)  # not committed: θ_{t−1} is still zero
    assert store.theta_prev.abs().sum() == 0
    w.add_(1.0)
    assert store.write(1)[1] == pytest.approx(5 * 4.0)  # δ = 2 from the uncommitted θ
    store.commit()
    np.testing.assert_array_equal(store.theta_prev.numpy(), np.full(5, 2.0))


def test_exact_storage_in_place_keeps_theta_prev_for_a_non_finite_update() -> None:
    """θ in place (one buffer: the CPU), one block: write() replaces θ_{t−1} by θ_t only when
    δ is finite; commit() copies θ_t after a write that left θ_{t−1} as it was."""
    from spectral_edge.validation.monitor.storage import ExactStorage

    w = torch.zeros(5)
    store = ExactStorage([w], window=2, dtype=torch.float32)
    assert store.in_place and store.memory_bytes == 4 * (4 * 5 + 5 + 4)
    w.add_(1.0)
    assert store.write(0)[0] == 5.0
    np.testing.assert_array_equal(store.theta_prev.numpy(), np.ones(5))
    w.add_(1.0)
    w[3] = float("inf")
    assert np.isnan(store.write(1)).all()
    np.testing.assert_array_equal(store.theta_prev.numpy(), np.ones(5))  # kept
    w[3] = 2.0  # finite again: what GramMonitor commits after a skip
    store.commit()
    np.testing.assert_array_equal(store.theta_prev.numpy(), np.full(5, 2.0))


def test_sketch_storage_dots_equal_a_naive_recomputation(monkeypatch) -> None:
    from spectral_edge.validation.monitor import storage
    from spectral_edge.validation.monitor.sketch import SketchStorage

    monkeypatch.setattr(storage, "BLOCK", 4)
    rng = np.random.default_rng(1)
    params = [torch.zeros(6, dtype=torch.float64), torch.zeros(5, dtype=torch.float64)]
    m, P = 8, 11
    store = SketchStorage(params, window=2, sketch_dim=m, seed=3)
    h = store.hash.numpy().astype(np.int64)
    S = np.zeros((m, P))
    S[h % m, np.arange(P)] = np.where(h >= m, -1.0, 1.0)
    updates = rng.normal(size=(6, P))
    for t, _ in enumerate(_naive_rows(params, updates)):
        slot = t % store.slots
        dots = store.write(slot)
        store.commit()
        np.testing.assert_allclose(store.rows[slot].numpy(), S @ updates[t], rtol=1e-12,
                                   atol=1e-12)
        X = store.rows.numpy()
        np.testing.assert_allclose(dots, (X @ X.T)[slot], rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("sketch_dim", [None, 6])
def test_state_round_trips_through_weights_only_torch_load(tmp_path, sketch_dim) -> None:
    rng = np.random.default_rng(2)
    p = torch.zeros(9, requires_grad=True)
    mon = GramMonitor([p], window=3, sketch_dim=sketch_dim, lr=0.1)
    updates = rng.normal(size=(8, 9))
    feed(mon, [p], updates[:5])
    torch.save(mon.state_dict(), tmp_path / "state.pt")
    state = torch.load(tmp_path / "state.pt", weights_only=True)
    q = torch.zeros(9, requires_grad=True)
    with torch.no_grad():
        q.copy_(p)
    resumed = GramMonitor([q], window=3, sketch_dim=sketch_dim, lr=0.1)
    resumed.load_state_dict(state)
    feed(mon, [p], updates[5:])
    feed(resumed, [q], updates[5:])
    np.testing.assert_array_equal(resumed.gram_plus(), mon.gram_plus())
    np.testing.assert_array_equal(resumed.grams(), mon.grams())
    assert resumed.history().equals(mon.history())
