"""``spectral-edge train``: one instrumented training run into a run directory.

Every :class:`spectral_edge.validation.runs.training.RunConfig` field is a flag (``--wd 1.0``,
``--batch-size
512``, ``--stop-after-grok none``); ``--config file.json`` gives a base config that flags
override; unset fields take the task's protocol defaults (docs/spec.md §7). ``--resume``
continues an interrupted run (with no other flags it reads the stored ``config.json``).
``--tensorboard DIR`` also writes TensorBoard event files (docs/scaling.md).

    spectral-edge train --task modadd --optimizer adamw --wd 1.0 --seed 42 --steps 6000 \\
        --out runs/modadd_wd1_s42
"""

from __future__ import annotations

import argparse
from dataclasses import fields
from pathlib import Path
from typing import Any, get_type_hints

from spectral_edge.common.errors import InputError
from spectral_edge.validation.runs.config import (
    SECTIONS,
    RunConfig,
    base_config,
    coerce_field,
    make_config,
)
from spectral_edge.validation.runs.training import RunResult, load_config, run


def add_config_arguments(parser: argparse.ArgumentParser, multi: bool = False) -> None:
    """A flag per ``RunConfig`` field, grouped by config section (comma-separated lists when
    ``multi``)."""
    hints = get_type_hints(RunConfig)
    defaults = {f.name: f.default for f in fields(RunConfig)}
    for section, names in SECTIONS.items():
        group = parser.add_argument_group(f"run config: {section} (unset: the task's protocol "
                                          "default)")
        for name in names:
            flag = "--" + name.replace("_", "-")
            aliases = [flag] if "_" not in name else [flag, "--" + name]
            types = getattr(hints[name], "__args__", (hints[name],))
            type_name = "/".join(t.__name__ if t is not type(None) else "none" for t in types)
            group.add_argument(
                *aliases,
                dest=name,
                default=argparse.SUPPRESS,
                metavar=type_name.upper() + ("[,...]" if multi else ""),
                help=f"default {defaults[name]!r}"
                + (" (comma-separated values: a grid)" if multi else ""),
            )


def given_fields(args: argparse.Namespace, multi: bool = False) -> dict[str, Any]:
    """The config fields given on the command line, parsed (lists when ``multi``)."""
    out: dict[str, Any] = {}
    for f in fields(RunConfig):
        if f.name not in vars(args):
            continue
        raw = getattr(args, f.name)
        values = raw.split(",") if multi else [raw]
        parsed = [coerce_field(f.name, v) for v in values]
        out[f.name] = parsed if multi else parsed[0]
    return out


def describe(result: RunResult, config: RunConfig) -> str:
    """One line about a run's outcome."""
    head = f"{config.task} {config.optimizer} wd={config.wd:g} seed={config.seed}"
    last = result.metrics.iloc[-1] if len(result.metrics) else None
    acc = "" if last is None else f"; final train/test acc {last.train_acc:.3f}/{last.test_acc:.3f}"
    if result.status != "finished":
        return f"{head}: paused at step {result.steps_done} ({result.status}){acc}"
    grok = (
        f"grokked at step {result.grok_step}"
        if result.grok_step is not None
        else f"did not grok in {result.steps_done} steps"
    )
    return (
        f"{head}: {grok} ({result.stop_reason}, {result.wall_time_s:.1f} s){acc}; {result.out_dir}"
    )


def configure(parser: argparse.ArgumentParser) -> None:
    """The ``train`` subcommand's arguments."""
    parser.add_argument("--out", required=True, help="run directory (created)")
    parser.add_argument("--config", help="JSON file with config fields (flags override it)")
    parser.add_argument("--resume", action="store_true", help="continue the run in --out")
    parser.add_argument(
        "--stop-after",
        type=int,
        default=None,
        metavar="N",
        help="pause after N more steps (checkpoint written; continue with --resume)",
    )
    parser.add_argument("--quiet", action="store_true", help="no progress bar")
    parser.add_argument("--no-plots", action="store_true", help="do not write plots/")
    parser.add_argument("--tensorboard", metavar="DIR", default=None,
                        help="also write TensorBoard event files to DIR (window statistics, "
                             "evaluations, probes; docs/scaling.md)")
    probes = parser.add_mutually_exclusive_group()
    probes.add_argument(
        "--probes",
        dest="probes",
        action="store_true",
        default=None,
        help="probe the edge directions (default: on, every --probe-every windows; "
        "docs/probes.md)",
    )
    probes.add_argument(
        "--no-probes", dest="probes", action="store_false", help="no probes (--probe-every none)"
    )
    add_config_arguments(parser)
    parser.set_defaults(func=execute)


def execute(args: argparse.Namespace) -> int:
    """Run (or resume) one training run; 0 when it finished or paused as asked."""
    if args.stop_after is not None and args.stop_after < 1:
        raise ValueError(f"--stop-after must be >= 1, got {args.stop_after}")
    given = given_fields(args)
    if args.probes is not None:
        if "probe_every" in given and (given["probe_every"] is None) == args.probes:
            raise ValueError("--probes/--no-probes contradicts --probe-every")
        if not args.probes:
            given["probe_every"] = None
        elif given.get("probe_every") is None:
            given["probe_every"] = RunConfig.probe_every
    if not args.out.strip():
        raise InputError("--out: an empty path; name the run directory")
    stored = Path(args.out) / "config.json"
    if args.resume and Path(args.out).is_dir() and not stored.exists():
        raise InputError(f"--resume: {args.out} holds no run (no config.json); "
                         "drop --resume to start one there")
    if args.resume and stored.exists() and not given and args.config is None:
        config = load_config(stored)
    else:
        config = make_config(base_config(args.config), given)
    result = run(
        config,
        args.out,
        resume=args.resume,
        stop_after=args.stop_after,
        progress=not args.quiet,
        plots=not args.no_plots,
        tensorboard=args.tensorboard,
    )
    print(describe(result, config))
    return 0
