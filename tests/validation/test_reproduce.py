"""The reproduce plan, and ``reproduce`` end to end on a tiny plan: trains, skips finished
runs, resumes an interrupted one, and ends with the same scorecard."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from spectral_edge.common.errors import InputError
from spectral_edge.validation.cli import main
from spectral_edge.validation.experiments import reproduce as rp
from spectral_edge.validation.runs.config import RunConfig
from spectral_edge.validation.runs.grid import SweepItem
from spectral_edge.validation.runs.training import run, run_status

TINY = dict(p=7, d_model=8, n_heads=2, d_ff=8, n_layers=1, batch_size=16, steps=30,
            eval_every=5, window=2, stride=3, checkpoint_every=10, stop_after_grok=None,
            probe_every=None)


def tiny_plan(quick: bool = False, **_: object) -> list[SweepItem]:
    return [SweepItem(f"modadd_adamw_wd{wd:g}_s1", RunConfig.protocol("modadd", seed=1, wd=wd,
                                                                      **TINY))
            for wd in (1.0, 0.0)]


def test_plan_covers_every_group() -> None:
    quick, full = rp.plan(quick=True), rp.plan(quick=False)
    for items in (quick, full):
        names = [i.name for i in items]
        assert len(set(names)) == len(names)
        cfgs = [i.config for i in items]
        assert {c.wd for c in cfgs} == {0.0, 1.0}
        assert {c.optimizer for c in cfgs} == {"adamw", "muon"}
        assert {c.variant for c in cfgs} == {"paper"}
        assert any(c.sketch_dim == 10 * c.window for c in cfgs)
        assert all(c.probe_every is None for c in cfgs if c.sketch_dim is not None)
        assert any(c.forget_step is not None for c in cfgs)
        controls = [c for c in cfgs if c.wd == 0 and c.task != "scan"]
        assert all(c.steps >= 10_000 or items is quick for c in controls)
        # tri-task control: 100, as train_tritask.py; the others 500
        assert all(c.stride == (100 if c.task.count("+") >= 2 else 500) for c in controls)
    assert len(quick) < len(full)
    assert {c.config.seed for c in full} == set(rp.SEEDS)
    tasks = {i.config.task for i in full}
    assert tasks >= {"modadd", "modsub", "modmul", "modsq", "modadd+modmul",
                     "modadd+modmul+modsq", "dyck", "scan"}
    for task in tasks - {"modadd"}:  # 3 seeds x 2 weight decays
        assert sum(i.config.task == task for i in full) == 6
    dyck = next(i.config for i in full if i.config.task == "dyck" and i.config.wd == 1)
    assert (dyck.window, dyck.stride, dyck.batch_size, dyck.data_seed) == (3, 200, 50, 0)
    long = rp.plan(long_controls=True)
    assert {c.config.steps for c in long if c.config.wd == 0
            and c.config.task.startswith("mod")} == {rp.LONG_CONTROL_STEPS}


def test_budget_estimates() -> None:
    """The full plan fits issue 19's 2.5 h at --workers 2: run on 2026-12-03 it took 2.23 h
    (7799 s of training, docs/runs.md); the estimate from the measured per-step costs is
    within 15% of that, and the quick plan within its 10 minutes."""
    assert rp.total_hours(rp.plan(), workers=2) == pytest.approx(2.17, rel=0.15)
    assert rp.total_hours(rp.plan(), workers=2) <= 2.5
    assert rp.total_hours(rp.plan(quick=True), workers=2) * 60 <= 10
    with pytest.raises(InputError, match="unknown plan"):
        rp.plan(name="nope")


def test_reproduce_list_and_bad_workers(capsys: pytest.CaptureFixture[str],
                                        tmp_path: Path) -> None:
    assert main(["reproduce", "--quick", "--list"]) == 0
    lines = capsys.readouterr().out.splitlines()
    names = [i.name for i in rp.plan(True)]
    assert [line.split()[0] for line in lines[1:1 + len(names)]] == names
    assert "estimated" in lines[-1]  # the quick plan trains no dense re-run
    assert main(["reproduce", "--list"]) == 0
    last = capsys.readouterr().out.splitlines()[-1]
    assert "dense re-runs" in last and "dyck_adamw_wd1_s42_dense50" in last
    assert main(["reproduce", "--out", str(tmp_path / "o"), "--workers", "0"]) == 2
    assert "--workers" in capsys.readouterr().err
    assert not (tmp_path / "o").exists()


def _stable(path: Path) -> list[str]:
    return [line for line in path.read_text().splitlines()
            if not line.startswith(("Report generation", "Training wall time",
                                    "`reproduce` wall time"))]


def test_reproduce_skips_resumes_and_reports_the_same(tmp_path: Path,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(rp, "plan", tiny_plan)
    fresh = tmp_path / "fresh"
    path, failed, _ = rp.reproduce(fresh, progress=False)
    assert failed == [] and path == fresh / "scorecard.md"
    assert all(run_status(fresh / i.name) == "finished" for i in tiny_plan())
    assert "| P1 |" in path.read_text() and (fresh / "runs.csv").exists()
    # a second call trains nothing and writes the same scorecard
    before = (fresh / tiny_plan()[0].name / "metrics.csv").stat().st_mtime_ns
    rp.reproduce(fresh, progress=False)
    assert (fresh / tiny_plan()[0].name / "metrics.csv").stat().st_mtime_ns == before
    (call,) = json.loads((fresh / "reproduce.json").read_text())["calls"]  # one trained
    assert call["runs"] == 2 and call["workers"] == 1 and call["wall_s"] > 0
    assert "wall time of each call that trained" in path.read_text()
    # an interrupted run (killed after its first checkpoint) is resumed to the same end
    killed = tmp_path / "killed"
    item = tiny_plan()[0]
    run(item.config, killed / item.name, stop_after=10, progress=False, plots=False)
    assert run_status(killed / item.name) == "interrupted"
    rp.reproduce(killed, progress=False)
    assert run_status(killed / item.name) == "finished"
    same = [line.replace(str(killed), str(fresh)) for line in _stable(killed / "scorecard.md")]
    assert same == _stable(fresh / "scorecard.md")


def test_scan_plan_is_the_published_size_and_takes_a_device(
        capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    items = rp.plan(name="scan", device="cuda")
    assert len(items) == 6 and {i.config.device for i in items} == {"cuda"}
    assert {(i.config.wd, i.config.steps, i.config.batch_size, i.config.stride)
            for i in items} == {(1.0, 30_000, 256, 500), (0.0, 20_000, 256, 500)}
    assert rp.total_hours(items, 2) > 20  # a GPU's plan, said by its estimate
    cpu = {i.name: i.config for i in rp.plan()}  # the full plan's CPU-scaled variant
    assert cpu["scan_adamw_wd1_s42"].batch_size == 64 and cpu["scan_adamw_wd1_s42"].stride == 200
    assert main(["reproduce", "--plan", "scan", "--list"]) == 0
    assert "scan_adamw_wd0_s2024" in capsys.readouterr().out
    assert main(["reproduce", "--device", "cuda", "--out", str(tmp_path / "x")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "--device applies to" in err[0] and not (tmp_path / "x").exists()


def test_dense_reruns_follow_runs_that_grok_before_their_second_window(
        tmp_path: Path) -> None:
    from spectral_edge.validation.runs import rundir

    items = [SweepItem(f"dyck_adamw_wd{wd:g}_s{seed}",
                       RunConfig.protocol("dyck", seed=seed, wd=wd, probe_every=1,
                                          probe_hess_every=2))
             for wd, seed in ((1.0, 42), (1.0, 137), (0.0, 42), (1.0, 7))]
    grok = {"dyck_adamw_wd1_s42": 600, "dyck_adamw_wd1_s137": 800, "dyck_adamw_wd0_s42": 600}
    for name, g in grok.items():  # s7 is not finished: no summary
        rundir.write_json(tmp_path / name / "summary.json", {"grokked": True, "grok_step": g})
    (dense,) = rp.dense_reruns(items, tmp_path)  # 800 = (W+1)·stride: two windows, none
    assert dense.name == "dyck_adamw_wd1_s42_dense50"
    c = items[0].config
    assert (dense.config.stride, dense.config.probe_every, dense.config.probe_hess_every) == (
        c.stride // 4, 4, 8)
    assert dense.config.seed == c.seed and dense.config.steps == c.steps
