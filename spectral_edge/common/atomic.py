"""The one atomic file writer of the project: temporary file, fsync, ``os.replace``.

A reader, or a run killed mid-write, never sees a half-written file: it sees the old
version or the new one. Temporary files are named ``.NAME.<random>.tmp`` beside the target,
so two writers never share one and :func:`remove_stale_temporaries` can find leftovers.

>>> import tempfile, pathlib
>>> d = pathlib.Path(tempfile.mkdtemp())
>>> write_text(d / "a.txt", "hello")
>>> (d / "a.txt").read_text()
'hello'
>>> sorted(p.name for p in d.iterdir())
['a.txt']
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any

TEMP_SUFFIX = ".tmp"


@contextmanager
def atomic_open(path: str | os.PathLike, mode: str = "w") -> Iterator[IO[Any]]:
    """Open a uniquely named temporary file beside ``path``; on success it replaces ``path``.

    On an exception the temporary file is removed and ``path`` is left untouched.

    Args:
        path: The file to write.
        mode: A write mode, ``"w"`` (UTF-8 text) or ``"wb"``.

    Yields:
        The open temporary file.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=TEMP_SUFFIX, dir=path.parent)
    try:
        encoding = None if "b" in mode else "utf-8"
        with os.fdopen(fd, mode, encoding=encoding) as handle:
            yield handle
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_text(path: str | os.PathLike, text: str) -> None:
    """Atomically write ``text`` (UTF-8) to ``path``.

    Args:
        path: The file to write.
        text: Its new content.
    """
    with atomic_open(path) as handle:
        handle.write(text)


def write_bytes_with(path: str | os.PathLike, writer: Callable[[IO[bytes]], None]) -> None:
    """Atomically write ``path`` with ``writer(binary_handle)`` (``torch.save``, ``np.savez``,
    ``figure.savefig``).

    Args:
        path: The file to write.
        writer: Called once with the open binary handle.
    """
    with atomic_open(path, "wb") as handle:
        writer(handle)


def remove_stale_temporaries(directory: str | os.PathLike) -> list[Path]:
    """Delete the ``.*.tmp`` files an interrupted writer left in ``directory`` (recursively);
    returns what was removed.

    >>> import tempfile, pathlib
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> _ = (d / ".x.csv.abc.tmp").write_text("half")
    >>> [p.name for p in remove_stale_temporaries(d)]
    ['.x.csv.abc.tmp']

    Args:
        directory: The folder searched (recursively).

    Returns:
        The paths removed.
    """
    removed = []
    for tmp in Path(directory).rglob(f".*{TEMP_SUFFIX}"):
        if tmp.is_file():
            tmp.unlink(missing_ok=True)
            removed.append(tmp)
    return removed
