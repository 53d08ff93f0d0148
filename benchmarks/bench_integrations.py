"""Overhead of the Hugging Face callback on a tiny GPT-2 step, and the DDP/FSDP2 equality
figures.

    python benchmarks/bench_integrations.py [--steps 40] [--repeats 7] [--window 10]
                                            [--threads 1] [--distributed]

Overhead: three Trainers on the same tiny random GPT-2 (float32, built from a GPT2Config,
nothing downloaded; CPU) — no callback, ``HFGramMonitorCallback(stride=1)`` and
``stride=10`` — are trained ``--steps`` steps each, interleaved (none, stride 1, stride 10,
none, ...) ``--repeats`` times in one process. Each Trainer step is timed from
``on_step_begin`` to ``on_step_end`` (forward, backward, optimizer step and the monitor's
step); the printed ratio is the median step time with the callback over the median without,
each median over every step of every repeat (the first 5 steps of each run dropped as warm-up).
Whole ``train()`` calls (monitor construction, logging and file writes included) are
timed too and their median ratio printed beside, and so is the ratio from the callback's own
time: 1 + (mean time inside its ``on_optimizer_step``) / (median step without it), the
steadiest of the three on a shared machine.

``--distributed`` also runs ``examples/ddp.py`` and ``examples/fsdp.py`` under
``torchrun --nproc-per-node 2`` (gloo, CPU, float64) and prints the largest relative Gram
differences they report (across ranks; sharded vs unsharded).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

import torch
import transformers

from spectral_edge.validation.integrations.hf import HFGramMonitorCallback

ROOT = Path(__file__).resolve().parents[1]
WARMUP = 5


class Tokens(torch.utils.data.Dataset):
    def __init__(self, n: int = 512, length: int = 64, vocab: int = 256) -> None:
        self.ids = torch.randint(0, vocab, (n, length), generator=torch.Generator().manual_seed(0))

    def __len__(self) -> int:
        return len(self.ids)

    def __getitem__(self, i: int) -> dict:
        return {"input_ids": self.ids[i], "labels": self.ids[i]}


class StepTimer(transformers.TrainerCallback):
    def __init__(self) -> None:
        self.times: list[float] = []
        self._start = 0.0

    def on_step_begin(self, args, state, control, **kwargs):
        self._start = time.perf_counter()

    def on_step_end(self, args, state, control, **kwargs):
        self.times.append(time.perf_counter() - self._start)


class TimedCallback(HFGramMonitorCallback):
    """The callback, with the time of each of its ``on_optimizer_step`` calls recorded."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.times: list[float] = []

    def on_optimizer_step(self, args, state, control, **kwargs):
        start = time.perf_counter()
        super().on_optimizer_step(args, state, control, **kwargs)
        self.times.append(time.perf_counter() - start)


def make_trainer(out: str, steps: int, callbacks: list) -> transformers.Trainer:
    torch.manual_seed(0)
    config = transformers.GPT2Config(vocab_size=256, n_positions=64, n_embd=64, n_layer=2,
                                     n_head=4, bos_token_id=0, eos_token_id=0)
    args = transformers.TrainingArguments(
        output_dir=out, max_steps=steps, per_device_train_batch_size=8, learning_rate=1e-3,
        logging_steps=10, save_strategy="no", report_to="none", use_cpu=True, disable_tqdm=True,
        log_level="error",
    )
    trainer = transformers.Trainer(model=transformers.GPT2LMHeadModel(config), args=args,
                                   train_dataset=Tokens(), callbacks=callbacks)
    trainer.remove_callback(transformers.trainer_callback.PrinterCallback)  # quiet stdout
    return trainer


def overhead(steps: int, repeats: int, window: int) -> dict:
    configs = {"none": None, "stride 1": 1, "stride 10": 10}
    step_times: dict[str, list[float]] = {name: [] for name in configs}
    run_times: dict[str, list[float]] = {name: [] for name in configs}
    own_times: dict[str, list[float]] = {name: [] for name in configs if configs[name]}
    n_params = 0
    with tempfile.TemporaryDirectory() as tmp:
        for _ in range(repeats):
            for name, stride in configs.items():
                timer = StepTimer()
                callbacks: list = [timer]
                if stride is not None:
                    callbacks.append(TimedCallback(window=window, stride=stride))
                trainer = make_trainer(tmp, steps, callbacks)
                start = time.perf_counter()
                trainer.train()
                run_times[name].append(time.perf_counter() - start)
                step_times[name].extend(timer.times[WARMUP:])
                if stride is not None:
                    n_params = callbacks[1].monitor.n_params
                    own_times[name].extend(callbacks[1].times[WARMUP:])
    base_step = statistics.median(step_times["none"])
    base_run = statistics.median(run_times["none"])
    return {
        "n_params": n_params,
        "median_step_s": {k: statistics.median(v) for k, v in step_times.items()},
        "step_ratio": {k: statistics.median(v) / base_step for k, v in step_times.items()},
        "run_ratio": {k: statistics.median(v) / base_run for k, v in run_times.items()},
        # the callback's own time per optimizer step (mean: stride 10 is 9 cheap calls and
        # one snapshot), over the median step without it
        "own_ratio": {k: 1 + statistics.fmean(v) / base_step for k, v in own_times.items()},
    }


def distributed() -> dict:
    figures = {}
    env = dict(os.environ, OMP_NUM_THREADS="1")
    for script, keys in (("ddp.py", ["max_rel_gram_diff_across_ranks"]),
                         ("fsdp.py", ["max_rel_gram_diff_vs_unsharded",
                                      "max_rel_gram_diff_across_ranks"])):
        with tempfile.TemporaryDirectory() as out:
            subprocess.run([sys.executable, "-m", "torch.distributed.run", "--standalone",
                            "--nproc-per-node", "2", str(ROOT / "examples" / script), "--out",
                            out], check=True, env=env, capture_output=True, cwd=ROOT)
            summary = json.loads((Path(out) / "summary.json").read_text())
        figures[script] = {k: summary[k] for k in ["steps", "n_params", *keys]}
    return figures


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--steps", type=int, default=40)
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--window", type=int, default=10)
    parser.add_argument("--distributed", action="store_true")
    parser.add_argument("--threads", type=int, default=1, help="torch threads (1)")
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)

    print(f"{date.today()}  {platform.processor() or platform.machine()}, "
          f"{torch.get_num_threads()} torch threads, torch {torch.__version__}, "
          f"transformers {transformers.__version__}")
    res = overhead(args.steps, args.repeats, args.window)
    print(f"tiny GPT-2, P = {res['n_params']:,}, W = {args.window}, {args.steps} steps x "
          f"{args.repeats} repeats, interleaved")
    print(f"{'':10} {'median step':>12} {'step ratio':>11} {'train() ratio':>14} "
          f"{'own-time ratio':>15}")
    for name in res["step_ratio"]:
        step_ms = 1e3 * res["median_step_s"][name]
        print(f"{name:10} {step_ms:9.2f} ms {res['step_ratio'][name]:11.3f}"
              f" {res['run_ratio'][name]:14.3f} {res['own_ratio'].get(name, 1.0):15.3f}")
    if args.distributed:
        for script, figures in distributed().items():
            print(f"{script}: " + ", ".join(f"{k} = {v:.3g}" if isinstance(v, float)
                                            else f"{k} = {v}" for k, v in figures.items()))


if __name__ == "__main__":
    main()
