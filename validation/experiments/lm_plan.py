"""The language-model plan (``spectral-edge reproduce --plan lm --corpus FILE``): the paper's
TinyStories configuration, trained with AdamW and with Muon on its hidden matrices, for P1
(BBP vacuity on a large model) and P3 (Muon's k* below AdamW's), read from the spectra.

:data:`LM_PAPER`: 8 layers, d = 512, 16 heads, d_ff = 2048 (a causal decoder,
``validation/runs/models.py``'s ``CausalTagger``, on byte tokens); AdamW lr 1e-3, weight
decay 0.5, β₂ = 0.95, linear warm-up over 1500 steps then cosine to 10%; 128 sequences ×
256 tokens per step; 10,000 steps; the monitor on **all** parameters, W = 10 on snapshots
every 200 steps; no probes. The paper sketched the updates (CountSketch of dimension
10W = 100); the plan runs that as a twin of the AdamW run and monitors the AdamW and Muon
runs exactly (W + 2 fp32 copies of the 25.6M parameters, 1.2 GB on the device), because
the scorecard reads P1–P3 from unsketched runs and P14 from a sketched/exact pair. The
Muon run changes only the optimizer
(``torch.optim.Muon`` on the hidden 2-D matrices, AdamW on embeddings, head, biases and
LayerNorms). ``quick`` is :data:`LM_SMALL`, a CPU-sized model (d = 128, 2 layers) for
trying the plan out; :data:`LM_TINY` is the configuration the tests train in seconds.

On ``device="cuda"`` the runs use bf16 autocast (``precision="bf16"``); the monitor keeps
its sketch on the device. The corpus is a local text file or a dataset saved to disk
(docs/scaling.md: where TinyStories comes from); nothing is downloaded.

>>> [i.name for i in lm_plan(corpus="stories.txt")]
['lm_adamw_wd0.5_s42', 'lm_muon_wd0.5_s42', 'lm_adamw_wd0.5_s42_sketch100']
>>> lm_plan(corpus="stories.txt")[0].config.d_model
512
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from spectral_edge.validation.runs.grid import SweepItem, grid

LM_PAPER: dict[str, Any] = {
    "task": "lm", "seq_len": 256, "model": "transformer",
    "d_model": 512, "n_heads": 16, "d_ff": 2048, "n_layers": 8,
    "lr": 1e-3, "wd": 0.5, "beta1": 0.9, "beta2": 0.95, "batch_size": 128, "grad_clip": 1.0,
    "steps": 10_000, "lr_schedule": "cosine", "warmup_steps": 1500, "lr_min_frac": 0.1,
    "eval_every": 200, "eval_batch": 64, "eval_max": 512, "checkpoint_every": 1000,
    "monitor_select": "all", "window": 10, "stride": 200, "sketch_dim": 100,
    "probe_every": None, "probe_hess_every": None, "stop_after_grok": None,
    "n_train": 10_000 * 128, "n_test": 512,
}
"""The paper's TinyStories run (one sequence of the corpus seen once per step's row)."""

LM_SMALL: dict[str, Any] = LM_PAPER | {
    "seq_len": 128, "d_model": 128, "n_heads": 4, "d_ff": 512, "n_layers": 2,
    "batch_size": 32, "steps": 2000, "warmup_steps": 200, "eval_every": 100,
    "eval_max": 128, "checkpoint_every": 200, "stride": 40, "n_train": 2000 * 32,
    "n_test": 128,
}
"""A CPU-sized version (``--quick``): the same recipe, a 0.4M-parameter model."""

LM_TINY: dict[str, Any] = LM_PAPER | {
    "seq_len": 32, "d_model": 16, "n_heads": 2, "d_ff": 32, "n_layers": 2,
    "batch_size": 8, "steps": 60, "warmup_steps": 10, "eval_every": 20, "eval_batch": 32,
    "eval_max": 32, "checkpoint_every": 20, "window": 3, "stride": 4, "sketch_dim": 30,
    "n_train": None, "n_test": 8,
}
"""The tests' configuration: seconds on one CPU core."""

OPTIMIZERS = ("adamw", "muon")
"""AdamW against Muon (P3)."""


def lm_plan(quick: bool = False, long_controls: bool = False, corpus: str | None = None,
            device: str = "cpu", seeds: tuple[int, ...] = (42,),
            settings: dict[str, Any] | None = None) -> list[SweepItem]:
    """The LM runs: the settings with each optimizer of :data:`OPTIMIZERS`, monitored
    exactly (the scorecard reads P1, P2, P3 from unsketched runs), and the AdamW run again
    with the paper's sketch (``_sketch<dim>``: the paper's monitor, and P14's twin).

    Args:
        quick: :data:`LM_SMALL` instead of :data:`LM_PAPER`.
        long_controls: ignored (the scorecard plan's option).
        corpus: the corpus (a text file or a saved dataset); None lists the runs but a
            run without one stops with an ``InputError``.
        device: ``cpu`` or ``cuda[:N]`` (bf16 autocast on CUDA).
        seeds: the seeds.
        settings: the configuration (default :data:`LM_PAPER` / :data:`LM_SMALL`).

    Returns:
        The runs, named ``lm_<optimizer>_wd<wd>_s<seed>``.
    """
    base = dict(settings if settings is not None else (LM_SMALL if quick else LM_PAPER))
    base |= {"corpus": corpus, "device": device,
             "precision": "fp32" if device == "cpu" else "bf16"}
    fixed = {k: v for k, v in base.items() if k not in ("task", "optimizer", "wd", "seed")}
    exact = grid(fixed | {"sketch_dim": None},
                 {"task": ["lm"], "optimizer": list(OPTIMIZERS), "wd": [base["wd"]],
                  "seed": list(seeds)})
    twin = grid(fixed, {"task": ["lm"], "optimizer": ["adamw"], "wd": [base["wd"]],
                        "seed": list(seeds[:1])})
    return exact + [SweepItem(f"{i.name}_sketch{i.config.sketch_dim}", i.config) for i in twin]


@dataclass(frozen=True)
class LMCost:
    """What one LM run costs, estimated from its config (docs/scaling.md says how).

    ``params``: trainable parameters; ``tokens``: steps × batch × seq_len; ``flops``:
    6 · params · tokens plus attention (12 · layers · seq_len · d per token); ``gpu_hours``:
    flops at :data:`ASSUMED_FLOPS` (bf16, 25% of an H100's dense peak); ``memory_gb``:
    weights, gradients and AdamW state in fp32, the activations of one step in bf16
    (34·s·b·d + 5·heads·s²·b bytes per layer, without flash attention), the token tensors
    (int64, inputs and labels) and the monitor (one fp32 copy of the parameters and an
    int64 hash per parameter in sketch mode).
    """

    params: int
    tokens: int
    flops: float
    gpu_hours: float
    memory_gb: float


ASSUMED_FLOPS = 0.25 * 989e12
"""Sustained FLOP/s assumed for the GPU-hour figure (25% of an H100's bf16 dense peak)."""


def lm_cost(config: Any) -> LMCost:
    """The estimate of :class:`LMCost` for one LM config.

    Args:
        config: a ``RunConfig`` of task ``lm``.

    Returns:
        The estimate.

    >>> cost = lm_cost(lm_plan(corpus="x")[0].config)
    >>> round(cost.params / 1e6, 1), round(cost.tokens / 1e6, 1), round(cost.gpu_hours, 2)
    (25.6, 327.7, 0.06)
    """
    d, layers, ff = config.d_model, config.n_layers, config.d_ff
    seq, batch, vocab = config.seq_len or 256, config.batch_size, 256
    per_layer = 4 * d * d + 4 * d + 2 * d * ff + ff + d + 4 * d
    params = layers * per_layer + vocab * d + seq * d + 2 * d + d * vocab + vocab
    tokens = config.steps * batch * seq
    flops = 6.0 * params * tokens + 12.0 * layers * seq * d * tokens
    act = layers * (34 * seq * batch * d + 5 * config.n_heads * seq * seq * batch)
    data = 2 * 8 * (seq * ((config.n_train or 0) + (config.n_test or 0)))
    monitor = 4 * params + (8 * params if config.sketch_dim else 4 * params * (config.window + 2))
    memory = 16 * params + act + data + monitor
    return LMCost(params, tokens, flops, flops / ASSUMED_FLOPS / 3600, memory / 1e9)


def describe(items: list[SweepItem]) -> str:
    """``reproduce --plan lm --list``: one line per run with its estimated cost.

    Args:
        items: the LM runs.

    Returns:
        The text (a header, one line per run, the total).
    """
    lines = [f"{'run':30s} {'params':>8s} {'tokens':>9s} {'PFLOP':>7s} {'GPU h':>6s} "
             f"{'mem GB':>7s}  corpus"]
    total = 0.0
    for item in items:
        c = lm_cost(item.config)
        total += c.gpu_hours
        lines.append(f"{item.name:30s} {c.params / 1e6:7.1f}M {c.tokens / 1e6:8.1f}M "
                     f"{c.flops / 1e15:7.1f} {c.gpu_hours:6.2f} {c.memory_gb:7.1f}  "
                     f"{item.config.corpus or '(none: pass --corpus FILE)'}")
    lines.append(f"{len(items)} runs, about {total:.2f} GPU hours at 25% of an H100's bf16 "
                 "peak (an estimate; docs/scaling.md)")
    return "\n".join(lines)
