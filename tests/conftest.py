"""Fixtures shared across test modules: the reliability tests' tiny finished run."""

from __future__ import annotations

from pathlib import Path

import pytest
from reliability_helpers import copy_workspace, make_finished


@pytest.fixture(scope="module")
def finished(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A finished tiny run, once per test module (a module may define its own)."""
    return make_finished(tmp_path_factory.mktemp("finished"))


@pytest.fixture
def ws(finished: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A fresh copy of :func:`finished` as the working directory of one test."""
    monkeypatch.chdir(tmp_path)
    return copy_workspace(finished, tmp_path)
