"""Optimizers of the protocols (THEORY.md §7): AdamW, SGD (+momentum), Muon.

Muon (``torch.optim.Muon``) only accepts 2-D parameters; it gets the *hidden* weight
matrices (2-D, not an embedding, not an output head), and every other parameter
(embeddings, heads, biases, LayerNorm) goes to AdamW. Both parts use the same learning
rate and decoupled weight decay: Muon runs with ``adjust_lr_fn="match_rms_adamw"``, which
scales its orthogonalised update to AdamW's typical RMS, so the AdamW hyperparameters carry
over (Liu et al. 2025, "Muon is scalable"), and the decay per step is ``lr * wd`` for both.
Weight decay applies to every parameter, as in the protocols.

>>> from torch import nn
>>> net = nn.Sequential()
>>> net.add_module("embed", nn.Embedding(5, 4))
>>> net.add_module("fc", nn.Linear(4, 4))
>>> net.add_module("head", nn.Linear(4, 2))
>>> [name for name, _ in hidden_matrices(net)[0]]
['fc.weight']
>>> opt = build_optimizer(net, "muon", lr=1e-3, weight_decay=1.0)
>>> [type(o).__name__ for o in opt.optimizers]
['Muon', 'AdamW']
"""

from __future__ import annotations

from typing import Any

import torch
from torch import nn

from numerics.errors import InputError

OPTIMIZERS = ("adamw", "sgd", "muon")
#: name prefixes of parameters that are never "hidden" matrices
NOT_HIDDEN_PREFIXES = ("embed", "pos_embed", "tgt_embed", "tgt_pos_embed", "head", "heads")

Named = list[tuple[str, nn.Parameter]]


def hidden_matrices(model: nn.Module) -> tuple[Named, Named]:
    """Split trainable parameters into (hidden 2-D matrices, everything else), by name."""
    hidden: Named = []
    rest: Named = []
    for name, p in model.named_parameters():
        if not p.requires_grad:
            continue
        top = name.split(".", 1)[0]
        if p.ndim == 2 and top not in NOT_HIDDEN_PREFIXES:
            hidden.append((name, p))
        else:
            rest.append((name, p))
    return hidden, rest


class CombinedOptimizer:
    """Several optimizers stepped together, with one state dict (for Muon + AdamW).

    ``param_groups`` concatenates the parts' groups (so a reader of
    ``param_groups[0]["lr"]`` sees the first part's learning rate).
    """

    def __init__(self, optimizers: list[torch.optim.Optimizer]) -> None:
        self.optimizers = optimizers

    @property
    def param_groups(self) -> list[dict[str, Any]]:
        """Every part's parameter groups, in order."""
        return [g for opt in self.optimizers for g in opt.param_groups]

    def zero_grad(self, set_to_none: bool = True) -> None:
        """Clear every part's gradients."""
        for opt in self.optimizers:
            opt.zero_grad(set_to_none=set_to_none)

    def step(self) -> None:
        """Step every part."""
        for opt in self.optimizers:
            opt.step()

    def state_dict(self) -> dict[str, Any]:
        """``{"parts": [state_dict of each part]}``."""
        return {"parts": [opt.state_dict() for opt in self.optimizers]}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Restore :meth:`state_dict` output."""
        parts = state["parts"]
        if len(parts) != len(self.optimizers):
            raise InputError(
                f"optimizer state has {len(parts)} parts, expected {len(self.optimizers)}"
            )
        for opt, part in zip(self.optimizers, parts, strict=True):
            opt.load_state_dict(part)


def build_optimizer(
    model: nn.Module,
    name: str,
    lr: float,
    weight_decay: float = 0.0,
    betas: tuple[float, float] = (0.9, 0.98),
    momentum: float = 0.0,
) -> torch.optim.Optimizer | CombinedOptimizer:
    """``adamw`` (decoupled decay), ``sgd`` (``momentum``; decay added to the gradient,
    equal to decoupled decay without momentum), or ``muon`` (Muon on hidden matrices with
    Nesterov momentum ``momentum`` or 0.95 if 0, AdamW on the rest).

    >>> opt = build_optimizer(nn.Linear(3, 2), "adamw", lr=1e-3, weight_decay=1.0)
    >>> opt.param_groups[0]["betas"], opt.param_groups[0]["weight_decay"]
    ((0.9, 0.98), 1.0)
    """
    if name not in OPTIMIZERS:
        raise InputError(f"unknown optimizer {name!r}; known: {', '.join(OPTIMIZERS)}")
    if not lr > 0:
        raise InputError(f"learning rate must be > 0, got {lr}")
    if weight_decay < 0:
        raise InputError(f"weight decay must be >= 0, got {weight_decay}")
    if not 0 <= momentum < 1:
        raise InputError(f"momentum must be in [0, 1), got {momentum}")
    if not all(0 <= b < 1 for b in betas):
        raise InputError(f"betas must be in [0, 1), got {betas}")
    params = [p for p in model.parameters() if p.requires_grad]
    if name == "adamw":
        return torch.optim.AdamW(params, lr=lr, betas=betas, weight_decay=weight_decay)
    if name == "sgd":
        return torch.optim.SGD(params, lr=lr, momentum=momentum, weight_decay=weight_decay)
    hidden, rest = hidden_matrices(model)
    if not hidden:
        raise InputError("muon needs at least one hidden 2-D weight matrix; the model has none")
    muon = torch.optim.Muon(
        [p for _, p in hidden],
        lr=lr,
        weight_decay=weight_decay,
        momentum=momentum or 0.95,
        adjust_lr_fn="match_rms_adamw",
    )
    parts: list[torch.optim.Optimizer] = [muon]
    if rest:
        parts.append(
            torch.optim.AdamW([p for _, p in rest], lr=lr, betas=betas, weight_decay=weight_decay)
        )
    return CombinedOptimizer(parts)
