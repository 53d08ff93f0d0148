"""The run plan of the scorecard and the runner that trains it.

:func:`plan` lists every run the scorecard needs, as
:class:`spectral_edge.validation.cli.sweep.SweepItem`
(name + :class:`spectral_edge.validation.runs.config.RunConfig`, built by the sweep's
:func:`grid` from
:meth:`RunConfig.protocol` settings). Each group exists for a prediction:

* ``modular`` — modular tasks with weight decay 1.0 and 0.0 (P1, P2, P5, P6, P8, P9, P12 and,
  with probes, P4, P7, P10, P11, P13, P15, P16);
* ``muon`` — the same task with Muon (P3, against the AdamW runs);
* ``sketch`` — an AdamW run repeated with a sketch of dimension 10W (P14; the sketch has its
  own random generator, so training is identical and only the monitor differs);
* ``forget`` — an AdamW run whose training labels switch to (y+1) mod p after it has
  grokked (``forget_step``; P12's forgetting regime);
* ``dyck`` — the Dyck protocol, weight decay on and off (P8, P9 at W = 3), with snapshots
  every :data:`DYCK_STRIDE` = 20 steps instead of 200: on our CPU runs Dyck groks at step
  ~100, before the first window of 200-step snapshots would exist.

``quick`` keeps one seed and one modular task with shorter caps and probes every 2nd window
(Hessian top on every 4th): every prediction gets a value in under 10 minutes on two cores
with two workers. The full plan has three seeds and three modular tasks and probes every
window, the Hessian top on every 5th (``probe_every`` = 1, ``probe_hess_every`` = 5; exact
mode only, so never on the sketched run).

:func:`reproduce` trains what is not finished (resuming interrupted runs exactly, through
:func:`spectral_edge.validation.runs.training.run`), then writes the scorecard; killed at any
moment and run again,
it ends with the same scorecard.

>>> names = [i.name for i in plan(quick=True)]
>>> "modadd_adamw_wd1_s42" in names and "modadd_muon_wd1_s42" in names
True
"""

from __future__ import annotations

import time
from dataclasses import fields
from pathlib import Path
from typing import Any

from spectral_edge.common.errors import InputError
from spectral_edge.validation.runs import rundir
from spectral_edge.validation.runs.config import RunConfig
from spectral_edge.validation.runs.grid import SweepItem, collect, grid, is_finished, train_items

#: snapshot stride of the Dyck runs (the protocol's 200 leaves no window before grokking)
DYCK_STRIDE = 20

#: seeds of the full plan (the quick plan uses the first)
SEEDS = (42, 137, 2024)


def _config_fields() -> set[str]:
    return {f.name for f in fields(RunConfig)}


def _probe_fields(on: bool, quick: bool = False) -> dict[str, list[Any]]:
    """Probe every window and take the Hessian top on every 5th (P4) — in the quick plan
    every 2nd window and every 4th; off for a sketched run (probes need the exact
    monitor). P7's ġ needs no consecutive probed windows: the next window's σ is in
    ``spectra.csv``."""
    if "probe_every" not in _config_fields():
        return {}
    every, hess = (2, 4) if quick else (1, 5)
    return {"probe_every": [every if on else None], "probe_hess_every": [hess if on else None]}


def plan(quick: bool = False) -> list[SweepItem]:
    """Every run of the scorecard (names unique; see the module docstring)."""
    seeds = list(SEEDS[:1] if quick else SEEDS)
    mod_tasks = ["modadd"] if quick else ["modadd", "modsub", "modmul"]
    cap = {"steps": [2000 if quick else 4000], "stop_after_grok": [200 if quick else 500]}
    probes = _probe_fields(True, quick)
    items: list[SweepItem] = []
    for task in mod_tasks:
        items += grid({}, {"task": [task], "wd": [1.0, 0.0], "seed": seeds} | cap | probes)
    items += grid({}, {"task": ["modadd"], "optimizer": ["muon"], "wd": [1.0],
                       "seed": seeds} | cap | probes)
    sketch = grid({}, {"task": ["modadd"], "wd": [1.0], "seed": seeds[:1],
                       "sketch_dim": [100]} | cap | _probe_fields(False))
    items += [SweepItem(i.name + "_sketch100", i.config) for i in sketch]
    forget = 1800 if quick else 3000
    forgetting = grid({}, {"task": ["modadd"], "wd": [1.0], "seed": seeds[:1],
                           "steps": [forget + 600], "stop_after_grok": [None],
                           "forget_step": [forget]} | _probe_fields(False))
    items += [SweepItem(f"{i.name}_forget{forget}", i.config) for i in forgetting]
    # snapshots every 20 steps, not 200: our Dyck runs grok at step ~100, before the first
    # W = 3 window of 200-step snapshots would exist (step 600)
    dyck = {"task": ["dyck"], "wd": [1.0, 0.0], "seed": seeds, "stride": [DYCK_STRIDE]}
    if quick:
        dyck |= {"steps": [1000], "stop_after_grok": [200]}
    items += [SweepItem(f"{i.name}_stride{DYCK_STRIDE}", i.config)
              for i in grid({}, dyck | probes)]
    names = [i.name for i in items]
    if len(set(names)) != len(names):
        raise InputError("the reproduce plan repeats a run name")
    return items


def commands(out: str | Path, quick: bool, workers: int) -> list[str]:
    """The command lines that produce (and regenerate) the scorecard."""
    flag = " --quick" if quick else ""
    return [f"spectral-edge reproduce --out {out}{flag} --workers {workers}",
            f"spectral-edge report {out}"]


def train_plan(items: list[SweepItem], root: Path, workers: int = 1,
               progress: bool = True) -> list[str]:
    """Train every item not finished yet (interrupted ones resume); returns failures."""
    failed = train_items(items, root, workers, "reproduce", progress, plots=False)
    rundir.write_csv(root / "runs.csv", collect(root, items))
    return failed


def reproduce(out: str | Path, quick: bool = False, workers: int = 1,
              progress: bool = True) -> tuple[Path, list[str], float]:
    """Train the plan into ``out`` and write ``out/scorecard.md``; returns the scorecard
    path, the failed runs and the wall time (s) of this call."""
    from spectral_edge.validation.scorecard.report import write_scorecard

    if workers < 1:
        raise InputError(f"--workers must be >= 1, got {workers}")
    t0 = time.perf_counter()
    root = Path(out)
    root.mkdir(parents=True, exist_ok=True)
    items = plan(quick)
    trained = sum(not is_finished(root / i.name, i.config) for i in items)
    failed = train_plan(items, root, workers, progress)
    grid_name = "quick grid (--quick: one seed, short caps)" if quick else "full grid"
    notes = [f"Plan: the {grid_name}; {len(items)} runs (validation/experiments/reproduce.py lists "
             "them; `spectral-edge reproduce --list` prints them)."]
    meta_path = root / "reproduce.json"
    meta = rundir.read_json(meta_path) if meta_path.exists() else {}
    wall = time.perf_counter() - t0
    rundir.write_json(meta_path, {
        "quick": quick, "workers": workers if trained else meta.get("workers", workers),
        "notes": notes, "commands": commands(out, quick, workers),
        "wall_s": wall if trained else meta.get("wall_s"),
    })
    card = write_scorecard(root, root / "scorecard.md", title="Scorecard")
    return card.path, failed, time.perf_counter() - t0
