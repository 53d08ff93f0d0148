"""Gradient projections on the edge directions and the gradient/weight-decay split of the
window's updates along them (docs/spec.md §2, A2; docs/probes.md).

* G_j = ⟨v_j, ∇L⟩ for the training and the validation loss, and G_j^eff = ⟨v_j, M∇L_train⟩;
* the weight-decay part ω⟨v_j, θ⟩;
* the energy split: with c_s = ⟨δ_s, v_j⟩ = σ_j u_j[s] (exact: X v_j = σ_j u_j) and
  ⟨θ_s, v_j⟩ recovered backwards from the end of the window, the weight-decay part of
  update s is −η_eff ω ⟨(θ_{s−1}+θ_s)/2, v_j⟩ and the rest is the gradient part
  (:func:`spectral_edge.numerics.spectra.split_update_projections`); the fraction is
  :func:`spectral_edge.numerics.spectra.gradient_energy_fraction`.

>>> import torch
>>> project(torch.eye(2), torch.tensor([3.0, 4.0])).tolist()
[3.0, 4.0]
"""

from __future__ import annotations

import numpy as np
import torch

from spectral_edge.common.errors import InputError
from spectral_edge.numerics import spectra


def project(directions: torch.Tensor, vector: torch.Tensor) -> np.ndarray:
    """⟨v_j, vector⟩ for each row v_j of ``directions``, as float64.

    >>> project(torch.tensor([[0.6, 0.8]]), torch.tensor([1.0, 1.0])).round(6).tolist()
    [1.4]
    """
    if directions.shape[-1] != vector.shape[-1]:
        raise InputError(
            f"vector: length {vector.shape[-1]} differs from the directions' "
            f"{directions.shape[-1]}"
        )
    return (directions.double() @ vector.double()).cpu().numpy()


def window_update_projections(sigma: np.ndarray, U: np.ndarray, m: int) -> np.ndarray:
    """c[s, j] = ⟨δ_s, v_j⟩ = σ_j u_j[s] for the window's W updates (oldest first), j < m.

    >>> window_update_projections(np.array([2.0, 1.0]), np.eye(2), 1).tolist()
    [[2.0], [0.0]]
    """
    sigma, U = np.asarray(sigma, dtype=np.float64), np.asarray(U, dtype=np.float64)
    return U[:, :m] * sigma[:m]


def energy_split(
    c_total: np.ndarray, theta_end: np.ndarray, eta_eff: float, omega: float
) -> np.ndarray:
    """Gradient share of the update energy along each v_j over the window.

    ``c_total``: (W, m) projections of the updates; ``theta_end``: (m,) ⟨θ, v_j⟩ at the end
    of the window. θ_s is walked back (θ_{s−1} = θ_s − δ_s), the weight-decay part of each
    update is −η_eff·ω·⟨(θ_{s−1}+θ_s)/2, v_j⟩ and the fraction is E_grad/(E_grad+E_wd).

    >>> energy_split(np.array([[1.0], [1.0]]), np.array([0.0]), 0.1, 0.0).tolist()
    [1.0]
    """
    c = np.asarray(c_total, dtype=np.float64)
    after = np.asarray(theta_end, dtype=np.float64) - np.concatenate(
        [np.cumsum(c[::-1], axis=0)[::-1][1:], np.zeros((1, c.shape[1]))]
    )  # ⟨θ_s, v⟩ after update s
    before = after - c
    grad, wd = spectra.split_update_projections(c, (after + before) / 2, eta_eff, omega)
    return spectra.gradient_energy_fraction(grad, wd)
