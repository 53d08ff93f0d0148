"""Vectorised R4 sweep vs a Python loop of solve_ivp calls over the same parameter grid.

    .venv/bin/python benchmarks/bench_sweep.py [--shape 10 5 10] [--repeat 3]

Prints both wall times (best of ``--repeat``), their ratio and the largest difference between
the two sets of trajectories. The grid is a phase diagram over (c, β, h̄+ω) of the reduced gap
equation ġ = c − η(h̄+ω)g + β/g, right-hand side from spectral_edge.theory.lambdified.
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from spectral_edge.numerics.ode import GapSystem, integrate, sweep_reduced_gap


def loop_reduced_gap(c, beta, hw, *, eta: float, g0: float, t_span: tuple[float, float],
                     n_t: int = 200) -> tuple[np.ndarray, int]:
    """The same grid as ``sweep_reduced_gap``, one ``integrate`` call (one ``solve_ivp``)
    per parameter set: the baseline the sweep is timed against.

    Returns:
        The trajectories, shape (*grid, n_t), and the number of right-hand-side evaluations.
    """
    c, beta, hw = np.broadcast_arrays(*(np.asarray(a, dtype=float) for a in (c, beta, hw)))
    t = np.linspace(*t_span, n_t)
    rows, nfev = [], 0
    for ci, bi, hi in zip(c.ravel(), beta.ravel(), hw.ravel(), strict=True):
        sol = integrate(GapSystem(ci, bi, eta, hi), [g0], t_span, t_eval=t, method="BDF",
                        rtol=1e-8, atol=1e-10)
        nfev += sol.nfev
        rows.append(sol.y[0])
    return np.array(rows).reshape(*c.shape, n_t), nfev


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--shape", type=int, nargs=3, default=(10, 5, 10), metavar=("NC", "NB", "NH")
    )
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    nc, nb, nh = args.shape
    c = np.linspace(-1.0, 1.0, nc)[:, None, None]
    beta = np.geomspace(1e-3, 1.0, nb)[None, :, None]
    hw = np.linspace(0.5, 2.0, nh)[None, None, :]
    kw = dict(eta=0.1, g0=1.0, t_span=(0.0, 200.0))
    sweep_reduced_gap(c[:1, :1, :1], beta[:, :1], hw[..., :1], **kw)  # compile the lambdified rhs

    def best(fn) -> tuple[float, object]:
        times, out = [], None
        for _ in range(args.repeat):
            start = time.perf_counter()
            out = fn(c, beta, hw, **kw)
            times.append(time.perf_counter() - start)
        return min(times), out

    t_sweep, sweep = best(sweep_reduced_gap)
    t_loop, (loop, loop_nfev) = best(loop_reduced_gap)
    diff = np.abs(sweep.g - loop)
    print(f"parameter sets        {nc * nb * nh}")
    print(f"vectorised sweep      {t_sweep:8.3f} s  ({sweep.nfev} rhs evaluations, one solve_ivp)")
    print(f"loop of solve_ivp     {t_loop:8.3f} s  ({loop_nfev} rhs evaluations)")
    print(f"speed ratio           {t_loop / t_sweep:8.1f} x")
    rel = (diff / np.maximum(np.abs(loop), 1e-3)).max()
    print(f"max |difference|      {diff.max():.2e} (relative {rel:.2e})")


if __name__ == "__main__":
    main()
