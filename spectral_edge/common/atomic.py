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
import re
import stat
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any

TEMP_SUFFIX = ".tmp"
_TEMP_NAME = re.compile(r"^\.(?P<target>.+)\.[A-Za-z0-9_]{6,12}\.tmp$")
"""What ``tempfile.mkstemp(prefix=".NAME.", suffix=".tmp")`` creates: ``.NAME.<8 chars>.tmp``
(6 to 12 random characters are accepted)."""


def _umask() -> int:
    """The process umask: from ``/proc/self/status`` where it is there (no change to the
    process state), else set and restored at once.

    Returns:
        The umask bits.
    """
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError):
        pass
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


@contextmanager
def atomic_open(path: str | os.PathLike, mode: str = "w") -> Iterator[IO[Any]]:
    """Open a uniquely named temporary file beside ``path``; on success it replaces ``path``.

    On an exception the temporary file is removed and ``path`` is left untouched. The new
    file gets the permissions a plain ``open(path, "w")`` would give it (0666 less the
    umask), not the owner-only 0600 of a temporary file. A symbolic link at ``path`` is
    replaced by the file, never followed.

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
        # mkstemp creates 0600; a result gets the permissions ``open()`` would give it
        os.fchmod(fd, 0o666 & ~_umask())
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


def is_temporary_of(name: str, targets: Callable[[str], bool] | None = None) -> bool:
    """Whether ``name`` is one of our temporary names, ``.TARGET.<8 chars>.tmp`` (and, given
    ``targets``, whether ``targets(TARGET)`` accepts the file it was written for).

    >>> is_temporary_of(".spectra.csv.a1b2c3d4.tmp"), is_temporary_of(".thesis.tmp")
    (True, False)
    >>> is_temporary_of(".notes.txt.a1b2c3d4.tmp", lambda t: t.endswith(".csv"))
    False

    Args:
        name: A file name (no directory).
        targets: A predicate on the target's name, or ``None`` for any target.

    Returns:
        True when the name has the atomic writer's form (and its target is accepted).
    """
    match = _TEMP_NAME.match(name)
    return match is not None and (targets is None or targets(match.group("target")))


def remove_stale_temporaries(directory: str | os.PathLike,
                             targets: Callable[[str], bool] | None = None) -> list[Path]:
    """Delete the temporary files an interrupted writer left in ``directory`` itself (not
    below it): regular files named ``.TARGET.<8 chars>.tmp`` whose ``TARGET`` is accepted by
    ``targets``. Nothing else is touched: a user's ``.notes.tmp``, a link, a folder, or a
    file in a sub-folder stays.

    >>> import tempfile, pathlib
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> _ = (d / ".x.csv.abcd1234.tmp").write_text("half")
    >>> _ = (d / ".thesis.tmp").write_text("mine")
    >>> [p.name for p in remove_stale_temporaries(d)]
    ['.x.csv.abcd1234.tmp']
    >>> sorted(p.name for p in d.iterdir())
    ['.thesis.tmp']

    Args:
        directory: The folder searched (one level).
        targets: A predicate on the target file's name, or ``None`` for any target.

    Returns:
        The paths removed.
    """
    removed = []
    directory = Path(directory)
    if not directory.is_dir() or directory.is_symlink():
        return removed
    for tmp in sorted(directory.iterdir()):
        if not is_temporary_of(tmp.name, targets):
            continue
        try:
            if not stat.S_ISREG(os.lstat(tmp).st_mode):
                continue
        except FileNotFoundError:
            continue
        tmp.unlink(missing_ok=True)
        removed.append(tmp)
    return removed
