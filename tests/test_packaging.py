"""The package installs as one namespace, ``spectral_edge``, and nothing else.

pyproject.toml maps the top-level folders (``theory/``, ``numerics/``, ``validation/``) onto
``spectral_edge.theory`` and so on and lists every package; a folder with an
``__init__.py`` missing from that list would be left out of a regular install.
"""

from __future__ import annotations

import subprocess
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CONFIG = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]


def _packages_on_disk() -> set[str]:
    found = set()
    for package, folder in CONFIG["package-dir"].items():
        for init in (ROOT / folder).rglob("__init__.py"):
            parts = init.parent.relative_to(ROOT / folder).parts
            found.add(".".join([package, *parts]))
    return found


def test_every_package_folder_is_listed() -> None:
    assert set(CONFIG["packages"]) == _packages_on_disk()


def test_only_spectral_edge_at_the_top() -> None:
    assert {name.split(".")[0] for name in CONFIG["packages"]} == {"spectral_edge"}
    assert set(CONFIG["package-dir"]) == {
        "spectral_edge", "spectral_edge.theory", "spectral_edge.numerics",
        "spectral_edge.validation",
    }


def _python(code: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          cwd=cwd, timeout=120)


def test_imports_from_outside_the_checkout(tmp_path: Path) -> None:
    done = _python(
        "import sys, spectral_edge.validation, spectral_edge.validation.scorecard\n"
        "import spectral_edge as se\n"
        "print(se.GramMonitor.__module__, 'torch' in sys.modules)", tmp_path)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split()[0].startswith("spectral_edge.validation.monitor")
    for name in ("validation", "numerics", "theory"):
        done = _python(f"import {name}", tmp_path)
        assert done.returncode != 0 and "ModuleNotFoundError" in done.stderr


def test_importing_the_package_is_light(tmp_path: Path) -> None:
    done = _python("import sys, spectral_edge\n"
                   "print(sorted(m for m in ('torch', 'sympy', 'scipy') if m in sys.modules))",
                   tmp_path)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"


def test_every_public_name_resolves() -> None:
    import spectral_edge

    for name in spectral_edge.__all__:
        if name in {"HFGramMonitorCallback", "LightningGramMonitorCallback"}:
            continue  # need the [hf] / [lightning] extras; tests/integrations load them
        assert getattr(spectral_edge, name) is not None
    assert "GramMonitor" in dir(spectral_edge)
