"""SCAN (Lake & Baroni 2018), simple split, generated from its phrase grammar.

Grammar (the paper's Fig. 6; every command is generated, nothing downloaded)::

    C -> S and S | S after S | S
    S -> V twice | V thrice | V
    V -> D[1] opposite D[2] | D[1] around D[2] | D | U
    D -> U left | U right | turn left | turn right
    U -> walk | look | run | jump

``x opposite dir`` and ``x around dir`` take ``x`` in {walk, look, run, jump, turn}. The
interpretation rules: [[walk]] = WALK (likewise LOOK, RUN, JUMP), [[turn]] = nothing,
[[x left]] = LTURN [[x]], [[x opposite left]] = LTURN LTURN [[x]], [[x around left]] =
(LTURN [[x]]) x 4, [[x twice]] = [[x]] x 2, [[x thrice]] = [[x]] x 3, [[a and b]] = [[a]] [[b]],
[[a after b]] = [[b]] [[a]] (right likewise). That gives 34 V, 102 S and
102 + 2 * 102**2 = 20,910 commands, the published count.

The simple split (docs/spec.md §7): ``n_train`` pairs (2048) drawn at random by ``seed``, and
``n_test`` further pairs disjoint from them (default: all the rest).

>>> commands = scan_commands()
>>> len(commands)
20910
>>> interpret("jump around left twice after turn opposite right")
('I_TURN_RIGHT', 'I_TURN_RIGHT', 'I_TURN_LEFT', 'I_JUMP', 'I_TURN_LEFT', 'I_JUMP', \
'I_TURN_LEFT', 'I_JUMP', 'I_TURN_LEFT', 'I_JUMP', 'I_TURN_LEFT', 'I_JUMP', 'I_TURN_LEFT', \
'I_JUMP', 'I_TURN_LEFT', 'I_JUMP', 'I_TURN_LEFT', 'I_JUMP')
"""

from __future__ import annotations

import random
from functools import lru_cache

import torch

from spectral_edge.common.errors import InputError
from spectral_edge.validation.runs.tasks.base import TaskData

PRIMITIVES = {"walk": "I_WALK", "look": "I_LOOK", "run": "I_RUN", "jump": "I_JUMP"}
TURNS = {"left": "I_TURN_LEFT", "right": "I_TURN_RIGHT"}
REPEATS = {"twice": 2, "thrice": 3}
#: source vocabulary: 0 = pad, then the 13 command words
SRC_VOCAB = ("<pad>", *PRIMITIVES, "turn", *TURNS, "opposite", "around", *REPEATS, "and", "after")
#: target vocabulary: 0 = pad, 1 = BOS, 2 = EOS, then the 6 actions
TGT_VOCAB = ("<pad>", "<bos>", "<eos>", *PRIMITIVES.values(), *TURNS.values())
N_COMMANDS = 20910


def _verbs() -> list[str]:
    actions = [*PRIMITIVES, "turn"]
    out = [f"{x} {mod} {d}" for x in actions for mod in ("opposite", "around") for d in TURNS]
    out += [f"{u} {d}" for u in actions for d in TURNS]  # D (incl. "turn left/right")
    out += list(PRIMITIVES)  # V -> U
    return out


@lru_cache(maxsize=1)
def scan_commands() -> tuple[str, ...]:
    """Every command the grammar generates, in a fixed order (each exactly once)."""
    phrases = [f"{v}{r}" for v in _verbs() for r in ("", " twice", " thrice")]
    out = list(phrases)
    for conj in ("and", "after"):
        out += [f"{a} {conj} {b}" for a in phrases for b in phrases]
    return tuple(out)


def _interpret_verb(words: list[str]) -> list[str]:
    x = words[0]
    act = [PRIMITIVES[x]] if x in PRIMITIVES else []
    if len(words) == 1:
        return act
    if len(words) == 2:
        return [TURNS[words[1]], *act]
    turn = TURNS[words[2]]
    if words[1] == "opposite":
        return [turn, turn, *act]
    return [turn, *act] * 4


def _interpret_phrase(words: list[str]) -> list[str]:
    if words[-1] in REPEATS:
        return _interpret_verb(words[:-1]) * REPEATS[words[-1]]
    return _interpret_verb(words)


def interpret(command: str) -> tuple[str, ...]:
    """The action sequence of a SCAN command (the interpretation rules above)."""
    words = command.split()
    for conj in ("and", "after"):
        if conj in words:
            i = words.index(conj)
            first, second = _interpret_phrase(words[:i]), _interpret_phrase(words[i + 1 :])
            return tuple(first + second if conj == "and" else second + first)
    return tuple(_interpret_phrase(words))


def _encode(seqs: list[list[int]], length: int) -> torch.Tensor:
    return torch.tensor([s + [0] * (length - len(s)) for s in seqs], dtype=torch.long)


def scan_task(n_train: int = 2048, n_test: int | None = None, seed: int = 0) -> TaskData:
    """The SCAN simple split: ``n_train`` random pairs and ``n_test`` disjoint test pairs."""
    commands = scan_commands()
    n_test = N_COMMANDS - n_train if n_test is None else n_test
    if n_train < 1 or n_test < 1 or n_train + n_test > N_COMMANDS:
        raise InputError(
            f"SCAN needs n_train, n_test >= 1 and n_train + n_test <= {N_COMMANDS}, "
            f"got {n_train}, {n_test}"
        )
    order = list(range(N_COMMANDS))
    random.Random(seed).shuffle(order)
    chosen = [commands[i] for i in order[: n_train + n_test]]
    src_ids = {w: i for i, w in enumerate(SRC_VOCAB)}
    tgt_ids = {w: i for i, w in enumerate(TGT_VOCAB)}
    src = [[src_ids[w] for w in c.split()] for c in chosen]
    tgt = [[tgt_ids[a] for a in interpret(c)] + [tgt_ids["<eos>"]] for c in chosen]
    x = _encode(src, max(len(s) for s in src))
    y = _encode(tgt, max(len(t) for t in tgt))
    return TaskData(
        name="scan",
        kind="seq2seq",
        x_train=x[:n_train],
        y_train=y[:n_train],
        x_test=x[n_train:],
        y_test=y[n_train:],
        vocab_size=len(SRC_VOCAB),
        n_classes=len(TGT_VOCAB),
        head_names=("actions",),
        label_pad=0,
        bos_id=tgt_ids["<bos>"],
        src_pad=0,
    )
