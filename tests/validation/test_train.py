"""Training runner: the run directory, recomputable statistics, grok rule, exact resume."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch

from spectral_edge.common.errors import InputError
from spectral_edge.numerics import spectra
from spectral_edge.validation.runs.config import RunConfig
from spectral_edge.validation.runs.determinism import batch_indices
from spectral_edge.validation.runs.training import run

TINY = {"d_model": 16, "n_heads": 2, "d_ff": 16, "n_layers": 1, "n_dec_layers": 1}


def tiny(task: str = "modadd", **kw) -> RunConfig:
    extra = {"p": 11} if task.startswith("mod") else {"n_test": 60}
    base = {
        "steps": 60,
        "eval_every": 10,
        "window": 3,
        "stride": 4,
        "batch_size": 32,
        "checkpoint_every": 20,
        "monitor_select": "all",
    }
    return RunConfig.protocol(task, **(TINY | extra | base | kw))


def read_all(d: Path) -> tuple[str, str, dict[str, np.ndarray]]:
    grams = np.load(d / "grams.npz")
    return (d / "metrics.csv").read_text(), (d / "spectra.csv").read_text(), dict(grams)


def test_run_writes_every_file_and_statistics_recompute(tmp_path: Path) -> None:
    cfg = tiny(wd=0.5)
    result = run(cfg, tmp_path, progress=False)
    for name in (
        "config.json",
        "metrics.csv",
        "spectra.csv",
        "grams.npz",
        "summary.json",
        "checkpoint.pt",
        "plots/run.png",
        "plots/loss.png",
    ):
        assert (tmp_path / name).is_file(), name
    assert RunConfig.from_dict(json.loads((tmp_path / "config.json").read_text())) == cfg
    summary = json.loads((tmp_path / "summary.json").read_text())
    assert summary["status"] == "finished" and summary["steps_done"] == 60
    assert summary["stop_reason"] == "max_steps"
    metrics = pd.read_csv(tmp_path / "metrics.csv")
    assert metrics["step"].tolist() == list(range(0, 61, 10))
    spec = pd.read_csv(tmp_path / "spectra.csv")
    # snapshots every 4 steps: 15 updates, windows of 3 -> 13 windows, at steps 12, 16, ..., 60
    assert spec["step"].tolist() == list(range(12, 61, 4)) == result.spectra["step"].tolist()
    data = np.load(tmp_path / "grams.npz")
    assert data["grams"].shape == (13, 4, 4)
    assert data["steps"].tolist() == spec["step"].tolist()
    P = summary["n_monitored"]
    assert P == summary["n_params"]  # monitor_select="all"
    for i in range(1, len(spec)):  # every statistic is a function of the stored (W+1)-Gram
        again = spectra.window_stats(P=P, gram_plus=data["grams"][i], eta_eff=cfg.lr * 4)
        row = spec.iloc[i]
        np.testing.assert_allclose(
            again.sigma, row[["sigma_1", "sigma_2", "sigma_3"]].to_numpy(dtype=float), rtol=1e-12
        )
        assert again.kstar == row["kstar"]
        np.testing.assert_allclose(again.delta_c_fro, row["delta_c_fro"], rtol=1e-12)
        np.testing.assert_allclose(again.A, row["A"], rtol=1e-12)


def test_exact_resume_after_pause(tmp_path: Path) -> None:
    cfg = tiny("modadd+modmul", optimizer="muon")
    run(cfg, tmp_path / "full", progress=False)
    first = run(cfg, tmp_path / "cut", stop_after=33, progress=False)
    assert first.status == "interrupted" and first.steps_done == 33
    assert json.loads((tmp_path / "cut/summary.json").read_text())["status"] == "interrupted"
    second = run(cfg, tmp_path / "cut", resume=True, stop_after=10, progress=False)
    assert second.steps_done == 43
    run(cfg, tmp_path / "cut", resume=True, progress=False)
    full, cut = read_all(tmp_path / "full"), read_all(tmp_path / "cut")
    assert full[0] == cut[0] and full[1] == cut[1]
    assert full[2].keys() == cut[2].keys()
    for key in full[2]:
        assert np.array_equal(full[2][key], cut[2][key])
    a = torch.load(tmp_path / "full/checkpoint.pt", weights_only=True)["model"]
    b = torch.load(tmp_path / "cut/checkpoint.pt", weights_only=True)["model"]
    assert all(torch.equal(a[k], b[k]) for k in a)
    metrics = pd.read_csv(tmp_path / "full/metrics.csv")  # multi-task: acc = min over heads
    assert np.array_equal(
        metrics["test_acc"], np.minimum(metrics["test_acc_add"], metrics["test_acc_mul"])
    )


def test_exact_resume_after_kill(tmp_path: Path) -> None:
    cfg = tiny(steps=200, checkpoint_every=20)
    run(cfg, tmp_path / "full", progress=False)
    cut = tmp_path / "cut"
    code = (
        "import json, sys\n"
        "from spectral_edge.validation.runs.config import RunConfig\n"
        "from spectral_edge.validation.runs.training import run\n"
        "run(RunConfig.from_dict(json.loads(sys.argv[1])), sys.argv[2], progress=False)\n"
    )
    proc = subprocess.Popen([sys.executable, "-c", code, json.dumps(cfg.to_dict()), str(cut)])
    deadline = time.time() + 60
    try:
        while not (cut / "checkpoint.pt").exists() and time.time() < deadline:
            time.sleep(0.02)
        time.sleep(0.1)
        os.kill(proc.pid, signal.SIGKILL)
    finally:
        proc.wait()
    killed_at = json.loads((cut / "summary.json").read_text())
    assert killed_at["status"] == "running" and killed_at["steps_done"] < 200
    assert (cut / ".lock").exists()  # left by the killed process: must not block the resume
    (cut / ".metrics.csv.k1ll3d.tmp").write_text("half a file")  # as a kill mid-write leaves
    result = run(cfg, cut, resume=True, progress=False)
    assert not list(cut.rglob(".*.tmp")) and not (cut / ".lock").exists()
    assert result.status == "finished"
    full, again = read_all(tmp_path / "full"), read_all(cut)
    assert full[0] == again[0] and full[1] == again[1]
    assert np.array_equal(full[2]["grams"], again[2]["grams"])


@pytest.mark.parametrize(("task", "metric"), [("dyck", "seq_acc"), ("scan", "token_acc")])
def test_sequence_tasks_train(tmp_path: Path, task: str, metric: str) -> None:
    cfg = tiny(
        task,
        steps=6,
        eval_every=3,
        stride=1,
        batch_size=8,
        n_train=16,
        n_test=16,
        monitor_select="attention",
        grok_metric=metric,
        grok_threshold=0.01,
    )
    result = run(cfg, tmp_path, progress=False, plots=False)
    assert result.status == "finished" and len(result.spectra) == 4
    cols = set(result.metrics.columns)
    assert {"train_acc", "test_acc", "test_loss", f"test_{metric}"} <= cols
    assert np.isfinite(result.metrics["train_loss"]).all()
    hits = result.metrics.loc[result.metrics[f"test_{metric}"] >= 0.01, "step"]
    assert result.grok_step == (int(hits.iloc[0]) if len(hits) else None)
    summary = json.loads((tmp_path / "summary.json").read_text())
    assert summary["grok_metric"] == metric


def test_unknown_grok_metric(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="grok_metric"):
        run(tiny(grok_metric="seq_acc"), tmp_path, progress=False)


def test_grok_rule_and_early_stop(tmp_path: Path) -> None:
    cfg = tiny(grok_threshold=0.05, stop_after_grok=15, eval_every=5, steps=200)
    result = run(cfg, tmp_path, progress=False)
    metrics = result.metrics
    first = int(metrics.loc[metrics["test_acc"] >= 0.05, "step"].iloc[0])
    assert result.grok_step == first
    assert result.stop_reason == "early_stop_after_grok"
    assert result.steps_done == first + 15
    summary = json.loads((tmp_path / "summary.json").read_text())
    assert summary["grokked"] and summary["grok_step"] == first


def test_batches_cover_each_epoch_and_depend_only_on_step() -> None:
    for n, b in ((10, 3), (7, 7), (5, 16)):
        per_epoch = -(-n // b)
        seen = np.concatenate([batch_indices(n, b, 3, s) for s in range(per_epoch)])
        assert sorted(seen.tolist()) == list(range(n))
        assert np.array_equal(
            batch_indices(n, b, 3, per_epoch + 1), batch_indices(n, b, 3, per_epoch + 1)
        )
    assert not np.array_equal(batch_indices(100, 10, 3, 0), batch_indices(100, 10, 3, 10))


@pytest.mark.parametrize(
    "data",
    [
        {"lr": -1e-3},
        {"window": 1},
        {"task": "mnist"},
        {"optimizer": "adam"},
        {"steps": 0},
        {"bogus": 1},
        {"lr": "fast"},
        {"seed": 1.5},
        {"grok_threshold": 1.5},
    ],
)
def test_bad_config(data: dict) -> None:
    with pytest.raises(InputError):
        RunConfig.from_dict(data)


def test_run_directory_guards(tmp_path: Path) -> None:
    cfg = tiny(steps=10)
    run(cfg, tmp_path, progress=False, plots=False)
    with pytest.raises(InputError, match="--resume"):
        run(cfg, tmp_path, progress=False)
    with pytest.raises(InputError, match="different config"):
        run(tiny(steps=20), tmp_path, resume=True, progress=False)
    assert run(cfg, tmp_path, resume=True, progress=False, plots=False).steps_done == 10
    (tmp_path / "checkpoint.pt").write_bytes(b"not a checkpoint")
    with pytest.raises(InputError, match="checkpoint"):
        run(cfg, tmp_path, resume=True, progress=False)


@pytest.mark.parametrize("name", ["dyck", "scan"])
def test_trimming_padding_changes_nothing(name: str) -> None:
    from spectral_edge.validation.runs.evaluation import evaluate, trim_padding
    from spectral_edge.validation.runs.models import ModelSizes, build_model
    from spectral_edge.validation.runs.tasks import make_task

    task = make_task(name, seed=0, n_train=40, n_test=40)
    torch.manual_seed(0)
    model = build_model(task, sizes=ModelSizes(**TINY))
    order = (task.x_train != 0).sum(dim=1).argsort()[:8]  # the 8 shortest inputs
    x, y = task.x_train[order], task.y_train[order]
    xt, yt = trim_padding(task, x, y)
    assert xt.shape[1] <= x.shape[1] and yt.shape[1] <= y.shape[1]
    assert (xt.shape[1] < x.shape[1]) or (yt.shape[1] < y.shape[1])
    full = evaluate(model, task, x, y, batch=8)
    # evaluate trims internally; compare with an untrimmed forward pass by hand
    from spectral_edge.validation.runs.tasks import (
        accuracies,
        correct_counts,
        decoder_input,
        task_loss,
    )

    with torch.no_grad():
        logits = model(x, decoder_input(task, y)) if name == "scan" else model(x)
    assert full["loss"] == pytest.approx(float(task_loss(task, logits, y)), rel=1e-5)
    assert full["acc"] == accuracies(task, correct_counts(task, logits, y))["acc"]
