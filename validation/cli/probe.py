"""``spectral-edge probe``: re-run the probes of a run directory from its checkpoints.

Measures curvature, gradient projections, injection/noise, ablation and mixing along the
edge directions of the window that ends at each ``--at STEP`` (default: the window of the
last checkpoint) and merges the rows into ``probes.csv`` and ``probe_windows.csv``
(docs/probes.md). A step needs a checkpoint: the last ``checkpoint.pt``, or a copy in
``checkpoints/step_N.pt`` that runs keep with ``--keep-checkpoints-every N``. The command
takes the run directory's lock, so it refuses (exit 2) while a run is writing to it.

    spectral-edge probe runs/modadd_wd1_s42 --at 2000 --at 3000
"""

from __future__ import annotations

import argparse

from spectral_edge.common.errors import InputError


def configure(parser: argparse.ArgumentParser) -> None:
    """The ``probe`` subcommand's arguments."""
    parser.add_argument("run_dir", metavar="RUN_DIR", help="a run directory written by train")
    parser.add_argument(
        "--at", type=int, action="append", metavar="STEP",
        help="window end step to probe (repeatable; default: the last checkpoint's)",
    )
    parser.add_argument(
        "--hess-k", type=int, default=None, metavar="K",
        help="top Hessian eigenvalues to compute, 0..100 (default: the run's probe_hess_k; "
        "0 skips)",
    )
    parser.set_defaults(func=execute)


MAX_AT = 1000
"""The most ``--at`` windows one ``probe`` call takes."""


def execute(args: argparse.Namespace) -> int:
    """Probe the chosen windows; one line per window."""
    from spectral_edge.common.validate import check_int
    from spectral_edge.validation.runs.config import SIZE_LIMITS
    from spectral_edge.validation.runs.reprobe import reprobe

    if len(args.at or []) > MAX_AT:
        raise InputError(f"--at: at most {MAX_AT} windows per call, got {len(args.at)}")
    for step in args.at or []:
        check_int("--at", step, 0, 2**62)
    if args.hess_k is not None:
        check_int("--hess-k", args.hess_k, 0, SIZE_LIMITS["probe_hess_k"])
    for w in reprobe(args.run_dir, at=args.at, hess_k=args.hess_k):
        print(
            f"step {w['step']}: k*={w['kstar_weighted']}, K_eta={w['K_eta']}, "
            f"edge ablation dloss={w['abl_edge_dloss']:.4g} "
            f"(random {w['abl_rand_dloss_mean']:.3g} ± {w['abl_rand_dloss_std']:.2g})"
        )
    return 0
