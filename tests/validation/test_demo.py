"""The main job on a tiny model: both runs, the table, demo.csv and demo.png."""

from __future__ import annotations

import pandas as pd
import pytest

from spectral_edge.validation.cli import main
from spectral_edge.validation.experiments.demo import format_table, run_demo

TINY = {"p": 11, "d_model": 16, "n_heads": 2, "d_ff": 16, "stride": 5, "window": 3,
        "eval_every": 5, "batch_size": 32, "threads": 1}


def test_demo_writes_table_csv_and_png(tmp_path) -> None:
    runs = run_demo(tmp_path, steps=60, **TINY)
    assert [r.wd for r in runs] == [1.0, 0.0]
    table = pd.read_csv(tmp_path / "demo.csv")
    assert set(table["wd"]) == {1.0, 0.0}
    assert {"sigma_1", "sigma_3", "kstar", "R", "g23_lambda", "train_acc", "test_acc"} <= set(table)
    # windows end at multiples of the stride once W snapshots exist: 15, 20, ..., 60
    assert table[table["wd"] == 1.0]["step"].tolist() == list(range(15, 61, 5))
    assert (tmp_path / "demo.png").stat().st_size > 10_000
    text = format_table(runs[0], every=20)
    assert text.splitlines()[0].split()[:4] == ["step", "σ1", "σ2", "σ3"]
    assert [line.split()[0] for line in text.splitlines()[1:]] == ["20", "40", "60"]
    # a second call reuses the finished runs and gives the same table
    again = run_demo(tmp_path, steps=60, **TINY)
    pd.testing.assert_frame_equal(again[0].table, runs[0].table)


def test_grok_row_is_marked() -> None:
    table = pd.DataFrame({"step": [10, 15, 20], "sigma_1": [1.0] * 3, "sigma_2": [0.5] * 3,
                          "kstar": [1] * 3, "R": [2.0] * 3, "g23_lambda": [0.1] * 3,
                          "train_acc": [1.0] * 3, "test_acc": [0.5, 0.96, 0.97]})
    from spectral_edge.validation.experiments.demo import DemoRun

    text = format_table(DemoRun(1.0, table, table, table, 15, 20, 1.0), every=10)
    assert [line.endswith("<- grok") for line in text.splitlines()[1:]] == [False, True, False]


def test_demo_cli_rejects_too_few_steps(capsys: pytest.CaptureFixture[str], tmp_path) -> None:
    assert main(["demo", "--out", str(tmp_path), "--steps", "300"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "at least 1000 steps" in err[0]


def test_results_page_comes_from_the_runs(tmp_path) -> None:
    from spectral_edge.validation.experiments.demo import results_markdown
    from spectral_edge.validation.scorecard.analysis import RunData, g23_decline

    runs = run_demo(tmp_path / "d", steps=60, **TINY)
    page = results_markdown(runs, "spectral-edge demo --results r.md")
    rows = [line for line in page.splitlines() if line.startswith("| 1 |") or
            line.startswith("| 0 |")]
    assert len(rows) == 2
    for demo, row in zip(runs, rows, strict=True):
        cells = [c.strip() for c in row.strip("|").split("|")]
        assert cells[1] == ("none" if demo.grok_step is None else str(demo.grok_step))
        assert cells[6] == str(demo.steps_done)
        decline = g23_decline(RunData("r", tmp_path, demo.spectra), demo.grok_step)
        assert f"({decline.ratio:.2f}×)" in cells[4]
    assert main(["demo", "--out", str(tmp_path / "d"), "--steps", "60",
                 "--results", str(tmp_path)]) == 2  # a directory: refused before any work


def test_demo_cli_every_checked_after_steps(capsys: pytest.CaptureFixture[str], tmp_path) -> None:
    # a valid cap with a row stride beyond it: the message is about --every
    assert main(["demo", "--out", str(tmp_path), "--steps", "1000", "--every", "2000"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "--every" in err[0] and "1000" in err[0]
