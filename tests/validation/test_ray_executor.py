"""``--executor ray`` on a real local Ray instance (2 CPUs, started once for the module):
byte-identical run directories to the local executor, a run whose worker is killed resumes
from its checkpoint when Ray retries it, and the run-directory lock still keeps one writer."""

from __future__ import annotations

import os
import signal
import threading
import time
from pathlib import Path

import pytest

from spectral_edge.validation.cli import main
from spectral_edge.validation.experiments import reproduce as rp
from spectral_edge.validation.runs import rundir
from spectral_edge.validation.runs.config import RunConfig
from spectral_edge.validation.runs.grid import SweepItem, train_items
from spectral_edge.validation.runs.training import run, run_status

ray = pytest.importorskip("ray")

TINY = dict(p=7, d_model=8, n_heads=2, d_ff=8, n_layers=1, batch_size=16, steps=30,
            eval_every=5, window=2, stride=3, checkpoint_every=10, stop_after_grok=None,
            probe_every=None)
FILES = ("spectra.csv", "metrics.csv", "grams.npz", "probes.csv", "probe_windows.csv")


def tiny_plan(quick: bool = False, **_: object) -> list[SweepItem]:
    """Two runs, the first with probes on every window (probes.csv)."""
    return [SweepItem(f"modadd_adamw_wd{wd:g}_s1", RunConfig.protocol(
        "modadd", seed=1, wd=wd, **(TINY | {"probe_every": probe, "probe_hess_every": None})))
        for wd, probe in ((1.0, 1), (0.0, None))]


@pytest.fixture(scope="module")
def local_ray():
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    yield ray
    ray.shutdown()


def _same_files(a: Path, b: Path, names: tuple[str, ...] = FILES) -> None:
    compared = 0
    for name in names:
        if (a / name).exists() or (b / name).exists():
            assert (a / name).read_bytes() == (b / name).read_bytes(), name
            compared += 1
    assert compared >= 3


def test_ray_executor(tmp_path: Path, local_ray) -> None:
    """One test, so one Ray instance even under pytest-xdist (the parts below)."""
    _byte_identical_to_local(tmp_path / "identity")
    _a_killed_worker_resumes_from_its_checkpoint(tmp_path / "killed")
    _the_run_lock_still_keeps_one_writer(tmp_path / "locked")


def _byte_identical_to_local(tmp_path: Path) -> None:
    # reproduce's training step (train_plan), without the scorecard it writes afterwards
    failed_local = rp.train_plan(tiny_plan(), tmp_path / "local", 1, progress=False)
    failed_ray = rp.train_plan(tiny_plan(), tmp_path / "ray", 2, progress=False,
                               executor="ray")
    assert failed_local == failed_ray == []
    assert (tmp_path / "ray" / "runs.csv").exists()
    for item in tiny_plan():
        assert run_status(tmp_path / "ray" / item.name) == "finished"
        _same_files(tmp_path / "local" / item.name, tmp_path / "ray" / item.name)
    assert (tmp_path / "ray" / tiny_plan()[0].name / "probes.csv").exists()


def _a_killed_worker_resumes_from_its_checkpoint(tmp_path: Path) -> None:
    cfg = RunConfig.protocol("modadd", seed=3, wd=1.0, **(TINY | {"steps": 240,
                                                                  "checkpoint_every": 20}))
    item = SweepItem("killed", cfg)
    run(cfg, tmp_path / "reference", progress=False, plots=False)
    out = tmp_path / "grid" / item.name
    failed: list[str] = []
    worker = threading.Thread(target=lambda: failed.extend(train_items(
        [item], tmp_path / "grid", 1, "ray", progress=False, plots=False, executor="ray")))
    worker.start()
    pid = None
    deadline = time.time() + 60
    while time.time() < deadline and pid is None:
        lock = out / rundir.LOCK_NAME
        if (out / "checkpoint.pt").exists() and lock.exists():
            text = lock.read_text().strip()
            pid = int(text) if text.isdigit() else None
        time.sleep(0.02)
    assert pid is not None and pid != os.getpid()
    os.kill(pid, signal.SIGKILL)  # the Ray worker running the task dies mid-run
    worker.join(timeout=120)
    assert not worker.is_alive() and failed == []
    assert run_status(out) == "finished"
    assert rundir.read_json(out / "summary.json")["steps_done"] == 240
    _same_files(tmp_path / "reference", out)


def _the_run_lock_still_keeps_one_writer(tmp_path: Path) -> None:
    item = SweepItem("locked", RunConfig.protocol("modadd", seed=1, **TINY))
    with rundir.exclusive(tmp_path / item.name):
        failed = train_items([item], tmp_path, 1, "ray", progress=False, plots=False,
                             executor="ray")
    assert len(failed) == 1 and "another process is writing" in failed[0]


def test_executor_flags_are_checked(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["sweep", "--out", str(tmp_path), "--address", "auto", "--steps", "2"]) == 2
    assert "--address needs --executor ray" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["sweep", "--out", str(tmp_path), "--executor", "dask"])
