"""The dataset record every task returns, and one :class:`TaskKind` object per task kind
holding that kind's rules (loss, accuracies, padding, model inputs).

Three kinds:

* ``classify`` (:class:`Classify`): ``x`` (N, L) tokens, ``y`` (N, H) one label per head;
  logits (N, H, C). Accuracy is per head; the task accuracy is the minimum over heads
  (docs/spec.md §7).
* ``tag`` (:class:`Tag`): ``y`` (N, L), one label per position, ``label_pad`` where there is
  none; logits (N, L, C); accuracy over labelled positions.
* ``seq2seq`` (:class:`Seq2Seq`): ``y`` (N, L) target tokens ending in EOS, padded with
  ``label_pad``; the decoder reads ``[BOS] + y[:, :-1]``; the task accuracy is the sequence
  accuracy (every labelled position right). Under teacher forcing this equals
  greedy-decoding exact match.

Code that depends on the kind asks ``task.rules`` (the kind object) instead of comparing
``task.kind`` (the kind's name) with strings. The module-level functions are the same rules
called on a task.

>>> import torch
>>> t = TaskData("toy", "classify", torch.zeros(2, 2, dtype=torch.long),
...              torch.tensor([[0], [1]]), torch.zeros(1, 2, dtype=torch.long),
...              torch.tensor([[1]]), vocab_size=2, n_classes=2, head_names=("h",))
>>> logits = torch.tensor([[[5.0, 0.0]], [[5.0, 0.0]]])
>>> counts = correct_counts(t, logits, t.y_train)
>>> counts["h"], counts["total"]
(1.0, 2.0)
>>> type(t.rules).__name__, t.rules.has_decoder
('Classify', False)
"""

from __future__ import annotations

from dataclasses import dataclass, field

import torch
import torch.nn.functional as F


class TaskKind:
    """The rules of one task kind; subclasses fill in every method.

    Contract (``task`` is the :class:`TaskData` the rules are asked about):

    * :meth:`loss`: mean cross-entropy of ``logits`` against ``y`` over the labels;
    * :meth:`n_labels`: how many labels :meth:`loss` averaged over (batch-size weights);
    * :meth:`correct_counts`: counts that sum over batches, always with ``total``;
    * :meth:`accuracy_keys` / :meth:`accuracies`: the accuracy names and values from
      summed counts, ``acc`` first (the one the grok rule reads by default);
    * :meth:`trim_padding`: drop all-padding columns at the end of a batch (exact);
    * :meth:`inputs`: the positional arguments of the model's forward on a batch;
    * ``has_decoder``: the model is an encoder–decoder (reads :meth:`inputs`' second
      tensor); ``name``: the kind's name (``TaskData.kind``).
    """

    name: str = ""
    has_decoder: bool = False

    def loss(self, task: TaskData, logits: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        """Mean cross-entropy over the labelled positions (padding ignored)."""
        flat = logits.reshape(-1, logits.shape[-1])
        return F.cross_entropy(flat, y.reshape(-1), ignore_index=task.label_pad)

    def n_labels(self, task: TaskData, y: torch.Tensor) -> int:
        """Number of labelled positions in ``y``."""
        return int((y != task.label_pad).sum())

    def correct_counts(
        self, task: TaskData, logits: torch.Tensor, y: torch.Tensor
    ) -> dict[str, float]:
        """``tokens`` right out of ``label_tokens``, ``seqs`` (all positions right), ``total``."""
        pred = logits.argmax(dim=-1)
        mask = y != task.label_pad
        ok = (pred == y) | ~mask
        return {
            "tokens": float(((pred == y) & mask).sum()),
            "label_tokens": float(mask.sum()),
            "seqs": float(ok.all(dim=1).sum()),
            "total": float(y.shape[0]),
        }

    def accuracy_keys(self, task: TaskData) -> tuple[str, ...]:
        """The keys :meth:`accuracies` returns."""
        raise NotImplementedError

    def accuracies(self, task: TaskData, counts: dict[str, float]) -> dict[str, float]:
        """Accuracies from summed :meth:`correct_counts`."""
        raise NotImplementedError

    def trim_padding(
        self, task: TaskData, x: torch.Tensor, y: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """``(x, y)`` without their trailing all-padding columns."""
        raise NotImplementedError

    def inputs(self, task: TaskData, x: torch.Tensor, y: torch.Tensor) -> tuple[torch.Tensor, ...]:
        """The model's forward arguments on the batch ``(x, y)``: ``(x,)``."""
        return (x,)

    def _token_and_seq(self, counts: dict[str, float]) -> tuple[float, float]:
        return counts["tokens"] / max(counts["label_tokens"], 1.0), counts["seqs"] / counts["total"]

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"


class Classify(TaskKind):
    """``classify``: one label per head; ``acc`` is the minimum of the per-head accuracies."""

    name = "classify"

    def loss(self, task: TaskData, logits: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        """Mean cross-entropy over examples and heads."""
        return F.cross_entropy(logits.reshape(-1, logits.shape[-1]), y.reshape(-1))

    def n_labels(self, task: TaskData, y: torch.Tensor) -> int:
        """Examples times heads."""
        return int(y.numel())

    def correct_counts(
        self, task: TaskData, logits: torch.Tensor, y: torch.Tensor
    ) -> dict[str, float]:
        """Examples right per head (one key per head name) and ``total``."""
        right = (logits.argmax(dim=-1) == y).sum(dim=0)
        out = {name: float(right[i]) for i, name in enumerate(task.head_names)}
        out["total"] = float(y.shape[0])
        return out

    def accuracy_keys(self, task: TaskData) -> tuple[str, ...]:
        """``acc``, and ``acc_<head>`` per head when there are several."""
        heads = tuple(f"acc_{h}" for h in task.head_names) if len(task.head_names) > 1 else ()
        return ("acc", *heads)

    def accuracies(self, task: TaskData, counts: dict[str, float]) -> dict[str, float]:
        """``acc`` = minimum over heads, ``acc_<head>`` per head when there are several."""
        per = {f"acc_{h}": counts[h] / counts["total"] for h in task.head_names}
        return {"acc": min(per.values()), **per} if len(per) > 1 else {"acc": min(per.values())}

    def trim_padding(
        self, task: TaskData, x: torch.Tensor, y: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Unchanged: classification inputs have no padding."""
        return x, y


class Tag(TaskKind):
    """``tag``: one label per position; ``acc`` is the token accuracy, ``seq_acc`` the
    sequence accuracy."""

    name = "tag"

    def accuracy_keys(self, task: TaskData) -> tuple[str, ...]:
        """``acc``, ``seq_acc``."""
        return ("acc", "seq_acc")

    def accuracies(self, task: TaskData, counts: dict[str, float]) -> dict[str, float]:
        """``acc`` = token accuracy, ``seq_acc`` = sequence accuracy."""
        token, seq = self._token_and_seq(counts)
        return {"acc": token, "seq_acc": seq}

    def trim_padding(
        self, task: TaskData, x: torch.Tensor, y: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Both cut to the longest source in the batch (labels align with positions)."""
        x_len = int((x != task.src_pad).sum(dim=1).max())
        return x[:, :x_len], y[:, :x_len]


class Seq2Seq(TaskKind):
    """``seq2seq``: target sequences under teacher forcing; ``acc`` is the sequence
    accuracy, ``token_acc`` the token accuracy."""

    name = "seq2seq"
    has_decoder = True

    def accuracy_keys(self, task: TaskData) -> tuple[str, ...]:
        """``acc``, ``token_acc``."""
        return ("acc", "token_acc")

    def accuracies(self, task: TaskData, counts: dict[str, float]) -> dict[str, float]:
        """``acc`` = sequence accuracy, ``token_acc`` = token accuracy."""
        token, seq = self._token_and_seq(counts)
        return {"acc": seq, "token_acc": token}

    def trim_padding(
        self, task: TaskData, x: torch.Tensor, y: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Sources cut to the longest source, targets to the longest target."""
        x_len = int((x != task.src_pad).sum(dim=1).max())
        y_len = int((y != task.label_pad).sum(dim=1).max())
        return x[:, :x_len], y[:, :y_len]

    def inputs(self, task: TaskData, x: torch.Tensor, y: torch.Tensor) -> tuple[torch.Tensor, ...]:
        """``(x, decoder_input)``: the decoder reads BOS then the targets shifted right."""
        return (x, decoder_input(task, y))


KINDS: dict[str, TaskKind] = {k.name: k for k in (Classify(), Tag(), Seq2Seq())}
"""The kind objects by name."""


@dataclass(frozen=True, eq=False)
class TaskData:
    """Tensors of one task instance (train and test split) and what a model needs to know.

    ``kind`` is the kind's name (a key of :data:`KINDS`); ``rules`` the kind object.
    """

    name: str
    kind: str
    x_train: torch.Tensor
    y_train: torch.Tensor
    x_test: torch.Tensor
    y_test: torch.Tensor
    vocab_size: int
    n_classes: int
    head_names: tuple[str, ...] = ("out",)
    label_pad: int | None = None
    bos_id: int | None = None
    src_pad: int | None = None
    rules: TaskKind = field(init=False, repr=False)

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"task kind must be one of {tuple(KINDS)}, got {self.kind!r}")
        object.__setattr__(self, "rules", KINDS[self.kind])

    @property
    def n_train(self) -> int:
        """Number of training examples."""
        return int(self.x_train.shape[0])

    @property
    def n_test(self) -> int:
        """Number of test examples."""
        return int(self.x_test.shape[0])


def decoder_input(task: TaskData, y: torch.Tensor) -> torch.Tensor:
    """Teacher-forcing input for a seq2seq task: BOS then the targets shifted right by one.

    Padding after EOS stays padding (the target vocabulary's pad id is ``label_pad``).

    Args:
        task: a seq2seq task (its ``bos_id`` is used).
        y: target tokens (N, L).

    Returns:
        The decoder input (N, L).
    """
    bos = torch.full_like(y[:, :1], task.bos_id)
    return torch.cat([bos, y[:, :-1]], dim=1)


def task_loss(task: TaskData, logits: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """Mean cross-entropy (over heads, or over labelled positions): ``task.rules.loss``."""
    return task.rules.loss(task, logits, y)


def correct_counts(task: TaskData, logits: torch.Tensor, y: torch.Tensor) -> dict[str, float]:
    """Counts that sum over batches: ``total`` and the number right per head / kind.

    classify: one key per head (examples right); tag: ``tokens`` right out of
    ``label_tokens``, and ``seqs`` (all positions right); seq2seq the same.
    """
    return task.rules.correct_counts(task, logits, y)


def accuracy_keys(task: TaskData) -> tuple[str, ...]:
    """The keys :func:`accuracies` returns for ``task`` (what a grok rule may read).

    >>> import torch
    >>> z = torch.zeros(1, 2, dtype=torch.long)
    >>> accuracy_keys(TaskData("t", "tag", z, z, z, z, vocab_size=2, n_classes=2))
    ('acc', 'seq_acc')
    """
    return task.rules.accuracy_keys(task)


def accuracies(task: TaskData, counts: dict[str, float]) -> dict[str, float]:
    """Accuracies from summed counts; key ``acc`` is the one the grok rule reads.

    classify: ``acc_<head>`` per head and ``acc`` = their minimum; tag: ``acc`` = token
    accuracy, ``seq_acc``; seq2seq: ``acc`` = sequence accuracy, ``token_acc``.
    """
    return task.rules.accuracies(task, counts)
