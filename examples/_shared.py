"""What the example scripts share: the command line, the printed columns and, for the
torchrun examples, the gloo process group and rank 0's output files. Not an example itself.

The scripts import it as a sibling module (``sys.path`` gets the examples folder), so each
one still runs as ``python examples/NAME.py`` or ``torchrun ... examples/NAME.py``.
"""

from __future__ import annotations

import argparse
import gc
import json
import tempfile
from collections.abc import Callable
from pathlib import Path

import torch.distributed as dist

from spectral_edge.validation.integrations import write_outputs

COLUMNS = ["step", "sigma_1", "sigma_2", "sigma_3", "kstar", "R", "g23_lambda", "A"]
"""The monitor-history columns the examples print."""


def parse_args(doc: str | None, argv: list[str] | None, *, steps: int, stride: bool = True,
               out_help: str | None = "output directory (default: a temporary one)"
               ) -> argparse.Namespace:
    """The examples' command line: ``--steps``, ``--window``, ``--stride`` and ``--out``.

    Args:
        doc: The script's docstring (the ``--help`` text).
        argv: The arguments, ``None`` for ``sys.argv``.
        steps: The default of ``--steps``.
        stride: Whether the script takes ``--stride``.
        out_help: The help of ``--out``; ``None`` when the script writes no files.

    Returns:
        The parsed arguments.
    """
    parser = argparse.ArgumentParser(description=doc)
    parser.add_argument("--steps", type=int, default=steps)
    parser.add_argument("--window", type=int, default=10)
    if stride:
        parser.add_argument("--stride", type=int, default=1)
    if out_help is not None:
        parser.add_argument("--out", default=None, help=out_help)
    return parser.parse_args(argv)


def print_tail(monitor) -> None:
    """Print the last five windows of ``monitor``'s history (the :data:`COLUMNS`).

    Args:
        monitor: A ``GramMonitor``.
    """
    print(monitor.history()[COLUMNS].tail(5).to_string(index=False))


def run_in_gloo_group(body: Callable[[int, int], None]) -> None:
    """Run ``body(rank, world_size)`` in the gloo process group of a torchrun example, then
    destroy the group.

    Everything ``body`` built (FSDP's device mesh, DDP's reducer, a monitor's
    ``shard_group``) holds the group. It is freed when ``body`` returns, before the group is
    destroyed, so the group's C++ threads stop while the interpreter is alive. Left to the
    interpreter's exit, they can abort a rank ("terminate called without an active
    exception") after its work is done.

    Args:
        body: The example's work on one rank.
    """
    dist.init_process_group("gloo")
    try:
        body(dist.get_rank(), dist.get_world_size())
        gc.collect()  # the group's holders from reference cycles too
        dist.barrier()
    finally:
        dist.destroy_process_group()


def write_rank0(monitor, out: str | None, prefix: str, summary: dict, message: str) -> None:
    """Rank 0's output: history and Grams, ``summary.json``, the history's tail, ``message``.

    Args:
        monitor: The rank's ``GramMonitor``.
        out: The output directory, ``None`` for a new temporary one.
        prefix: The temporary directory's name prefix.
        summary: What ``summary.json`` holds.
        message: A line printed after the history.
    """
    path = Path(out or tempfile.mkdtemp(prefix=prefix))
    write_outputs(monitor, path)
    (path / "summary.json").write_text(json.dumps(summary, indent=2) + "\n")
    print_tail(monitor)
    print(message)
    print(f"files in {path}")
