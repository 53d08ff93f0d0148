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
import math
import os
import re
import stat
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


def strict(data: Any) -> Any:
    """``data`` with every non-finite float (NaN, ±inf) replaced by ``None``, so that it is
    strict JSON (RFC 8259) that any parser reads.

    >>> strict({"a": [1.0, float("nan")], "b": float("inf")})
    {'a': [1.0, None], 'b': None}

    Args:
        data: JSON-ready data (dicts, lists, tuples, numbers, strings).

    Returns:
        A copy with non-finite floats as ``None``.
    """
    if isinstance(data, dict):
        return {k: strict(v) for k, v in data.items()}
    if isinstance(data, list | tuple):
        return [strict(v) for v in data]
    if isinstance(data, float) and not math.isfinite(data):
        return None
    return data


def write_json(path: str | os.PathLike, data: Any, strict_json: bool = False,
               indent: int | None = 2) -> None:
    """Atomically write ``data`` as JSON (NaN written as ``NaN``, or with ``strict_json`` as
    ``null``: strict JSON for other programs).

    Args:
        path: The file to write.
        data: JSON-ready data.
        strict_json: Replace NaN/±inf by ``null`` (:func:`strict`).
        indent: Indentation; ``None`` writes one compact line through the standard
            library's C encoder (several times faster for large tables).
    """
    if strict_json:
        data = strict(data)
    text = json.dumps(data, indent=indent, sort_keys=False, allow_nan=not strict_json)
    with atomic_open(path) as handle:
        handle.write(text + "\n")


MAX_JSON_BYTES = 64 * 2**20
"""The largest JSON file :func:`read_json` reads (configs, summaries, plans are kilobytes)."""


def no_duplicate_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    """A ``json.loads`` ``object_pairs_hook`` that refuses a key given twice in one object.

    Args:
        pairs: The object's (key, value) pairs in file order.

    Returns:
        The object as a dict.

    Raises:
        InputError: If a key repeats.
    """
    obj = dict(pairs)
    if len(obj) != len(pairs):
        keys = [k for k, _ in pairs]
        repeated = next(k for k in keys if keys.count(k) > 1)
        raise InputError(f"the key {repeated!r} appears twice in one object")
    return obj


def read_json(path: str | os.PathLike) -> Any:
    """Read a JSON file: a regular file of at most :data:`MAX_JSON_BYTES`, valid UTF-8 JSON,
    no key twice in one object.

    Args:
        path: The file.

    Returns:
        The parsed value.

    Raises:
        OSError: If the file is missing or unreadable.
        InputError: If it is not a regular file, too large, or not such JSON (the message
            names the file).
    """
    path = Path(path)
    info = path.stat()
    if not stat.S_ISREG(info.st_mode):
        raise InputError(f"{path} is not a regular file")
    if info.st_size > MAX_JSON_BYTES:
        raise InputError(f"{path} is {info.st_size} bytes; a JSON input holds at most "
                         f"{MAX_JSON_BYTES}")
    try:
        return json.loads(path.read_bytes(), object_pairs_hook=no_duplicate_keys)
    except InputError as err:
        raise InputError(f"{path} is not valid JSON: {err}") from err
    except (json.JSONDecodeError, UnicodeDecodeError, RecursionError) as err:
        raise InputError(f"{path} is not valid JSON: {' '.join(str(err).split())}") from err


def write_csv(path: str | os.PathLike, frame: pd.DataFrame) -> None:
    """Atomically write a DataFrame as CSV (floats round-trip exactly)."""
    with atomic_open(path) as handle:
        frame.to_csv(handle, index=False, float_format=None)


def write_npz(path: str | os.PathLike, **arrays: np.ndarray) -> None:
    """Atomically write arrays to an ``.npz`` file."""
    write_bytes_with(path, lambda handle: np.savez(handle, **arrays))


LOCK_NAME = ".lock"
RUN_FILES = frozenset({
    "config.json", "metrics.csv", "spectra.csv", "grams.npz", "summary.json", "probes.csv",
    "probe_windows.csv", "checkpoint.pt", "analysis.json", "fit.json",
})
"""The files a run directory holds at its top (docs/run-directory.md), with ``analyze`` and
``fit``'s default outputs."""
SUBDIRS = {"plots": re.compile(r"^[a-z_]+\.(png|pdf|svg)$"),
           "checkpoints": re.compile(r"^step_\d+\.pt$")}
"""The folders a run writes into, and the names it writes there."""


def is_run_file(path: str | os.PathLike, run_dir: str | os.PathLike) -> bool:
    """Whether ``path`` names one of the files a run writes in ``run_dir`` (its data,
    checkpoints, plots, or the lock): files no other command may write over.

    >>> is_run_file("r/config.json", "r"), is_run_file("r/scorecard.md", "r")
    (True, False)

    Args:
        path: A file path.
        run_dir: A run directory.

    Returns:
        True when ``path`` (resolved) is one of ``run_dir``'s own files.
    """
    p, d = Path(path).resolve(), Path(run_dir).resolve()
    if p.parent == d:
        return p.name in RUN_FILES or p.name == LOCK_NAME
    if p.parent.parent == d and p.parent.name in SUBDIRS:
        return SUBDIRS[p.parent.name].match(p.name) is not None
    return False


def _ours(target: str) -> bool:
    return target in RUN_FILES


def _check_run_layout(out: Path) -> None:
    """Refuse a run directory whose sub-folders are links or files (a writer would follow
    them out of the directory)."""
    for name in SUBDIRS:
        sub = out / name
        if sub.is_symlink() or (sub.exists() and not sub.is_dir()):
            raise InputError(f"{sub} is not a plain directory (a link or a file): refusing "
                             "to write through it")


def _open_lock(lock_path: Path) -> int:
    """Open (or create) the lock file without following a link, without truncating it and
    without blocking on a FIFO; anything but a regular file is refused."""
    flags = os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC
    try:
        fd = os.open(lock_path, flags, 0o644)
    except OSError as err:
        raise InputError(f"cannot open the lock file {lock_path}: refusing a link or special "
                         f"file ({err.strerror})") from None
    if not stat.S_ISREG(os.fstat(fd).st_mode):
        os.close(fd)
        raise InputError(f"the lock file {lock_path} is not a regular file: refusing it")
    return fd


@contextmanager
def exclusive(out_dir: str | os.PathLike) -> Iterator[Path]:
    """Hold an exclusive lock on the run directory ``out_dir`` (created) for the block.

    A second process that tries to open the same directory gets ``InputError`` naming the
    holder's pid. The lock is an ``flock`` on ``out_dir/.lock``, so the kernel releases it
    when the holder dies: the lock of a killed run never blocks its resume. The lock file is
    opened without following links and must be a regular file; it is removed on release.
    On entry, the temporaries an interrupted run writer left behind (``.NAME.<8>.tmp`` for
    the run's own files, in the directory and its ``plots/`` and ``checkpoints/``) are
    deleted; no other file is touched.

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

    Args:
        out_dir: The run directory (created with its parents when missing).

    Yields:
        ``out_dir`` as a :class:`~pathlib.Path`.

    Raises:
        InputError: If another process holds the lock, or ``.lock`` or a sub-folder the run
            writes into is a link or not a regular file/directory.
    """
    out = Path(out_dir)
    if out.is_symlink() and not out.is_dir():
        raise InputError(f"run directory {out} is a dangling link")
    out.mkdir(parents=True, exist_ok=True)
    _check_run_layout(out)
    lock_path = out / LOCK_NAME
    while True:
        fd = _open_lock(lock_path)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.read(fd, 64).decode(errors="replace").strip() or "unknown"
            os.close(fd)
            raise InputError(
                f"another process is writing to this run directory (pid {holder}): {out}"
            ) from None
        try:  # the holder before us may have removed the file after we opened it
            same = os.fstat(fd).st_ino == os.lstat(lock_path).st_ino
        except FileNotFoundError:
            same = False
        if same:
            break
        os.close(fd)
    try:
        os.ftruncate(fd, 0)  # our own regular lock file, held: now it may be rewritten
        os.write(fd, str(os.getpid()).encode())
        remove_stale_temporaries(out, _ours)
        for name, pattern in SUBDIRS.items():
            remove_stale_temporaries(out / name, lambda t, p=pattern: p.match(t) is not None)
        yield out
    finally:
        lock_path.unlink(missing_ok=True)
        os.close(fd)


DENSE_FACTOR = 4
"""A dense re-run takes snapshots this many times as often (the author's Dyck re-run of
seed 42: every 50 steps instead of 200)."""

_DENSE = re.compile(r"(.+)_dense\d+(~\d+)?")


def dense_name(name: str, stride: int) -> str:
    """The run-directory name of ``name``'s dense re-run with snapshots every ``stride``.

    Args:
        name: the original run's name.
        stride: the re-run's snapshot stride.

    Returns:
        ``<name>_dense<stride>``.

    >>> dense_name("dyck_adamw_wd1_s42", 50)
    'dyck_adamw_wd1_s42_dense50'
    """
    return f"{name}_dense{int(stride)}"


def dense_base(name: str) -> str | None:
    """The original run of a dense re-run (a ``~seed`` suffix of a surrogate kept).

    Args:
        name: a run name.

    Returns:
        The original's name, or None when ``name`` is not a dense re-run.

    >>> dense_base("dyck_adamw_wd1_s42_dense50"), dense_base("dyck_adamw_wd1_s42_dense50~3")
    ('dyck_adamw_wd1_s42', 'dyck_adamw_wd1_s42~3')
    >>> dense_base("dyck_adamw_wd1_s42") is None
    True
    """
    m = _DENSE.fullmatch(name)
    return None if m is None else m.group(1) + (m.group(2) or "")
