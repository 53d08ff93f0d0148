"""The dataset record every task returns, and the loss/accuracy rules of each task kind.

Three kinds:

* ``classify``: ``x`` (N, L) tokens, ``y`` (N, H) one label per head; logits (N, H, C).
  Accuracy is per head; the task accuracy is the minimum over heads (docs/spec.md §7).
* ``tag``: ``y`` (N, L), one label per position, ``label_pad`` where there is none;
  logits (N, L, C); accuracy over labelled positions.
* ``seq2seq``: ``y`` (N, L) target tokens ending in EOS, padded with ``label_pad``; the
  decoder reads ``[BOS] + y[:, :-1]``; the task accuracy is the sequence accuracy (every
  labelled position right). Under teacher forcing this equals greedy-decoding exact match.

>>> import torch
>>> t = TaskData("toy", "classify", torch.zeros(2, 2, dtype=torch.long),
...              torch.tensor([[0], [1]]), torch.zeros(1, 2, dtype=torch.long),
...              torch.tensor([[1]]), vocab_size=2, n_classes=2, head_names=("h",))
>>> logits = torch.tensor([[[5.0, 0.0]], [[5.0, 0.0]]])
>>> counts = correct_counts(t, logits, t.y_train)
>>> counts["h"], counts["total"]
(1.0, 2.0)
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F

KINDS = ("classify", "tag", "seq2seq")


@dataclass(frozen=True, eq=False)
class TaskData:
    """Tensors of one task instance (train and test split) and what a model needs to know."""

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

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"task kind must be one of {KINDS}, got {self.kind!r}")

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
    """
    bos = torch.full_like(y[:, :1], task.bos_id)
    return torch.cat([bos, y[:, :-1]], dim=1)


def task_loss(task: TaskData, logits: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """Mean cross-entropy (over heads, or over labelled positions)."""
    flat = logits.reshape(-1, logits.shape[-1])
    if task.kind == "classify":
        return F.cross_entropy(flat, y.reshape(-1))
    return F.cross_entropy(flat, y.reshape(-1), ignore_index=task.label_pad)


def correct_counts(task: TaskData, logits: torch.Tensor, y: torch.Tensor) -> dict[str, float]:
    """Counts that sum over batches: ``total`` and the number right per head / kind.

    classify: one key per head (examples right); tag: ``tokens`` right out of
    ``label_tokens``, and ``seqs`` (all positions right); seq2seq the same.
    """
    pred = logits.argmax(dim=-1)
    if task.kind == "classify":
        right = (pred == y).sum(dim=0)
        out = {name: float(right[i]) for i, name in enumerate(task.head_names)}
        out["total"] = float(y.shape[0])
        return out
    mask = y != task.label_pad
    ok = (pred == y) | ~mask
    return {
        "tokens": float(((pred == y) & mask).sum()),
        "label_tokens": float(mask.sum()),
        "seqs": float(ok.all(dim=1).sum()),
        "total": float(y.shape[0]),
    }


def accuracy_keys(task: TaskData) -> tuple[str, ...]:
    """The keys :func:`accuracies` returns for ``task`` (what a grok rule may read).

    >>> import torch
    >>> z = torch.zeros(1, 2, dtype=torch.long)
    >>> accuracy_keys(TaskData("t", "tag", z, z, z, z, vocab_size=2, n_classes=2))
    ('acc', 'seq_acc')
    """
    if task.kind == "classify":
        heads = tuple(f"acc_{h}" for h in task.head_names) if len(task.head_names) > 1 else ()
        return ("acc", *heads)
    return ("acc", "seq_acc") if task.kind == "tag" else ("acc", "token_acc")


def accuracies(task: TaskData, counts: dict[str, float]) -> dict[str, float]:
    """Accuracies from summed counts; key ``acc`` is the one the grok rule reads.

    classify: ``acc_<head>`` per head and ``acc`` = their minimum; tag: ``acc`` = token
    accuracy, ``seq_acc``; seq2seq: ``acc`` = sequence accuracy, ``token_acc``.
    """
    if task.kind == "classify":
        per = {f"acc_{h}": counts[h] / counts["total"] for h in task.head_names}
        return {"acc": min(per.values()), **per} if len(per) > 1 else {"acc": min(per.values())}
    token = counts["tokens"] / max(counts["label_tokens"], 1.0)
    seq = counts["seqs"] / counts["total"]
    if task.kind == "tag":
        return {"acc": token, "seq_acc": seq}
    return {"acc": seq, "token_acc": token}
