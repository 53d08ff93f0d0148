"""Run-directory files: atomic JSON/CSV/NPZ writes (through :mod:`spectral_edge.common.atomic`,
the one
atomic writer) and the exclusive lock a run holds on its directory.

A reader (or a run killed mid-write) never sees a half-written file: it sees the old
version or the new one.

>>> import tempfile, pathlib
>>> d = pathlib.Path(tempfile.mkdtemp())
>>> write_json(d / "a.json", {"x": 1})
>>> read_json(d / "a.json")
{'x': 1}
"""

from __future__ import annotations

import fcntl
import json
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from spectral_edge.common.atomic import (  # noqa: F401 (write_bytes_with: the run files' binary writer)
    atomic_open,
    remove_stale_temporaries,
    write_bytes_with,
)
from spectral_edge.common.errors import InputError


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


LOCK_NAME = ".lock"


@contextmanager
def exclusive(out_dir: str | os.PathLike) -> Iterator[Path]:
    """Hold an exclusive lock on the run directory ``out_dir`` (created) for the block.

    A second process that tries to open the same directory gets ``InputError`` naming the
    holder's pid. The lock is an ``flock`` on ``out_dir/.lock``, so the kernel releases it
    when the holder dies: the lock of a killed run never blocks its resume. The lock file is
    removed on release. On entry, the ``.*.tmp`` files an interrupted writer left behind are
    deleted (:func:`spectral_edge.common.atomic.remove_stale_temporaries`).

    >>> import tempfile, pathlib
    >>> d = pathlib.Path(tempfile.mkdtemp()) / "run"
    >>> with exclusive(d):
    ...     try:
    ...         with exclusive(d):
    ...             pass
    ...     except InputError as err:
    ...         print(str(err).split(" (")[0])
    another process is writing to this run directory
    >>> sorted(p.name for p in d.iterdir())
    []
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    lock_path = out / LOCK_NAME
    while True:
        fd = os.open(lock_path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.read(fd, 64).decode(errors="replace").strip() or "unknown"
            os.close(fd)
            raise InputError(
                f"another process is writing to this run directory (pid {holder}): {out}"
            ) from None
        try:  # the holder before us may have removed the file after we opened it
            same = os.fstat(fd).st_ino == os.stat(lock_path).st_ino
        except FileNotFoundError:
            same = False
        if same:
            break
        os.close(fd)
    try:
        os.ftruncate(fd, 0)
        os.write(fd, str(os.getpid()).encode())
        remove_stale_temporaries(out)
        yield out
    finally:
        lock_path.unlink(missing_ok=True)
        os.close(fd)
