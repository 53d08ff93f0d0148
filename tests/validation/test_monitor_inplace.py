"""θ_{t−1} kept in place over several blocks (exact mode on the CPU): a non-finite update
found after the first block leaves the overwritten entries NaN, and the monitor re-anchors
at the next finite parameters; the window is never touched by a rejected update."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import torch

from spectral_edge.validation.monitor import GramMonitor, storage

BLOCK = 8  # small blocks: P = 40 is five of them


@pytest.fixture
def small_blocks(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(storage, "BLOCK", BLOCK)


def test_theta_in_place_is_not_put_back_by_subtracting_the_update() -> None:
    """Why a rejected in-place pass cannot restore the blocks it overwrote: θ_t − δ is not
    θ_{t−1} when δ = fl(θ_t − θ_{t−1}) rounded."""
    prev, cur = torch.tensor([2.0**-30]), torch.tensor([1.0])
    delta = cur - prev
    assert delta.item() == 1.0 and (cur - delta).item() == 0.0 != prev.item()


@pytest.mark.usefixtures("small_blocks")
@pytest.mark.parametrize("bad", [3, 27])  # in the first block; in the fourth
def test_in_place_storage_rejects_a_non_finite_block(bad: int) -> None:
    w = torch.zeros(40, dtype=torch.float64)
    store = storage.ExactStorage([w], window=2, dtype=torch.float64)
    assert store.in_place and len(store.plan) == 5
    w.add_(1.0)
    assert store.write(0)[0] == 40.0
    rows = store.rows.clone()
    w.add_(1.0)
    w[bad] = float("nan")
    assert np.isnan(store.write(1, drop=0)).all()
    theta = store.theta_prev.numpy()
    done = (bad // BLOCK + 1) * BLOCK if bad >= BLOCK else 0  # overwritten, then lost (NaN)
    assert np.isnan(theta[:done]).all()
    np.testing.assert_array_equal(theta[done:], np.ones(40 - done))  # the rest: kept
    torch.testing.assert_close(store.rows[[0, 2, 3]], rows[[0, 2, 3]], rtol=0, atol=0)
    w[bad] = 2.0  # finite again: what GramMonitor commits after a skip
    store.commit()
    np.testing.assert_array_equal(store.theta_prev.numpy(), np.full(40, 2.0))


def _run(P: int, bad: int, state_round_trip: bool = False) -> tuple[GramMonitor, np.ndarray]:
    """Six finite updates; a NaN at entry ``bad`` (one step), the parameters put back to the
    last finite θ; four more finite updates. Returns the monitor and the ten updates."""
    rng = np.random.default_rng(7)
    p = torch.zeros(P, dtype=torch.float64, requires_grad=True)
    mon = GramMonitor([p], window=3)
    updates = rng.normal(size=(10, P))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        for t, u in enumerate(updates):
            if t == 6:
                saved = p.detach().clone()
                with torch.no_grad():
                    p[bad] = float("nan")
                mon.step()
                with torch.no_grad():
                    p.copy_(saved)
                if state_round_trip:
                    state = mon.state_dict()
                    mon = GramMonitor([p], window=3)
                    mon.load_state_dict(state)
            with torch.no_grad():
                p.add_(torch.from_numpy(u))
            mon.step()
    return mon, updates


@pytest.mark.usefixtures("small_blocks")
@pytest.mark.parametrize("round_trip", [False, True])
def test_monitor_re_anchors_after_a_non_finite_update_past_the_first_block(round_trip) -> None:
    """The update right after it (measured from a θ_{t−1} partly lost) is skipped too, as
    non-finite; the monitor re-anchors there, so the window holds the updates after it."""
    mon, updates = _run(40, bad=27, state_round_trip=round_trip)
    assert mon.skipped_by_kind == {"nonfinite": 2, "zero": 0}
    X = updates[[5, 7, 8, 9]]  # 6 skipped (the monitor re-anchored there)
    np.testing.assert_allclose(mon.gram_plus(), X @ X.T, rtol=1e-12)
    assert mon.history()["step"].tolist()[-1] == 11


@pytest.mark.usefixtures("small_blocks")
def test_monitor_keeps_theta_prev_for_a_non_finite_update_in_the_first_block() -> None:
    """Nothing overwritten yet: the next update is measured from the last finite θ, as with
    one block or a staged θ."""
    mon, updates = _run(40, bad=3)
    assert mon.skipped_by_kind == {"nonfinite": 1, "zero": 0}
    X = updates[6:]  # 6 measured from the last finite θ (across the NaN step)
    np.testing.assert_allclose(mon.gram_plus(), X @ X.T, rtol=1e-12)


def test_one_block_monitor_measures_across_a_non_finite_update() -> None:
    """P ≤ one block: a non-finite entry anywhere leaves θ_{t−1} as it was (unchanged
    behaviour)."""
    mon, updates = _run(40, bad=27)
    assert len(mon._storage.plan) == 1 and mon.skipped_by_kind == {"nonfinite": 1, "zero": 0}
    X = updates[6:]
    np.testing.assert_allclose(mon.gram_plus(), X @ X.T, rtol=1e-12)


@pytest.mark.parametrize("sizes", [(5, 13, 9, 11), (38,)])
@pytest.mark.parametrize("block", [BLOCK, 64])  # five blocks; one (one tensor: the lean pass)
def test_in_place_and_staged_storage_give_identical_products(sizes, block,
                                                             monkeypatch) -> None:
    """The in-place pass (CPU) and the staged one (the GPU's) store the same rows and return
    the same products, bit for bit, over blocks, pieces and dtypes."""
    monkeypatch.setattr(storage, "BLOCK", block)
    rng = np.random.default_rng(3)
    for dtype, row_dtype in ((torch.float32, torch.float32), (torch.float64, torch.float64),
                             (torch.bfloat16, torch.float32), (torch.float32, torch.float64)):
        made = [[torch.zeros(s, dtype=dtype) for s in sizes] for _ in range(2)]
        stores = [storage.ExactStorage(ps, window=3, dtype=row_dtype, copies=c)
                  for ps, c in zip(made, (1, 2), strict=True)]
        assert (stores[0]._one is not None) == (len(sizes) == 1 and block == 64)
        order = list(range(5))
        for _ in range(9):
            u = rng.normal(size=38)
            for ps in made:
                for p, chunk in zip(ps, np.split(u, np.cumsum(sizes)[:-1]), strict=True):
                    p.add_(torch.from_numpy(chunk).to(dtype))
            dots = [s.write(order[-1], order[0]) for s in stores]
            for s in stores:
                s.commit()
            np.testing.assert_array_equal(dots[0], dots[1])
            assert torch.equal(stores[0].rows, stores[1].rows)
            assert torch.equal(stores[0].theta_prev, stores[1].theta_prev)
            order = order[1:-1] + [order[-1], order[0]]
