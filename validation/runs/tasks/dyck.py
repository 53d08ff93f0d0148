"""Dyck-1 depth prediction: read a balanced bracket string, predict the depth at each position.

docs/spec.md §7: sequences of length <= 24 (at most 12 pairs), padded to 24; the label at
position i is the nesting depth after reading token i, one of 13 classes (0..12); 50
training and ~5000 test sequences. Two generators: :func:`dyck_walk_task` (the ``paper``
protocol: the published scripts' biased walk, one fixed dataset, repeats allowed) and
:func:`dyck_task` (``toolkit-v1``: uniformly random distinct words, n uniform in
``1..max_pairs``, disjoint train and test, a new dataset per seed).

Tokens: 0 = pad, 1 = "(", 2 = ")". Labels at padded positions are :data:`IGNORE`.

>>> task = dyck_task(n_train=5, n_test=20, seed=0)
>>> task.x_train.shape, task.n_classes
(torch.Size([5, 24]), 13)
>>> row, lab = task.x_train[0].tolist(), task.y_train[0].tolist()
>>> depth = 0
>>> all(lab[i] == (depth := depth + (1 if t == 1 else -1)) for i, t in enumerate(row) if t)
True
"""

from __future__ import annotations

import random
from functools import cache

import torch

from spectral_edge.common.errors import InputError
from spectral_edge.validation.runs.tasks.base import TaskData

PAD, OPEN, CLOSE = 0, 1, 2
IGNORE = -100
#: our token of each of the published script's tokens, in its order (its "(" = 0,
#: ")" = 1, pad = 2): the script's embedding row j is our row SCRIPT_TOKENS[j]
SCRIPT_TOKENS = (OPEN, CLOSE, PAD)


@cache
def _completions(height: int, remaining: int) -> int:
    """Number of +-1 paths of ``remaining`` steps from ``height`` to 0 that stay >= 0."""
    if height < 0 or height > remaining:
        return 0
    if remaining == 0:
        return 1
    return _completions(height + 1, remaining - 1) + _completions(height - 1, remaining - 1)


def random_dyck_word(n_pairs: int, rng: random.Random) -> tuple[int, ...]:
    """A uniformly random balanced string with ``n_pairs`` pairs, as tokens OPEN/CLOSE.

    Exact: each step opens with probability (#completions after opening) / (#completions).

    >>> random_dyck_word(3, random.Random(1))
    (1, 2, 1, 2, 1, 2)
    """
    word, height = [], 0
    for remaining in range(2 * n_pairs, 0, -1):
        opens = _completions(height + 1, remaining - 1)
        if rng.randrange(_completions(height, remaining)) < opens:
            word.append(OPEN)
            height += 1
        else:
            word.append(CLOSE)
            height -= 1
    return tuple(word)


def depth_labels(word: tuple[int, ...], length: int) -> list[int]:
    """Depth after each token, then IGNORE up to ``length``.

    >>> depth_labels((1, 1, 2, 2), 6)
    [1, 2, 1, 0, -100, -100]
    """
    out, depth = [], 0
    for tok in word:
        depth += 1 if tok == OPEN else -1
        out.append(depth)
    return out + [IGNORE] * (length - len(word))


def biased_dyck_word(max_pairs: int, rng: random.Random, p_open: float = 0.55) -> tuple[int, ...]:
    """A balanced string from the paper's biased walk: n pairs with n uniform in
    ``1..max_pairs``; at each step open with probability ``p_open`` when both moves are
    legal, otherwise take the only legal move.

    Args:
        max_pairs: the largest number of pairs.
        rng: the generator (consumed: one ``randint``, then one ``random`` per free step).
        p_open: probability of opening when opening and closing are both legal.

    Returns:
        The tokens (OPEN/CLOSE).

    >>> w = biased_dyck_word(4, random.Random(0))
    >>> w.count(OPEN) == w.count(CLOSE) and 1 <= len(w) // 2 <= 4
    True
    """
    n_pairs = rng.randint(1, max_pairs)
    word: list[int] = []
    opened = height = 0
    for _ in range(2 * n_pairs):
        can_open, can_close = opened < n_pairs, height > 0
        if can_open and (not can_close or rng.random() < p_open):
            word.append(OPEN)
            opened += 1
            height += 1
        else:
            word.append(CLOSE)
            height -= 1
    return tuple(word)


def dyck_walk_task(
    n_train: int = 50, n_test: int = 5000, max_pairs: int = 12, data_seed: int = 0
) -> TaskData:
    """The paper's Dyck data: ``n_train + n_test`` words of :func:`biased_dyck_word` drawn
    from ``random.Random(data_seed)`` (repeats allowed, so some test words also occur in
    training), shuffled by ``torch.randperm`` with a generator seeded by ``data_seed``; the
    first ``n_train`` train. One fixed dataset for every training seed.

    Args:
        n_train: training sequences.
        n_test: test sequences.
        max_pairs: the largest number of pairs (sequences are padded to 2 * max_pairs).
        data_seed: the seed of generation and split.

    Returns:
        The task (kind ``tag``).

    Raises:
        InputError: for sizes < 1.

    >>> task = dyck_walk_task(n_train=4, n_test=6)
    >>> task.n_train, task.n_test, task.x_train.shape[1]
    (4, 6, 24)
    """
    if max_pairs < 1:
        raise InputError(f"max_pairs must be >= 1, got {max_pairs}")
    if n_train < 1 or n_test < 1:
        raise InputError(f"n_train and n_test must be >= 1, got {n_train}, {n_test}")
    rng = random.Random(data_seed)
    words = [biased_dyck_word(max_pairs, rng) for _ in range(n_train + n_test)]
    order = torch.randperm(len(words), generator=torch.Generator().manual_seed(data_seed))
    return _tag_task([words[i] for i in order.tolist()], n_train, max_pairs)


def dyck_task(
    n_train: int = 50, n_test: int = 5000, max_pairs: int = 12, seed: int = 0
) -> TaskData:
    """``toolkit-v1``: distinct uniformly random Dyck-1 words, split into disjoint train and
    test sets by ``seed``.

    Args:
        n_train: training sequences.
        n_test: test sequences.
        max_pairs: the largest number of pairs.
        seed: the seed of generation.

    Returns:
        The task (kind ``tag``).

    Raises:
        InputError: for sizes < 1 or more words than half of those that exist.
    """
    if max_pairs < 1:
        raise InputError(f"max_pairs must be >= 1, got {max_pairs}")
    if n_train < 1 or n_test < 1:
        raise InputError(f"n_train and n_test must be >= 1, got {n_train}, {n_test}")
    available = sum(_completions(0, 2 * n) for n in range(1, max_pairs + 1))
    if n_train + n_test > available // 2:
        raise InputError(
            f"{n_train + n_test} distinct Dyck words requested; only {available} exist "
            f"with <= {max_pairs} pairs (ask for at most half)"
        )
    rng = random.Random(seed)
    seen: set[tuple[int, ...]] = set()
    words: list[tuple[int, ...]] = []
    while len(words) < n_train + n_test:
        word = random_dyck_word(rng.randint(1, max_pairs), rng)
        if word not in seen:
            seen.add(word)
            words.append(word)
    return _tag_task(words, n_train, max_pairs)


def _tag_task(words: list[tuple[int, ...]], n_train: int, max_pairs: int) -> TaskData:
    """Padded tokens and depth labels of ``words``; the first ``n_train`` train."""
    length = 2 * max_pairs
    x = torch.tensor([list(w) + [PAD] * (length - len(w)) for w in words], dtype=torch.long)
    y = torch.tensor([depth_labels(w, length) for w in words], dtype=torch.long)
    return TaskData(
        name="dyck",
        kind="tag",
        x_train=x[:n_train],
        y_train=y[:n_train],
        x_test=x[n_train:],
        y_test=y[n_train:],
        vocab_size=3,
        n_classes=max_pairs + 1,
        head_names=("depth",),
        label_pad=IGNORE,
        src_pad=PAD,
    )
