"""Faults a run must survive: divergence, a killed sweep, plots switched off, schedulers on the
combined optimizer."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import torch

from spectral_edge.validation.cli import main
from spectral_edge.validation.runs.config import RunConfig
from spectral_edge.validation.runs.optimizers import CombinedOptimizer, build_optimizer
from spectral_edge.validation.runs.training import run

TINY = dict(p=7, d_model=8, n_heads=2, d_ff=8, n_layers=1, batch_size=16, window=2, stride=2)


def test_a_diverged_run_reports_its_last_finite_metrics(tmp_path: Path) -> None:
    cfg = RunConfig.protocol(
        "modadd", optimizer="sgd", lr=1e12, grad_clip=None, wd=0.0, steps=50, eval_every=10,
        **TINY,
    )
    result = run(cfg, tmp_path / "r", progress=False, plots=False)
    summary = json.loads((tmp_path / "r" / "summary.json").read_text())
    assert result.stop_reason == "diverged" and summary["diverged"] is True
    assert summary["final_step"] == 0  # the only evaluation with finite numbers
    skipped = summary["skipped_updates"]
    assert skipped["nonfinite"] >= 1 and skipped["total"] == skipped["nonfinite"] + skipped["zero"]
    assert all(isinstance(v, float) and v == v for v in summary["final"].values())
    assert result.metrics["train_loss"].isna().iloc[-1]  # metrics.csv shows the divergence


def test_no_plots_is_honoured(tmp_path: Path) -> None:
    args = ["train", "--steps", "4", "--eval-every", "2", "--quiet"]
    args += [f"--{k.replace('_', '-')}={v}" for k, v in TINY.items()]
    assert main([*args, "--out", str(tmp_path / "a"), "--no-plots"]) == 0
    assert main([*args, "--out", str(tmp_path / "b")]) == 0
    assert not (tmp_path / "a" / "plots").exists()
    assert any((tmp_path / "b" / "plots").iterdir())


def _children(pid: int) -> set[int]:
    kids = set()
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            kids.add(int(stat.parent.name))
    return kids


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def test_killing_a_sweep_kills_its_workers(tmp_path: Path) -> None:
    args = [sys.executable, "-m", "spectral_edge.validation.cli", "sweep",
            "--out", str(tmp_path / "sw"),
            "--workers", "2", "--seed", "1,2", "--steps", "100000", "--quiet", "--no-plots"]
    args += [f"--{k.replace('_', '-')}={v}" for k, v in TINY.items()]
    sweep = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.time() + 120
        while time.time() < deadline and len(list((tmp_path / "sw").glob("*/config.json"))) < 2:
            time.sleep(0.2)
        workers = _children(sweep.pid)
        assert len(workers) >= 2
    finally:
        sweep.send_signal(signal.SIGKILL)
        sweep.wait()
    deadline = time.time() + 30
    while time.time() < deadline and any(_alive(w) for w in workers):
        time.sleep(0.2)
    assert not any(_alive(w) for w in workers)


def test_schedulers_drive_the_combined_optimizer() -> None:
    net = torch.nn.Sequential(torch.nn.Linear(4, 4), torch.nn.Linear(4, 4))
    opt = build_optimizer(net, "muon", lr=0.1, weight_decay=0.0)
    assert isinstance(opt, CombinedOptimizer) and isinstance(opt, torch.optim.Optimizer)
    sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda step: 0.5**step)
    for _ in range(3):
        net(torch.randn(2, 4)).sum().backward()
        opt.step()
        sched.step()
    assert [g["lr"] for part in opt.optimizers for g in part.param_groups] == [0.0125] * 2


def test_muon_momentum_zero_means_zero() -> None:
    net = torch.nn.Sequential(torch.nn.Linear(4, 4), torch.nn.Linear(4, 4))
    muon = build_optimizer(net, "muon", lr=0.1, momentum=0.0).optimizers[0]
    assert muon.param_groups[0]["momentum"] == 0.0
    default = build_optimizer(net, "muon", lr=0.1).optimizers[0]
    assert default.param_groups[0]["momentum"] == 0.95


def test_derive_does_not_import_torch() -> None:
    code = (
        "import sys\nfrom spectral_edge.validation.cli import main\n"
        "assert main(['derive', '--only', 'R1']) == 0\n"
        "print('torch' in sys.modules)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True, env=os.environ | {"PYTHONWARNINGS": "ignore"})
    assert out.stdout.strip().splitlines()[-1] == "False"
