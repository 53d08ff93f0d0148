"""Evaluation of a model on a task: loss and accuracies in batches, trimming the padding
columns of sequence batches first.

>>> import torch
>>> from spectral_edge.validation.runs.tasks import make_task
>>> task = make_task("modadd", seed=0)
>>> model = torch.nn.Sequential(torch.nn.Embedding(task.vocab_size, 4), torch.nn.Flatten(),
...                             torch.nn.Linear(4 * task.x_train.shape[1], task.n_classes))
>>> out = evaluate(model, task, task.x_test[:64], task.y_test[:64], batch=32)
>>> sorted(out)[:2], 0.0 <= out["acc"] <= 1.0
(['acc', 'loss'], True)
"""

from __future__ import annotations

import torch

from spectral_edge.validation.runs.tasks import (
    TaskData,
    accuracies,
    correct_counts,
    decoder_input,
    task_loss,
)


def trim_padding(
    task: TaskData, x: torch.Tensor, y: torch.Tensor
) -> tuple[torch.Tensor, torch.Tensor]:
    """Drop the all-padding columns at the end of a batch (sequence tasks only).

    Exact: padding comes last, the models mask source padding and are causal on targets,
    and padded positions carry no label; it only saves compute on short batches.
    """
    if task.kind == "classify":
        return x, y
    x_len = int((x != task.src_pad).sum(dim=1).max())
    if task.kind == "tag":
        return x[:, :x_len], y[:, :x_len]
    y_len = int((y != task.label_pad).sum(dim=1).max())
    return x[:, :x_len], y[:, :y_len]


def forward(model: torch.nn.Module, task: TaskData, x: torch.Tensor, y: torch.Tensor):
    """The logits of ``model`` on a batch (seq2seq models also get the decoder input)."""
    if task.kind == "seq2seq":
        return model(x, decoder_input(task, y))
    return model(x)


def _n_labels(task: TaskData, y: torch.Tensor) -> int:
    if task.kind == "classify":
        return int(y.numel())
    return int((y != task.label_pad).sum())


@torch.no_grad()
def evaluate(
    model: torch.nn.Module, task: TaskData, x: torch.Tensor, y: torch.Tensor, batch: int
) -> dict[str, float]:
    """Loss (mean over labels) and accuracies of ``model`` on ``(x, y)``, in batches."""
    was_training = model.training
    model.eval()
    loss_sum, n_labels, counts = 0.0, 0, {}
    for i in range(0, x.shape[0], batch):
        xb, yb = trim_padding(task, x[i : i + batch], y[i : i + batch])
        logits = forward(model, task, xb, yb)
        labels = _n_labels(task, yb)
        loss_sum += float(task_loss(task, logits, yb)) * labels
        n_labels += labels
        for key, value in correct_counts(task, logits, yb).items():
            counts[key] = counts.get(key, 0.0) + value
    model.train(was_training)
    return {"loss": loss_sum / max(n_labels, 1), **accuracies(task, counts)}
