"""Every scenario preset shows what its documentation claims; the simulate CLI runs them."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from spectral_edge.numerics.scenarios import PRESETS, describe, run_scenario
from spectral_edge.validation.cli import main


@pytest.fixture(scope="module")
def results():
    return {name: run_scenario(name) for name in PRESETS}


def test_every_preset_is_documented_and_runs(results) -> None:
    assert set(PRESETS) >= {
        "plateau",
        "transition",
        "forgetting",
        "viable-gap",
        "collapsing-gap",
        "optimizer-kstar",
        "feedback-bistability",
    }
    for name, res in results.items():
        assert len(describe(name)) > 80
        for tr in res.trajectories:
            assert np.all(np.isfinite(tr.sigma)) and np.all(tr.g >= 0)
            assert np.all(np.diff(tr.sigma, axis=1) <= 1e-12)  # sorted levels


def test_adiabatic_regimes(results) -> None:
    plateau = results["plateau"].trajectories[0]
    assert plateau.A.max() < 0.1 and set(plateau.regime) == {"plateau"}
    transition = results["transition"].trajectories[0]
    assert 0.1 <= transition.A.max() <= 10
    assert (transition.kstar[0], transition.kstar[-1]) == (1, 2)
    forgetting = results["forgetting"].trajectories[0]
    assert forgetting.A.max() > 10 and "forgetting" in forgetting.regime


def test_gap_presets(results) -> None:
    viable = results["viable-gap"].summary
    assert viable["g_end"] == pytest.approx(viable["g_star_theory"], rel=1e-3)
    collapsing = results["collapsing-gap"].summary
    assert collapsing["g_end_with_repulsion"] == pytest.approx(
        collapsing["g_star_theory"], rel=1e-4
    )
    assert collapsing["g_star_theory"] == pytest.approx(collapsing["beta_over_abs_c"], rel=0.05)
    assert np.isfinite(collapsing["collapse_time_without_repulsion"])


def test_optimizer_and_feedback_presets(results) -> None:
    k = results["optimizer-kstar"].summary
    assert (k["kstar_end[AdamW-like]"], k["kstar_end[Muon-like]"]) == (2, 1)
    fb = results["feedback-bistability"].summary
    assert fb["g_end_above"] == pytest.approx(fb["g_stable"], rel=1e-4)
    assert np.isnan(fb["collapse_time[rho8_above]"])
    assert np.isfinite(fb["collapse_time[rho8_below]"])
    assert np.isfinite(fb["collapse_time[rho4]"])


def test_cli_list_and_unknown_name(capsys) -> None:
    assert main(["simulate", "--list"]) == 0
    out = capsys.readouterr().out
    assert all(name in out for name in PRESETS)
    assert main(["simulate", "no-such-scenario"]) == 2
    assert "unknown scenario" in capsys.readouterr().err
    assert main(["simulate"]) == 2


def test_cli_scenario_writes_plot_and_csv(tmp_path, capsys) -> None:
    png, csv = tmp_path / "t.png", tmp_path / "t.csv"
    assert main(["simulate", "collapsing-gap", "--plot", str(png), "--csv", str(csv)]) == 0
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and png.stat().st_size > 20_000
    table = pd.read_csv(csv)
    assert {"label", "t", "g", "A", "regime", "sigma_1", "sigma_2"} <= set(table.columns)
    assert table["label"].nunique() == 2
    assert "g_star_theory" in capsys.readouterr().out
