"""Lightning integration: :class:`LightningGramMonitorCallback` (``spectral-edge[lightning]``).

::

    from spectral_edge.validation.integrations.lightning import LightningGramMonitorCallback
    trainer = L.Trainer(max_steps=1000, callbacks=[LightningGramMonitorCallback(window=10)])
    trainer.fit(module, loader)  # logs gram/sigma_1.., gram/kstar, gram/g_sigma, gram/R,
                                 # gram/g23_lambda, gram/A, gram/vacuity

Hooks (lightning ≥ 2.4; checked on 2.6):

* ``on_train_start``: builds the :class:`~spectral_edge.validation.monitor.GramMonitor` on the
  LightningModule (after the checkpoint, if any, was restored), and loads the monitor
  state that the checkpoint carried (:meth:`state_dict` / :meth:`load_state_dict` of the
  callback: the monitor state lives in the Lightning checkpoint).
* ``on_before_optimizer_step``: notes the learning rate the step uses (Lightning steps
  the scheduler before ``on_train_batch_end``).
* ``on_train_batch_end``: ``monitor.step()`` when an optimizer step happened
  (``trainer.global_step`` moved; gradient accumulation steps are not updates), and
  ``pl_module.log_dict`` of the latest statistics, so every configured logger gets them.
* ``on_save_checkpoint`` / ``on_train_end``: the history (``gram_history.csv``) and Grams
  (``gram_grams.npz``) written atomically into ``output_dir`` (default
  ``trainer.default_root_dir``), global rank 0 only.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import lightning.pytorch as pl
import torch

from spectral_edge.validation.integrations import _common
from spectral_edge.validation.monitor import GramMonitor


class _StepLR:
    """Stands in for the optimizer as the monitor's learning-rate source: the ``lr`` of the
    first param group as it was when the optimizer stepped."""

    def __init__(self) -> None:
        self.lr: float | None = None

    @property
    def param_groups(self) -> list[dict[str, Any]]:
        return [{"lr": self.lr}]


class LightningGramMonitorCallback(pl.Callback):
    """A ``lightning.pytorch.Callback`` that runs a :class:`GramMonitor` during ``fit``.

    Args:
        window, stride, select, sketch_dim: as :class:`GramMonitor`.
        log_top: how many singular values (σ_1..σ_log_top) are logged.
        log_prefix: prefix of the logged names (``"gram/"``).
        output_dir: where the history and Grams are written (default
            ``trainer.default_root_dir``).
        params: ``pl_module -> model_or_params`` for the monitor (default: the module).
        **monitor_kwargs: any other :class:`GramMonitor` argument (``dtype``, ``on_error``,
            ``kstar_method``, ``keep_grams``, ``max_memory_bytes``, ``shard_group``, ``lr``,
            ``seed``). The learning rate for A is the first optimizer's, as it was at the
            step, unless ``lr`` is given.

    Attributes: ``monitor`` (``None`` before training starts).
    """

    def __init__(
        self,
        window: int = 10,
        stride: int = 1,
        select: str = "all",
        sketch_dim: int | None = None,
        *,
        log_top: int = 3,
        log_prefix: str = "gram/",
        output_dir: str | os.PathLike | None = None,
        params: Callable[[torch.nn.Module], Any] | None = None,
        **monitor_kwargs: Any,
    ) -> None:
        self.monitor_args = {"window": window, "stride": stride, "select": select,
                             "sketch_dim": sketch_dim, **monitor_kwargs}
        _common.check_callback_args(self.monitor_args, log_top, log_prefix, params)
        self.log_top, self.log_prefix = log_top, log_prefix
        self.output_dir, self.params = output_dir, params
        self.monitor: GramMonitor | None = None
        self._lr = _StepLR()
        self._restored: dict[str, Any] | None = None
        self._seen_step = 0

    @property
    def state_key(self) -> str:
        return self._generate_state_key(window=self.monitor_args["window"],
                                        stride=self.monitor_args["stride"],
                                        select=self.monitor_args["select"])

    def on_train_start(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        kwargs = dict(self.monitor_args)
        if kwargs.get("lr") is None:
            kwargs["optimizer"] = self._lr
        source = pl_module if self.params is None else self.params(pl_module)
        self.monitor = GramMonitor(source, **kwargs)
        if self._restored is not None:
            self.monitor.load_state_dict(self._restored)
            self._restored = None
        self._seen_step = trainer.global_step

    def on_before_optimizer_step(self, trainer, pl_module, optimizer) -> None:
        if optimizer is trainer.optimizers[0] or self._lr.lr is None:
            self._lr.lr = optimizer.param_groups[0]["lr"]

    def on_train_batch_end(self, trainer, pl_module, outputs, batch, batch_idx) -> None:
        if self.monitor is None or trainer.global_step == self._seen_step:
            return
        self._seen_step = trainer.global_step
        self.monitor.step()
        metrics = _common.latest_metrics(self.monitor, self.log_top, self.log_prefix)
        if metrics:
            pl_module.log_dict({k: float(v) for k, v in metrics.items()}, on_step=True,
                               on_epoch=False, sync_dist=False)

    def state_dict(self) -> dict[str, Any]:
        if self.monitor is None:
            return {} if self._restored is None else {"monitor": self._restored}
        return {"monitor": _common.monitor_state(self.monitor)}

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        # the monitor is built in on_train_start, after the checkpoint is restored
        self._restored = state_dict.get("monitor")

    def on_save_checkpoint(self, trainer, pl_module, checkpoint) -> None:
        self._write(trainer)

    def on_train_end(self, trainer, pl_module) -> None:
        self._write(trainer)

    def _write(self, trainer: pl.Trainer) -> None:
        if self.monitor is None or not trainer.is_global_zero:
            return
        out = self.output_dir if self.output_dir is not None else trainer.default_root_dir
        _common.write_outputs(self.monitor, Path(out))
