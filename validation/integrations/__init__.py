"""The Gram monitor where researchers train: Hugging Face ``Trainer``, Lightning, DDP, FSDP2.

* :class:`HFGramMonitorCallback` (``spectral_edge.validation.integrations.hf``, needs
``spectral-edge[hf]``)
* :class:`LightningGramMonitorCallback` (``spectral_edge.validation.integrations.lightning``, needs
  ``spectral-edge[lightning]``)
* :func:`local_shards`, :func:`max_rank_difference`
(``spectral_edge.validation.integrations.distributed``,
  torch only)

Importing this package imports neither transformers nor lightning: each name is loaded from
its module on first use (``docs/integrations.md``).
"""

from __future__ import annotations

import importlib
from typing import Any

_WHERE = {
    "HFGramMonitorCallback": "hf",
    "LightningGramMonitorCallback": "lightning",
    "local_shards": "distributed",
    "max_rank_difference": "distributed",
    "latest_metrics": "_common",
    "write_outputs": "_common",
}

__all__ = sorted(_WHERE)


def __getattr__(name: str) -> Any:
    module = _WHERE.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f"{__name__}.{module}"), name)


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_WHERE))
