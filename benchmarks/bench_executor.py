"""The grid engines side by side: the reproduce plan trained by the local process pool and by
Ray (a local instance started for the call, as ``--executor ray`` does) at the same worker
count, into fresh directories; prints both wall times, their ratio and whether every run's
spectra.csv, metrics.csv, grams.npz and probes.csv are byte-identical.

    .venv/bin/python benchmarks/bench_executor.py [--workers 2] [--plan scorecard] [--full]
        [--order local,ray] [--out DIR]

The Ray wall time includes starting and stopping the instance (what a user pays per
command); the instance's start alone is timed and printed too.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from spectral_edge.validation.experiments.reproduce import plan, train_plan

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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--plan", default="scorecard")
    parser.add_argument("--full", action="store_true", help="the full plan (default quick)")
    parser.add_argument("--order", default="local,ray", help="which engine runs first")
    parser.add_argument("--out", default=None, help="keep the runs here (default: a temp dir)")
    args = parser.parse_args()
    items = plan(quick=not args.full, name=args.plan)
    root = Path(args.out or tempfile.mkdtemp(prefix="bench_executor_"))
    walls = {}
    for executor in args.order.split(","):
        walls[executor] = timed(executor, items, root / executor, args.workers)
        print(f"{executor:6s} {walls[executor]:8.1f} s  ({len(items)} runs, "
              f"--workers {args.workers})", flush=True)
    local, ray = root / "local", root / "ray"
    same = all((local / i.name / f).read_bytes() == (ray / i.name / f).read_bytes()
               for i in items for f in FILES if (local / i.name / f).exists())
    print(f"ratio ray/local   {walls['ray'] / walls['local']:.3f}")
    print(f"ray start+stop    {ray_start_seconds(args.workers):.1f} s (included in the ray time)")
    print(f"byte-identical    {same} (spectra, metrics, grams, probes of every run)")


if __name__ == "__main__":
    main()
