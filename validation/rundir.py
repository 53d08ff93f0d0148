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
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any

import numpy as np
import pandas as pd

from numerics.errors import InputError


@contextmanager
def atomic_open(path: str | os.PathLike, mode: str = "w") -> Iterator[IO[Any]]:
    """Open a temporary file beside ``path``; on success it replaces ``path`` atomically.

    On an exception the temporary file is removed and ``path`` is left untouched.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, mode) as handle:
            yield handle
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_bytes_with(path: str | os.PathLike, writer: Callable[[IO[bytes]], None]) -> None:
    """Atomically write ``path`` with ``writer(binary_handle)`` (``torch.save``, ``np.savez``)."""
    with atomic_open(path, "wb") as handle:
        writer(handle)


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
