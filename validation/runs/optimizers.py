"""Optimizers of the protocols (docs/spec.md §7): AdamW, SGD (+momentum), Muon.

Muon (``torch.optim.Muon``) only accepts 2-D parameters; it gets the *hidden* weight
matrices (2-D, not an embedding, not an output head), and every other parameter
(embeddings, heads, biases, LayerNorm) goes to AdamW. Both parts use the same learning
rate and decoupled weight decay: Muon runs with ``adjust_lr_fn="match_rms_adamw"``, which
scales its orthogonalised update to AdamW's typical RMS, so the AdamW hyperparameters carry
over (Liu et al. 2025, "Muon is scalable"), and the decay per step is ``lr * wd`` for both.
Weight decay applies to every parameter, as in the protocols.

On CPU, :class:`Float32Muon` runs Muon's Newton–Schulz orthogonalisation in float32:
``torch.optim.Muon`` casts it to bfloat16, which on CPUs without bfloat16 matrix units is
15–40× slower than float32 (0.4 s per step of the modular model on this project's
machines, against 0.06 s for AdamW). On CUDA it is ``torch.optim.Muon`` unchanged.

>>> from torch import nn
>>> net = nn.Sequential()
>>> net.add_module("embed", nn.Embedding(5, 4))
>>> net.add_module("fc", nn.Linear(4, 4))
>>> net.add_module("head", nn.Linear(4, 2))
>>> [name for name, _ in hidden_matrices(net)[0]]
['fc.weight']
>>> opt = build_optimizer(net, "muon", lr=1e-3, weight_decay=1.0)
>>> [type(o).__name__ for o in opt.optimizers]
['Float32Muon', 'AdamW']
"""

from __future__ import annotations

from collections import ChainMap
from collections.abc import Callable
from typing import Any
from unittest import mock

import torch
from torch import nn

from spectral_edge.common.errors import InputError

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


def newton_schulz_float32(
    grad: torch.Tensor, ns_coefficients: tuple[float, float, float], ns_steps: int, eps: float
) -> torch.Tensor:
    """Muon's quintic Newton–Schulz iteration (same coefficients and steps as
    ``torch.optim.Muon``), in float32: X ← aX + (bA + cA²)X with A = XXᵀ, from
    X = G/‖G‖_F, on the wide orientation of G.

    >>> q = newton_schulz_float32(torch.eye(3) * 5.0, (3.4445, -4.7750, 2.0315), 5, 1e-7)
    >>> bool(((q.diagonal() > 0.5) & (q.diagonal() < 1.5)).all())
    True
    """
    a, b, c = ns_coefficients
    x = grad.float()
    tall = grad.size(0) > grad.size(1)
    if tall:
        x = x.T
    x = x / x.norm().clamp(min=eps)
    for _ in range(ns_steps):
        gram = x @ x.T
        x = torch.addmm(x, torch.addmm(gram, gram, gram, beta=b, alpha=c), x, beta=a)
    return x.T if tall else x


class Float32Muon(torch.optim.Muon):
    """``torch.optim.Muon`` whose Newton–Schulz step runs in float32 when its parameters
    are on the CPU (see the module docstring); identical to ``torch.optim.Muon`` on CUDA.
    The substitution lasts only for the duration of :meth:`step`."""

    @torch.no_grad()
    def step(self, closure: Callable[[], float] | None = None) -> float | None:
        """One Muon step (Newton–Schulz in float32 on CPU)."""
        on_cpu = all(p.device.type == "cpu" for g in self.param_groups for p in g["params"])
        module = torch.optim._muon
        if not on_cpu or not hasattr(module, "_zeropower_via_newtonschulz"):
            return super().step(closure)
        with mock.patch.object(module, "_zeropower_via_newtonschulz", newton_schulz_float32):
            return super().step(closure)


class CombinedOptimizer(torch.optim.Optimizer):
    """Several optimizers stepped together as one ``torch.optim.Optimizer`` (Muon + AdamW).

    ``param_groups`` is the parts' groups, in order — the same dictionaries, so a
    learning-rate scheduler that sets ``group["lr"]`` drives every part; ``state`` is a
    read-only view of the parts' per-parameter state; ``state_dict()`` is
    ``{"parts": [each part's state dict]}``.

    >>> w, b = torch.zeros(2, 2, requires_grad=True), torch.zeros(2, requires_grad=True)
    >>> opt = CombinedOptimizer([torch.optim.SGD([w], lr=0.1), torch.optim.SGD([b], lr=0.1)])
    >>> sched = torch.optim.lr_scheduler.StepLR(opt, step_size=1, gamma=0.5)
    >>> opt.step(); sched.step()
    >>> [part.param_groups[0]["lr"] for part in opt.optimizers]
    [0.05, 0.05]
    """

    def __init__(self, optimizers: list[torch.optim.Optimizer]) -> None:
        if not optimizers:
            raise InputError("CombinedOptimizer needs at least one optimizer")
        params = [p for opt in optimizers for g in opt.param_groups for p in g["params"]]
        super().__init__(params, defaults={})
        self.optimizers = list(optimizers)
        self.param_groups = [g for opt in self.optimizers for g in opt.param_groups]
        self.state = ChainMap(*(opt.state for opt in self.optimizers))

    def zero_grad(self, set_to_none: bool = True) -> None:
        """Clear every part's gradients."""
        for opt in self.optimizers:
            opt.zero_grad(set_to_none=set_to_none)

    @torch.no_grad()
    def step(self, closure: Callable[[], float] | None = None) -> float | None:
        """Step every part (``closure``, if given, is evaluated once, before the steps)."""
        loss = None
        if closure is not None:
            with torch.enable_grad():
                loss = closure()
        for opt in self.optimizers:
            opt.step()
        return loss

    def state_dict(self) -> dict[str, Any]:
        """``{"parts": [state_dict of each part]}``."""
        return {"parts": [opt.state_dict() for opt in self.optimizers]}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Restore :meth:`state_dict` output (checked before any part is changed)."""
        parts = state.get("parts") if isinstance(state, dict) else None
        if not isinstance(parts, list | tuple) or len(parts) != len(self.optimizers):
            raise InputError(
                f"optimizer state must be {{'parts': [...]}} with {len(self.optimizers)} parts"
            )
        for opt, part in zip(self.optimizers, parts, strict=True):
            opt.load_state_dict(part)
        self.param_groups = [g for opt in self.optimizers for g in opt.param_groups]
        self.state = ChainMap(*(opt.state for opt in self.optimizers))


def build_optimizer(
    model: nn.Module,
    name: str,
    lr: float,
    weight_decay: float = 0.0,
    betas: tuple[float, float] = (0.9, 0.98),
    momentum: float | None = None,
) -> torch.optim.Optimizer:
    """``adamw`` (decoupled decay), ``sgd`` (``momentum``, default 0; decay added to the
    gradient, equal to decoupled decay without momentum), or ``muon`` (Muon on hidden
    matrices with Nesterov momentum ``momentum``, default 0.95, AdamW on the rest).
    ``momentum=None`` means the optimizer's default; 0 means no momentum, for both.

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
    if momentum is not None and not 0 <= momentum < 1:
        raise InputError(f"momentum must be in [0, 1), got {momentum}")
    if not all(0 <= b < 1 for b in betas):
        raise InputError(f"betas must be in [0, 1), got {betas}")
    params = [p for p in model.parameters() if p.requires_grad]
    if name == "adamw":
        return torch.optim.AdamW(params, lr=lr, betas=betas, weight_decay=weight_decay)
    if name == "sgd":
        sgd_momentum = 0.0 if momentum is None else momentum
        return torch.optim.SGD(params, lr=lr, momentum=sgd_momentum, weight_decay=weight_decay)
    hidden, rest = hidden_matrices(model)
    if not hidden:
        raise InputError("muon needs at least one hidden 2-D weight matrix; the model has none")
    muon = Float32Muon(
        [p for _, p in hidden],
        lr=lr,
        weight_decay=weight_decay,
        momentum=0.95 if momentum is None else momentum,
        adjust_lr_fn="match_rms_adamw",
    )
    parts: list[torch.optim.Optimizer] = [muon]
    if rest:
        parts.append(
            torch.optim.AdamW([p for _, p in rest], lr=lr, betas=betas, weight_decay=weight_decay)
        )
    return CombinedOptimizer(parts)
