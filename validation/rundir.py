"""Atomic file writes for run directories: write a temporary file, then ``os.replace``.

A reader (or a run killed mid-write) never sees a half-written file: it sees the old
version or the new one.

>>> import tempfile, pathlib
>>> d = pathlib.Path(tempfile.mkdtemp())
>>> write_json(d / "a.json", {"x": 1})
>>> read_json(d / "a.json")
{'x': 1}
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from numerics.atomic import atomic_open, write_bytes_with, write_text  # noqa: F401 (re-exported)
from numerics.errors import InputError


def write_json(path: str | os.PathLike, data: Any) -> None:
    """Atomically write ``data`` as indented JSON (NaN written as ``NaN``)."""
    with atomic_open(path) as handle:
        json.dump(data, handle, indent=2, sort_keys=False)
        handle.write("\n")


def read_json(path: str | os.PathLike) -> Any:
    """Read a JSON file; a missing file raises OSError, a corrupt one ``InputError``."""
    text = Path(path).read_text()
    try:
        return json.loads(text)
    except json.JSONDecodeError as err:
        raise InputError(f"{path} is not valid JSON: {err}") from err


def write_csv(path: str | os.PathLike, frame: pd.DataFrame) -> None:
    """Atomically write a DataFrame as CSV (floats round-trip exactly)."""
    with atomic_open(path) as handle:
        frame.to_csv(handle, index=False, float_format=None)


def write_npz(path: str | os.PathLike, **arrays: np.ndarray) -> None:
    """Atomically write arrays to an ``.npz`` file."""
    write_bytes_with(path, lambda handle: np.savez(handle, **arrays))
