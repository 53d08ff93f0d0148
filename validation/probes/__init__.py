"""Probes: the theory's per-mode terms measured along a window's edge directions.

A probe takes the current window of a :class:`spectral_edge.validation.monitor.GramMonitor`
(exact mode),
its edge directions v_1 … v_m (v_j = Xᵀu_j/σ_j) and the model, optimizer and task of the
run, and measures along each v_j (docs/probes.md):

* :mod:`spectral_edge.validation.probes.curvature` — the loss as a function of the flattened
monitored
  parameters, exact Hessian-vector products (double backward), h_j = v_jᵀHv_j, the
  preconditioned v_jᵀMHv_j (M read from the optimizer's state), the finite-difference
  cross-check, and the top of the Hessian spectrum (``scipy.sparse.linalg.eigsh``);
* :mod:`spectral_edge.validation.probes.projections` — G_j^train, G_j^val, G_j^eff, the
weight-decay part
  ω⟨v_j, θ⟩ and the gradient/weight-decay energy split of the window's updates;
* :mod:`spectral_edge.validation.probes.injection` — the injection Γ_j and noise power N_j
estimators;
* :mod:`spectral_edge.validation.probes.ablation` — Δloss/Δaccuracy when θ loses its component
along chosen
  directions (edge block, next block, random directions);
* :mod:`spectral_edge.validation.probes.mixing` — the first-order validation-loss change when
the window's
  summed update is rotated in the plane of two modes;
* :mod:`spectral_edge.validation.probes.window` — one probe of one window (the ``probes.csv``
  and ``probe_windows.csv`` rows), given the task as a
  :class:`~spectral_edge.validation.probes.window.ProbeData`.
"""
