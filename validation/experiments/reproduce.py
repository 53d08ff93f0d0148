"""The run plans of the scorecard and the runner that trains them.

:data:`PLANS` maps a plan name to a function ``(quick, long_controls) -> [SweepItem]``
(name + :class:`spectral_edge.validation.runs.config.RunConfig`, built by the sweep's
:func:`grid` from :meth:`RunConfig.protocol`, i.e. the ``paper`` protocol of
docs/protocols.md); other plans register themselves there. The ``scorecard`` plan has the
paper's grokking set, each with weight decay 1.0 and 0.0:

* ``modular`` — add, sub, mul, a²+b² (P1, P2, P5, P6, P8, P9, P12 and, with probes, P4, P7,
  P10, P11, P13, P15, P16), and the dual- (add+mul) and tri-task (add+mul+a²+b²) mixtures;
* ``dyck`` and ``scan`` — the Dyck and SCAN protocols (P8, P9, P13 at W = 3 and 5); SCAN
  as the CPU-scaled variant (:data:`SCAN_CPU`; the published size is out of reach on 2
  cores and is the separate ``scan`` plan, :func:`scan_plan`);
* ``muon`` — modular addition with Muon, seed 42 (P3, against the AdamW run);
* ``sketch`` — an AdamW run repeated with a sketch of dimension 10W (P14);
* ``forget`` — an AdamW run whose training labels switch to (y+1) mod p (P12's forgetting).

Grokking runs stop by the paper's rule (docs/protocols.md) or at a CPU cap
(:data:`CAPS`); the no-decay controls run :data:`CONTROL_STEPS` steps with snapshots every
500 (the tri-task control every 100, as its script; the paper's 50,000 steps for modular
tasks with ``long_controls``; the CPU-scaled SCAN control stops at the SCAN cap). Probes
(exact monitor only) run on every 4th window of the weight-decay runs, the Hessian top on
every 8th (Dyck: every window, the Hessian every 2nd, :data:`PROBE_CADENCE`); the controls
run without probes. Muon, the sketch and the forgetting run use
the first seed.

A weight-decay run that groks before its second full window (Dyck seed 42 at step 600,
stride 200, W = 3) gets a dense re-run with snapshots 4 times as often after the plan
(:func:`dense_reruns`; the full plan only), as the author re-ran that seed; P8 reads it in
the original's place.

:func:`estimate` gives each run's expected steps and seconds from per-step costs measured
on the 2-core development machine (:data:`STEP_S`, :data:`EVAL_S`, :data:`PROBE_S`), and
``spectral-edge reproduce --list`` prints them. :func:`reproduce` trains what is not
finished (resuming interrupted runs exactly), then writes the scorecard; killed at any
moment and run again, it ends with the same scorecard.

>>> names = [i.name for i in plan(quick=True)]
>>> "modadd_adamw_wd1_s42" in names and "modadd_muon_wd1_s42" in names
True
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from spectral_edge.common.errors import InputError
from spectral_edge.validation.experiments.lm_plan import lm_plan
from spectral_edge.validation.runs import rundir
from spectral_edge.validation.runs.config import task_family
from spectral_edge.validation.runs.grid import SweepItem, collect, grid, is_finished, train_items
from spectral_edge.validation.scorecard.predictions.rules import RULE_BY_ID

#: seeds of the full plan (the quick plan uses the first)
SEEDS = (42, 137, 2024)

#: the CPU-scaled SCAN variant: a d = 64, 2+2-layer model, batches of 64 and snapshots every
#: 200 steps (11 windows of W = 5 in 3,000 steps instead of 2). The published d = 256,
#: 3+3 layers at batch 256 is ~25x slower per step; it is the ``scan`` plan (a GPU's).
#: Batch 64 costs 0.095 s/step here against 0.26 s at 256 (measured side by side).
SCAN_CPU: dict[str, Any] = {"d_model": 64, "d_ff": 128, "n_layers": 2, "n_dec_layers": 2,
                            "eval_batch": 512, "batch_size": 64, "stride": 200}

#: step caps of the weight-decay runs (the paper: 200k, 300k multi-task, 20k Dyck, 30k SCAN;
#: its runs end earlier by the stop rule), full plan / quick plan
CAPS = {"modular": (6000, 3000), "multi": (10000, 3000), "dyck": (2000, 2000),
        "scan": (3000, 1500)}
# Dyck: 2000 leaves 3 windows (stride 200) after the latest published grok step, 1400; its
# stop rule (10 evaluations >= 0.99) had not fired by step 2000 in our seed-42 run (test
# accuracy 0.973, docs/runs.md), so Dyck runs are expected to run to the cap

#: steps of the no-decay controls (full / quick); ``long_controls``: the paper's 50k (modular)
CONTROL_STEPS = (10_000, 2000)
LONG_CONTROL_STEPS = 50_000

#: measured seconds per training step (one torch thread; docs/runs.md), by model; SCAN's from
#: the faithful full plan of 2026-12-03 (runs/faithful, docs/runs.md: modular 0.031-0.054,
#: Dyck 0.053-0.068, the SCAN variant 0.053-0.069 s/step with evaluations); the published
#: SCAN size (``scan``): 4.3 s/step, measured alone
STEP_S = {"modular": 0.04, "muon": 0.05, "dyck": 0.04, "scan_cpu": 0.06, "scan": 4.3}
#: measured seconds per evaluation (train + test split), by family
EVAL_S = {"modular": 0.35, "dyck": 2.0, "scan": 1.5}
#: measured seconds per probed window (with the Hessian top: ``PROBE_HESS_S``)
PROBE_S, PROBE_HESS_S = 7.0, 15.0

#: expected steps of a grokking run (published grok steps plus the stop rule's latency)
EXPECTED_STEPS = {"modular": 3300, "multi": 6000, "dyck": 2000, "scan": 3000}


#: probe cadence (every n-th window, the Hessian top every m-th) by step cap; Dyck probes
#: every window (8 windows; grok steps 600-1400 leave 0-4 windows before grokking, which
#: P13 reads), the rest every 4th
PROBE_CADENCE = {"dyck": (1, 2)}


def _probes(on: bool, cap: str = "modular") -> dict[str, list[Any]]:
    every, hess = PROBE_CADENCE.get(cap, (4, 8))
    return {"probe_every": [every if on else None], "probe_hess_every": [hess if on else None]}


def _pair(task: str, seeds: list[int], quick: bool, long_controls: bool,
          cap: str, extra: dict[str, list[Any]] | None = None) -> list[SweepItem]:
    """``task`` with weight decay 1.0 (capped, probed) and 0.0 (the control)."""
    extra = extra or {}
    control = LONG_CONTROL_STEPS if long_controls and cap in ("modular", "multi") else (
        CONTROL_STEPS[1] if quick else CONTROL_STEPS[0])
    if cap == "scan":  # CPU-scaled SCAN: the control stops at the same cap
        control = CAPS[cap][1 if quick else 0]
    on = grid({}, {"task": [task], "wd": [1.0], "seed": seeds,
                   "steps": [CAPS[cap][1 if quick else 0]]} | extra | _probes(True, cap))
    off = grid({}, {"task": [task], "wd": [0.0], "seed": seeds, "steps": [control]}
               | extra | _probes(False))
    return on + off


def scorecard_plan(quick: bool = False, long_controls: bool = False) -> list[SweepItem]:
    """Every run of the scorecard (names unique; see the module docstring).

    Args:
        quick: one seed, modular addition and Dyck, short caps (under 10 minutes at 2
            workers).
        long_controls: the modular no-decay controls run the paper's 50,000 steps.

    Returns:
        The runs.

    Raises:
        InputError: when two runs share a name.
    """
    seeds = list(SEEDS[:1] if quick else SEEDS)
    items: list[SweepItem] = []
    for task in ["modadd"] if quick else ["modadd", "modsub", "modmul", "modsq"]:
        items += _pair(task, seeds, quick, long_controls, "modular")
    if not quick:
        for task in ("modadd+modmul", "modadd+modmul+modsq"):
            items += _pair(task, seeds, quick, long_controls, "multi")
    items += _pair("dyck", seeds, quick, long_controls, "dyck")
    if not quick:
        items += _pair("scan", seeds, quick, long_controls, "scan",
                       {k: [v] for k, v in SCAN_CPU.items()})
    cap = {"steps": [CAPS["modular"][1 if quick else 0]]}
    items += grid({}, {"task": ["modadd"], "optimizer": ["muon"], "wd": [1.0],
                       "seed": seeds[:1]} | cap | _probes(True))
    sketch = grid({}, {"task": ["modadd"], "wd": [1.0], "seed": seeds[:1],
                       "sketch_dim": [100]} | cap | _probes(False))
    items += [SweepItem(i.name + "_sketch100", i.config) for i in sketch]
    forget = 2500 if quick else 3500
    forgetting = grid({}, {"task": ["modadd"], "wd": [1.0], "seed": seeds[:1],
                           "steps": [forget + 600], "stop_acc": [None],
                           "forget_step": [forget]} | _probes(False))
    items += [SweepItem(f"{i.name}_forget{forget}", i.config) for i in forgetting]
    names = [i.name for i in items]
    if len(set(names)) != len(names):
        raise InputError("the reproduce plan repeats a run name")
    return items


def scan_plan(quick: bool = False, long_controls: bool = False, device: str = "cpu",
              seeds: tuple[int, ...] = SEEDS) -> list[SweepItem]:
    """SCAN at the published size (``spectral-edge reproduce --plan scan``): the ``paper``
    protocol unchanged (d = 256, 3+3 layers, batch 256, snapshots every 500, W = 5; 30,000
    steps with weight decay 1.0 and the 5 × ≥ 0.98 stop, 20,000 without), probes on every
    4th window of the weight-decay runs. About 25 h on 2 CPU cores; meant for a GPU.

    Args:
        quick: 2,000 steps each (trying the plan out).
        long_controls: ignored (the scorecard plan's option).
        device: ``cpu`` or ``cuda[:N]``.
        seeds: the seeds.

    Returns:
        The runs, named ``scan_adamw_wd<wd>_s<seed>``.

    >>> [(i.name, i.config.batch_size, i.config.steps) for i in scan_plan(seeds=(42,))]
    [('scan_adamw_wd1_s42', 256, 30000), ('scan_adamw_wd0_s42', 256, 20000)]
    """
    short = {"steps": [2000]} if quick else {}
    on = grid({}, {"task": ["scan"], "wd": [1.0], "seed": list(seeds), "device": [device]}
              | short | _probes(True))
    off = grid({}, {"task": ["scan"], "wd": [0.0], "seed": list(seeds), "device": [device]}
               | short | _probes(False))
    return on + off


PLANS: dict[str, Callable[..., list[SweepItem]]] = {"scorecard": scorecard_plan,
                                                    "lm": lm_plan, "scan": scan_plan}
"""Named plans: ``name -> f(quick=False, long_controls=False, **options) -> [SweepItem]``
(``lm``: :mod:`spectral_edge.validation.experiments.lm_plan`, options ``corpus`` and
``device``; ``scan``: :func:`scan_plan`, option ``device``)."""


def plan(quick: bool = False, long_controls: bool = False,
         name: str = "scorecard", **options: Any) -> list[SweepItem]:
    """The runs of the plan ``name`` (:data:`PLANS`).

    Args:
        quick: the quick variant.
        long_controls: the paper's 50k-step modular no-decay controls.
        name: the plan.
        **options: the plan's own options (``lm``: ``corpus``, ``device``).

    Returns:
        The runs.

    Raises:
        InputError: for an unknown plan name.
    """
    if name not in PLANS:
        raise InputError(f"unknown plan {name!r}; known: {', '.join(PLANS)}")
    return PLANS[name](quick=quick, long_controls=long_controls, **options)


@dataclass(frozen=True)
class Estimate:
    """A run's expected length: ``steps`` (the cap or the expected stop), ``seconds``."""

    name: str
    cap: int
    steps: int
    seconds: float


def estimate(item: SweepItem) -> Estimate:
    """Expected steps and wall seconds of one run: steps x :data:`STEP_S` + evaluations x
    :data:`EVAL_S` + probed windows x :data:`PROBE_S` (every ``probe_hess_every``-th at
    :data:`PROBE_HESS_S`). A weight-decay run is expected to stop at
    :data:`EXPECTED_STEPS` (published grok steps plus the stop rule), at most its cap.

    Args:
        item: the run.

    Returns:
        The estimate.

    >>> e = estimate(plan(quick=True)[0])
    >>> e.steps <= e.cap and e.seconds > 0
    True
    """
    c = item.config
    family = task_family(c.task)
    key = "multi" if "+" in c.task else family
    stops = c.stop_acc is not None and c.wd > 0 and c.forget_step is None
    steps = min(c.steps, EXPECTED_STEPS[key]) if stops else c.steps
    model = "muon" if c.optimizer == "muon" else family
    if family == "scan" and c.d_model is not None:  # the CPU-scaled variant
        model = "scan_cpu"
    heads = len(c.task.split("+"))  # extra heads add ~5% each (the trunk dominates)
    seconds = steps * STEP_S[model] * (1 + 0.05 * (heads - 1))
    seconds += steps / c.eval_every * EVAL_S[family]
    if c.probe_every is not None and c.sketch_dim is None:
        windows = max(0, steps // c.stride - c.window + 1)
        probed = windows // c.probe_every
        hess = windows // c.probe_hess_every if c.probe_hess_every else 0
        seconds += probed * PROBE_S + hess * (PROBE_HESS_S - PROBE_S)
    return Estimate(item.name, c.steps, steps, seconds)


def total_hours(items: list[SweepItem], workers: int) -> float:
    """Estimated wall hours of ``items`` on ``workers`` processes (longest first).

    Args:
        items: the runs.
        workers: parallel processes.

    Returns:
        The makespan in hours.
    """
    loads = [0.0] * max(workers, 1)
    for e in sorted((estimate(i) for i in items), key=lambda e: -e.seconds):
        loads[loads.index(min(loads))] += e.seconds
    return max(loads) / 3600


def commands(out: str | Path, quick: bool, workers: int) -> list[str]:
    """The command lines that produce (and regenerate) the scorecard."""
    flag = " --quick" if quick else ""
    return [f"spectral-edge reproduce --out {out}{flag} --workers {workers}",
            f"spectral-edge report {out}"]


def train_plan(items: list[SweepItem], root: Path, workers: int = 1,
               progress: bool = True, executor: str = "local",
               address: str | None = None) -> list[str]:
    """Train every item not finished yet (interrupted ones resume) with the grid engine
    ``executor`` (``local`` or ``ray``, at ``address``); returns failures."""
    failed = train_items(items, root, workers, "reproduce", progress, plots=False,
                         executor=executor, address=address)
    rundir.write_csv(root / "runs.csv", collect(root, items))
    return failed


def dense_reruns(items: list[SweepItem], root: Path) -> list[SweepItem]:
    """The dense re-runs of the finished weight-decay runs that grokked too early to see a
    window before it: fewer full windows end at or before the grok step than P8's rule needs
    (``min_windows``, 2: a peak and a later value). Each is trained again with snapshots
    :data:`~spectral_edge.validation.runs.rundir.DENSE_FACTOR` times as often and probes as
    many windows apart in steps, as the author re-ran Dyck seed 42 every 50 steps instead of
    200 (dyck_scan SPECTRAL_EDGE_THESIS_REPLICATION.md §2.4, §6.1: W+1 snapshots before the
    grok step). Training is the same (the monitor is neutral); only the snapshots differ.

    Args:
        items: the plan's runs.
        root: the plan's output folder (each run's ``summary.json`` is read).

    Returns:
        The re-runs, named :func:`~spectral_edge.validation.runs.rundir.dense_name`
        (none for an unfinished run, a sketched or forgetting run, or a stride below the
        factor).
    """
    out = []
    factor = rundir.DENSE_FACTOR
    for item in items:
        c = item.config
        summary = root / item.name / "summary.json"
        if (c.wd <= 0 or c.sketch_dim is not None or c.forget_step is not None
                or c.stride < factor or not summary.exists()):
            continue
        done = rundir.read_json(summary)
        g = done.get("grok_step") if done.get("grokked") else None
        need = int(RULE_BY_ID["P8"].params["min_windows"])  # windows end at W, W+1, … strides
        if g is None or g >= (c.window + need - 1) * c.stride:
            continue
        out.append(_dense(item))
    return out


def _dense(item: SweepItem) -> SweepItem:
    """``item`` with snapshots and probes :data:`~spectral_edge.validation.runs.rundir.
    DENSE_FACTOR` times as often in steps (the same windows probed in number)."""
    c, factor = item.config, rundir.DENSE_FACTOR
    scale = {k: None if getattr(c, k) is None else getattr(c, k) * factor
             for k in ("probe_every", "probe_hess_every")}
    return SweepItem(rundir.dense_name(item.name, c.stride // factor),
                     replace(c, stride=c.stride // factor, **scale))


#: runs expected to grok before their second window (published grok step 600, stride 200,
#: W = 3), so ``--list`` counts their dense re-runs; :func:`dense_reruns` decides from the
#: runs' own grok steps
EXPECTED_DENSE = ("dyck_adamw_wd1_s42",)


def expected_dense(items: list[SweepItem]) -> list[SweepItem]:
    """The dense re-runs the plan is expected to need (:data:`EXPECTED_DENSE`), for
    estimates.

    Args:
        items: the plan's runs.

    Returns:
        Their dense re-runs (:func:`dense_reruns`' settings).

    >>> [i.name for i in expected_dense(plan())]
    ['dyck_adamw_wd1_s42_dense50']
    """
    return [_dense(i) for i in items if i.name in EXPECTED_DENSE]


def reproduce(out: str | Path, quick: bool = False, workers: int = 1,
              progress: bool = True, long_controls: bool = False,
              name: str = "scorecard", executor: str = "local", address: str | None = None,
              **options: Any) -> tuple[Path, list[str], float]:
    """Train the plan into ``out`` and write ``out/scorecard.md``; returns the scorecard
    path, the failed runs and the wall time (s) of this call. ``executor``/``address``:
    the grid engine (:func:`train_plan`); ``options``: the plan's own (:func:`plan`)."""
    from spectral_edge.validation.scorecard.report import write_scorecard

    if workers < 1:
        raise InputError(f"--workers must be >= 1, got {workers}")
    t0 = time.perf_counter()
    root = Path(out)
    root.mkdir(parents=True, exist_ok=True)
    items = plan(quick, long_controls=long_controls, name=name, **options)
    trained = sum(not is_finished(root / i.name, i.config) for i in items)
    failed = train_plan(items, root, workers, progress, executor, address)
    dense = [] if quick else dense_reruns(items, root)
    if dense:
        trained += sum(not is_finished(root / i.name, i.config) for i in dense)
        failed += train_plan(items + dense, root, workers, progress, executor, address)
    grid_name = "quick grid (--quick: one seed, short caps)" if quick else "full grid"
    notes = [f"Plan: the {grid_name}; {len(items)} runs (validation/experiments/reproduce.py lists "
             "them; `spectral-edge reproduce --list` prints them)"
             + (f", and {len(dense)} dense re-run(s) of runs that grokked before their second "
                f"window ({', '.join(i.name for i in dense)})." if dense else ".")]
    meta_path = root / "reproduce.json"
    meta = rundir.read_json(meta_path) if meta_path.exists() else {}
    wall = time.perf_counter() - t0
    calls = list(meta.get("calls", []))
    if trained:
        calls.append({"runs": trained, "workers": workers, "wall_s": wall})
    rundir.write_json(meta_path, {
        "quick": quick, "workers": workers if trained else meta.get("workers", workers),
        "notes": notes, "commands": commands(out, quick, workers),
        "wall_s": wall if trained else meta.get("wall_s"), "calls": calls,
    })
    card = write_scorecard(root, root / "scorecard.md", title="Scorecard", progress=True)
    return card.path, failed, time.perf_counter() - t0
