"""PyTorch layer of spectral-edge, in rooms with one job each.

* :mod:`spectral_edge.validation.monitor` — the rolling-window Gram monitor (any loop);
* :mod:`spectral_edge.validation.probes` — the theory's per-mode terms along edge directions;
* :mod:`spectral_edge.validation.runs` — configuration, tasks, models, optimizers, the
  training loop, the run directory and the grid engine;
* :mod:`spectral_edge.validation.integrations` — Hugging Face, Lightning, DDP/FSDP2;
* :mod:`spectral_edge.validation.scorecard` — predictions P1–P16 scored on run directories
  (no torch);
* :mod:`spectral_edge.validation.experiments` — the demo and the scorecard's run plan;
* :mod:`spectral_edge.validation.cli` — the ``spectral-edge`` command line (thin commands).

May import :mod:`spectral_edge.numerics`, :mod:`spectral_edge.theory` and
:mod:`spectral_edge.common`; ``docs/architecture.md`` says which room may import which.
"""
