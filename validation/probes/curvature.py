"""Curvature along edge directions: exact Hessian-vector products, the optimizer's
preconditioner, the finite-difference cross-check and the top of the Hessian spectrum.

The loss is seen as a function of the *monitored* parameters only, flattened in the
monitor's order (:class:`FlatLoss`); every other parameter stays as it is. Hessian-vector
products are exact (double backward through ``torch.autograd.grad``); the gradient graph is
built once per :class:`Curvature` and re-used by every product. The top-K eigenvalues come
from ``scipy.sparse.linalg.eigsh`` on a ``LinearOperator`` of these products (implicitly
restarted Lanczos in ARPACK; no hand-written iteration).

>>> import torch
>>> w = torch.nn.Parameter(torch.tensor([1.0, 2.0], dtype=torch.float64))
>>> f = FlatLoss([("w", w)], lambda params: (params["w"] ** 2 * torch.tensor([1.0, 3.0],
...              dtype=torch.float64)).sum())
>>> curv = Curvature(f)
>>> curv.hvp(torch.tensor([1.0, 0.0], dtype=torch.float64)).tolist()
[2.0, 0.0]
>>> [round(x, 6) for x in hessian_top(curv, k=1, seed=0).eigenvalues.tolist()]
[6.0]
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np
import torch

from spectral_edge.common.errors import InputError
from spectral_edge.common.validate import check_finite_number, check_int

Named = Sequence[tuple[str, torch.Tensor]]


class FlatLoss:
    """L(θ) as a function of the flattened monitored parameters θ ∈ R^P.

    ``named``: the monitored ``(name, tensor)`` pairs, in the monitor's order;
    ``loss_of``: a callable taking ``{name: tensor}`` (the monitored parameters, replaced)
    and returning the scalar loss. :attr:`theta0` is a detached copy of the current values.

    >>> w = torch.nn.Parameter(torch.ones(2, 2))
    >>> f = FlatLoss([("w", w)], lambda p: p["w"].sum())
    >>> f.P, float(f(f.theta0))
    (4, 4.0)
    """

    def __init__(self, named: Named, loss_of: Callable[[dict[str, torch.Tensor]], torch.Tensor]):
        if not named:
            raise InputError("named: no monitored parameters")
        self.names = [n for n, _ in named]
        self.shapes = [tuple(t.shape) for _, t in named]
        self.sizes = [t.numel() for _, t in named]
        self.P = int(sum(self.sizes))
        self.loss_of = loss_of
        self.theta0 = flatten([t.detach() for _, t in named])

    def unflatten(self, theta: torch.Tensor) -> dict[str, torch.Tensor]:
        """``{name: view of theta}`` in the parameters' shapes."""
        parts = torch.split(theta, self.sizes)
        return {n: p.view(s) for n, p, s in zip(self.names, parts, self.shapes, strict=True)}

    def __call__(self, theta: torch.Tensor) -> torch.Tensor:
        return self.loss_of(self.unflatten(theta))


def flatten(tensors: Sequence[torch.Tensor]) -> torch.Tensor:
    """Concatenate tensors into one flat vector (a copy).

    >>> flatten([torch.ones(2, 1), torch.zeros(1)]).tolist()
    [1.0, 1.0, 0.0]
    """
    return torch.cat([t.reshape(-1) for t in tensors])


class Curvature:
    """Gradient and exact Hessian-vector products of a :class:`FlatLoss` at its ``theta0``.

    The gradient is formed once with ``create_graph=True``; :meth:`hvp` then differentiates
    ⟨∇L, v⟩ through that graph (one backward pass per product).

    >>> w = torch.nn.Parameter(torch.tensor([3.0]))
    >>> c = Curvature(FlatLoss([("w", w)], lambda p: p["w"].pow(3).sum()))
    >>> float(c.loss), c.grad.tolist(), c.hvp(torch.tensor([1.0])).tolist()
    (27.0, [27.0], [18.0])
    """

    def __init__(self, loss: FlatLoss) -> None:
        self.flat = loss
        self.theta = loss.theta0.clone().requires_grad_(True)
        with torch.enable_grad():
            value = loss(self.theta)
            (self._g,) = torch.autograd.grad(value, self.theta, create_graph=True)
        self.loss = value.detach()
        self.grad = self._g.detach()
        self.n_hvp = 0

    def hvp(self, v: torch.Tensor) -> torch.Tensor:
        """H v, exactly (double backward)."""
        self.n_hvp += 1
        with torch.enable_grad():
            (out,) = torch.autograd.grad(
                self._g, self.theta, grad_outputs=v.to(self._g), retain_graph=True
            )
        return out.detach()


def mode_curvatures(
    curv: Curvature, directions: torch.Tensor, precondition: Callable | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """(h_j = v_jᵀHv_j, v_jᵀ M H v_j) for each row v_j of ``directions``.

    ``precondition`` applies M to a flat vector (identity when None).

    >>> w = torch.nn.Parameter(torch.zeros(2, dtype=torch.float64))
    >>> a = torch.tensor([1.0, 4.0], dtype=torch.float64)
    >>> c = Curvature(FlatLoss([("w", w)], lambda p: 0.5 * (a * p["w"] ** 2).sum()))
    >>> h, hm = mode_curvatures(c, torch.eye(2, dtype=torch.float64), lambda x: 2 * x)
    >>> h.tolist(), hm.tolist()
    ([1.0, 4.0], [2.0, 8.0])
    """
    h, hm = [], []
    for v in directions:
        v = v.to(curv.grad)
        hv = curv.hvp(v)
        h.append(float(v @ hv))
        mhv = hv if precondition is None else precondition(hv)
        hm.append(float(v @ mhv))
    return np.array(h), np.array(hm)


def fd_epsilon(theta: torch.Tensor, rel: float = 1e-3) -> float:
    """The paper scripts' finite-difference step ε = rel·‖θ‖ (docs/spec.md §8).

    >>> fd_epsilon(torch.tensor([3.0, 4.0]))
    0.005
    """
    rel = check_finite_number("rel", rel, 0.0, strict=True)
    eps = rel * float(theta.double().norm())
    if eps <= 0:
        raise InputError("theta: the finite-difference step needs θ ≠ 0")
    return eps


@torch.no_grad()
def finite_difference_curvature(
    loss: FlatLoss, directions: torch.Tensor, eps: float, base: float | None = None
) -> np.ndarray:
    """(L(θ+εv) + L(θ−εv) − 2L(θ))/ε² for each row v of ``directions`` (the paper's form).

    >>> w = torch.nn.Parameter(torch.zeros(1, dtype=torch.float64))
    >>> f = FlatLoss([("w", w)], lambda p: (3 * p["w"] ** 2).sum())
    >>> finite_difference_curvature(f, torch.ones(1, 1, dtype=torch.float64), 0.1).round(9)
    array([6.])
    """
    eps = check_finite_number("eps", eps, 0.0, strict=True)
    theta = loss.theta0
    l0 = float(loss(theta)) if base is None else base
    out = []
    for v in directions:
        v = v.to(theta)
        plus, minus = float(loss(theta + eps * v)), float(loss(theta - eps * v))
        out.append((plus + minus - 2.0 * l0) / eps**2)
    return np.array(out)


# --------------------------------------------------------------------------- preconditioner


def _owner(optimizer: torch.optim.Optimizer, p: torch.Tensor):
    """(the optimizer part holding ``p``, its param group), or (None, None)."""
    parts = getattr(optimizer, "optimizers", None) or [optimizer]
    for part in parts:
        for group in part.param_groups:
            if any(q is p for q in group["params"]):
                return part, group
    return None, None


def _adam_scale(state: dict, group: dict) -> torch.Tensor:
    """diag 1/(√v̂ + ε) with v̂ the bias-corrected second moment."""
    sq = state.get("max_exp_avg_sq", state["exp_avg_sq"])
    step = float(state["step"])
    beta2 = float(group["betas"][1])
    v_hat = sq / (1.0 - beta2**step) if step > 0 else sq
    return 1.0 / (v_hat.sqrt() + float(group["eps"]))


def _muon_map(state: dict, shape: tuple[int, ...]) -> torch.Tensor | None:
    """Right factor R of the linearised Muon map X ↦ c·X·R, R = (BᵀB)^{+1/2}, B the
    momentum buffer, c the ``match_rms_adamw`` scale 0.2·√max(m, n); None without state."""
    buf = state.get("momentum_buffer")
    if buf is None or len(shape) != 2:
        return None
    b = buf.double()
    _, s, vh = torch.linalg.svd(b, full_matrices=False)
    keep = s > s.max() * 1e-7 if s.numel() else s.bool()
    r = (vh[keep].T / s[keep]) @ vh[keep]
    return 0.2 * math.sqrt(max(shape)) * r


def _operators(optimizer: torch.optim.Optimizer | None,
               named: Named) -> list[tuple[str, torch.Tensor | None]]:
    """Per monitored tensor: (its form of M, the Adam scale or Muon factor or None)."""
    ops: list[tuple[str, torch.Tensor | None]] = []
    for _, p in named:
        part, group = _owner(optimizer, p) if optimizer is not None else (None, None)
        state = part.state.get(p, {}) if part is not None else {}
        if "exp_avg_sq" in state:
            ops.append(("adam", _adam_scale(state, group).reshape(-1)))
        elif isinstance(part, torch.optim.Muon) and state.get("momentum_buffer") is not None:
            ops.append(("muon", _muon_map(state, tuple(p.shape))))
        else:
            ops.append(("identity", None))
    return ops


def preconditioner_diagonal(optimizer: torch.optim.Optimizer | None,
                            named: Named) -> torch.Tensor | None:
    """The diagonal of M over the flat monitored parameters when M is diagonal (Adam-type
    state or the identity on every tensor), else None (Muon's linearised map is not).

    Args:
        optimizer: The run's optimizer (None: M = I).
        named: The monitored ``(name, tensor)`` pairs, in the monitor's order.

    Returns:
        diag M as one flat float64 tensor, or None.

    >>> w = torch.nn.Parameter(torch.ones(2))
    >>> preconditioner_diagonal(torch.optim.SGD([w], lr=0.1), [("w", w)]).tolist()
    [1.0, 1.0]
    """
    parts = []
    for (kind, op), (_, p) in zip(_operators(optimizer, named), named, strict=True):
        if kind == "muon":
            return None
        parts.append(op.double().cpu() if kind == "adam"
                     else torch.ones(p.numel(), dtype=torch.float64))
    return torch.cat(parts)


def preconditioner(
    optimizer: torch.optim.Optimizer | None, named: Named
) -> tuple[Callable[[torch.Tensor], torch.Tensor], str]:
    """M as a map on flat vectors of the monitored parameters, read from the optimizer's
    state, and a word saying which form was used (``adam``, ``muon``, ``identity``, or
    ``mixed`` when the tensors differ).

    Adam-type (state with ``exp_avg_sq``): diag 1/(√v̂ + ε), v̂ = exp_avg_sq/(1 − β₂^t).
    Muon (``momentum_buffer`` of a 2-D parameter in a ``torch.optim.Muon``): the linearised
    orthogonalisation X ↦ 0.2·√max(m,n)·X(BᵀB)^{+1/2} at the momentum buffer B — the map
    that sends B to its orthogonal factor UVᵀ, scaled as ``adjust_lr_fn="match_rms_adamw"``.
    SGD, or a tensor without state yet: the identity.

    >>> w = torch.nn.Parameter(torch.ones(2))
    >>> m, kind = preconditioner(torch.optim.SGD([w], lr=0.1), [("w", w)])
    >>> kind, m(torch.tensor([1.0, 2.0])).tolist()
    ('identity', [1.0, 2.0])
    """
    ops = _operators(optimizer, named)
    kinds = {k for k, _ in ops}
    kind = kinds.pop() if len(kinds) == 1 else "mixed"
    sizes = [p.numel() for _, p in named]
    shapes = [tuple(p.shape) for _, p in named]

    def apply(x: torch.Tensor) -> torch.Tensor:
        out = []
        for (k, op), part, shape in zip(ops, torch.split(x, sizes), shapes, strict=True):
            if k == "adam":
                out.append(part * op.to(part))
            elif k == "muon":
                out.append((part.view(shape).double() @ op).to(part).reshape(-1))
            else:
                out.append(part)
        return torch.cat(out)

    return apply, kind


# --------------------------------------------------------------------------- top of H


@dataclass(frozen=True)
class HessianTop:
    """The largest eigenvalues of H (descending), their residuals ‖Hv−λv‖/|λ|, and the
    number of Hessian-vector products used (``eigsh`` plus the residual check)."""

    eigenvalues: np.ndarray = field(repr=False)
    residuals: np.ndarray = field(repr=False)
    n_hvp: int
    converged: bool


def hessian_top(
    curv: Curvature, k: int = 20, tol: float = 1e-6, seed: int = 0, maxiter: int | None = None,
    diag: torch.Tensor | None = None,
) -> HessianTop:
    """The top ``k`` eigenvalues of the Hessian (largest algebraic), by
    ``scipy.sparse.linalg.eigsh`` on a ``LinearOperator`` of :meth:`Curvature.hvp` — or,
    with ``diag`` = diag M of a diagonal preconditioner, of M^½HM^½ (A2's curvature
    operator: the same spectrum as MH, symmetric), x ↦ √m ⊙ H(√m ⊙ x).

    The start vector is drawn from a private generator seeded with ``seed`` (reproducible,
    no global RNG used). ``k`` is capped at P − 1. If ARPACK stops before every value
    converged, the converged ones are returned (NaN for the rest) and ``converged`` is False.

    >>> w = torch.nn.Parameter(torch.zeros(3, dtype=torch.float64))
    >>> a = torch.tensor([1.0, 5.0, 2.0], dtype=torch.float64)
    >>> c = Curvature(FlatLoss([("w", w)], lambda p: 0.5 * (a * p["w"] ** 2).sum()))
    >>> top = hessian_top(c, k=2)
    >>> top.eigenvalues.round(8).tolist(), bool(top.residuals.max() < 1e-8)
    ([5.0, 2.0], True)
    >>> m = torch.tensor([1.0, 0.1, 2.0], dtype=torch.float64)
    >>> hessian_top(c, k=2, diag=m).eigenvalues.round(8).tolist()
    [4.0, 1.0]
    """
    from scipy.sparse.linalg import ArpackNoConvergence, LinearOperator, eigsh

    k = check_int("k", k, 1)
    tol = check_finite_number("tol", tol, 0.0)
    P = curv.flat.P
    if P < 2:
        raise InputError(f"hessian_top needs P >= 2 monitored parameters, got {P}")
    k_eff = min(k, P - 1)
    dtype = curv.grad.dtype
    start = curv.n_hvp

    root = None
    if diag is not None:
        if diag.shape != (P,) or not bool(torch.all(diag >= 0)):
            raise InputError(f"diag: need {P} non-negative entries, got {tuple(diag.shape)}")
        root = diag.double().sqrt().cpu().numpy()

    def hvp(x: np.ndarray) -> np.ndarray:
        v = torch.from_numpy(np.ascontiguousarray(x, dtype=np.float64).reshape(-1))
        return curv.hvp(v.to(dtype=dtype, device=curv.grad.device)).double().cpu().numpy()

    def matvec(x: np.ndarray) -> np.ndarray:
        x = np.asarray(x, dtype=np.float64).reshape(-1)
        return hvp(x) if root is None else root * hvp(root * x)

    op = LinearOperator((P, P), matvec=matvec, dtype=np.float64)
    v0 = np.random.default_rng(seed).standard_normal(P)
    converged = True
    try:
        lam, vecs = eigsh(op, k=k_eff, which="LA", tol=tol, v0=v0, maxiter=maxiter)
    except ArpackNoConvergence as err:
        lam, vecs, converged = err.eigenvalues, err.eigenvectors, False
    order = np.argsort(lam)[::-1]
    lam, vecs = np.asarray(lam)[order], np.asarray(vecs)[:, order]
    resid = np.array(
        [np.linalg.norm(matvec(vecs[:, i]) - lam[i] * vecs[:, i]) / max(abs(lam[i]), 1e-300)
         for i in range(lam.size)]
    )
    pad = k - lam.size
    if pad > 0:
        lam = np.concatenate([lam, np.full(pad, np.nan)])
        resid = np.concatenate([resid, np.full(pad, np.nan)])
    return HessianTop(lam, resid, curv.n_hvp - start, converged and k_eff == k)


def count_stiff(eigenvalues: np.ndarray, eta_eff: float, W: int) -> int:
    """K_η = #{λ ≥ 1/(η_eff·W)} among ``eigenvalues`` (NaN ignored): the Krylov bound's count
    (docs/spec.md R11). With only the top K computed, K_η = K means "at least K".

    >>> count_stiff(np.array([5.0, 1.0, 0.1]), eta_eff=0.5, W=2)
    2
    """
    eta_eff = check_finite_number("eta_eff", eta_eff, 0.0, strict=True)
    lam = np.asarray(eigenvalues, dtype=np.float64)
    return int(np.sum(lam[np.isfinite(lam)] >= 1.0 / (eta_eff * W)))
