"""spectral-edge: make the spectral edge theory of neural-network training testable.

One namespace, three layers that import downwards only:

* :mod:`spectral_edge.theory` — SymPy: the axioms A1–A3 and the derivations R1–R12;
* :mod:`spectral_edge.numerics` — NumPy/SciPy: spectral statistics, the gap ODE and SDE,
  the exact reference simulator, fits, property-based consequences;
* :mod:`spectral_edge.validation` — PyTorch: the Gram monitor, training runs, probes,
  framework integrations, the scorecard and the ``spectral-edge`` command line;

and :mod:`spectral_edge.common`, the plumbing they share (errors, validators, atomic writes).

The names a user needs are here, one line each, each imported on first use (importing
``spectral_edge`` imports neither torch nor SymPy):

>>> import spectral_edge as se
>>> se.derivation("R1").check().passed
True
>>> se.run_scenario("plateau").name
'plateau'
>>> "GramMonitor" in se.__all__
True
"""

from __future__ import annotations

import importlib
from typing import Any

_WHERE: dict[str, str] = {
    # errors
    "InputError": "spectral_edge.common.errors",
    # theory
    "derivation": "spectral_edge.theory.registry",
    "all_derivations": "spectral_edge.theory.registry",
    "IDS": "spectral_edge.theory.registry",
    # numerics
    "run_scenario": "spectral_edge.numerics.scenarios",
    "window_stats": "spectral_edge.numerics.spectra",
    "integrate": "spectral_edge.numerics.ode",
    # validation
    "GramMonitor": "spectral_edge.validation.monitor",
    "RunConfig": "spectral_edge.validation.runs.config",
    "train": "spectral_edge.validation.runs.training",
    "analyze": "spectral_edge.validation.scorecard.report",
    "HFGramMonitorCallback": "spectral_edge.validation.integrations.hf",
    "LightningGramMonitorCallback": "spectral_edge.validation.integrations.lightning",
}
_ALIASES = {"train": "run"}

__all__ = sorted(_WHERE)


def __getattr__(name: str) -> Any:
    module = _WHERE.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(module), _ALIASES.get(name, name))
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_WHERE))
