"""Injection Γ_j and noise power N_j along the edge directions, estimated without the
window's own σ_j(t) trajectory (docs/probes.md derives them).

A2 writes one update projected on mode j as c_j = −η u_j + ξ_j with the drive
u_j = G_j^eff + ω θ_j and noise ξ_j of power η²N_j. In R1 the injection Γ_j is the rate at
which fresh drive enters d_j²; the paper's steady state d_j* = √(W/h_j)|G_j| is R1's with
Γ_j = |G_j|² (ω = 0, M = I). We use the same identification with the full drive:

* Γ_j = (G_j^eff + ω⟨v_j, θ⟩)² = u_j², from the gradient on the fixed probe batch;
* N_j = Var_b ⟨v_j, M g_b⟩, the variance over independent training minibatches b (of the
  run's batch size) of the preconditioned minibatch gradient along v_j.

>>> import numpy as np
>>> injection(np.array([1.0, -2.0]), np.array([0.5, 0.5])).tolist()
[2.25, 2.25]
"""

from __future__ import annotations

import numpy as np

from spectral_edge.common.errors import InputError


def injection(g_eff: np.ndarray, wd_part: np.ndarray) -> np.ndarray:
    """Γ_j = (G_j^eff + ω⟨v_j, θ⟩)², per mode."""
    g_eff, wd_part = np.asarray(g_eff, np.float64), np.asarray(wd_part, np.float64)
    if g_eff.shape != wd_part.shape:
        raise InputError(f"wd_part: shape {wd_part.shape} differs from g_eff's {g_eff.shape}")
    return (g_eff + wd_part) ** 2


def noise_power(samples: np.ndarray) -> np.ndarray:
    """N_j = sample variance (ddof 1) over minibatches; ``samples`` is (n_batches, m).

    >>> noise_power(np.array([[1.0, 0.0], [3.0, 0.0]])).tolist()
    [2.0, 0.0]
    """
    samples = np.asarray(samples, dtype=np.float64)
    if samples.ndim != 2 or samples.shape[0] < 2:
        raise InputError(f"samples: need (n_batches >= 2, m), got shape {samples.shape}")
    return samples.var(axis=0, ddof=1)
