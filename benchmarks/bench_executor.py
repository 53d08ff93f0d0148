"""The grid engines side by side: the reproduce plan trained by the local process pool and by
Ray (a local instance started for the call, as ``--executor ray`` does) at the same worker
count, into fresh directories; prints both wall times, their ratio and whether every run's
spectra.csv, metrics.csv, grams.npz and probes.csv are byte-identical.

    .venv/bin/python benchmarks/bench_executor.py [--workers 2] [--plan scorecard] [--full]
        [--order local,ray] [--out DIR]
    .venv/bin/python benchmarks/bench_executor.py --tiny 8 --repeats 3 [--workers 2]

The Ray wall time includes starting and stopping the instance (what a user pays per
command); the instance's start alone is timed and printed too. ``--tiny N`` replaces the
plan by N runs of a few seconds each, trained ``--repeats`` times with the engines
interleaved (local, ray, local, ray, …; the minimum of each): Ray's fixed cost per command
and per run, measured where it weighs most.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from spectral_edge.validation.experiments.reproduce import plan, train_plan
from spectral_edge.validation.runs.config import RunConfig
from spectral_edge.validation.runs.grid import SweepItem

FILES = ("spectra.csv", "metrics.csv", "grams.npz", "probes.csv", "probe_windows.csv")


def timed(executor: str, items: list, root: Path, workers: int) -> float:
    """Wall seconds of training ``items`` into ``root`` with ``executor``."""
    start = time.perf_counter()
    failed = train_plan(items, root, workers, progress=False, executor=executor)
    if failed:
        raise SystemExit(f"{executor}: runs failed: {failed}")
    return time.perf_counter() - start


def ray_start_seconds(workers: int) -> float:
    """Seconds to start and stop a local Ray instance of ``workers`` CPUs."""
    import ray

    start = time.perf_counter()
    ray.init(num_cpus=workers, include_dashboard=False)
    ray.shutdown()
    return time.perf_counter() - start


def tiny_items(n: int) -> list[SweepItem]:
    """``n`` modular-addition runs of 300 steps on a tiny model (a few seconds each)."""
    tiny = dict(p=7, d_model=8, n_heads=2, d_ff=8, n_layers=1, batch_size=16, steps=300,
                eval_every=50, window=2, stride=10, checkpoint_every=100, probe_every=None)
    return [SweepItem(f"tiny_s{seed}", RunConfig.protocol("modadd", seed=seed, **tiny))
            for seed in range(n)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--plan", default="scorecard")
    parser.add_argument("--full", action="store_true", help="the full plan (default quick)")
    parser.add_argument("--order", default="local,ray", help="which engine runs first")
    parser.add_argument("--out", default=None, help="keep the runs here (default: a temp dir)")
    parser.add_argument("--tiny", type=int, default=0, help="N tiny runs instead of the plan")
    parser.add_argument("--repeats", type=int, default=1, help="interleaved repeats")
    args = parser.parse_args()
    items = tiny_items(args.tiny) if args.tiny else plan(quick=not args.full, name=args.plan)
    root = Path(args.out or tempfile.mkdtemp(prefix="bench_executor_"))
    walls: dict[str, float] = {}
    for repeat in range(args.repeats):
        for executor in args.order.split(","):
            last = repeat == args.repeats - 1
            where = root / executor if last else root / f"{executor}_{repeat}"
            wall = timed(executor, items, where, args.workers)
            walls[executor] = min(walls.get(executor, wall), wall)
            print(f"{executor:6s} {wall:8.1f} s  ({len(items)} runs, --workers "
                  f"{args.workers}, repeat {repeat + 1})", flush=True)
    local, ray = root / "local", root / "ray"
    same = all((local / i.name / f).read_bytes() == (ray / i.name / f).read_bytes()
               for i in items for f in FILES if (local / i.name / f).exists())
    print(f"ratio ray/local   {walls['ray'] / walls['local']:.3f} (minimum of each)")
    print(f"ray extra         {walls['ray'] - walls['local']:.1f} s "
          f"({(walls['ray'] - walls['local']) / len(items):.2f} s per run)")
    print(f"ray start+stop    {ray_start_seconds(args.workers):.1f} s (included in the ray time)")
    print(f"byte-identical    {same} (spectra, metrics, grams, probes of every run)")


if __name__ == "__main__":
    main()
