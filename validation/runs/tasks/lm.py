"""Language modelling on a corpus the user points to (``task="lm"``): next-byte prediction
on fixed-length chunks of a local text file or of a dataset saved to disk. Nothing is
downloaded (docs/scaling.md says where the paper's TinyStories corpus comes from).

Tokens are the corpus's UTF-8 bytes (vocabulary 256, no tokenizer to fetch). The text is
cut into chunks of ``seq_len + 1`` bytes; a chunk gives the input ``x`` (its first
``seq_len`` bytes) and the labels ``y`` (the same shifted by one), so the task is a
``tag`` task and the model the causal tagger (a GPT-style decoder). The test split is the
last ``n_test`` chunks of the corpus, the training split the first ``n_train`` chunks
before them: a fixed split, the same for every seed (the seed orders the minibatches).

:func:`generated_corpus` writes a small synthetic story corpus for tests and examples.

>>> import tempfile, pathlib
>>> path = generated_corpus(pathlib.Path(tempfile.mkdtemp()) / "stories.txt", n_stories=50)
>>> task = lm_task(str(path), seq_len=32, n_test=4)
>>> task.kind, task.vocab_size, tuple(task.x_test.shape)
('tag', 256, (4, 32))
>>> bool((task.x_train[:, 1:] == task.y_train[:, :-1]).all())
True
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import torch

from spectral_edge.common.errors import InputError
from spectral_edge.validation.runs.tasks.base import TaskData

VOCAB = 256
"""Byte vocabulary."""
DEFAULT_SEQ_LEN = 256
"""The paper's context length (128 × 256 tokens per step)."""
MAX_TEST = 512
"""Default test split: min(512, a tenth of the chunks) chunks."""

_NAMES = ("Lily", "Tom", "Mia", "Ben", "Sam", "Anna")
_THINGS = ("ball", "cat", "tree", "boat", "cake", "kite", "dog", "flower")
_PLACES = ("park", "garden", "house", "forest", "beach")
_FEELINGS = ("happy", "sad", "excited", "tired", "brave")


def generated_corpus(path: str | os.PathLike, n_stories: int = 2000, seed: int = 0) -> Path:
    """Write a synthetic corpus of short stories (a TinyStories stand-in for tests).

    Args:
        path: the text file to write (its parent is created).
        n_stories: number of stories.
        seed: the generator's seed.

    Returns:
        The path written.
    """
    from spectral_edge.common.atomic import write_text

    rng = np.random.default_rng(seed)
    stories = []
    for _ in range(n_stories):
        name, thing, place, feel = (str(rng.choice(v)) for v in (_NAMES, _THINGS, _PLACES,
                                                                  _FEELINGS))
        stories.append(f"Once upon a time, {name} went to the {place}. {name} saw a {thing}. "
                       f"The {thing} was big. {name} felt {feel}. The end.\n")
    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    write_text(out, "".join(stories))
    return out


def read_corpus(corpus: str | os.PathLike) -> bytes:
    """The corpus as bytes: a text file, or a dataset saved with ``save_to_disk`` (its
    ``text`` column, the ``train`` split of a ``DatasetDict``, one record per line).

    Args:
        corpus: a file or a saved dataset's directory.

    Returns:
        The UTF-8 bytes.

    Raises:
        InputError: for a missing path, an empty corpus, or a dataset without ``text``.
    """
    path = Path(corpus)
    if path.is_file():
        data = path.read_bytes()
    elif path.is_dir():
        data = _saved_dataset(path)
    else:
        raise InputError(f"config field corpus: {corpus} is neither a file nor a saved dataset")
    if not data:
        raise InputError(f"config field corpus: {corpus} is empty")
    return data


def _saved_dataset(path: Path) -> bytes:
    try:
        import datasets
    except ImportError as err:
        raise InputError(f"config field corpus: {path} is a directory; reading a saved dataset "
                         "needs the datasets package (pip install datasets)") from err
    try:
        data = datasets.load_from_disk(str(path))
    except (FileNotFoundError, ValueError) as err:
        raise InputError(f"config field corpus: {path} is not a saved dataset ({err})") from err
    if isinstance(data, datasets.DatasetDict):
        if "train" not in data:
            raise InputError(f"config field corpus: {path} has no train split")
        data = data["train"]
    if "text" not in data.column_names:
        raise InputError(f"config field corpus: {path} has no text column")
    return "\n".join(data["text"]).encode("utf-8")


def lm_task(corpus: str | None, seq_len: int | None = None, n_train: int | None = None,
            n_test: int | None = None) -> TaskData:
    """Next-byte prediction on chunks of ``corpus`` (see the module docstring).

    Args:
        corpus: a text file or a saved dataset's directory.
        seq_len: tokens per sequence (None: 256).
        n_train: training chunks (None: every chunk before the test split).
        n_test: test chunks (None: min(512, a tenth of the chunks)).

    Returns:
        A ``tag`` task: ``x``/``y`` (N, seq_len) views of one (N, seq_len + 1) tensor.

    Raises:
        InputError: without a corpus, or when it is too short for one chunk per split.
    """
    if corpus is None:
        raise InputError("task lm needs a corpus: --corpus FILE (a local text file or a dataset "
                         "saved with datasets' save_to_disk)")
    length = DEFAULT_SEQ_LEN if seq_len is None else seq_len
    data = np.frombuffer(read_corpus(corpus), dtype=np.uint8)
    n_chunks = (data.size - 1) // length
    test = min(MAX_TEST, n_chunks // 10) if n_test is None else n_test
    if n_chunks < 2 or test < 1 or test >= n_chunks:
        raise InputError(f"config field corpus: {corpus} holds {data.size} bytes, too few for "
                         f"a training and a test split of {length + 1}-byte chunks")
    train = n_chunks - test if n_train is None else min(n_train, n_chunks - test)
    tr, te = _chunks(data, length, 0, train), _chunks(data, length, n_chunks - test, test)
    return TaskData("lm", "tag", tr[:, :-1], tr[:, 1:], te[:, :-1], te[:, 1:],
                    vocab_size=VOCAB, n_classes=VOCAB, label_pad=-100, src_pad=-1)


def _chunks(data: np.ndarray, length: int, first: int, count: int) -> torch.Tensor:
    """Chunks ``first .. first + count - 1`` of ``length + 1`` bytes (overlapping by one),
    as int64 (only these are converted)."""
    view = np.lib.stride_tricks.as_strided(
        data, shape=((data.size - 1) // length, length + 1), strides=(length, 1),
        writeable=False)
    return torch.from_numpy(view[first:first + count].astype(np.int64))
