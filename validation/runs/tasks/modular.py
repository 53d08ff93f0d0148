"""Modular arithmetic tasks: predict ``f(a, b) mod p`` from the two tokens ``a, b``.

docs/spec.md §7: p = 97, a 50% train split of all pairs, ops a+b, a-b, a*b (a, b != 0),
a^2+b^2 (these grok) and a^2+ab+b^2, a^3+ab (these did not). Several ops at once give a
multi-task dataset on the same pairs with one label column (one model head) per op.

>>> task = modular_task(("add",), p=7, train_frac=0.5, seed=0)
>>> task.x_train.shape[1], task.n_classes, task.head_names
(2, 7, ('add',))
>>> a, b = task.x_train[0].tolist()
>>> task.y_train[0, 0].item() == (a + b) % 7
True
"""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence

import torch

from spectral_edge.common.errors import InputError
from spectral_edge.validation.runs.tasks.base import TaskData

#: op name -> (f(a, b) as Python integers, whether a and b must be non-zero)
OPS: dict[str, tuple[Callable[[int, int], int], bool]] = {
    "add": (lambda a, b: a + b, False),
    "sub": (lambda a, b: a - b, False),
    "mul": (lambda a, b: a * b, True),
    "sq": (lambda a, b: a * a + b * b, False),
    "sqab": (lambda a, b: a * a + a * b + b * b, False),
    "cubab": (lambda a, b: a**3 + a * b, False),
}


def modular_pairs(p: int, nonzero: bool) -> torch.Tensor:
    """All pairs (a, b) in lexicographic order; a, b in 1..p-1 when ``nonzero``.

    >>> modular_pairs(3, nonzero=True).tolist()
    [[1, 1], [1, 2], [2, 1], [2, 2]]
    """
    lo = 1 if nonzero else 0
    vals = torch.arange(lo, p)
    a, b = torch.meshgrid(vals, vals, indexing="ij")
    return torch.stack([a.reshape(-1), b.reshape(-1)], dim=1)


def modular_labels(op: str, pairs: torch.Tensor, p: int) -> torch.Tensor:
    """``f(a, b) mod p`` for every row of ``pairs`` (exact integer arithmetic).

    >>> modular_labels("sub", torch.tensor([[1, 3]]), 5).tolist()
    [3]
    """
    fn, _ = OPS[op]
    return torch.tensor([fn(int(a), int(b)) % p for a, b in pairs.tolist()], dtype=torch.long)


def split_order(n: int, seed: int, split: str = "shuffle") -> list[int]:
    """The order in which ``n`` pairs are split (the first ones train).

    Args:
        n: number of pairs.
        seed: the split seed.
        split: ``shuffle`` (the paper's scripts: Python's ``random.Random(seed).shuffle`` of
            the pairs in lexicographic order) or ``randperm`` (``toolkit-v1``:
            ``torch.randperm`` with a generator seeded by ``seed``).

    Returns:
        A permutation of ``range(n)``.

    Raises:
        InputError: for an unknown ``split``.

    >>> sorted(split_order(5, 0)) == list(range(5)), split_order(5, 0) == split_order(5, 0)
    (True, True)
    """
    if split == "shuffle":
        order = list(range(n))
        random.Random(seed).shuffle(order)
        return order
    if split == "randperm":
        return torch.randperm(n, generator=torch.Generator().manual_seed(seed)).tolist()
    raise InputError(f"unknown split {split!r}; known: shuffle, randperm")


def modular_task(
    ops: Sequence[str], p: int = 97, train_frac: float = 0.5, seed: int = 0,
    split: str = "shuffle",
) -> TaskData:
    """The dataset for one op or several (multi-task: one label column per op).

    Pairs are all (a, b) with a, b in 0..p-1, or 1..p-1 if any op is ``mul``; the split
    (:func:`split_order`, drawn from ``seed``) puts ``int(train_frac * #pairs)`` pairs in
    training (``round`` with ``randperm``, as ``toolkit-v1`` did), the rest in test.

    Args:
        ops: op names (keys of :data:`OPS`).
        p: the modulus.
        train_frac: the training fraction.
        seed: the split seed.
        split: ``shuffle`` (paper) or ``randperm`` (toolkit-v1).

    Returns:
        The task.

    Raises:
        InputError: for unknown or repeated ops, p < 2, a fraction that leaves a split empty.
    """
    ops = tuple(ops)
    if not ops:
        raise InputError("modular task needs at least one op")
    unknown = [op for op in ops if op not in OPS]
    if unknown:
        raise InputError(f"unknown modular op {unknown[0]!r}; known: {', '.join(OPS)}")
    if len(set(ops)) != len(ops):
        raise InputError(f"repeated op in {'+'.join(ops)}")
    if p < 2:
        raise InputError(f"modulus p must be >= 2, got {p}")
    if not 0.0 < train_frac < 1.0:
        raise InputError(f"train_frac must be in (0, 1), got {train_frac}")
    pairs = modular_pairs(p, nonzero=any(OPS[op][1] for op in ops))
    labels = torch.stack([modular_labels(op, pairs, p) for op in ops], dim=1)
    n_train = int(train_frac * len(pairs)) if split == "shuffle" else round(
        train_frac * len(pairs))
    if n_train < 1 or n_train >= len(pairs):
        raise InputError(f"train_frac {train_frac} leaves an empty train or test set")
    perm = torch.tensor(split_order(len(pairs), seed, split), dtype=torch.long)
    tr, te = perm[:n_train], perm[n_train:]
    return TaskData(
        name="+".join(f"mod{op}" for op in ops),
        kind="classify",
        x_train=pairs[tr],
        y_train=labels[tr],
        x_test=pairs[te],
        y_test=labels[te],
        vocab_size=p,
        n_classes=p,
        head_names=ops,
    )
