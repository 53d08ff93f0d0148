"""The grid engine: runs named from their configs, trained one at a time or in worker
processes that die with their parent, finished runs skipped and interrupted ones resumed,
outcomes collected into one table (``spectral-edge sweep`` and ``reproduce`` use it).

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

from spectral_edge.validation.runs import rundir
from spectral_edge.validation.runs.config import RunConfig, make_config
from spectral_edge.validation.runs.training import load_config, run, run_status

PR_SET_PDEATHSIG = 1  # from <sys/prctl.h>
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
    from spectral_edge.common.errors import InputError

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


def _run_one(config: RunConfig, out_dir: str, progress: bool, plots: bool) -> str:
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
                progress: bool = True, plots: bool = True) -> list[str]:
    """Train every item not finished yet under ``root`` (interrupted ones resume), one at a
    time or in ``workers`` processes that die with this one; returns the failures as
    ``"name: error"`` lines (one failed run does not stop the others)."""
    from tqdm.auto import tqdm

    for item in items:
        inside(root, item.name)
    todo = [i for i in items if not is_finished(root / i.name, i.config)]
    print(f"{label}: {len(items)} runs, {len(items) - len(todo)} already finished", flush=True)
    if not todo:  # no empty progress bar, no worker pool
        return []
    failed: list[str] = []
    bar = tqdm(total=len(todo), desc=label, unit="run", disable=not progress, position=0)
    if workers == 1:
        for item in todo:
            try:
                _run_one(item.config, str(root / item.name), progress, plots)
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
                pool.submit(_run_one, i.config, str(root / i.name), False, plots): i
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
