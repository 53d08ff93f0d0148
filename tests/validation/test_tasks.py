"""Tasks: sizes, labels on spot checks and in full, split determinism, SCAN's count."""

from __future__ import annotations

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from spectral_edge.common.errors import InputError
from spectral_edge.validation.runs.tasks import make_task
from spectral_edge.validation.runs.tasks.dyck import IGNORE, OPEN, random_dyck_word
from spectral_edge.validation.runs.tasks.scan import (
    N_COMMANDS,
    SRC_VOCAB,
    TGT_VOCAB,
    interpret,
    scan_commands,
)

EXPECTED = {
    "add": lambda a, b: a + b,
    "sub": lambda a, b: a - b,
    "mul": lambda a, b: a * b,
    "sq": lambda a, b: a**2 + b**2,
    "sqab": lambda a, b: a**2 + a * b + b**2,
    "cubab": lambda a, b: a**3 + a * b,
}


@pytest.mark.parametrize("op", sorted(EXPECTED))
def test_modular_sizes_and_every_label(op: str) -> None:
    task = make_task(f"mod{op}", seed=3)
    side = 96 if op == "mul" else 97
    assert task.n_train + task.n_test == side * side
    assert task.n_train == round(0.5 * side * side)
    for x, y in ((task.x_train, task.y_train), (task.x_test, task.y_test)):
        for (a, b), label in zip(x.tolist(), y[:, 0].tolist(), strict=True):
            assert label == EXPECTED[op](a, b) % 97
    if op == "mul":
        assert int(task.x_train.min()) == 1
    pairs = {tuple(r) for r in torch.cat([task.x_train, task.x_test]).tolist()}
    assert len(pairs) == side * side  # a partition: every pair once


def test_modular_spot_checks() -> None:
    task = make_task("modsub+modsq", seed=0, p=11)
    rows = {
        tuple(x): tuple(y)
        for x, y in zip(task.x_train.tolist(), task.y_train.tolist(), strict=True)
    }
    rows.update(
        {
            tuple(x): tuple(y)
            for x, y in zip(task.x_test.tolist(), task.y_test.tolist(), strict=True)
        }
    )
    assert rows[(3, 5)] == ((3 - 5) % 11, (9 + 25) % 11) == (9, 1)
    assert rows[(10, 0)] == (10, 1)
    assert task.head_names == ("sub", "sq")


@settings(max_examples=15, deadline=None)
@given(seed=st.integers(0, 2**31 - 1), frac=st.floats(0.1, 0.9))
def test_modular_split_deterministic_by_seed(seed: int, frac: float) -> None:
    a = make_task("modadd", seed=seed, p=13, train_frac=frac)
    b = make_task("modadd", seed=seed, p=13, train_frac=frac)
    c = make_task("modadd", seed=seed + 1, p=13, train_frac=frac)
    assert torch.equal(a.x_train, b.x_train) and torch.equal(a.x_test, b.x_test)
    assert not torch.equal(a.x_train, c.x_train)


def test_dyck_sizes_labels_and_disjoint_split() -> None:
    # toolkit-v1's generator (distinct words); the paper's biased walk repeats words
    # (tests/validation/test_protocol.py)
    task = make_task("dyck", seed=7, protocol="toolkit-v1")
    assert task.x_train.shape == (50, 24) and task.x_test.shape == (5000, 24)
    assert task.n_classes == 13
    words = [tuple(t for t in row if t) for row in torch.cat([task.x_train, task.x_test]).tolist()]
    assert len(set(words)) == len(words)  # distinct, so train and test are disjoint
    labels = torch.cat([task.y_train, task.y_test]).tolist()
    for word, lab in zip(words, labels, strict=True):
        assert 2 <= len(word) <= 24 and len(word) % 2 == 0
        depth = 0
        for i, tok in enumerate(word):
            depth += 1 if tok == OPEN else -1
            assert depth >= 0 and lab[i] == depth
        assert depth == 0 and all(v == IGNORE for v in lab[len(word) :])
    again = make_task("dyck", seed=7, protocol="toolkit-v1")
    assert torch.equal(again.x_test, task.x_test)


def test_dyck_words_are_uniform_for_three_pairs() -> None:
    import random

    rng = random.Random(0)
    counts: dict[tuple[int, ...], int] = {}
    for _ in range(5000):
        w = random_dyck_word(3, rng)
        counts[w] = counts.get(w, 0) + 1
    assert len(counts) == 5  # Catalan(3)
    assert max(counts.values()) < 1.15 * 1000 and min(counts.values()) > 0.85 * 1000


def test_scan_count_and_published_examples() -> None:
    commands = scan_commands()
    assert len(commands) == len(set(commands)) == N_COMMANDS == 20910
    assert interpret("turn left twice") == ("I_TURN_LEFT", "I_TURN_LEFT")
    assert interpret("walk opposite right") == ("I_TURN_RIGHT", "I_TURN_RIGHT", "I_WALK")
    assert interpret("turn around right") == ("I_TURN_RIGHT",) * 4
    assert interpret("look thrice and run") == ("I_LOOK",) * 3 + ("I_RUN",)
    assert interpret("jump opposite left after walk around left") == (
        ("I_TURN_LEFT", "I_WALK") * 4 + ("I_TURN_LEFT", "I_TURN_LEFT", "I_JUMP")
    )
    assert max(len(interpret(c)) for c in commands) == 48
    assert max(len(c.split()) for c in commands) == 9


def test_scan_split_and_encoding() -> None:
    task = make_task("scan", seed=1, n_test=500)
    assert task.n_train == 2048 and task.n_test == 500
    src = {tuple(r) for r in torch.cat([task.x_train, task.x_test]).tolist()}
    assert len(src) == 2548  # disjoint, no repeats
    row, tgt = task.x_train[0].tolist(), task.y_train[0].tolist()
    command = " ".join(SRC_VOCAB[i] for i in row if i)
    actions = [TGT_VOCAB[i] for i in tgt if i]
    assert tuple(actions[:-1]) == interpret(command) and actions[-1] == "<eos>"
    assert torch.equal(make_task("scan", seed=1, n_test=500).x_train, task.x_train)


@pytest.mark.parametrize(
    ("name", "kwargs"),
    [
        ("mnist", {}),
        ("modadd+dyck", {}),
        ("modadd", {"train_frac": 1.0}),
        ("modadd", {"p": 1}),
        ("dyck", {"n_train": 0}),
        ("scan", {"n_train": 20910}),
    ],
)
def test_bad_task_input(name: str, kwargs: dict) -> None:
    with pytest.raises(InputError):
        make_task(name, **kwargs)
