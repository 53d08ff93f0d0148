"""Cost of the edge-direction probes in units of one training step of the same model.

Part 1 (micro): the modular-addition protocol model (docs/spec.md §7: d = 128, 2 layers,
P = 131,072 monitored attention weights, W = 10, stride 100) is trained to its first
window; then, interleaved with training steps so both see the same machine load, it times

* one training step (batch 512, AdamW, clip 1.0);
* one Hessian-vector product on the probe batch (the per-mode curvature cost: h_j and
  v_jᵀMHv_j share one product; the finite difference adds two forward passes);
* the whole probe without the Hessian top-K, and the ``eigsh`` top-K alone;

and prints each as a multiple of the training step (median over repeats).

Part 2 (``--runs DIR ...``): reads run directories written by ``spectral-edge train``
(``summary.json``: ``wall_time_s``, ``probe_wall_s`` and the per-window ``probe_timing``) and
prints the probe overhead of each run at its own cadence and, re-weighted, at the default
cadence (probes every 10th window, Hessian every 30th): the probes that cadence would have
run, divided by the run's wall time without probes.

Run:  .venv/bin/python benchmarks/bench_probes.py [--repeats 5] [--runs runs/a runs/b]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

import torch

from spectral_edge.validation.probes import curvature
from spectral_edge.validation.probes.window import ProbeSettings, probe_indices, probe_window
from spectral_edge.validation.runs import rundir
from spectral_edge.validation.runs.config import RunConfig
from spectral_edge.validation.runs.probing import probe_data, task_loss_of

DEFAULT = RunConfig()


def micro(repeats: int, batch: int, hess_k: int) -> dict[str, float]:
    """Median times (s) of a training step, an HVP, a probe without and the eigsh alone."""
    from spectral_edge.validation.runs.session import RunSession

    torch.set_num_threads(1)
    cfg = RunConfig.protocol("modadd", probe_every=None)
    state = RunSession(cfg, Path(tempfile.mkdtemp()))
    while state.monitor.stats is None:
        state.train_step()
    task, named = state.task, list(state.monitor.names_params)
    idx = torch.as_tensor(probe_indices(task.n_train, batch, cfg.seed, 0))
    times: dict[str, list[float]] = {"step": [], "hvp": [], "probe": [], "eigsh": []}
    settings = ProbeSettings(batch=batch, hess_k=0)
    for _ in range(repeats):
        tick = time.perf_counter()
        for _ in range(5):
            state.train_step()
        times["step"].append((time.perf_counter() - tick) / 5)
        curv = curvature.Curvature(
            curvature.FlatLoss(named, task_loss_of(state.model, task, task.x_train[idx],
                                                   task.y_train[idx]))
        )
        v = state.monitor.directions(1)[0].to(curv.grad)
        tick = time.perf_counter()
        curv.hvp(v)
        times["hvp"].append(time.perf_counter() - tick)
        tick = time.perf_counter()
        top = curvature.hessian_top(curv, k=hess_k, tol=settings.hess_tol, seed=0)
        times["eigsh"].append(time.perf_counter() - tick)
        tick = time.perf_counter()
        probe_window(state.model, state.optimizer, state.monitor,
                     probe_data(state.model, task, cfg.eval_batch), step=state.step,
                     seed=cfg.seed, batch_size=cfg.batch_size, wd=cfg.wd, settings=settings)
        times["probe"].append(time.perf_counter() - tick)
    out = {k: statistics.median(v) for k, v in times.items()}
    out["eigsh_hvps"] = top.n_hvp
    out["modes"] = settings.modes
    return out


def overhead(run_dir: Path, every: int = 10, hess_every: int = 30) -> dict[str, float]:
    """Probe overhead of a run: at its own cadence, and re-weighted to ``every`` /
    ``hess_every`` windows (only windows the run probed count; its Hessian windows must
    include those of ``hess_every``)."""
    summary = rundir.read_json(run_dir / "summary.json")
    config = rundir.read_json(run_dir / "config.json")
    stride = config["stride"]
    timing = summary.get("probe_timing") or []
    train = summary["wall_time_s"] - summary["probe_wall_s"]
    at_default = 0.0
    for t in timing:
        snap = t["step"] // stride
        if snap % every == 0:
            at_default += t["wall_s"] - t["hess_wall_s"]
            if snap % hess_every == 0:
                at_default += t["hess_wall_s"]
    return {
        "train_s": train,
        "probes": len(timing),
        "own": summary["probe_wall_s"] / train,
        "default": at_default / train,
        "steps": summary["steps_done"],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--batch", type=int, default=DEFAULT.probe_batch)
    parser.add_argument("--hess-k", type=int, default=DEFAULT.probe_hess_k)
    parser.add_argument("--runs", nargs="*", default=[])
    parser.add_argument("--skip-micro", action="store_true")
    args = parser.parse_args()
    if not args.skip_micro:
        t = micro(args.repeats, args.batch, args.hess_k)
        step = t["step"]
        print(f"training step: {step * 1e3:.1f} ms (batch 512, P = 131,072 monitored)")
        print(f"one HVP (probe batch {args.batch}): {t['hvp'] / step:.2f} steps")
        print(f"probe without eigsh ({t['modes']} modes): {t['probe'] / step:.1f} steps "
              f"({t['probe'] / step / t['modes']:.1f} per mode, ablations included)")
        print(f"eigsh top-{args.hess_k}: {t['eigsh'] / step:.1f} steps "
              f"({t['eigsh_hvps']} HVPs)")
    for d in args.runs:
        o = overhead(Path(d))
        print(f"{d}: {o['steps']} steps, {o['probes']} probes, training {o['train_s']:.0f} s; "
              f"overhead at its cadence {o['own']:.1%}, at the default cadence "
              f"{o['default']:.1%}")


if __name__ == "__main__":
    main()
