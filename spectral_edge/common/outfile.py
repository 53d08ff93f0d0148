"""Check an output file's path before the work that produces it (the CLI's ``--out``,
``--csv``, ``--plot``, ``--crosscheck``): a cross-check that runs for minutes must not fail at
the end because its output path names a directory. Raises
:class:`spectral_edge.common.errors.InputError` (the CLI's exit status 2) naming the option.

>>> import tempfile, pathlib
>>> d = pathlib.Path(tempfile.mkdtemp())
>>> check_output_file(d / "report.md", "--crosscheck") == d / "report.md"
True
>>> check_output_file(d, "--crosscheck")  # doctest: +ELLIPSIS
Traceback (most recent call last):
...
spectral_edge.common.errors.InputError: --crosscheck: ... is a directory, not a file
"""

from __future__ import annotations

import os
from pathlib import Path

from spectral_edge.common.errors import InputError


def check_output_file(path: str | os.PathLike, name: str = "output",
                      make_parents: bool = False) -> Path:
    """``path`` when a file can be written there: not a directory, its parent an existing
    writable directory (with ``make_parents``: its nearest existing ancestor, since the atomic
    writer creates the missing ones). Nothing is created here.

    Args:
        path: The output file.
        name: The option's name in error messages (``--out``).
        make_parents: Whether missing parent directories will be created by the writer.

    Returns:
        ``path`` as a :class:`~pathlib.Path`.

    Raises:
        InputError: If ``path`` is a directory, or its (nearest existing) parent does not exist,
            is not a directory or is not writable.
    """
    path = Path(path)
    if path.is_dir():
        raise InputError(f"{name}: {path} is a directory, not a file")
    parent = path.parent
    if make_parents:
        while not parent.exists() and parent != parent.parent:
            parent = parent.parent
    if not parent.exists():
        raise InputError(f"{name}: the directory {path.parent} does not exist")
    if not parent.is_dir():
        raise InputError(f"{name}: {parent} is not a directory")
    if not os.access(parent, os.W_OK | os.X_OK):
        raise InputError(f"{name}: the directory {parent} is not writable")
    return path


def check_not_input(path: str | os.PathLike, inputs: list[Path] | tuple[Path, ...],
                    name: str = "output") -> Path:
    """``path`` unless it names one of ``inputs`` (compared after resolving links and ``..``):
    a command never writes over a file it reads or a run's own files.

    >>> check_not_input("a.json", [Path("b.csv")], "--json")
    PosixPath('a.json')
    >>> check_not_input("./b.csv", [Path("b.csv")], "--json")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    spectral_edge.common.errors.InputError: --json: b.csv is an input file; ...

    Args:
        path: The output file.
        inputs: The files the command reads (or must keep).
        name: The option's name in error messages.

    Returns:
        ``path`` as a :class:`~pathlib.Path`.

    Raises:
        InputError: If ``path`` resolves to one of ``inputs``.
    """
    path = Path(path)
    target = path.resolve()
    for other in inputs:
        if Path(other).resolve() == target:
            raise InputError(f"{name}: {path} is an input file; refusing to write over it")
    return path


def check_output_dir(path: str | os.PathLike | None, name: str = "--out") -> Path:
    """``path`` when a directory of results can be made or written there: not empty, not an
    existing file, and it (or, when missing, its nearest existing ancestor) a writable
    directory. Checked before the work that fills it; nothing is created here.

    >>> import tempfile, pathlib
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> check_output_dir(d / "runs") == d / "runs"
    True
    >>> check_output_dir("")
    Traceback (most recent call last):
    ...
    spectral_edge.common.errors.InputError: --out: an empty path; name a directory

    Args:
        path: The output directory.
        name: The option's name in error messages.

    Returns:
        ``path`` as a :class:`~pathlib.Path`.

    Raises:
        InputError: If ``path`` is empty, a file, or cannot be created or written.
    """
    if path is None or not str(path).strip():
        raise InputError(f"{name}: an empty path; name a directory")
    path = Path(path)
    if path.exists() and not path.is_dir():
        raise InputError(f"{name}: {path} exists and is not a directory")
    probe = path
    while not probe.exists() and probe != probe.parent:
        probe = probe.parent
    if not probe.is_dir():
        raise InputError(f"{name}: {probe} is not a directory")
    if not os.access(probe, os.W_OK | os.X_OK):
        raise InputError(f"{name}: the directory {probe} is not writable")
    return path
