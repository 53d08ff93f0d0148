"""Every script in examples/ runs in its smallest configuration, and the distributed ones
show what they claim: DDP ranks agree exactly, FSDP2's sharded Gram equals the unsharded one."""

from __future__ import annotations

import importlib.util
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples"


def load(name: str):
    spec = importlib.util.spec_from_file_location(f"example_{name}", EXAMPLES / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_plain_loop(capsys) -> None:
    monitor = load("plain_loop").main(["--steps", "30", "--window", "5"])
    assert monitor.stats is not None and len(monitor.history()) == 26
    assert "sigma_1" in capsys.readouterr().out


def test_hf_trainer(tmp_path) -> None:
    pytest.importorskip("transformers")
    callback = load("hf_trainer").main(["--steps", "12", "--window", "4", "--out",
                                        str(tmp_path)])
    assert len(callback.monitor.history()) == 9
    assert (tmp_path / "gram_history.csv").is_file()


def test_lightning_fit(tmp_path, capsys) -> None:
    pytest.importorskip("lightning")
    callback = load("lightning_fit").main(["--steps", "12", "--window", "4", "--out",
                                           str(tmp_path)])
    assert len(callback.monitor.history()) == 9
    assert (tmp_path / "gram_history.csv").is_file() and "kstar" in capsys.readouterr().out


def torchrun(script: str, out: Path, steps: int) -> dict:
    env = dict(os.environ, OMP_NUM_THREADS="1")
    cmd = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc-per-node",
           "2", str(EXAMPLES / script), "--steps", str(steps), "--window", "4", "--out",
           str(out)]
    done = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=240)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    # both ranks print (their lines may interleave)
    assert sorted(re.findall(r"rank (\d):", done.stdout)) == ["0", "1"], done.stdout
    # only rank 0 writes files
    assert sorted(p.name for p in out.iterdir()) == [
        "gram_grams.npz", "gram_history.csv", "summary.json"]
    return json.loads((out / "summary.json").read_text())


@pytest.mark.xdist_group("distributed")  # one multi-process job at a time
def test_ddp_every_rank_reports_the_same_spectrum(tmp_path) -> None:
    summary = torchrun("ddp.py", tmp_path, steps=12)
    assert summary["world_size"] == 2
    assert summary["max_rel_gram_diff_across_ranks"] == 0.0
    assert summary["max_rel_sigma_diff_across_ranks"] == 0.0
    assert len(summary["sigma"]) == 4 and summary["sigma"][0] > 0


@pytest.mark.xdist_group("distributed")  # one multi-process job at a time
def test_fsdp_sharded_gram_equals_unsharded(tmp_path) -> None:
    summary = torchrun("fsdp.py", tmp_path, steps=12)
    assert summary["n_params"] == 16 * 63 + 63 + 63 + 1  # the global count
    assert summary["max_rel_gram_diff_vs_unsharded"] < 1e-10
    assert summary["max_rel_gram_diff_across_ranks"] == 0.0
    grams = np.load(tmp_path / "gram_grams.npz")["grams"]
    assert grams.shape == (8, 5, 5) and np.all(np.isfinite(grams))
