"""The language-model plan (``spectral-edge reproduce --plan lm --corpus FILE``): the paper's
TinyStories configuration, trained with AdamW and with Muon on its hidden matrices, for P1
(BBP vacuity on a large model) and P3 (Muon's k* below AdamW's), read from the spectra.

:data:`LM_PAPER`: 8 layers, d = 512, 16 heads, d_ff = 2048 (a causal decoder,
``validation/runs/models.py``'s ``CausalTagger``, on byte tokens); AdamW lr 1e-3, weight
decay 0.5, β₂ = 0.95, linear warm-up over 1500 steps then cosine to 10%; 128 sequences ×
256 tokens per step; 10,000 steps; the monitor on **all** parameters, W = 10 on snapshots
every 200 steps, CountSketch of dimension 10W = 100 (the exact mode would keep W + 2
copies of the 25M parameters); no probes. The Muon run changes only the optimizer
(``torch.optim.Muon`` on the hidden 2-D matrices, AdamW on embeddings, head, biases and
LayerNorms). ``quick`` is :data:`LM_SMALL`, a CPU-sized model (d = 128, 2 layers) for
trying the plan out; :data:`LM_TINY` is the configuration the tests train in seconds.

On ``device="cuda"`` the runs use bf16 autocast (``precision="bf16"``); the monitor keeps
its sketch on the device. The corpus is a local text file or a dataset saved to disk
(docs/scaling.md: where TinyStories comes from); nothing is downloaded.

>>> [i.name for i in lm_plan(corpus="stories.txt")]
['lm_adamw_wd0.5_s42', 'lm_muon_wd0.5_s42']
>>> lm_plan(corpus="stories.txt")[0].config.d_model
512
"""

from __future__ import annotations

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
    """The LM runs: the settings with each optimizer of :data:`OPTIMIZERS`.

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
    return grid(fixed, {"task": ["lm"], "optimizer": list(OPTIMIZERS), "wd": [base["wd"]],
                        "seed": list(seeds)})
