"""Training neutrality: probes (with and without the Hessian top) and the checkpoint
cadence leave ``metrics.csv``, ``spectra.csv`` and ``grams.npz`` byte-identical (docs/runs.md,
"What differs between machines")."""

from __future__ import annotations

from pathlib import Path

import pytest

from spectral_edge.validation.runs.config import RunConfig
from spectral_edge.validation.runs.training import run

TINY = dict(p=11, d_model=16, n_heads=2, d_ff=16, n_layers=1, batch_size=32, steps=48,
            eval_every=8, window=3, stride=4, stop_acc=None, probe_modes=2, probe_batch=32,
            probe_hess_k=2, probe_noise_batches=2, probe_draws=2, eval_batch=64)
FILES = ("metrics.csv", "spectra.csv", "grams.npz")


def _files(config: RunConfig, out: Path) -> dict[str, bytes]:
    run(config, out, progress=False, plots=False)
    return {name: (out / name).read_bytes() for name in FILES}


@pytest.mark.parametrize("task", ["modadd", "dyck"])
def test_probes_and_checkpoints_leave_training_unchanged(tmp_path: Path, task: str) -> None:
    extra = {"n_train": 8, "n_test": 16, "stride": 4} if task == "dyck" else {}
    base = dict(TINY) | extra
    plain = _files(RunConfig.protocol(task, **base, probe_every=None, checkpoint_every=1000),
                   tmp_path / "plain")
    variants = {
        "probes": dict(probe_every=1, probe_hess_every=None, checkpoint_every=1000),
        "hessian": dict(probe_every=1, probe_hess_every=1, checkpoint_every=1000),
        "checkpoints": dict(probe_every=None, checkpoint_every=5, keep_checkpoints_every=10),
        "all": dict(probe_every=2, probe_hess_every=2, checkpoint_every=3),
    }
    for name, fields in variants.items():
        got = _files(RunConfig.protocol(task, **base, **fields), tmp_path / name)
        for file in FILES:
            assert got[file] == plain[file], f"{file} differs with {name}"


def test_resume_equals_uninterrupted(tmp_path: Path) -> None:
    config = RunConfig.protocol("modadd", **TINY, probe_every=2, checkpoint_every=1000)
    whole = _files(config, tmp_path / "whole")
    run(config, tmp_path / "parts", stop_after=13, progress=False, plots=False)
    run(config, tmp_path / "parts", resume=True, progress=False, plots=False)
    assert {f: (tmp_path / "parts" / f).read_bytes() for f in FILES} == whole
