"""The grid engine: runs named from their configs, trained one at a time, in worker
processes that die with their parent (``executor="local"``, the default) or as Ray tasks
(``executor="ray"``, :mod:`spectral_edge.validation.runs.ray_executor`); finished runs
skipped and interrupted ones resumed, outcomes collected into one table
(``spectral-edge sweep`` and ``reproduce`` use it). Every executor trains a run through
:func:`train_one`, so their run directories are byte-identical.

>>> items = grid({}, {"task": ["modadd"], "wd": [1.0], "seed": [1], "steps": [5]})
>>> items[0].name, items[0].config.steps
('modadd_adamw_wd1_s1', 5)
"""

from __future__ import annotations

import ctypes
import ctypes.util
import itertools
import multiprocessing
import os
import re
import signal
import sys
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

import pandas as pd

from spectral_edge.common.errors import InputError
from spectral_edge.common.validate import check_choice
from spectral_edge.validation.runs import rundir
from spectral_edge.validation.runs.config import RunConfig, make_config
from spectral_edge.validation.runs.training import load_config, run, run_status

PR_SET_PDEATHSIG = 1  # from <sys/prctl.h>
EXECUTORS = ("local", "ray")
"""The grid engines: a process pool on this machine, or Ray (a local instance or a cluster)."""
NAME_FIELDS = ("task", "optimizer", "wd", "seed")
SUMMARY_COLUMNS = (
    "status",
    "grokked",
    "grok_step",
    "grok_wall_s",
    "fit_step",
    "steps_done",
    "stop_reason",
    "best_test_acc",
    "wall_time_s",
)


@dataclass(frozen=True)
class SweepItem:
    """One run of the grid."""

    name: str
    config: RunConfig


def _fmt(value: Any) -> str:
    return f"{value:g}" if isinstance(value, float) else str(value)


_UNSAFE = re.compile(r"[^A-Za-z0-9_.+=-]+")


def safe_name(text: str, limit: int = 120) -> str:
    """``text`` as one safe file-name component: every run of characters outside
    ``A-Za-z0-9_.+=-`` becomes ``-``, leading dots are dropped, at most ``limit`` characters.

    >>> safe_name("attention,weight|/../../../escaped")
    'attention-weight-..-..-..-escaped'

    Args:
        text: Free text (a config value).
        limit: The longest name returned.

    Returns:
        A name with no separator, never ``.``/``..``, never empty.
    """
    name = _UNSAFE.sub("-", text).lstrip(".")[:limit]
    return name or "-"


def inside(root: Path, name: str) -> Path:
    """``root / name`` after checking that it resolves to a direct child of ``root``.

    Args:
        root: The output root.
        name: A run name.

    Returns:
        ``root / name``.

    Raises:
        InputError: If the path would leave ``root``.
    """

    path = root / name
    if path.resolve().parent != root.resolve():
        raise InputError(f"run name {name!r} would write outside {root}")
    return path


def grid(base: dict[str, Any], given: dict[str, list[Any]]) -> list[SweepItem]:
    """Every combination of the given values (fields in ``RunConfig`` order).

    >>> items = grid({}, {"task": ["modadd"], "wd": [1.0, 0.0], "seed": [1], "steps": [5]})
    >>> [i.name for i in items]
    ['modadd_adamw_wd1_s1', 'modadd_adamw_wd0_s1']
    """
    order = [f.name for f in fields(RunConfig) if f.name in given]
    varied = [k for k in order if len(given[k]) > 1 and k not in NAME_FIELDS]
    items = []
    for combo in itertools.product(*(given[k] for k in order)):
        config = make_config(base, dict(zip(order, combo, strict=True)))
        parts = [
            config.task,
            config.optimizer,
            f"wd{_fmt(config.wd)}",
            f"s{config.seed}",
            *(f"{k}{_fmt(getattr(config, k))}" for k in varied),
        ]
        items.append(SweepItem("_".join(safe_name(p) for p in parts), config))
    names = [i.name for i in items]
    if len(set(names)) != len(names):
        raise ValueError("the grid repeats a run (a value listed twice?)")
    return items


def is_finished(out_dir: Path, config: RunConfig) -> bool:
    """Whether ``out_dir`` holds a finished run of exactly ``config``."""
    return (
        run_status(out_dir) == "finished"
        and (out_dir / "config.json").exists()
        and load_config(out_dir / "config.json") == config
    )


def train_one(config: RunConfig, out_dir: str, progress: bool, plots: bool) -> str:
    """Train (or resume, when ``out_dir`` holds its ``config.json``) one run of a grid; the
    body of every executor's task.

    Args:
        config: the run's config.
        out_dir: its run directory.
        progress: show the run's progress bar.
        plots: draw ``plots/`` at the end.

    Returns:
        The run's status (``finished``).
    """
    resume = (Path(out_dir) / "config.json").exists()
    result = run(config, out_dir, resume=resume, progress=progress, plots=plots)
    return result.status


def die_with_parent(parent_pid: int) -> None:
    """Worker initializer: the kernel sends SIGTERM to this worker when its parent dies
    (Linux ``PR_SET_PDEATHSIG``), so killing a sweep never leaves runs training on; the
    worker also exits at once if the sweep is already gone."""
    if sys.platform.startswith("linux"):
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGTERM)
    try:
        os.kill(parent_pid, 0)
    except ProcessLookupError:
        os._exit(1)


def collect(root: Path, items: list[SweepItem]) -> pd.DataFrame:
    """One row per run: the swept fields and the outcome from ``summary.json``."""
    rows = []
    for item in items:
        row: dict[str, Any] = {"name": item.name}
        row |= {k: getattr(item.config, k) for k in NAME_FIELDS}
        path = root / item.name / "summary.json"
        summary = rundir.read_json(path) if path.exists() else {"status": "missing"}
        row |= {k: summary.get(k) for k in SUMMARY_COLUMNS}
        row["final_test_acc"] = summary.get("final", {}).get("test_acc")
        rows.append(row)
    return pd.DataFrame(rows)


def train_items(items: list[SweepItem], root: Path, workers: int, label: str,
                progress: bool = True, plots: bool = True, executor: str = "local",
                address: str | None = None) -> list[str]:
    """Train every item not finished yet under ``root`` (interrupted ones resume).

    Args:
        items: the grid.
        root: the grid directory (one run directory per item).
        workers: runs at once (``local``: 1 = in this process, else processes that die
            with this one; ``ray``: tasks in flight).
        label: the progress bar's name.
        progress: show progress bars.
        plots: draw each run's ``plots/``.
        executor: ``local`` or ``ray`` (:data:`EXECUTORS`).
        address: a Ray cluster (``ray`` only; None: a local instance for this call).

    Returns:
        The failures as ``"name: error"`` lines (one failed run does not stop the others).

    Raises:
        InputError: for a bad executor, worker count or address.
    """
    from tqdm.auto import tqdm

    check_choice("--executor", executor, EXECUTORS)
    if isinstance(workers, bool) or not isinstance(workers, int) or workers < 1:
        raise InputError(f"--workers must be an integer >= 1, got {workers!r}")
    if address is not None and executor != "ray":
        raise InputError("--address needs --executor ray")
    for item in items:
        inside(root, item.name)
    todo = [i for i in items if not is_finished(root / i.name, i.config)]
    print(f"{label}: {len(items)} runs, {len(items) - len(todo)} already finished", flush=True)
    if not todo:  # no empty progress bar, no worker pool
        return []
    failed: list[str] = []
    bar = tqdm(total=len(todo), desc=label, unit="run", disable=not progress, position=0)
    if executor == "ray":
        from spectral_edge.validation.runs.ray_executor import train_ray

        failed = train_ray(todo, root, workers, plots, train_one, address,
                           on_done=lambda: bar.update(1))
    elif workers == 1:
        for item in todo:
            try:
                train_one(item.config, str(root / item.name), progress, plots)
            except Exception as err:  # noqa: BLE001 - one failed run must not stop the rest
                failed.append(f"{item.name}: {err}")
            bar.update(1)
    else:
        # spawn: the workers are children of this process, so PR_SET_PDEATHSIG ties them to it
        ctx = multiprocessing.get_context("spawn")
        with ProcessPoolExecutor(
            max_workers=workers,
            mp_context=ctx,
            initializer=die_with_parent,
            initargs=(os.getpid(),),
        ) as pool:
            futures = {
                pool.submit(train_one, i.config, str(root / i.name), False, plots): i
                for i in todo
            }
            for fut in as_completed(futures):
                try:
                    fut.result()
                except Exception as err:  # noqa: BLE001
                    failed.append(f"{futures[fut].name}: {err}")
                bar.update(1)
    bar.close()
    return failed
