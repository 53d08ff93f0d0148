"""Tasks for real training runs, all generated (nothing downloaded), split by seed.

Task names (``make_task``):

* ``modadd``, ``modsub``, ``modmul``, ``modsq`` (a²+b²), ``modsqab`` (a²+ab+b²),
  ``modcubab`` (a³+ab): modular arithmetic mod ``p``; join with ``+`` for multi-task
  (``modadd+modmul``: one shared trunk, one head per op);
* ``dyck``: Dyck-1 depth at every position;
* ``scan``: SCAN simple split;
* ``lm``: next-byte language modelling on a corpus the user points to (``corpus``; the one
  task whose data is not generated, :mod:`.lm`).

>>> task = make_task("modadd+modmul", seed=0, p=5)
>>> task.head_names, task.kind, task.n_train + task.n_test
(('add', 'mul'), 'classify', 16)
"""

from __future__ import annotations

from spectral_edge.common.errors import InputError
from spectral_edge.validation.runs.tasks.base import (
    TaskData,
    accuracies,
    accuracy_keys,
    correct_counts,
    decoder_input,
    task_loss,
)
from spectral_edge.validation.runs.tasks.dyck import dyck_task, dyck_walk_task
from spectral_edge.validation.runs.tasks.lm import lm_task
from spectral_edge.validation.runs.tasks.modular import OPS, modular_task
from spectral_edge.validation.runs.tasks.scan import scan_task

__all__ = [
    "TaskData",
    "accuracies",
    "accuracy_keys",
    "correct_counts",
    "decoder_input",
    "task_loss",
    "make_task",
    "is_known_task",
    "TASK_NAMES",
]

TASK_NAMES = (*(f"mod{op}" for op in OPS), "dyck", "scan", "lm")


def is_known_task(name: str) -> bool:
    """Whether ``name`` is a task (``+``-joined modular ops included).

    >>> is_known_task("modadd+modsq"), is_known_task("mnist")
    (True, False)
    """
    parts = name.split("+")
    if len(parts) > 1:
        return all(part.startswith("mod") and part[3:] in OPS for part in parts)
    return name in TASK_NAMES


def make_task(
    name: str,
    seed: int = 0,
    *,
    p: int = 97,
    train_frac: float = 0.5,
    n_train: int | None = None,
    n_test: int | None = None,
    protocol: str = "paper",
    corpus: str | None = None,
    seq_len: int | None = None,
) -> TaskData:
    """Build a task by name.

    Args:
        name: the task name (:data:`TASK_NAMES`, or modular ops joined by ``+``).
        seed: the data seed (generation and split).
        p: the modulus (modular tasks).
        train_frac: the training fraction (modular tasks).
        n_train: training sequences (Dyck: 50, SCAN: 2048 when None).
        n_test: test sequences (Dyck: 5000; SCAN: all the rest when None).
        protocol: ``paper`` (the published scripts' split and Dyck generator) or
            ``toolkit-v1`` (docs/protocols.md).
        corpus: the text file or saved dataset of task ``lm`` (:mod:`.lm`).
        seq_len: tokens per sequence of task ``lm`` (None: 256).

    Returns:
        The task.

    Raises:
        InputError: for an unknown task or impossible sizes.

    >>> make_task("dyck", n_train=3, n_test=4).n_test
    4
    """
    if not is_known_task(name):
        raise InputError(
            f"unknown task {name!r}; known: {', '.join(TASK_NAMES)} (modular ops join with +)"
        )
    if name == "lm":
        return lm_task(corpus, seq_len=seq_len, n_train=n_train, n_test=n_test)
    if name.startswith("mod"):
        ops = tuple(part[3:] for part in name.split("+"))
        split = "shuffle" if protocol == "paper" else "randperm"
        return modular_task(ops, p=p, train_frac=train_frac, seed=seed, split=split)
    if name == "dyck" and protocol == "paper":
        return dyck_walk_task(
            n_train=50 if n_train is None else n_train,
            n_test=5000 if n_test is None else n_test,
            data_seed=seed,
        )
    if name == "dyck":
        return dyck_task(
            n_train=50 if n_train is None else n_train,
            n_test=5000 if n_test is None else n_test,
            seed=seed,
        )
    return scan_task(n_train=2048 if n_train is None else n_train, n_test=n_test, seed=seed)
