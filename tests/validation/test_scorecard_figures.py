"""The scorecard's pooled figures draw the measured quantities (checked on runs whose values
are known by construction) and are skipped when their inputs are missing."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
from matplotlib.collections import PathCollection
from matplotlib.figure import Figure
from test_predictions import _gap_flow_probes
from test_predictions_data import grok_curve, make_run, probes_frame

from spectral_edge.validation.scorecard.analysis import load_run
from spectral_edge.validation.scorecard.figures import (
    figure_gap_flow,
    figure_lifecycle,
    figure_sketch,
    figure_steady_state,
)
from spectral_edge.validation.scorecard.predictions import PREDICTIONS


def _points(fig: Figure) -> np.ndarray:
    """The (x, y) of every scatter point on the figure's first axes."""
    return np.concatenate([c.get_offsets() for c in fig.axes[0].collections
                           if isinstance(c, PathCollection)])


def test_gap_flow_points_lie_on_the_diagonal_when_r2_holds(tmp_path: Path) -> None:
    run = load_run(make_run(tmp_path, "a", n=30, config={"wd": 0.0},
                            probes=_gap_flow_probes(False)))
    pts = _points(figure_gap_flow([run]))
    assert len(pts) == 29
    np.testing.assert_allclose(pts[:, 1], pts[:, 0], rtol=1e-9, atol=1e-12)
    shuffled = load_run(make_run(tmp_path, "b", n=30, config={"wd": 0.0},
                                 probes=_gap_flow_probes(True)))
    off = _points(figure_gap_flow([shuffled]))
    assert not np.allclose(off[:, 1], off[:, 0], rtol=0.1)


def test_steady_state_points_are_sigma_against_the_r1_steady_state(tmp_path: Path) -> None:
    steps = 1000 + 100 * np.arange(4)
    gamma = np.tile([4.0, 1.0, 0.25], (4, 1))
    h = np.tile([1.0, 1.0, 3.0], (4, 1))
    sigma = np.sqrt(10 * gamma / (h + 1.0))  # W = 10, ω = wd = 1
    run = load_run(make_run(tmp_path, "a", n=4,
                            probes=probes_frame(steps, 3, sigma=sigma, h=h, Gamma=gamma)))
    pts = _points(figure_steady_state([run]))
    assert len(pts) == 12
    np.testing.assert_allclose(pts[:, 1], pts[:, 0])
    np.testing.assert_allclose(sorted(set(pts[:, 1].round(9))), sorted(set(sigma[0].round(9))))


def test_lifecycle_lines_are_energy_against_steps_from_grokking(tmp_path: Path) -> None:
    steps = 1000 + 100 * np.arange(20)
    frac = np.where(steps[:, None] < 2000, 0.9, 0.1) * np.ones((20, 2))
    run = load_run(make_run(tmp_path, "a", test_acc=grok_curve(20, 10),
                            probes=probes_frame(steps, 2, grad_energy_frac=frac)))
    line = figure_lifecycle([run]).axes[0].lines[0]
    np.testing.assert_array_equal(line.get_xdata(), steps - 2000)
    np.testing.assert_array_equal(line.get_ydata(), frac[:, 0])
    no_wd = load_run(make_run(tmp_path, "b", test_acc=grok_curve(20, 10), config={"wd": 0.0},
                              probes=probes_frame(steps, 2, grad_energy_frac=frac)))
    assert figure_lifecycle([no_wd]) is None


def test_sketch_points_pair_each_sigma_with_its_exact_twin(tmp_path: Path) -> None:
    sigma = np.tile(np.r_[10.0, np.linspace(3.0, 1.0, 9)], (20, 1))
    exact = load_run(make_run(tmp_path, "exact", sigma=sigma))
    sketched = load_run(make_run(tmp_path, "sk", sigma=sigma * 1.05,
                                 config={"sketch_dim": 100}))
    pts = _points(figure_sketch([exact, sketched]))
    assert len(pts) == 200
    np.testing.assert_allclose(pts[:, 1], 1.05 * pts[:, 0])


@pytest.mark.parametrize("make", [figure_gap_flow, figure_steady_state, figure_lifecycle,
                                  figure_sketch])
def test_no_inputs_no_figure(tmp_path: Path, make: Callable[..., Figure | None]) -> None:
    assert make([load_run(make_run(tmp_path, "plain"))]) is None


def test_gap_flow_leaves_out_windows_with_a_zero_sigma(tmp_path: Path) -> None:
    probes = _gap_flow_probes(False)
    probes.loc[(probes["step"] == 1500) & (probes["mode"] == 2), "sigma"] = 0.0  # Γ/d = inf
    run = load_run(make_run(tmp_path, "a", n=30, config={"wd": 0.0}, probes=probes))
    pts = _points(figure_gap_flow([run]))
    assert len(pts) == 27 and np.isfinite(pts).all()  # the pairs into and out of 1500
    p7 = PREDICTIONS["P7"]([run])  # scored on the other 27 pairs, not "not measurable"
    assert p7.verdict == "pass" and p7.details["n_pairs"] == 27
