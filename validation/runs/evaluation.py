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

from spectral_edge.validation.runs.tasks import TaskData, accuracies, correct_counts, task_loss


def trim_padding(
    task: TaskData, x: torch.Tensor, y: torch.Tensor
) -> tuple[torch.Tensor, torch.Tensor]:
    """Drop the all-padding columns at the end of a batch (sequence tasks only).

    Exact: padding comes last, the models mask source padding and are causal on targets,
    and padded positions carry no label; it only saves compute on short batches.

    Args:
        task: the task whose kind decides what is padding.
        x: input batch (N, L).
        y: label batch.

    Returns:
        ``(x, y)`` with the trailing all-padding columns removed.
    """
    return task.rules.trim_padding(task, x, y)


def forward(
    model: torch.nn.Module, task: TaskData, x: torch.Tensor, y: torch.Tensor
) -> torch.Tensor:
    """The logits of ``model`` on a batch (seq2seq models also get the decoder input).

    Args:
        model: the task's model.
        task: the task (its kind gives the forward inputs).
        x: input batch.
        y: label batch (read only by encoder–decoder models, teacher forcing).

    Returns:
        The logits.
    """
    return model(*task.rules.inputs(task, x, y))


@torch.no_grad()
def evaluate(
    model: torch.nn.Module, task: TaskData, x: torch.Tensor, y: torch.Tensor, batch: int
) -> dict[str, float]:
    """Loss (mean over labels) and accuracies of ``model`` on ``(x, y)``, in batches.

    Args:
        model: the task's model (its train/eval mode is restored afterwards).
        task: the task.
        x: inputs.
        y: labels.
        batch: evaluation batch size.

    Returns:
        ``{"loss": ..., **accuracies}`` (keys of ``accuracy_keys(task)``).
    """
    was_training = model.training
    model.eval()
    loss_sum, n_labels, counts = 0.0, 0, {}
    for i in range(0, x.shape[0], batch):
        xb, yb = trim_padding(task, x[i : i + batch], y[i : i + batch])
        logits = forward(model, task, xb, yb)
        labels = task.rules.n_labels(task, yb)
        loss_sum += float(task_loss(task, logits, yb)) * labels
        n_labels += labels
        for key, value in correct_counts(task, logits, yb).items():
            counts[key] = counts.get(key, 0.0) + value
    model.train(was_training)
    return {"loss": loss_sum / max(n_labels, 1), **accuracies(task, counts)}
