"""Grok steps and wall times of the docs/spec.md §7 protocols at CPU scale (docs/runs.md).

Runs ``spectral-edge sweep`` for each group (sequentially, one process, one torch thread;
finished runs are skipped, interrupted ones resumed), then prints a Markdown table from
the groups' ``sweep.csv`` files.

    python benchmarks/grok_table.py --out runs/grok                   # run + table
    python benchmarks/grok_table.py --out runs/grok --groups dyck     # one group
    python benchmarks/grok_table.py --out runs/grok --table-only      # table of what exists
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import pandas as pd

from spectral_edge.validation.cli import main as cli

#: CPU budget: modular runs stop 500 steps after grokking, or at 4000 steps
MODULAR_CAP = "--steps 4000 --stop-after-grok 500"
#: group -> sweep flags (everything else: the task's protocol defaults, RunConfig.protocol)
GROUPS: dict[str, list[str]] = {
    "modular": (
        f"--task modadd,modsub,modmul,modsq --wd 1.0,0.0 --seed 42,137,2024 {MODULAR_CAP}"
    ).split(),
    "muon": f"--task modadd --optimizer muon --wd 1.0 --seed 42,137,2024 {MODULAR_CAP}".split(),
    "dyck": "--task dyck --wd 1.0,0.0 --seed 42,137,2024".split(),
    # the same with the grok rule on sequence accuracy (every depth of a string right)
    "dyck_seq": "--task dyck --wd 1.0,0.0 --seed 42,137,2024 --grok-metric seq_acc".split(),
    # CPU-scaled SCAN (docs/spec.md §7: d=256, 3+3 layers, lr 1e-4, batch 256): see docs/runs.md
    "scan": (
        "--task scan --wd 1.0,0.0 --seed 42 --d-model 64 --d-ff 128 --n-layers 2 "
        "--n-dec-layers 2 --lr 1e-3 --batch-size 64 --steps 4000 --stride 200 --n-test 2000"
    ).split(),
    # the same model with a smaller learning rate and more steps (lr 1e-3 was unstable)
    "scan_lr3e-4": (
        "--task scan --wd 1.0,0.0 --seed 42 --d-model 64 --d-ff 128 --n-layers 2 "
        "--n-dec-layers 2 --lr 3e-4 --batch-size 64 --steps 6000 --stride 200 --n-test 2000"
    ).split(),
}
PUBLISHED = {
    "modular": "2500-3900",
    "muon": "-",
    "dyck": "600-1400",
    "dyck_seq": "(600-1400 per position)",
    "scan": "2500-4000",
    "scan_lr3e-4": "2500-4000",
}


def table(root: Path, groups: list[str]) -> str:
    """Markdown table of every run in the groups' ``sweep.csv``."""
    lines = [
        "| group | task | optimizer | wd | seed | grokked | grok step | published | "
        "grok wall (s) | steps run | final test acc | run wall (s) |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for group in groups:
        path = root / group / "sweep.csv"
        if not path.exists():
            continue
        for r in pd.read_csv(path).itertuples():
            grok = "-" if pd.isna(r.grok_step) else str(int(r.grok_step))
            grok_wall = "-" if pd.isna(r.grok_wall_s) else f"{r.grok_wall_s:.0f}"
            lines.append(
                f"| {group} | {r.task} | {r.optimizer} | {r.wd:g} | {r.seed} | "
                f"{'yes' if r.grokked is True or r.grokked == 'True' else 'no'} | {grok} | "
                f"{PUBLISHED[group]} | {grok_wall} | {int(r.steps_done)} | "
                f"{r.final_test_acc:.3f} | {r.wall_time_s:.0f} |"
            )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default="runs/grok", help="root of the group sweeps")
    parser.add_argument("--groups", default=",".join(GROUPS), help="comma-separated groups")
    parser.add_argument("--table-only", action="store_true", help="do not run, only tabulate")
    args = parser.parse_args(argv)
    groups = args.groups.split(",")
    unknown = [g for g in groups if g not in GROUPS]
    if unknown:
        parser.error(f"unknown group(s) {unknown}; known: {', '.join(GROUPS)}")
    root = Path(args.out)
    status = 0
    if not args.table_only:
        for group in groups:
            flags = [*GROUPS[group], "--threads", "1", "--quiet", "--out", str(root / group)]
            status |= cli(["sweep", *flags])
    print(table(root, groups))
    return status


if __name__ == "__main__":
    sys.exit(main())
