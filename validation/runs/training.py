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

import dataclasses
import math
import os
import pickle
import time
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import torch

from spectral_edge.common.errors import InputError
from spectral_edge.validation.monitor import GramMonitor
from spectral_edge.validation.runs import rundir
from spectral_edge.validation.runs.config import RunConfig, check_device
from spectral_edge.validation.runs.evaluation import evaluate, forward, trim_padding
from spectral_edge.validation.runs.models import ModelSizes, build_model, count_parameters
from spectral_edge.validation.runs.optimizers import build_optimizer
from spectral_edge.validation.runs.tasks import (
    accuracy_keys,
    make_task,
    task_loss,
)

CHECKPOINT_VERSION = 2  # 2: monitor state with storage dtype, skip counters, gram steps


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


def batch_indices(n: int, batch_size: int, seed: int, step: int) -> np.ndarray:
    """Training example indices for optimizer step ``step`` (0-based): a pure function.

    Epoch ``e`` is a permutation drawn from ``(seed, e)``; steps walk through it in order,
    so resuming at any step reproduces the same minibatches.

    >>> batch_indices(5, 2, seed=0, step=0).tolist() == batch_indices(5, 2, 0, 0).tolist()
    True
    >>> sorted(np.concatenate([batch_indices(5, 2, 0, s) for s in range(3)]).tolist())
    [0, 1, 2, 3, 4]
    """
    per_epoch = math.ceil(n / batch_size)
    epoch, k = divmod(step, per_epoch)
    perm = np.random.default_rng([seed, epoch, 0x5EED]).permutation(n)
    return perm[k * batch_size : (k + 1) * batch_size]


@contextmanager
def _torch_settings(threads: int, device: str):
    """Fixed thread count (CPU kernels are deterministic at a fixed thread count) and, on
    CUDA, deterministic algorithms, for the duration of a run."""
    old_threads = torch.get_num_threads()
    torch.set_num_threads(threads)
    cuda = device.startswith("cuda")
    if cuda:
        old_det = torch.are_deterministic_algorithms_enabled()
        old_warn = torch.is_deterministic_algorithms_warn_only_enabled()
        os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")
        torch.use_deterministic_algorithms(True, warn_only=True)
    try:
        yield
    finally:
        torch.set_num_threads(old_threads)
        if cuda:
            torch.use_deterministic_algorithms(old_det, warn_only=old_warn)


def _plain(obj: Any) -> Any:
    """Checkpoint-safe copy: numpy arrays -> tensors, numpy scalars -> Python numbers, so
    ``torch.load(weights_only=True)`` can read it back."""
    if isinstance(obj, np.ndarray):
        return torch.from_numpy(obj.copy())
    if isinstance(obj, np.generic):
        return obj.item()
    if isinstance(obj, dict):
        return {k: _plain(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return type(obj)(_plain(v) for v in obj)
    return obj


class _Run:
    """The state of one run between steps (everything the checkpoint stores)."""

    def __init__(self, config: RunConfig, out_dir: Path) -> None:
        self.config, self.out_dir = config, out_dir
        device = torch.device(config.device)
        torch.manual_seed(config.seed)
        task = make_task(
            config.task,
            seed=config.seed if config.data_seed is None else config.data_seed,
            p=config.p,
            train_frac=config.train_frac,
            n_train=config.n_train,
            n_test=config.n_test,
        )
        if config.grok_metric not in accuracy_keys(task):
            raise InputError(
                f"grok_metric {config.grok_metric!r} does not exist for task {config.task}; "
                f"choose from {', '.join(accuracy_keys(task))}"
            )
        self.task = dataclasses.replace(
            task,
            x_train=task.x_train.to(device),
            y_train=task.y_train.to(device),
            x_test=task.x_test.to(device),
            y_test=task.y_test.to(device),
        )
        sizes = ModelSizes(
            config.d_model, config.n_heads, config.d_ff, config.n_layers, config.n_dec_layers
        )
        self.model = build_model(self.task, config.model, sizes).to(device)
        self.optimizer = build_optimizer(
            self.model,
            config.optimizer,
            lr=config.lr,
            weight_decay=config.wd,
            betas=(config.beta1, config.beta2),
            momentum=config.momentum,
        )
        self.monitor = GramMonitor(
            self.model,
            window=config.window,
            stride=config.stride,
            select=config.monitor_select,
            sketch_dim=config.sketch_dim,
            optimizer=self.optimizer,
            kstar_method=config.kstar_method,
            seed=config.seed,
        )
        self.step = 0
        self.rows: list[dict[str, float]] = []
        self.grok_step: int | None = None
        self.grok_wall_s: float | None = None
        self.fit_step: int | None = None
        self.stop_reason: str | None = None
        self.wall_s = 0.0
        self.probe_rows: list[dict[str, Any]] = []
        self.probe_windows: list[dict[str, Any]] = []
        self.probe_wall_s = 0.0
        self.probe_timing: list[dict[str, float]] = []

    # -------------------------------------------------------------- training

    def train_step(self) -> float:
        cfg, task = self.config, self.task
        idx = torch.as_tensor(
            batch_indices(task.n_train, cfg.batch_size, cfg.seed, self.step),
            device=task.x_train.device,
        )
        x, y = trim_padding(task, task.x_train[idx], task.y_train[idx])
        if cfg.forget_step is not None and self.step >= cfg.forget_step:
            y = (y + 1) % task.n_classes  # induced forgetting (P12): switched labels
        self.model.train()
        self.optimizer.zero_grad(set_to_none=True)
        loss = task_loss(task, forward(self.model, task, x, y), y)
        loss.backward()
        if cfg.grad_clip:
            torch.nn.utils.clip_grad_norm_(self.model.parameters(), cfg.grad_clip)
        self.optimizer.step()
        self.step += 1
        if self.monitor.step():
            self.maybe_probe()
        return float(loss.detach())

    def maybe_probe(self) -> None:
        """Probe the window that just ended when the cadence says so (docs/probes.md); the
        probe uses no global RNG and restores the parameters, so training is unchanged."""
        cfg = self.config
        from spectral_edge.validation.probes.window import is_probe_step

        if (
            self.monitor.sketch_dim is not None
            or self.monitor.stopped is not None
            or not is_probe_step(self.step, cfg.stride, cfg.probe_every)
            or not all(bool(torch.isfinite(p).all()) for _, p in self.monitor.names_params)
        ):
            return
        try:
            self.probe_now()
        except (ArithmeticError, ValueError, RuntimeError) as err:  # never stop training
            import warnings

            warnings.warn(f"probe of the window at step {self.step} failed: {err}",
                          RuntimeWarning, stacklevel=2)

    def probe_now(self) -> Any:
        """Probe the monitor's current window (ending at ``self.step``); rows are kept."""
        cfg = self.config
        from spectral_edge.validation.probes.window import (
            ProbeSettings,
            is_probe_step,
            probe_window,
        )
        from spectral_edge.validation.runs.probing import probe_data

        settings = ProbeSettings.from_config(cfg)
        if not is_probe_step(self.step, cfg.stride, cfg.probe_hess_every):
            settings = dataclasses.replace(settings, hess_k=0)
        result = probe_window(
            self.model, self.optimizer, self.monitor,
            probe_data(self.model, self.task, cfg.eval_batch),
            step=self.step, seed=cfg.seed, batch_size=cfg.batch_size,
            omega=cfg.wd, settings=settings,
        )
        self.probe_rows = [r for r in self.probe_rows if r["step"] != self.step]
        self.probe_windows = [r for r in self.probe_windows if r["step"] != self.step]
        self.probe_rows.extend(result.rows)
        self.probe_windows.append(result.window)
        self.probe_wall_s += result.wall_s
        self.probe_timing.append(
            {"step": self.step, "wall_s": result.wall_s, "hess_wall_s": result.hess_wall_s}
        )
        return result

    def evaluate(self) -> dict[str, float]:
        cfg, task = self.config, self.task
        tr = evaluate(self.model, task, task.x_train, task.y_train, cfg.eval_batch)
        te = evaluate(self.model, task, task.x_test, task.y_test, cfg.eval_batch)
        row: dict[str, float] = {"step": self.step}
        row |= {f"train_{k}": v for k, v in tr.items()}
        row |= {f"test_{k}": v for k, v in te.items()}
        self.rows.append(row)
        key = cfg.grok_metric
        if self.fit_step is None and tr[key] >= cfg.grok_threshold:
            self.fit_step = self.step
        if self.grok_step is None and te[key] >= cfg.grok_threshold:
            self.grok_step = self.step
            self.grok_wall_s = self.wall_s
        return row

    def should_stop(self, train_loss: float) -> bool:
        cfg = self.config
        if not math.isfinite(train_loss):
            self.stop_reason = "diverged"
        elif (
            cfg.stop_after_grok is not None
            and self.grok_step is not None
            and self.step >= self.grok_step + cfg.stop_after_grok
            and self.step % cfg.eval_every == 0
        ):
            self.stop_reason = "early_stop_after_grok"
        elif self.step >= cfg.steps:
            self.stop_reason = "max_steps"
        return self.stop_reason is not None

    # -------------------------------------------------------------- persistence

    def state(self) -> dict[str, Any]:
        return _plain(
            {
                "version": CHECKPOINT_VERSION,
                "config": self.config.to_dict(),
                "step": self.step,
                "model": self.model.state_dict(),
                "optimizer": self.optimizer.state_dict(),
                "monitor": self.monitor.state_dict(),
                "torch_rng": torch.get_rng_state(),
                "rows": self.rows,
                "grok_step": self.grok_step,
                "grok_wall_s": self.grok_wall_s,
                "fit_step": self.fit_step,
                "stop_reason": self.stop_reason,
                "wall_s": self.wall_s,
                "probes": {
                    "rows": self.probe_rows,
                    "windows": self.probe_windows,
                    "wall_s": self.probe_wall_s,
                    "timing": self.probe_timing,
                },
            }
        )

    def load(self, path: Path) -> None:
        """Restore the checkpoint at ``path``; its contents are checked before any of it is
        used (a missing key, a wrong type or a tensor of the wrong shape is ``InputError``)."""
        try:
            state = torch.load(path, map_location=self.config.device, weights_only=True)
        except pickle.UnpicklingError:
            raise InputError(
                f"cannot read checkpoint {path}: it holds objects other than tensors and plain "
                "data (not a spectral-edge checkpoint; refused for safety)"
            ) from None
        except Exception as err:  # noqa: BLE001 - any unreadable checkpoint is bad input
            first = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
            raise InputError(f"cannot read checkpoint {path}: {first}") from None
        _check_checkpoint(state, path, self)
        if RunConfig.from_dict(state["config"]) != self.config:
            raise InputError(f"checkpoint {path} was written by a different config")
        try:
            self.model.load_state_dict(state["model"])
            self.optimizer.load_state_dict(state["optimizer"])
            monitor_state = dict(state["monitor"])
            if isinstance(monitor_state.get("grams"), list):
                monitor_state["grams"] = [_numpy(g) for g in monitor_state["grams"]]
            self.monitor.load_state_dict(monitor_state)
            torch.set_rng_state(state["torch_rng"])
        except (RuntimeError, ValueError, KeyError, TypeError, AttributeError) as err:
            first = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
            raise InputError(f"checkpoint {path} does not fit this run: {first}") from None
        self.step, self.rows = int(state["step"]), [dict(r) for r in state["rows"]]
        self.grok_step, self.fit_step = state["grok_step"], state["fit_step"]
        self.grok_wall_s, self.stop_reason = state["grok_wall_s"], state["stop_reason"]
        self.wall_s = float(state["wall_s"])
        probes = state.get("probes") or {}
        if not isinstance(probes, dict):
            raise InputError(f"checkpoint {path}: 'probes' must be a dict")
        self.probe_rows = [dict(r) for r in probes.get("rows", [])]
        self.probe_windows = [dict(r) for r in probes.get("windows", [])]
        self.probe_wall_s = float(probes.get("wall_s", 0.0))
        self.probe_timing = [dict(r) for r in probes.get("timing", [])]

    def write(self, status: str, plots: bool = False) -> None:
        """Data files first, the checkpoint last (it is what a resume trusts)."""
        d = self.out_dir
        metrics = pd.DataFrame(self.rows)
        spectra = self.monitor.history()
        rundir.write_csv(d / "metrics.csv", metrics)
        rundir.write_csv(d / "spectra.csv", spectra)
        steps = np.asarray(self.monitor.gram_steps(), dtype=np.int64)
        rundir.write_npz(d / "grams.npz", steps=steps, grams=self.monitor.grams())
        self.write_probes()
        rundir.write_json(d / "summary.json", self.summary(status))
        state = self.state()
        rundir.write_bytes_with(d / "checkpoint.pt", lambda h: torch.save(state, h))
        keep = self.config.keep_checkpoints_every
        if keep is not None and self.step % keep == 0:
            (d / "checkpoints").mkdir(exist_ok=True)
            rundir.write_bytes_with(
                d / "checkpoints" / f"step_{self.step}.pt", lambda h: torch.save(state, h)
            )
        if plots:
            from spectral_edge.validation.runs.figures import plot_run

            plot_run(d)

    def write_probes(self) -> None:
        """``probes.csv`` and ``probe_windows.csv`` (sorted by step), when probes ran or are
        configured (docs/run-directory.md)."""
        if not self.probe_rows and self.config.probe_every is None:
            return
        rows = sorted(self.probe_rows, key=lambda r: (r["step"], r["mode"]))
        windows = sorted(self.probe_windows, key=lambda r: r["step"])
        from spectral_edge.validation.probes.window import frame

        rundir.write_csv(self.out_dir / "probes.csv", frame(rows, "rows"))
        rundir.write_csv(self.out_dir / "probe_windows.csv", frame(windows, "windows"))

    def summary(self, status: str) -> dict[str, Any]:
        """``summary.json``; ``final`` is the last evaluation whose numbers are all finite
        (``final_step`` says which), so a diverged run does not report NaNs as its end."""
        finite = [r for r in self.rows if all(math.isfinite(v) for v in r.values())]
        last = finite[-1] if finite else {}
        return {
            "status": status,
            "task": self.config.task,
            "optimizer": self.config.optimizer,
            "wd": self.config.wd,
            "seed": self.config.seed,
            "steps": self.config.steps,
            "steps_done": self.step,
            "grokked": self.grok_step is not None,
            "grok_step": self.grok_step,
            "grok_metric": self.config.grok_metric,
            "grok_wall_s": self.grok_wall_s,
            "fit_step": self.fit_step,
            "stop_reason": self.stop_reason,
            "diverged": self.stop_reason == "diverged",
            "final_step": last.get("step"),
            "final": {k: v for k, v in last.items() if k != "step"},
            "best_test_acc": max((r["test_acc"] for r in finite), default=None),
            "n_params": count_parameters(self.model),
            "n_monitored": self.monitor.n_params,
            "monitored": self.monitor.names,
            "n_windows": len(self.monitor.history()),
            "skipped_updates": {
                "total": self.monitor.skipped,
                **self.monitor.skipped_by_kind,
                "bad_lr": self.monitor.bad_lr,
            },
            "wall_time_s": self.wall_s,
            "probe_wall_s": self.probe_wall_s,
            "n_probed_windows": len(self.probe_windows),
            "probe_timing": self.probe_timing,
            "torch": torch.__version__,
        }


CHECKPOINT_TYPES: dict[str, tuple[type, ...]] = {
    "version": (int,),
    "config": (dict,),
    "step": (int,),
    "model": (dict,),
    "optimizer": (dict,),
    "monitor": (dict,),
    "torch_rng": (torch.Tensor,),
    "rows": (list,),
    "grok_step": (int, type(None)),
    "grok_wall_s": (float, int, type(None)),
    "fit_step": (int, type(None)),
    "stop_reason": (str, type(None)),
    "wall_s": (float, int),
}
"""The keys of ``checkpoint.pt`` and the types their values must have."""


def _numpy(value: Any) -> Any:
    return value.numpy() if isinstance(value, torch.Tensor) else value


def _check_checkpoint(state: Any, path: Path, run: _Run) -> None:
    """Raise ``InputError`` naming the first key of ``state`` that is missing or wrong."""
    if not isinstance(state, dict):
        raise InputError(f"checkpoint {path} is not a dict of run state")
    for key, kinds in CHECKPOINT_TYPES.items():
        if key not in state:
            raise InputError(f"checkpoint {path} lacks the key {key!r}")
        value = state[key]
        if isinstance(value, bool) or not isinstance(value, kinds):
            kind = type(value).__name__
            raise InputError(f"checkpoint {path}: {key!r} has the wrong type {kind}")
    if state["version"] != CHECKPOINT_VERSION:
        raise InputError(f"checkpoint {path} has an unknown version {state['version']}")
    for key in ("step", "grok_step", "fit_step"):
        if state[key] is not None and state[key] < 0:
            raise InputError(f"checkpoint {path}: {key!r} must be >= 0, got {state[key]}")
    if not math.isfinite(state["wall_s"]) or state["wall_s"] < 0:
        raise InputError(f"checkpoint {path}: 'wall_s' must be a finite time >= 0")
    if not all(isinstance(row, dict) for row in state["rows"]):
        raise InputError(f"checkpoint {path}: 'rows' must be a list of metric rows")
    expected = run.model.state_dict()
    got = state["model"]
    if set(got) != set(expected):
        missing = sorted(set(expected) - set(got)) or sorted(set(got) - set(expected))
        raise InputError(f"checkpoint {path}: model tensors differ from this run's ({missing[0]})")
    for name, tensor in expected.items():
        if not isinstance(got[name], torch.Tensor):
            kind = type(got[name]).__name__
            raise InputError(f"checkpoint {path}: model entry {name!r} is a {kind}, not a tensor")
        if got[name].shape != tensor.shape:
            raise InputError(
                f"checkpoint {path}: model tensor {name!r} has shape {tuple(got[name].shape)}, "
                f"this run needs {tuple(tensor.shape)}"
            )


def run_status(out_dir: str | os.PathLike) -> str | None:
    """``status`` from ``summary.json`` (``finished``, ``interrupted``, ``running``) or None."""
    path = Path(out_dir) / "summary.json"
    if not path.exists():
        return None
    try:
        return rundir.read_json(path).get("status")
    except (InputError, AttributeError):
        return None


def load_config(path: str | os.PathLike) -> RunConfig:
    """Read and validate a ``config.json``."""
    return RunConfig.from_dict(rundir.read_json(path))


def run(
    config: RunConfig,
    out_dir: str | os.PathLike,
    resume: bool = False,
    stop_after: int | None = None,
    progress: bool = True,
    plots: bool = True,
) -> RunResult:
    """Train ``config`` into ``out_dir`` (created), or continue it with ``resume=True``.

    ``stop_after``: end this invocation after that many more optimizer steps (checkpoint
    written, status ``interrupted``); a later ``resume`` continues exactly. A directory
    that already holds a run needs ``resume=True``; resuming a finished run does nothing;
    resuming a directory that does not exist is an error. ``plots=False`` skips ``plots/``.

    Everything is validated before anything is written (config fields, device, output
    path, checkpoint contents), and the run holds an exclusive lock on ``out_dir``
    (:func:`spectral_edge.validation.runs.rundir.exclusive`) for its whole duration.
    """
    config.validate()
    check_device(config.device)
    if stop_after is not None and (isinstance(stop_after, bool) or stop_after < 1):
        raise InputError(f"stop_after must be >= 1, got {stop_after}")
    out = Path(out_dir)
    if out.exists() and not out.is_dir():
        raise InputError(f"{out} exists and is not a directory")
    if resume and not out.is_dir():
        raise InputError(f"cannot resume: run directory {out} does not exist")
    with _torch_settings(config.threads, config.device):
        state = _Run(config, out)
        created = not out.exists()
        try:
            with rundir.exclusive(out):
                finished_before = _open(state, out, resume)
                if not finished_before:
                    _loop(state, stop_after, progress)
                status = "finished" if state.stop_reason else "interrupted"
                if not finished_before:  # resuming a finished run changes nothing on disk
                    state.write(status, plots=plots and status == "finished")
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


def _open(state: _Run, out: Path, resume: bool) -> bool:
    """Under the directory lock: check what ``out`` holds, then load or start the run;
    True when the loaded run had already finished."""
    ckpt = out / "checkpoint.pt"
    if (out / "config.json").exists():
        if not resume:
            raise InputError(f"{out} already holds a run; pass --resume to continue it")
        if load_config(out / "config.json") != state.config:
            raise InputError(f"{out} holds a run with a different config")
    elif resume and ckpt.exists():
        raise InputError(f"{out} has a checkpoint but no config.json")
    if resume and ckpt.exists():
        state.load(ckpt)
        return state.stop_reason is not None
    rundir.write_json(out / "config.json", state.config.to_dict())
    return False


def _loop(state: _Run, stop_after: int | None, progress: bool) -> None:
    cfg = state.config
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
            if done or paused:
                break
            if state.step % cfg.checkpoint_every == 0:
                state.wall_s += time.perf_counter() - tick
                tick = time.perf_counter()
                state.write("running")
    finally:
        state.wall_s += time.perf_counter() - tick
        if bar is not None:
            bar.close()
