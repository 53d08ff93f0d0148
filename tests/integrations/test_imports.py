"""Importing the package, the monitor and the integrations package never imports
transformers or lightning (they load only when their integration is used)."""

from __future__ import annotations

import subprocess
import sys

CODE = """
import sys
import validation, spectral_edge.validation.monitor, spectral_edge.validation.integrations
from spectral_edge.validation.integrations import local_shards, latest_metrics
import spectral_edge.validation.integrations.distributed
heavy = sorted(m for m in sys.modules
               if m.split(".")[0] in ("transformers", "lightning", "pytorch_lightning",
                                      "accelerate"))
print(heavy)
"""


def test_no_heavy_imports() -> None:
    done = subprocess.run([sys.executable, "-c", CODE], capture_output=True, text=True,
                          timeout=120, check=True)
    assert done.stdout.strip() == "[]", done.stdout


def test_lazy_names_resolve() -> None:
    import spectral_edge.validation.integrations as integrations

    assert set(integrations.__all__) <= set(dir(integrations))
    where = "spectral_edge.validation.integrations.distributed"
    assert integrations.local_shards.__module__ == where
    try:
        integrations.NoSuchName  # noqa: B018
    except AttributeError as err:
        assert "NoSuchName" in str(err)
    else:
        raise AssertionError("missing attribute did not raise")
