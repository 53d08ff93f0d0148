"""The runs of a `spectral-edge reproduce` directory as a Markdown table (docs/runs.md).

One row per run directory: task, optimizer, weight decay, seed, where it stopped and why,
the grok step by the first-evaluation rule (test accuracy ≥ 0.95) and by the scripts'
patience rule (docs/protocols.md), the published value, the windows ending at or before
the grok step, the best test accuracy, and the wall time (probes included, their share in
brackets). A summary line gives the plan's summed training time.

    python benchmarks/plan_table.py runs/full
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from spectral_edge.validation.scorecard.analysis import find_runs, grok_step

#: published grok steps (weight decay 1.0; docs/protocols.md): single-op modular arithmetic
#: at p = 97 (a range over seeds), Dyck by seed (dyck_scan SPECTRAL_EDGE_THESIS_REPLICATION.md
#: §3.1), SCAN at the published model size (the plan runs a CPU-scaled one)
PUBLISHED = {"modular": "2500–3900", "dyck": {42: "600", 137: "1400", 2024: "1000"},
             "scan": "2500–4000 (published model)"}


def published(task: str, wd: float, seed: int) -> str:
    """The published grok step of a run's configuration ("no grok" for the controls)."""
    if wd == 0:
        return "no grok"
    if task == "dyck":
        return PUBLISHED["dyck"].get(seed, "600–1400")
    if task == "scan":
        return PUBLISHED["scan"]
    return PUBLISHED["modular"] if "+" not in task else "– (multi-task)"


def table(root: Path) -> str:
    """The Markdown table of every run under ``root``."""
    rows, total = [], 0.0
    for r in sorted(find_runs(root), key=lambda r: r.name):
        cfg, summ = r.config, r.summary
        g, gp = grok_step(r.metrics), grok_step(r.metrics, "patience")
        windows = int((r.spectra["step"] <= g).sum()) if g is not None else None
        wall, probe = float(summ.get("wall_time_s") or 0), float(summ.get("probe_wall_s") or 0)
        total += wall
        best = r.metrics["test_acc"].max() if r.metrics is not None else float("nan")
        stop = summ.get("stop_reason") or ("cap" if summ.get("status") == "finished" else
                                            summ.get("status"))
        rows.append({
            "run": r.name, "opt": cfg.get("optimizer"), "wd": cfg.get("wd"),
            "stopped at": f"{summ.get('final_step')} ({stop})",
            "grok (≥ 0.95)": g if g is not None else "none",
            "grok (3 × ≥ 0.98)": gp if gp is not None else "none",
            "published": published(str(cfg.get("task")), float(cfg.get("wd", 0)),
                                   int(cfg.get("seed", 0))),
            "windows ≤ grok": windows if windows is not None else "–",
            "best test acc": f"{best:.3f}",
            "wall s (probes)": f"{wall:.0f} ({probe:.0f})",
        })
    head = list(rows[0]) if rows else []
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    lines += ["| " + " | ".join(str(v) for v in row.values()) + " |" for row in rows]
    return "\n".join(lines) + (f"\n\n{len(rows)} runs; training wall time summed over "
                               f"runs {total / 3600:.2f} h.")


def main(argv: list[str] | None = None) -> int:
    """Print the table of a reproduce directory."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("root", type=Path)
    args = parser.parse_args(argv)
    if not args.root.is_dir():
        print(f"plan_table: {args.root} is not a directory", file=sys.stderr)
        return 2
    print(table(args.root))
    made = args.root / "reproduce.json"
    if made.exists():
        meta = json.loads(made.read_text())
        print(f"\n`reproduce` wall time: {meta.get('wall_s', float('nan')):.0f} s with "
              f"{meta.get('workers')} worker(s).")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
