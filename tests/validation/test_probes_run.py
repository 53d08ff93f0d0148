"""Probes inside a training run: training unchanged, exact resume, ``spectral-edge probe``."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from spectral_edge.common.errors import InputError
from spectral_edge.validation.cli import main
from spectral_edge.validation.probes.window import ROW_COLUMNS, WINDOW_COLUMNS
from spectral_edge.validation.runs import rundir
from spectral_edge.validation.runs.config import RunConfig
from spectral_edge.validation.runs.reprobe import reprobe
from spectral_edge.validation.runs.training import run

TINY = {"d_model": 8, "n_heads": 2, "d_ff": 8, "n_layers": 1}


def tiny(**kw) -> RunConfig:
    base = {
        "p": 7, "steps": 24, "eval_every": 8, "window": 3, "stride": 2, "batch_size": 16,
        "checkpoint_every": 8, "monitor_select": "attention", "probe_every": 2,
        "probe_hess_every": 4, "probe_batch": 16, "probe_hess_k": 3, "probe_modes": 3,
        "probe_draws": 2, "probe_noise_batches": 2, "keep_checkpoints_every": 8,
    }
    return RunConfig.protocol("modadd", **(TINY | base | kw))


@pytest.fixture(scope="module")
def finished(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("probed") / "run"
    run(tiny(), out, progress=False, plots=False)
    return out


def test_probes_do_not_change_training(finished: Path, tmp_path: Path) -> None:
    plain = tmp_path / "plain"
    run(tiny(probe_every=None), plain, progress=False, plots=False)
    for name in ("metrics.csv", "spectra.csv"):
        assert (plain / name).read_text() == (finished / name).read_text(), name
    a, b = np.load(plain / "grams.npz"), np.load(finished / "grams.npz")
    assert np.array_equal(a["grams"], b["grams"])
    assert not (plain / "probes.csv").exists()


def test_run_writes_every_probe_column(finished: Path) -> None:
    rows = pd.read_csv(finished / "probes.csv")
    windows = pd.read_csv(finished / "probe_windows.csv")
    assert list(rows.columns[: len(ROW_COLUMNS)]) == list(ROW_COLUMNS)
    assert set(WINDOW_COLUMNS) <= set(windows.columns)
    assert {"hess_top_1", "hess_top_3"} <= set(windows.columns)
    # windows end at steps 6, 8, ...; probed every 2nd snapshot: 8, 12, 16, 20, 24
    assert windows["step"].tolist() == [8, 12, 16, 20, 24]
    assert rows.groupby("step").size().tolist() == [3] * 5
    spectra = pd.read_csv(finished / "spectra.csv").set_index("step")
    for _, r in rows.iterrows():  # σ_j and k* are the monitor's
        assert r["sigma"] == pytest.approx(spectra.loc[r["step"], f"sigma_{r['mode']}"])
        assert r["kstar_weighted"] == spectra.loc[r["step"], "kstar_weighted"]
    hess = windows.set_index("step")["hess_top_1"]
    assert np.isfinite(hess.loc[[8, 16, 24]]).all() and hess.loc[[12, 20]].isna().all()
    assert np.isfinite(rows[["h", "h_fd", "G_train", "G_val", "Gamma", "N"]].to_numpy()).all()


def test_resume_gives_identical_probe_files(finished: Path, tmp_path: Path) -> None:
    cut = tmp_path / "cut"
    run(tiny(), cut, stop_after=10, progress=False, plots=False)
    run(tiny(), cut, resume=True, stop_after=7, progress=False, plots=False)
    run(tiny(), cut, resume=True, progress=False, plots=False)
    for name in ("probes.csv", "probe_windows.csv", "metrics.csv", "spectra.csv"):
        assert (cut / name).read_text() == (finished / name).read_text(), name


def test_reprobe_from_a_kept_checkpoint_equals_the_run(finished: Path, tmp_path: Path) -> None:
    import shutil

    copy = tmp_path / "copy"
    shutil.copytree(finished, copy)
    before = pd.read_csv(copy / "probes.csv")
    (window,) = reprobe(copy, at=[16])
    assert window["step"] == 16
    after = pd.read_csv(copy / "probes.csv")
    pd.testing.assert_frame_equal(after, before)  # the same rows, recomputed
    # a window the run did not probe is added (step 10 is a snapshot and no checkpoint)
    with pytest.raises(InputError, match="no checkpoint of step 10"):
        reprobe(copy, at=[10])


def test_probe_command_on_a_finished_run(finished: Path, tmp_path: Path, capsys) -> None:
    import shutil

    copy = tmp_path / "copy"
    shutil.copytree(finished, copy)
    (copy / "probes.csv").unlink()
    (copy / "probe_windows.csv").unlink()
    assert main(["probe", str(copy), "--at", "24", "--hess-k", "2"]) == 0
    assert "step 24: k*=" in capsys.readouterr().out
    rows = pd.read_csv(copy / "probes.csv")
    # the checkpoint kept every in-run row; the re-probed window replaced step 24 only
    assert sorted(set(rows["step"])) == [8, 12, 16, 20, 24]
    windows = pd.read_csv(copy / "probe_windows.csv").set_index("step")
    assert np.isnan(windows.loc[24, "hess_top_3"]) or "hess_top_3" not in windows
    assert np.isfinite(windows.loc[24, "hess_top_2"])


def test_probe_command_refuses_bad_input(finished: Path, tmp_path: Path, capsys) -> None:
    assert main(["probe", str(tmp_path / "nothing")]) == 2
    assert "holds no run" in capsys.readouterr().err
    assert main(["probe", str(finished), "--at", "5"]) == 2
    assert "no checkpoint of step 5" in capsys.readouterr().err
    with rundir.exclusive(finished):
        assert main(["probe", str(finished)]) == 2
    err = capsys.readouterr().err
    assert "another process is writing" in err and err.count("\n") == 1


def test_probes_can_be_added_to_a_run_made_without_them(tmp_path: Path) -> None:
    import torch

    out = tmp_path / "plain"
    run(tiny(probe_every=None, keep_checkpoints_every=None), out, progress=False, plots=False)
    assert not (out / "probes.csv").exists() and not (out / "checkpoints").exists()
    # a checkpoint written before probes existed has no "probes" entry
    state = torch.load(out / "checkpoint.pt", weights_only=True)
    state.pop("probes")
    torch.save(state, out / "checkpoint.pt")
    assert main(["probe", str(out)]) == 0
    rows = pd.read_csv(out / "probes.csv")
    assert rows["step"].unique().tolist() == [24] and rows["mode"].tolist() == [1, 2, 3]
    assert np.isfinite(pd.read_csv(out / "probe_windows.csv")["hess_top_1"]).all()
    kept = torch.load(out / "checkpoint.pt", weights_only=True)["probes"]
    assert [r["mode"] for r in kept["rows"]] == [1, 2, 3]
