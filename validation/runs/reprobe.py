"""``reprobe``: probe a finished (or paused) run's windows after the fact from its
checkpoints, merging the rows into its files (``spectral-edge probe``)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import torch

from spectral_edge.common.errors import InputError
from spectral_edge.validation.probes.window import frame
from spectral_edge.validation.runs import rundir
from spectral_edge.validation.runs.checkpoint import load_checkpoint
from spectral_edge.validation.runs.config import check_device
from spectral_edge.validation.runs.determinism import torch_settings
from spectral_edge.validation.runs.session import RunSession
from spectral_edge.validation.runs.training import load_config


def _merge(old: list[dict], new: list[dict], steps: set[int]) -> list[dict[str, Any]]:
    """``old`` rows whose step is not in ``steps``, then ``new`` (as plain Python values)."""
    plain = [{k: v.item() if isinstance(v, np.generic) else v for k, v in r.items()}
             for r in new]
    return [dict(r) for r in old if int(r["step"]) not in steps] + plain


def checkpoint_for(run_dir: Any, at: int | None) -> Any:
    """The checkpoint holding the window that ends at step ``at``: ``checkpoint.pt`` when
    ``at`` is None or its step, else ``checkpoints/step_<at>.pt`` (kept when the run had
    ``keep_checkpoints_every``); ``InputError`` listing the steps available otherwise."""
    run_dir = Path(run_dir)
    final = run_dir / "checkpoint.pt"
    if not final.exists():
        raise InputError(f"run_dir: {run_dir} has no checkpoint.pt (not a run directory?)")
    if at is None:
        return final
    kept = run_dir / "checkpoints" / f"step_{at}.pt"
    if kept.exists():
        return kept
    summary = run_dir / "summary.json"
    if summary.exists():
        if rundir.read_json(summary).get("steps_done") == at:
            return final
    have = sorted(int(p.stem.split("_")[1]) for p in (run_dir / "checkpoints").glob("step_*.pt"))
    raise InputError(
        f"--at {at}: no checkpoint of step {at} in {run_dir} (kept: "
        f"{', '.join(map(str, have)) or 'none'}; the run keeps copies only with "
        "keep_checkpoints_every, and always its last checkpoint.pt)"
    )


def reprobe(run_dir: Any, at: list[int] | None = None, hess_k: int | None = None) -> list[dict]:
    """Probe a run's windows after the fact from its checkpoints and merge the rows into
    ``probes.csv`` / ``probe_windows.csv`` (rows of the same step are replaced) and into
    ``checkpoint.pt``'s probe state, so a later ``--resume`` keeps them.

    ``at``: window end steps (None: the last checkpoint's); ``hess_k``: top eigenvalues to
    compute (None: the run's ``probe_hess_k``). Takes the run directory's exclusive lock:
    a run that is writing refuses (``InputError``). Returns the window rows written.
    """
    run_dir = Path(run_dir)
    if not (run_dir / "config.json").is_file():
        raise InputError(f"run_dir: {run_dir} holds no run (no config.json)")
    config = load_config(run_dir / "config.json")
    check_device(config.device)
    paths = [checkpoint_for(run_dir, s) for s in (at or [None])]
    done: list[dict] = []
    with rundir.exclusive(run_dir), torch_settings(config.threads, config.device):
        rows: list[dict] = []
        for path in paths:
            state = RunSession(config, run_dir)
            load_checkpoint(state, path)
            hist = state.monitor.history()
            if state.monitor.sketch_dim is not None:
                raise InputError("run_dir: the run's monitor is in sketch mode; probes need "
                                 "exact mode (sketch_dim none)")
            if hist.empty or int(hist["step"].iloc[-1]) != state.step:
                raise InputError(
                    f"{path.name}: no window ends at its step {state.step} (checkpoint steps "
                    "must be multiples of the stride, after the first window)"
                )
            result = state.probe_now(config.probe_hess_k if hess_k is None else hess_k)
            rows.extend(result.rows)
            done.append(result.window)
        steps = {int(w["step"]) for w in done}
        ckpt = run_dir / "checkpoint.pt"
        saved = torch.load(ckpt, map_location="cpu", weights_only=True)
        probes = dict(saved.get("probes") or {})
        probes["rows"] = sorted(
            _merge(probes.get("rows", []), rows, steps), key=lambda r: (r["step"], r["mode"])
        )
        probes["windows"] = sorted(
            _merge(probes.get("windows", []), done, steps), key=lambda r: r["step"]
        )
        rundir.write_csv(run_dir / "probes.csv", frame(probes["rows"], "rows"))
        rundir.write_csv(run_dir / "probe_windows.csv", frame(probes["windows"], "windows"))
        saved["probes"] = probes
        rundir.write_bytes_with(ckpt, lambda h: torch.save(saved, h))
    return done

