"""Per-update cost of GramMonitor.step() against the naive method and the memory floor.

* ours:  ``GramMonitor.step()`` (exact mode, float32 storage, W = 10);
* naive: the paper's scripts — keep the last W updates, stack them and call
  ``torch.linalg.svdvals`` at every step;
* floor: reading the W+1 buffered updates once (one matrix–vector product over the buffer).

The three are timed interleaved in one process and the minimum over repeats is kept
(shared machines are noisy: only the ratios mean anything). Every timed call starts from
the same cache state: a buffer of ``--evict-mb`` MiB (more than the last-level cache) is
written first, then the vector the method reads first (θ_t for ours and naive, as an
optimizer step leaves it; the floor's vector for the floor); the order of the three turns
with each repeat, so each follows each of the others. A second part times a training step
of the demo model with and without the monitor at stride 1, and the monitor's own time inside
the loop (its ``step()`` calls and the statistics read), which a busy machine disturbs less
than the difference of two loop times.

Run:  .venv/bin/python benchmarks/bench_monitor.py [--sizes 1e5 1e6 1e7] [--repeats 7]
"""

from __future__ import annotations

import argparse
import time
from collections import deque

import torch

from spectral_edge.validation.experiments.demo import demo_config
from spectral_edge.validation.monitor import GramMonitor
from spectral_edge.validation.runs.models import build_model
from spectral_edge.validation.runs.optimizers import build_optimizer
from spectral_edge.validation.runs.tasks import make_task, task_loss


def _sync(device: str) -> None:
    """Wait for the device's queued work (CUDA kernels run asynchronously)."""
    if torch.device(device).type == "cuda":
        torch.cuda.synchronize(device)


def _timed(fn, device: str = "cpu") -> float:
    _sync(device)
    start = time.perf_counter()
    fn()
    _sync(device)
    return time.perf_counter() - start


def bench_update_cost(P: int, W: int, repeats: int, device: str = "cpu",
                      evict_mb: int = 64) -> dict[str, float]:
    """Seconds per update (minimum over repeats) for ours, naive and floor at P parameters,
    each call timed after ``evict_mb`` MiB were written (the same cold caches for all)."""
    gen = torch.Generator().manual_seed(0)
    evict = torch.zeros(evict_mb << 18, device=device)  # float32: 4 bytes an entry
    param = torch.zeros(P, requires_grad=True, device=device)
    steps = [(torch.randn(P, generator=gen) * 1e-3).to(device) for _ in range(3)]
    monitor = GramMonitor([param], window=W, keep_grams=False)
    naive_prev = param.detach().clone()
    naive_window: deque[torch.Tensor] = deque(maxlen=W)
    floor_buf = torch.randn(W + 1, P, generator=gen).to(device)
    floor_vec = torch.randn(P, generator=gen).to(device)

    def advance(i: int) -> None:
        with torch.no_grad():
            param.add_(steps[i % len(steps)])

    def ours() -> None:
        monitor.step()

    def naive() -> None:
        nonlocal naive_prev
        current = param.detach().clone()
        naive_window.append(current - naive_prev)
        naive_prev = current
        if len(naive_window) == W:
            torch.linalg.svdvals(torch.stack(list(naive_window)))

    def floor() -> None:
        torch.mv(floor_buf, floor_vec)

    for i in range(W + 2):  # fill both windows first
        advance(i)
        ours()
        naive()
    methods = {"ours": ours, "naive": naive, "floor": floor}
    times: dict[str, list[float]] = {name: [] for name in methods}
    names = list(methods)
    for i in range(repeats):
        # the order turns with each repeat, so each method follows each of the others
        for name in names[i % 3:] + names[:i % 3]:
            evict.fill_(i)
            if name == "floor":
                floor_vec.mul_(-1.0)  # the floor's vector just written, like θ_t for the others
            else:
                advance(i)  # θ_t just written, as after an optimizer step
            times[name].append(_timed(methods[name], device))
    return {k: min(v) for k, v in times.items()}


def bench_training_overhead(
    steps: int, repeats: int, select: str, device: str = "cpu"
) -> dict[str, float]:
    """Seconds per training step (minimum over repeats) of the demo model (docs/spec.md §7
    modular addition, AdamW, batch 512), without and with the monitor at stride 1, timed in
    alternation; ``inside``: the monitor's share of a step with it, timed inside the loop
    (``step()`` and the statistics read, per step)."""
    config = demo_config(weight_decay=1.0)
    task = make_task("modadd", seed=config.seed)
    model = build_model(task).to(device)
    x_train, y_train = task.x_train.to(device), task.y_train.to(device)
    optimizer = build_optimizer(model, "adamw", lr=config.lr, weight_decay=config.wd,
                                betas=(config.beta1, config.beta2))
    monitor = GramMonitor(model, window=10, stride=1, select=select, optimizer=optimizer)
    gen = torch.Generator().manual_seed(0)

    def train_step() -> None:
        idx = torch.randint(0, task.n_train, (config.batch_size,), generator=gen).to(device)
        optimizer.zero_grad(set_to_none=True)
        task_loss(task, model(x_train[idx]), y_train[idx]).backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()

    inside: list[float] = []  # seconds in monitor.step() and the statistics read

    def with_monitor() -> None:
        train_step()
        start = time.perf_counter()
        monitor.step()
        inside.append(time.perf_counter() - start)

    for _ in range(12):  # warm-up, and fill the monitor's window
        with_monitor()
    times: dict[str, list[float]] = {"without": [], "with": [], "inside": []}
    for _ in range(repeats):
        for name, fn in (("without", train_step), ("with", with_monitor)):
            inside.clear()
            _sync(device)
            start = time.perf_counter()
            for _ in range(steps):
                fn()
            if name == "with":
                read = time.perf_counter()
                _ = monitor.stats  # the statistics of these windows are part of the cost
                inside.append(time.perf_counter() - read)
                times["inside"].append(sum(inside) / steps)
            _sync(device)
            times[name].append((time.perf_counter() - start) / steps)
    # the minimum over repeats: the least disturbed estimate on a shared machine
    return {k: min(v) for k, v in times.items()} | {"P": monitor.n_params}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=float, nargs="+", default=[1e5, 1e6, 1e7])
    parser.add_argument("--window", type=int, default=10)
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--train-steps", type=int, default=10)
    parser.add_argument("--train-repeats", type=int, default=15)
    parser.add_argument("--skip-training", action="store_true")
    parser.add_argument("--threads", type=int, default=1, help="torch threads (1)")
    parser.add_argument("--evict-mb", type=int, default=64,
                        help="MiB written before every timed update call, more than the "
                             "last-level cache (64)")
    parser.add_argument("--device", default="cpu", choices=["cpu", "cuda"],
                        help="where parameters, buffers and the demo model live (cpu)")
    args = parser.parse_args()
    if args.device == "cuda" and not torch.cuda.is_available():
        parser.error("--device cuda: torch.cuda.is_available() is False on this machine")
    torch.set_num_threads(args.threads)
    where = torch.cuda.get_device_name() if args.device == "cuda" else "cpu"
    print(f"torch {torch.__version__}, threads {torch.get_num_threads()}, W = {args.window}, "
          f"device {where}")
    print(f"{'P':>10} {'ours ms':>9} {'naive ms':>9} {'floor ms':>9} "
          f"{'ours/floor':>10} {'naive/ours':>10}")
    for size in args.sizes:
        P = int(size)
        t = bench_update_cost(P, args.window, args.repeats, args.device, args.evict_mb)
        print(
            f"{P:>10d} {t['ours'] * 1e3:9.2f} {t['naive'] * 1e3:9.2f} {t['floor'] * 1e3:9.2f} "
            f"{t['ours'] / t['floor']:10.2f} {t['naive'] / t['ours']:10.1f}"
        )
    if not args.skip_training:
        for select in ("attention", "all"):
            t = bench_training_overhead(args.train_steps, args.train_repeats, select,
                                        args.device)
            overhead = t["with"] / t["without"] - 1
            print(
                f"demo training step, stride 1, select={select} (P = {t['P']}): without "
                f"{t['without'] * 1e3:.2f} ms, with monitor {t['with'] * 1e3:.2f} ms, "
                f"overhead {overhead:+.1%}; monitor inside the loop {t['inside'] * 1e3:.2f} ms "
                f"a step = {t['inside'] / t['without']:.1%} of the step without"
            )


if __name__ == "__main__":
    main()
