"""The learning-rate schedule and mixed precision of a run: :func:`lr_at` (a pure
function of the config and the step, so a resumed run needs no scheduler state) and
:func:`autocast` (bf16 autocast when ``precision`` is ``bf16``).

``lr_schedule="constant"`` with ``warmup_steps=0`` leaves the optimizer's learning rate
untouched (:func:`scheduled` is False), so runs without a schedule are unchanged.
``cosine``: linear warm-up over ``warmup_steps`` steps to ``lr``, then a cosine decay to
``lr_min_frac · lr`` at ``steps`` (the paper's TinyStories schedule: 1500 steps, 10%).

>>> from spectral_edge.validation.runs.config import RunConfig
>>> cfg = RunConfig(lr=1e-3, steps=100, warmup_steps=10, lr_schedule="cosine", lr_min_frac=0.1)
>>> [round(lr_at(cfg, s), 6) for s in (0, 9, 10, 55, 99)]
[0.0001, 0.001, 0.001, 0.000542, 0.0001]
"""

from __future__ import annotations

import contextlib
import math
from typing import Any

import torch

SCHEDULES = ("constant", "cosine")
"""The learning-rate schedules."""
PRECISIONS = ("fp32", "bf16")
"""``fp32``: everything in float32; ``bf16``: forward and loss under bf16 autocast."""


def scheduled(config: Any) -> bool:
    """Whether the run sets the learning rate at every step.

    Args:
        config: a ``RunConfig``.

    Returns:
        False for a constant rate without warm-up.
    """
    return config.lr_schedule != "constant" or config.warmup_steps > 0


def lr_at(config: Any, step: int) -> float:
    """The learning rate of optimizer step ``step`` (0-based: the step about to be taken).

    Args:
        config: a ``RunConfig`` (``lr``, ``steps``, ``warmup_steps``, ``lr_schedule``,
            ``lr_min_frac``).
        step: the step.

    Returns:
        The rate.
    """
    if step < config.warmup_steps:
        return config.lr * (step + 1) / config.warmup_steps
    if config.lr_schedule == "constant":
        return config.lr
    span = max(config.steps - 1 - config.warmup_steps, 1)
    progress = min(max((step - config.warmup_steps) / span, 0.0), 1.0)
    low = config.lr * config.lr_min_frac
    return low + (config.lr - low) * 0.5 * (1.0 + math.cos(math.pi * progress))


def set_lr(optimizer: torch.optim.Optimizer, config: Any, step: int) -> None:
    """Set every parameter group's rate to :func:`lr_at` (nothing when not scheduled).

    Args:
        optimizer: the run's optimizer (a ``CombinedOptimizer``'s groups are its parts').
        config: the run's config.
        step: the step about to be taken.
    """
    if not scheduled(config):
        return
    lr = lr_at(config, step)
    for group in optimizer.param_groups:
        group["lr"] = lr


def autocast(config: Any, device: torch.device) -> contextlib.AbstractContextManager:
    """bf16 autocast for ``precision="bf16"``, else a null context.

    Args:
        config: the run's config.
        device: the model's device.

    Returns:
        The context manager to run the forward pass and the loss in.
    """
    if config.precision == "bf16":
        return torch.autocast(device_type=device.type, dtype=torch.bfloat16)
    return contextlib.nullcontext()
