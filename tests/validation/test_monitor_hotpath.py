"""The hot path queues accepted updates and the Gram is brought up to date when read: the
result must not depend on when (or whether) anything reads it."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from spectral_edge.validation.monitor import GramMonitor, records


def _monitor_run(read_every: int, steps: int = 40, round_trip_at: int | None = None
                 ) -> GramMonitor:
    """A float32 monitor (W = 4) over updates drawn from a fixed seed; reads the Gram every
    ``read_every`` steps (0: never); optionally saved and loaded into a new monitor."""
    rng = np.random.default_rng(5)
    p = torch.zeros(37, requires_grad=True)
    opt = torch.optim.SGD([p], lr=0.1)
    mon = GramMonitor([p], window=4, optimizer=opt)
    for t in range(steps):
        with torch.no_grad():
            p.add_(torch.from_numpy(rng.normal(size=37).astype(np.float32)))
        mon.step()
        if read_every and t % read_every == 0:
            mon.gram_plus()
        if t == round_trip_at:
            state = mon.state_dict()
            mon = GramMonitor([p], window=4, optimizer=opt)
            mon.load_state_dict(state)
    return mon


@pytest.mark.parametrize("read_every", [1, 3])
def test_grams_history_and_state_do_not_depend_on_when_they_are_read(read_every) -> None:
    lazy, eager = _monitor_run(0), _monitor_run(read_every)
    assert lazy._log.updates and not eager._log.updates  # queued; applied (read at t = 39)
    np.testing.assert_array_equal(lazy.gram_plus(), eager.gram_plus())
    np.testing.assert_array_equal(lazy.grams(), eager.grams())
    assert lazy.history().equals(eager.history())
    a, b = lazy.state_dict(), eager.state_dict()
    assert torch.equal(a["gram_slots"], b["gram_slots"]) and a["order"] == b["order"]


def test_a_checkpoint_taken_with_queued_updates_resumes_exactly() -> None:
    straight, resumed = _monitor_run(0), _monitor_run(0, round_trip_at=22)
    np.testing.assert_array_equal(straight.grams(), resumed.grams())
    assert straight.history().equals(resumed.history())


def test_queued_updates_are_bounded_by_the_pending_limit(monkeypatch) -> None:
    monkeypatch.setattr(records, "PENDING_LIMIT", 5)
    mon = _monitor_run(0, steps=23)
    assert len(mon._log.updates) < 5 and len(mon._log.rows) >= 15  # flushed on the way
    assert len(mon.history()) == 23 - 4 + 1


def test_windows_cut_out_by_gram_reads_are_bounded_too(monkeypatch) -> None:
    """Reading the Gram every step applies each update and queues its window; the windows'
    statistics are still computed once the limit is reached (memory stays bounded)."""
    monkeypatch.setattr(records, "PENDING_LIMIT", 5)
    mon = _monitor_run(1, steps=23)
    assert len(mon._log.pending) < 5 and len(mon._log.rows) >= 15


def test_statistics_computed_together_equal_those_computed_one_by_one() -> None:
    # read every step: each window's statistics alone; read at the end: all windows in one
    # window_stats_many call. history() must be the same to the last bit.
    def run(read_stats: bool) -> GramMonitor:
        rng = np.random.default_rng(11)
        p = torch.zeros(53, requires_grad=True)
        opt = torch.optim.SGD([p], lr=0.05)
        mon = GramMonitor([p], window=5, optimizer=opt)
        for t in range(60):
            with torch.no_grad():
                p.add_(torch.from_numpy((rng.normal(size=53) * (1 + t % 4)).astype(np.float32)))
            if t == 30:
                opt.param_groups[0]["lr"] = 0.2  # A changes with the learning rate
            mon.step()
            if read_stats:
                assert mon.stats is None or mon.stats.W == 5
        return mon

    one, together = run(True), run(False)
    assert len(together._log.pending) > 1 or len(together._log.updates) > 1
    assert one.history().equals(together.history()) and len(one.history()) == 56
