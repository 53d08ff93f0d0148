"""The exact discrete reference simulator (docs/spec.md §5): optimizers on a synthetic quadratic.

Every quantity the theory talks about is known here, so its predictions can be checked
against ground truth. The model is a quadratic with a drifting linear term,

    L_s(θ) = ½ θᵀHθ + b_sᵀθ,   H = h_bulk·I + V diag(h − h_bulk) Vᵀ,   θ ∈ R^P,

(equivalently a linear regression whose target drifts). ``V`` (P×n, orthonormal) holds the
n *signal modes* with curvatures ``h``; the rest of R^P has curvature ``h_bulk``.

* **Gradient injection** (docs/spec.md §3 A3): b performs a random walk inside span(V),
  b_{s+1} = b_s + V(√(2Γ_j/η)·z_j), z ~ N(0, I). Along mode j the gradient u_j then obeys
  u_{s+1} = (1 − η(h_j+ω))u_s + ζ_s with Var ζ = q_j = 2Γ_j/η, so the per-mode window
  energy Σ_window η²u² relaxes as d(d²)/dt = −2η(h+ω)d² + ηWq_j = … + 2ηWΓ_j: this choice
  of q makes the simulator's Γ_j the Γ_j of R1 (to first order in η(h+ω)).
* **Gradient noise** (A2): every optimizer except ``gd`` sees ∇L + ε, ε ~ N(0, N·I_P)
  (minibatch noise; for SGD it is update noise ξ = −ηε of power η²N per coordinate).
* **Optimizers**: ``gd`` (exact gradient), ``sgd`` (noisy gradient), ``adamw`` (Adam moments
  with bias correction: a diagonal preconditioner, plus decoupled weight decay), ``muon``
  (momentum with Nesterov, then the exact polar factor UVᵀ of the gradient reshaped to the
  ``matrix_shape`` — the map Muon's Newton–Schulz iteration approximates — plus decoupled
  weight decay). All apply δ = −η(direction + ωθ).

The simulator keeps, for every replica, the (W+1)×(W+1) Gram of the last W+1 updates
(oldest first), so both the window spectrum and the exact window change ‖ΔC‖ come from
:mod:`spectral_edge.numerics.spectra`, the same functions the torch monitor calls. It also
records the
projections c_j(s) = ⟨δ_s, v_j⟩ on the true modes, whose window energies are the d_j² of A3.

>>> prob = QuadraticProblem(h=np.array([0.5, 0.1]), Gamma=np.array([1.0, 0.05]), P=20)
>>> res = simulate(prob, "gd", eta=0.1, W=5, steps=40, replicas=2, seed=0)
>>> res.sigma.shape, res.mode_energy.shape, int(res.t[0])
((2, 35, 5), (2, 35, 2), 6)
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

import numpy as np
import pandas as pd

from spectral_edge.common.errors import InputError
from spectral_edge.common.validate import check_choice, check_finite_number, check_int, check_window
from spectral_edge.numerics import spectra

OptimizerName = Literal["gd", "sgd", "adamw", "muon"]
OPTIMIZERS: tuple[str, ...] = ("gd", "sgd", "adamw", "muon")


# --------------------------------------------------------------------------- the problem


@dataclass(frozen=True)
class QuadraticProblem:
    """A synthetic quadratic with n signal modes (see the module docstring).

    ``Gamma`` is either one rate per mode, shape (n,), or a schedule, shape (steps, n): row s
    is the injection rate during step s. ``noise`` is the gradient-noise power N per
    coordinate. ``theta0`` gives the initial coordinates along the modes (default 0).
    ``basis="identity"`` takes V = the first n coordinate axes (exact eigenbasis, handy when
    n = P); ``"random"`` draws V from the problem seed. ``matrix_shape`` (rows, cols) with
    rows·cols = P is how ``muon`` sees θ (default: the squarest factorisation of P).

    >>> QuadraticProblem(h=np.array([1.0]), Gamma=np.array([0.1]), P=12).matrix_shape
    (4, 3)
    """

    h: np.ndarray
    Gamma: np.ndarray
    P: int
    noise: float = 0.0
    h_bulk: float = 0.0
    theta0: np.ndarray | None = None
    basis: Literal["random", "identity"] = "random"
    matrix_shape: tuple[int, int] | None = None
    seed: int = 0

    def __post_init__(self) -> None:
        h = np.asarray(self.h, dtype=np.float64)
        gamma = np.asarray(self.Gamma, dtype=np.float64)
        if h.ndim != 1 or h.size < 1:
            raise InputError(f"h must be a 1-D array of mode curvatures, got shape {h.shape}")
        n = h.size
        if gamma.shape[-1:] != (n,) or gamma.ndim not in (1, 2):
            raise InputError(f"Gamma must have shape ({n},) or (steps, {n}), got {gamma.shape}")
        if np.any(h < 0) or self.h_bulk < 0 or np.any(gamma < 0) or self.noise < 0:
            raise InputError("curvatures, injection rates and the noise power must be >= 0")
        if int(self.P) != self.P or self.P < n:
            raise InputError(f"P must be an integer >= n = {n}, got {self.P}")
        if self.basis not in ("random", "identity"):
            raise InputError(f"basis must be 'random' or 'identity', got {self.basis!r}")
        theta0 = None if self.theta0 is None else np.asarray(self.theta0, dtype=np.float64)
        if theta0 is not None and theta0.shape != (n,):
            raise InputError(f"theta0 must have shape ({n},), got {theta0.shape}")
        shape = self.matrix_shape or _squarest(int(self.P))
        if len(shape) != 2 or shape[0] * shape[1] != self.P:
            raise InputError(f"matrix_shape {shape} does not multiply to P = {self.P}")
        for name, value in (("h", h), ("Gamma", gamma), ("theta0", theta0)):
            object.__setattr__(self, name, value)
        object.__setattr__(self, "matrix_shape", tuple(int(x) for x in shape))

    @property
    def n(self) -> int:
        """Number of signal modes."""
        return int(self.h.size)

    def modes(self) -> np.ndarray:
        """V, the P×n orthonormal signal directions (deterministic in ``seed``).

        >>> V = QuadraticProblem(h=np.ones(3), Gamma=np.zeros(3), P=10).modes()
        >>> np.allclose(V.T @ V, np.eye(3))
        True
        """
        if self.basis == "identity":
            return np.eye(self.P, self.n)
        rng = np.random.default_rng([self.seed, 0])
        q, r = np.linalg.qr(rng.normal(size=(self.P, self.n)))
        return q * np.sign(np.diag(r))

    def gamma_at(self, step: int) -> np.ndarray:
        """Injection rates during ``step`` (the last schedule row repeats).

        >>> sched = np.array([[1.0], [2.0]])
        >>> QuadraticProblem(h=np.ones(1), Gamma=sched, P=2).gamma_at(5).tolist()
        [2.0]
        """
        if self.Gamma.ndim == 1:
            return self.Gamma
        return self.Gamma[min(step, self.Gamma.shape[0] - 1)]


def _squarest(P: int) -> tuple[int, int]:
    rows = int(np.sqrt(P))
    while P % rows:
        rows -= 1
    return P // rows, rows


# --------------------------------------------------------------------------- optimizers


@dataclass
class _Optimizer:
    """Mutable optimizer state for R replicas (arrays of shape (R, P))."""

    name: str
    eta: float
    omega: float
    shape: tuple[int, int]
    beta1: float
    beta2: float
    eps: float
    momentum: float
    m: np.ndarray | None = None
    v: np.ndarray | None = None
    count: int = 0

    def direction(self, grad: np.ndarray) -> np.ndarray:
        self.count += 1
        if self.name in ("gd", "sgd"):
            return grad
        if self.name == "adamw":
            if self.m is None:
                self.m, self.v = np.zeros_like(grad), np.zeros_like(grad)
            self.m = self.beta1 * self.m + (1 - self.beta1) * grad
            self.v = self.beta2 * self.v + (1 - self.beta2) * grad**2
            m_hat = self.m / (1 - self.beta1**self.count)
            v_hat = self.v / (1 - self.beta2**self.count)
            return m_hat / (np.sqrt(v_hat) + self.eps)
        # muon: Nesterov momentum, then the polar factor of the reshaped gradient
        if self.m is None:
            self.m = np.zeros_like(grad)
        self.m = self.momentum * self.m + grad
        g = grad + self.momentum * self.m
        mats = g.reshape(g.shape[0], *self.shape)
        u, _, vt = np.linalg.svd(mats, full_matrices=False)
        scale = np.sqrt(max(1.0, self.shape[0] / self.shape[1]))
        return scale * (u @ vt).reshape(g.shape)


# --------------------------------------------------------------------------- the result


@dataclass(frozen=True)
class SimulationResult:
    """Exact window data of a reference run with R replicas.

    ``t[i]`` is the step (1-based count of updates) at the end of recorded window i; window
    i holds updates t−W+1 … t. ``sigma`` (R, T', W) and ``delta_c_fro`` / ``delta_c_op``
    (R, T') come from :mod:`spectral_edge.numerics.spectra` applied to the exact (W+1)-Gram;
    ``grams``
    keeps those Grams when asked (``keep_grams=True``), ``updates`` (R, steps, P) the raw
    updates (``keep_updates=True``). ``proj`` (R, steps, n) holds
    c_j(s) = ⟨δ_s, v_j⟩ and ``mode_energy`` (R, T', n) the window sums Σ c_j², the per-mode
    d_j² of axiom A3.
    """

    optimizer: str
    eta: float
    omega: float
    W: int
    P: int
    t: np.ndarray = field(repr=False)
    sigma: np.ndarray = field(repr=False)
    delta_c_fro: np.ndarray = field(repr=False)
    delta_c_op: np.ndarray = field(repr=False)
    proj: np.ndarray = field(repr=False)
    mode_energy: np.ndarray = field(repr=False)
    grams: np.ndarray | None = field(default=None, repr=False)
    updates: np.ndarray | None = field(default=None, repr=False)

    @property
    def replicas(self) -> int:
        """Number of independent replicas R."""
        return int(self.sigma.shape[0])

    def kstar(self, method: spectra.KStarMethod = "weighted") -> np.ndarray:
        """k* of every recorded window, shape (R, T'), by
        :func:`spectral_edge.numerics.spectra.kstar`.

        >>> prob = QuadraticProblem(h=np.array([1.0, 0.01]), Gamma=np.array([1.0, 1e-4]), P=8)
        >>> simulate(prob, "gd", eta=0.1, W=4, steps=12, seed=1).kstar().shape
        (1, 8)
        """
        return np.array(
            [[spectra.kstar(s, method, P=self.P) for s in rep] for rep in self.sigma], dtype=int
        )

    def gap(self, k: int) -> np.ndarray:
        """g = σ_k − σ_{k+1} at a fixed position k for every window, shape (R, T').

        >>> prob = QuadraticProblem(h=np.array([1.0, 0.01]), Gamma=np.array([1.0, 1e-4]), P=8)
        >>> bool((simulate(prob, "gd", eta=0.1, W=4, steps=12).gap(1) >= 0).all())
        True
        """
        return np.array([[spectra.gap(s, k) for s in rep] for rep in self.sigma])

    def frame(self, replica: int = 0, method: spectra.KStarMethod = "weighted") -> pd.DataFrame:
        """One row per window of one replica: every statistic of :func:`spectra.window_stats`.

        Needs ``keep_grams=True``.

        >>> prob = QuadraticProblem(h=np.array([1.0, 0.01]), Gamma=np.array([1.0, 1e-4]), P=8)
        >>> res = simulate(prob, "sgd", eta=0.1, W=4, steps=12, keep_grams=True)
        >>> res.frame()[["step", "kstar"]].shape
        (8, 2)
        """
        if self.grams is None:
            raise InputError("frame() needs the Grams: simulate(..., keep_grams=True)")
        rows = []
        for t, K in zip(self.t, self.grams[replica], strict=True):
            st = spectra.window_stats(P=self.P, gram_plus=K, eta_eff=self.eta, method=method)
            rows.append({"step": int(t), **st.as_row()})
        return pd.DataFrame(rows)


# --------------------------------------------------------------------------- simulate


def simulate(
    problem: QuadraticProblem,
    optimizer: OptimizerName = "gd",
    *,
    eta: float,
    W: int,
    steps: int,
    omega: float = 0.0,
    replicas: int = 1,
    seed: int = 0,
    keep_grams: bool = False,
    record_every: int = 1,
    record_change: bool = True,
    keep_updates: bool = False,
    beta1: float = 0.9,
    beta2: float = 0.999,
    eps: float = 1e-8,
    momentum: float = 0.95,
) -> SimulationResult:
    """Run ``steps`` updates of ``optimizer`` on ``problem`` for ``replicas`` independent
    noise/injection streams and record every ``record_every``-th window. With
    ``record_change=False`` the window changes ‖ΔC‖ are not evaluated (NaN), which halves
    the cost of large ensembles that only need the spectra. ``keep_updates=True`` stores
    every update δ_s (R × steps × P floats).

    >>> prob = QuadraticProblem(h=np.array([1.0]), Gamma=np.array([0.0]), P=4,
    ...                         theta0=np.array([1.0]), basis="identity")
    >>> res = simulate(prob, "gd", eta=0.5, W=2, steps=4)
    >>> res.proj[0, :, 0].tolist()  # δ_s = −η(1−η)^s θ0 h
    [-0.5, -0.25, -0.125, -0.0625]
    """
    check_choice("optimizer", optimizer, OPTIMIZERS)
    eta = check_finite_number("the learning rate eta", eta, minimum=0.0, strict=True)
    omega = check_finite_number("the weight decay omega", omega, minimum=0.0)
    W = check_window(W)
    steps = check_int("steps", steps, minimum=1)
    replicas = check_int("replicas", replicas, minimum=1)
    record_every = check_int("record_every", record_every, minimum=1)
    if steps < W + 1:
        raise InputError(f"steps = {steps} is too short for one window change (need W+1)")
    W, steps, R, P, n = int(W), int(steps), int(replicas), problem.P, problem.n
    V = problem.modes()
    rng = np.random.default_rng([seed, 1])
    opt = _Optimizer(optimizer, eta, omega, problem.matrix_shape, beta1, beta2, eps, momentum)

    theta = np.zeros((R, P))
    if problem.theta0 is not None:
        theta += problem.theta0 @ V.T
    b = np.zeros((R, P))
    dh = problem.h - problem.h_bulk
    buf = np.zeros((R, W + 1, P))
    K = np.zeros((R, W + 1, W + 1))
    proj = np.empty((R, steps, n))
    updates = np.empty((R, steps, P)) if keep_updates else None
    rec_t, rec_sigma, rec_fro, rec_op, rec_grams = [], [], [], [], []

    for s in range(steps):
        grad = problem.h_bulk * theta + ((theta @ V) * dh) @ V.T + b
        if optimizer != "gd" and problem.noise > 0:
            grad = grad + np.sqrt(problem.noise) * rng.normal(size=(R, P))
        delta = -eta * (opt.direction(grad) + omega * theta)
        theta = theta + delta
        q = 2.0 * problem.gamma_at(s) / eta
        if np.any(q > 0):
            b = b + (np.sqrt(q) * rng.normal(size=(R, n))) @ V.T
        proj[:, s] = delta @ V
        if updates is not None:
            updates[:, s] = delta
        # slide the (W+1)-Gram: drop the oldest update, append the newest (oldest first)
        buf[:, :-1] = buf[:, 1:]
        buf[:, -1] = delta
        K[:, :-1, :-1] = K[:, 1:, 1:]
        K[:, -1, :] = np.einsum("rwp,rp->rw", buf, delta)
        K[:, :, -1] = K[:, -1, :]
        step = s + 1
        if step >= W + 1 and (step - W - 1) % record_every == 0:
            rec_t.append(step)
            rec_sigma.append(spectra.sigma_from_gram(K[:, 1:, 1:]))
            if record_change:
                rec_fro.append([spectra.window_change_fro(k) for k in K])
                rec_op.append([spectra.window_change_op(k) for k in K])
            else:
                rec_fro.append(np.full(R, np.nan))
                rec_op.append(np.full(R, np.nan))
            if keep_grams:
                rec_grams.append(K.copy())

    t = np.array(rec_t)
    windows = np.lib.stride_tricks.sliding_window_view(proj**2, W, axis=1).sum(axis=-1)
    mode_energy = windows[:, t - W]  # the window ending at step t starts at index t − W
    return SimulationResult(
        optimizer=optimizer,
        eta=float(eta),
        omega=float(omega),
        W=W,
        P=P,
        t=t,
        sigma=np.transpose(np.array(rec_sigma), (1, 0, 2)),
        delta_c_fro=np.array(rec_fro).T,
        delta_c_op=np.array(rec_op).T,
        proj=proj,
        mode_energy=mode_energy,
        grams=np.transpose(np.array(rec_grams), (1, 0, 2, 3)) if keep_grams else None,
        updates=updates,
    )
