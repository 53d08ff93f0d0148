"""Synthetic run directories for the prediction, analyze and report tests (and their checks).

``make_run`` writes a run directory whose statistics are known by construction: spectra
rows recomputed with ``spectral_edge.numerics.spectra.window_stats`` from given σ (then any
column may be
overridden), metrics from a given accuracy curve, optional probe files.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from spectral_edge.numerics.spectra import window_stats
from spectral_edge.validation.scorecard.analysis import load_run

BASE_CONFIG: dict[str, Any] = {
    "task": "modadd", "optimizer": "adamw", "wd": 1.0, "seed": 1, "lr": 0.001, "stride": 100,
    "window": 10, "sketch_dim": None,
}


def spectra_frame(sigma: np.ndarray, steps: np.ndarray, P: int = 10**6,
                  **override: Any) -> pd.DataFrame:
    """Rows of ``window_stats`` on diag(σ²) per window, with columns overridden."""
    rows = []
    for i, (s, sig) in enumerate(zip(steps, sigma, strict=True)):
        st = window_stats(np.diag(np.asarray(sig, float) ** 2), P=P)
        rows.append({"step": int(s), "snapshot": i + len(sig), "lr": 0.001} | st.as_row())
    frame = pd.DataFrame(rows)
    for key, value in override.items():
        if key == "alpha":
            value = np.asarray(value, float)
            for j in range(value.shape[1]):
                frame[f"alpha_{j + 1}"] = value[:, j]
        else:
            frame[key] = value
    return frame


def make_run(root: Path, name: str, *, n: int = 20, W: int = 10, P: int = 10**6,
             sigma: np.ndarray | None = None, config: dict[str, Any] | None = None,
             test_acc: np.ndarray | None = None, test_loss: np.ndarray | None = None,
             probes: pd.DataFrame | None = None, probe_windows: pd.DataFrame | None = None,
             grams: bool = False, **override: Any) -> Path:
    """A run directory with ``n`` windows 100 steps apart (steps 1000, 1100, ...)."""
    path = root / name
    path.mkdir(parents=True)
    steps = 1000 + 100 * np.arange(n)
    if sigma is None:
        sigma = np.tile(np.r_[10.0, np.linspace(3.0, 1.0, W - 1)], (n, 1))
    cfg = BASE_CONFIG | {"window": W} | (config or {})
    spectra = spectra_frame(sigma, steps, P, **override)
    spectra.to_csv(path / "spectra.csv", index=False)
    msteps = np.arange(0, steps[-1] + 1, 100)
    acc = np.zeros(msteps.size) if test_acc is None else np.interp(msteps, steps, test_acc)
    loss = np.ones(msteps.size) if test_loss is None else np.interp(msteps, steps, test_loss)
    pd.DataFrame({"step": msteps, "train_loss": 0.1, "train_acc": 1.0, "test_loss": loss,
                  "test_acc": acc}).to_csv(path / "metrics.csv", index=False)
    (path / "config.json").write_text(json.dumps(cfg))
    (path / "summary.json").write_text(json.dumps({"status": "finished", "wall_time_s": 1.0}))
    if grams:
        K = np.stack([np.diag(np.r_[0.0, np.asarray(s, float) ** 2]) for s in sigma])
        np.savez(path / "grams.npz", steps=steps, grams=K)
    if probes is not None:
        probes.to_csv(path / "probes.csv", index=False)
    if probe_windows is not None:
        probe_windows.to_csv(path / "probe_windows.csv", index=False)
    return path


def grok_curve(n: int, at: int | None) -> np.ndarray:
    """Test accuracy 0 before window ``at`` and 1 from it on (never when ``at`` is None)."""
    acc = np.zeros(n)
    if at is not None:
        acc[at:] = 1.0
    return acc


def probes_frame(steps: np.ndarray, modes: int, **columns: np.ndarray) -> pd.DataFrame:
    """probes.csv rows: one per (step, mode); ``columns`` are (len(steps), modes) arrays."""
    rows = []
    for i, s in enumerate(steps):
        for j in range(modes):
            row = {"step": int(s), "mode": j + 1, "kstar_weighted": 1, "eta_eff": 0.1}
            row |= {k: (float(v[i, j]) if np.ndim(v) == 2 else v) for k, v in columns.items()}
            rows.append(row)
    return pd.DataFrame(rows)


def test_make_run_reads_back(tmp_path: Path) -> None:
    path = make_run(tmp_path, "r", n=5, grams=True)
    run = load_run(path)
    assert len(run.spectra) == 5 and run.grams is not None and run.grams.shape == (5, 11, 11)
    assert run.eta_eff == 0.1
    assert (run.spectra["kstar"] == 1).all()


def test_a_run_written_before_the_column_renames_reads_the_same(tmp_path: Path) -> None:
    """Old names (spectra g, g23; probes kstar, omega; probe_windows kstar) are renamed by
    numerics.columns.LEGACY on load, and the predictions score the run unchanged."""
    from spectral_edge.validation.scorecard.predictions import evaluate

    steps = 1000 + 100 * np.arange(20)
    probes = probes_frame(steps, 3, sigma=np.tile([3.0, 2.0, 1.0], (20, 1)), Gamma=1.0,
                          h=1.0, wd=0.5)
    windows = pd.DataFrame({"step": steps, "kstar_weighted": 1, "K_eta": 2, "eta_eff": 0.1})
    new = make_run(tmp_path, "new", probes=probes, probe_windows=windows,
                   test_acc=grok_curve(20, 10))
    old = make_run(tmp_path, "old", probes=probes, probe_windows=windows,
                   test_acc=grok_curve(20, 10))
    for name, renames in (("spectra.csv", {"g_sigma": "g", "g23_lambda": "g23"}),
                          ("probes.csv", {"kstar_weighted": "kstar", "wd": "omega"}),
                          ("probe_windows.csv", {"kstar_weighted": "kstar"})):
        frame = pd.read_csv(old / name).rename(columns=renames)
        assert not set(renames) & set(frame.columns)
        frame.to_csv(old / name, index=False)
    a, b = load_run(new), load_run(old)
    for attr in ("spectra", "probes", "probe_windows"):
        pd.testing.assert_frame_equal(getattr(a, attr), getattr(b, attr))
    verdicts = [(r.id, r.verdict, r.value_text) for r in evaluate([a])]
    assert verdicts == [(r.id, r.verdict, r.value_text) for r in evaluate([b])]


def test_the_probe_writers_use_the_schema_names() -> None:
    from spectral_edge.numerics import columns
    from spectral_edge.validation.probes import window

    assert tuple(window.ROW_COLUMNS) == columns.names("probes.csv")
    assert set(window.WINDOW_COLUMNS) == set(columns.names("probe_windows.csv")) - {
        "hess_top_<j>", "precond_top_<j>"}
