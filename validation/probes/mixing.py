"""Mixing: rotate the window's summed update Δ = Σ_s δ_s within the plane of modes (j, j+1)
by an angle φ and take the first-order validation-loss change ⟨∇L_val, Δ_rot − Δ⟩
(docs/spec.md R7; prediction P11).

Δ_rot − Δ lies in the plane, so only a_j = ⟨Δ, v_j⟩ = σ_j Σ_s u_j[s] and the validation
gradient projections G_j^val enter:
Δ_rot − Δ = (a_j cos φ − a_{j+1} sin φ − a_j) v_j + (a_j sin φ + a_{j+1} cos φ − a_{j+1}) v_{j+1}.

>>> import numpy as np
>>> round(rotation_change(np.array([1.0, 0.0]), np.array([0.0, 2.0]), 0, np.pi / 2), 9)
2.0
"""

from __future__ import annotations

import math

import numpy as np

from spectral_edge.common.errors import InputError


def summed_update_projections(sigma: np.ndarray, U: np.ndarray, m: int) -> np.ndarray:
    """a_j = ⟨Σ_s δ_s, v_j⟩ = σ_j Σ_s u_j[s], j < m.

    >>> summed_update_projections(np.array([2.0, 1.0]), np.eye(2), 2).tolist()
    [2.0, 1.0]
    """
    U = np.asarray(U, dtype=np.float64)
    return np.asarray(sigma, dtype=np.float64)[:m] * U[:, :m].sum(axis=0)


def rotation_change(a: np.ndarray, g_val: np.ndarray, j: int, phi: float) -> float:
    """⟨∇L_val, Δ_rot − Δ⟩ for the rotation by ``phi`` in the plane of modes j, j+1
    (0-based ``j``)."""
    if not 0 <= j < len(a) - 1:
        raise InputError(f"j must be in 0..{len(a) - 2}, got {j}")
    c, s = math.cos(phi), math.sin(phi)
    d0 = a[j] * c - a[j + 1] * s - a[j]
    d1 = a[j] * s + a[j + 1] * c - a[j + 1]
    return float(g_val[j] * d0 + g_val[j + 1] * d1)


def pair_kind(j: int, kstar: int) -> str:
    """``dominant`` if j+1 ≤ k*, ``across`` if j = k*, ``bulk`` beyond (1-based ``j``).

    >>> [pair_kind(j, 2) for j in (1, 2, 3)]
    ['dominant', 'across', 'bulk']
    """
    if j + 1 <= kstar:
        return "dominant"
    return "across" if j == kstar else "bulk"
