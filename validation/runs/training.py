"""One instrumented, resumable training run: ``RunConfig`` in, a run directory out.

``run(config, out_dir)`` trains the task's model with the configured optimizer, attaches a
:class:`spectral_edge.validation.monitor.GramMonitor` (selection, window W and stride from the
config),
evaluates every ``eval_every`` steps, detects the grok step (first evaluation with test
accuracy >= ``grok_threshold``; docs/spec.md §7) and stops ``stop_after_grok`` steps after it.
The directory it writes is described in ``docs/run-directory.md``: ``config.json``,
``metrics.csv``, ``spectra.csv``, ``grams.npz``, ``summary.json``, ``checkpoint.pt`` and
``plots/``, and with probes on (``probe_every``, docs/probes.md) ``probes.csv`` and
``probe_windows.csv``. Every write is atomic.

The run's state between steps is a :class:`~spectral_edge.validation.runs.session.RunSession`;
its checkpoint schema is :mod:`spectral_edge.validation.runs.checkpoint`.

Exact resume: the checkpoint holds the model, optimizer, monitor, RNG state, metric rows
and the step; minibatches are a pure function of (seed, step), and the run fixes the
thread count (and deterministic algorithms on CUDA), so a run interrupted and resumed ends with the
same ``metrics.csv``, ``spectra.csv`` and ``grams.npz`` as an uninterrupted one.

>>> import tempfile
>>> cfg = RunConfig.protocol("modadd", p=7, d_model=16, n_heads=2, d_ff=16, n_layers=1,
...                          steps=20, eval_every=10, window=2, stride=5, batch_size=16)
>>> result = run(cfg, tempfile.mkdtemp(), progress=False)
>>> result.steps_done, result.status, len(result.metrics)
(20, 'finished', 3)
"""

from __future__ import annotations

import os
import time
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import torch

from spectral_edge.common.errors import InputError
from spectral_edge.validation.probes.window import frame
from spectral_edge.validation.runs import rundir
from spectral_edge.validation.runs.checkpoint import load_checkpoint, session_state
from spectral_edge.validation.runs.config import RunConfig, check_device
from spectral_edge.validation.runs.determinism import torch_settings
from spectral_edge.validation.runs.session import RunSession


@dataclass(frozen=True)
class RunResult:
    """What :func:`run` returns (``summary.json`` holds the same figures)."""

    out_dir: Path
    status: str
    steps_done: int
    grok_step: int | None
    fit_step: int | None
    stop_reason: str | None
    wall_time_s: float
    metrics: pd.DataFrame
    spectra: pd.DataFrame


def write_run(session: RunSession, status: str, plots: bool = False) -> None:
    """Write the run directory: data files first, the checkpoint last (it is what a resume
    trusts); with ``keep_checkpoints_every`` also a copy ``checkpoints/step_N.pt``, written
    just before ``checkpoint.pt`` so that a kill during it is redone on resume.

    Args:
        session: the run.
        status: ``summary.json``'s status.
        plots: also draw ``plots/``.
    """
    d, mon = session.out_dir, session.monitor
    rundir.write_csv(d / "metrics.csv", pd.DataFrame(session.rows))
    rundir.write_csv(d / "spectra.csv", mon.history())
    steps = np.asarray(mon.gram_steps(), dtype=np.int64)
    rundir.write_npz(d / "grams.npz", steps=steps, grams=mon.grams())
    _write_probes(session)
    rundir.write_json(d / "summary.json", session.summary(status))
    state = session_state(session)
    keep = session.config.keep_checkpoints_every
    if keep is not None and session.step % keep == 0:  # before checkpoint.pt: a kill during
        (d / "checkpoints").mkdir(exist_ok=True)       # it resumes the round and rewrites it
        rundir.write_bytes_with(
            d / "checkpoints" / f"step_{session.step}.pt", lambda h: torch.save(state, h)
        )
    rundir.write_bytes_with(d / "checkpoint.pt", lambda h: torch.save(state, h))
    if plots:
        from spectral_edge.validation.runs.figures import plot_run

        plot_run(d)


def _write_probes(session: RunSession) -> None:
    """``probes.csv`` and ``probe_windows.csv`` (sorted by step), when probes ran or are
    configured (docs/run-directory.md)."""
    if not session.probe_rows and session.config.probe_every is None:
        return
    rows = sorted(session.probe_rows, key=lambda r: (r["step"], r["mode"]))
    windows = sorted(session.probe_windows, key=lambda r: r["step"])
    rundir.write_csv(session.out_dir / "probes.csv", frame(rows, "rows"))
    rundir.write_csv(session.out_dir / "probe_windows.csv", frame(windows, "windows"))


def first_window_step(config: RunConfig) -> int:
    """The step at which the first complete window ends: W updates between snapshots
    every ``stride`` steps need snapshots at 0, stride, …, W·stride.

    Args:
        config: the run's config.

    Returns:
        ``window * stride``.

    >>> first_window_step(RunConfig.protocol("dyck"))
    600
    """
    return config.window * config.stride


def warn_short_run(config: RunConfig) -> str | None:
    """Warn (``UserWarning``) when the run is too short to fill one window.

    Args:
        config: the run's config.

    Returns:
        The warning's text, or None when ``steps`` reach the first window.
    """
    end = first_window_step(config)
    if config.steps >= end:
        return None
    text = (f"{config.steps} steps leave no complete window: the first window ends at step "
            f"{end} (W = {config.window} x stride {config.stride}); spectra.csv will have "
            "no rows")
    warnings.warn(text, UserWarning, stacklevel=3)
    return text


def run_status(out_dir: str | os.PathLike) -> str | None:
    """The status of the run in ``out_dir``.

    Args:
        out_dir: a run directory.

    Returns:
        ``status`` from ``summary.json`` (``finished``, ``interrupted``, ``running``), or
        None when there is none (or it is unreadable).
    """
    path = Path(out_dir) / "summary.json"
    if not path.exists():
        return None
    try:
        return rundir.read_json(path).get("status")
    except (InputError, AttributeError):
        return None


def load_config(path: str | os.PathLike) -> RunConfig:
    """Read and validate a ``config.json``.

    Args:
        path: the file.

    Returns:
        The config.
    """
    return RunConfig.from_dict(rundir.read_json(path))


def run(
    config: RunConfig,
    out_dir: str | os.PathLike,
    resume: bool = False,
    stop_after: int | None = None,
    progress: bool = True,
    plots: bool = True,
    tensorboard: str | os.PathLike | None = None,
) -> RunResult:
    """Train ``config`` into ``out_dir`` (created), or continue it with ``resume=True``.

    ``stop_after``: end this invocation after that many more optimizer steps (checkpoint
    written, status ``interrupted``); a later ``resume`` continues exactly. A directory
    that already holds a run needs ``resume=True``; resuming a finished run does nothing;
    resuming a directory that does not exist is an error. ``plots=False`` skips ``plots/``.

    Everything is validated before anything is written (config fields, device, output
    path, checkpoint contents), and the run holds an exclusive lock on ``out_dir``
    (:func:`spectral_edge.validation.runs.rundir.exclusive`) for its whole duration.

    Args:
        config: the run's config.
        out_dir: the run directory.
        resume: continue the run in ``out_dir``.
        stop_after: pause after this many more steps (None: run to the end).
        progress: show a progress bar.
        plots: draw ``plots/`` when the run finishes.
        tensorboard: also write TensorBoard event files there (per window, evaluation and
            probe; :mod:`spectral_edge.validation.runs.tracking`).

    Returns:
        The outcome, with the metrics and spectra tables.

    Raises:
        InputError: for a bad config, device, output path, ``stop_after`` or checkpoint.
    """
    if not isinstance(config, RunConfig):
        raise InputError(f"config must be a RunConfig (RunConfig.protocol(...) or "
                         f"RunConfig.from_dict(...)), got {type(config).__name__}")
    if not isinstance(out_dir, str | os.PathLike) or not str(out_dir).strip():
        raise InputError(f"out_dir must be a non-empty path, got {out_dir!r}")
    config.validate()
    check_device(config.device)
    warn_short_run(config)
    if stop_after is not None and (isinstance(stop_after, bool) or stop_after < 1):
        raise InputError(f"stop_after must be >= 1, got {stop_after}")
    out = Path(out_dir)
    if out.exists() and not out.is_dir():
        raise InputError(f"{out} exists and is not a directory")
    if resume and not out.is_dir():
        raise InputError(f"cannot resume: run directory {out} does not exist")
    with torch_settings(config.threads, config.device):
        state = RunSession(config, out)
        created = not out.exists()
        try:
            with rundir.exclusive(out):
                finished_before = _open(state, out, resume)
                if not finished_before:
                    _loop(state, stop_after, progress, tensorboard)
                status = "finished" if state.stop_reason else "interrupted"
                if not finished_before:  # resuming a finished run changes nothing on disk
                    write_run(state, status, plots=plots and status == "finished")
        except InputError:
            if created and out.is_dir() and not any(out.iterdir()):
                out.rmdir()
            raise
    return RunResult(
        out_dir=out,
        status=status,
        steps_done=state.step,
        grok_step=state.grok_step,
        fit_step=state.fit_step,
        stop_reason=state.stop_reason,
        wall_time_s=state.wall_s,
        metrics=pd.DataFrame(state.rows),
        spectra=state.monitor.history(),
    )


def _open(state: RunSession, out: Path, resume: bool) -> bool:
    """Under the directory lock: check what ``out`` holds, then load or start the run.

    Returns:
        True when the loaded run had already finished.

    Raises:
        InputError: when ``out`` holds another run, or a run without ``--resume``.
    """
    ckpt = out / "checkpoint.pt"
    if (out / "config.json").exists():
        if not resume:
            raise InputError(f"{out} already holds a run; pass --resume to continue it")
        if load_config(out / "config.json") != state.config:
            raise InputError(f"{out} holds a run with a different config")
    elif resume and ckpt.exists():
        raise InputError(f"{out} has a checkpoint but no config.json")
    if resume and ckpt.exists():
        load_checkpoint(state, ckpt)
        return state.stop_reason is not None
    rundir.write_json(out / "config.json", state.config.to_dict())
    return False


def _loop(state: RunSession, stop_after: int | None, progress: bool,
          tensorboard: str | os.PathLike | None = None) -> None:
    cfg = state.config
    tracker = None
    if tensorboard is not None:
        from spectral_edge.validation.runs.tracking import TensorBoardTracker

        tracker = TensorBoardTracker(tensorboard, state)
    if state.step == 0 and not state.rows:
        state.evaluate()
    bar = None
    if progress:
        from tqdm.auto import tqdm

        bar = tqdm(
            total=cfg.steps,
            initial=state.step,
            desc=Path(state.out_dir).name,
            unit="step",
            dynamic_ncols=True,
        )
    start_step = state.step
    tick = time.perf_counter()
    try:
        while True:
            loss = state.train_step()
            if state.step % cfg.eval_every == 0 or state.step == cfg.steps:
                state.wall_s += time.perf_counter() - tick
                tick = time.perf_counter()
                row = state.evaluate()
                if bar is not None:
                    bar.set_postfix(train=f"{row['train_acc']:.3f}", test=f"{row['test_acc']:.3f}")
            if bar is not None:
                bar.update(1)
            done = state.should_stop(loss)
            if state.stop_reason == "diverged" and state.rows[-1]["step"] != state.step:
                state.evaluate()  # metrics.csv shows the diverged state
            paused = stop_after is not None and state.step - start_step >= stop_after
            if tracker is not None:
                tracker.sync(state)
            if done or paused:
                break
            if state.step % cfg.checkpoint_every == 0:
                state.wall_s += time.perf_counter() - tick
                tick = time.perf_counter()
                write_run(state, "running")
    finally:
        state.wall_s += time.perf_counter() - tick
        if bar is not None:
            bar.close()
        if tracker is not None:
            tracker.sync(state)
            tracker.close()
