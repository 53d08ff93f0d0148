"""Probes of a training run: the :class:`~spectral_edge.validation.probes.window.ProbeData`
of a run's task and model. The after-the-fact probe of a run directory from its checkpoints
is in :mod:`spectral_edge.validation.runs.reprobe`.

>>> from spectral_edge.validation.runs.tasks import make_task
>>> import torch
>>> task = make_task("modadd", seed=0)
>>> model = torch.nn.Sequential(torch.nn.Embedding(task.vocab_size, 8), torch.nn.Flatten(),
...                             torch.nn.Linear(8 * task.x_train.shape[1], task.n_classes))
>>> data = probe_data(model, task, eval_batch=256)
>>> data.n_train == task.n_train
True
"""

from __future__ import annotations

from collections.abc import Callable

import torch

from spectral_edge.validation.probes.window import ProbeData
from spectral_edge.validation.runs.evaluation import evaluate, trim_padding
from spectral_edge.validation.runs.tasks import TaskData, task_loss


def task_loss_of(
    model: torch.nn.Module, task: TaskData, x: torch.Tensor, y: torch.Tensor
) -> Callable[[dict[str, torch.Tensor]], torch.Tensor]:
    """``{name: tensor} -> loss``: the task loss of ``model`` on (x, y) with the given
    parameters replaced (``torch.func.functional_call``).

    Args:
        model: the task's model.
        task: the task.
        x: inputs.
        y: labels.

    Returns:
        A function of a ``{name: tensor}`` parameter dict giving the loss tensor.
    """
    x, y = trim_padding(task, x, y)
    inputs = task.rules.inputs(task, x, y)

    def loss_of(params: dict[str, torch.Tensor]) -> torch.Tensor:
        logits = torch.func.functional_call(model, params, inputs, strict=False)
        return task_loss(task, logits, y)

    return loss_of


def probe_data(model: torch.nn.Module, task: TaskData, eval_batch: int) -> ProbeData:
    """What the probes need of a run's ``task`` and ``model``.

    Args:
        model: the run's model.
        task: the run's task.
        eval_batch: batch size of the ablations' evaluations.

    Returns:
        The :class:`ProbeData` of the run.
    """
    return ProbeData(
        task.x_train, task.y_train, task.x_test, task.y_test,
        loss_of=lambda x, y: task_loss_of(model, task, x, y),
        evaluate=lambda x, y: evaluate(model, task, x, y, eval_batch),
    )
