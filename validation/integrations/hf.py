"""Hugging Face ``Trainer`` integration: :class:`HFGramMonitorCallback` (``spectral-edge[hf]``).

::

    from spectral_edge.validation.integrations.hf import HFGramMonitorCallback
    trainer = Trainer(model, args, train_dataset=data,
                      callbacks=[HFGramMonitorCallback(window=10, stride=1)])
    trainer.train()   # logs gram/sigma_1.., gram/kstar, gram/g_sigma, gram/R,
                      # gram/g23_lambda, gram/A, gram/vacuity

What it does, event by event (transformers ≥ 4.46; checked on 5.24):

* ``on_train_begin``: builds the :class:`~spectral_edge.validation.monitor.GramMonitor` on the
Trainer's
  model (optimizer: the Trainer's, for the learning rate of A). When training resumes from a
  checkpoint (``state.global_step > 0``) it restores the monitor from
  ``<checkpoint>/gram_monitor.pt``, so the resumed history is the uninterrupted one.
  It also moves itself to the front of the Trainer's callbacks (after
  ``DefaultFlowCallback``), so the loggers (``report_to``) see the statistics it adds.
* ``on_optimizer_step`` (fired right after ``optimizer.step()``, before the learning-rate
  scheduler steps and before gradients are zeroed): ``monitor.step()``.
* ``on_log``: adds the latest window's statistics (:func:`~._common.latest_metrics`) to the
  logs dict, which every callback after it, every ``report_to`` logger included, receives.
* ``on_save``: writes the monitor state into the new checkpoint folder, and the history
  (``gram_history.csv``) and Grams (``gram_grams.npz``) into ``args.output_dir``
  (atomically, main process only; a sharded monitor writes one state file per rank).
* ``on_train_end``: writes the history and Grams again.
"""

from __future__ import annotations

import inspect
import os
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import torch
from transformers import TrainerCallback
from transformers.trainer_callback import CallbackHandler, DefaultFlowCallback
from transformers.trainer_utils import PREFIX_CHECKPOINT_DIR

from spectral_edge.validation.integrations import _common
from spectral_edge.validation.monitor import GramMonitor


class HFGramMonitorCallback(TrainerCallback):
    """A ``transformers.TrainerCallback`` that runs a :class:`GramMonitor` during training.

    Args:
        window, stride, select, sketch_dim: as :class:`GramMonitor`.
        log_top: how many singular values (σ_1..σ_log_top) go into the logs.
        log_prefix: prefix of the logged names (``"gram/"``).
        output_dir: where the history and Grams are written (default ``args.output_dir``);
            ``None`` there too: not written.
        resume_from: the checkpoint folder to restore the monitor from when training
            resumes (default: ``<args.output_dir>/checkpoint-<global_step>``, the folder
            ``Trainer.train(resume_from_checkpoint=True)`` picks).
        params: ``model -> model_or_params`` for the monitor (default: the model itself),
            e.g. :func:`spectral_edge.validation.integrations.distributed.local_shards`.
        **monitor_kwargs: any other :class:`GramMonitor` argument (``dtype``, ``on_error``,
            ``kstar_method``, ``keep_grams``, ``max_memory_bytes``, ``shard_group``, ``lr``,
            ``seed``, ``optimizer``; the Trainer's optimizer is used unless ``optimizer`` or
            ``lr`` is given).

    Attributes: ``monitor`` (the :class:`GramMonitor`, ``None`` before training begins).
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
        resume_from: str | os.PathLike | None = None,
        params: Callable[[torch.nn.Module], Any] | None = None,
        **monitor_kwargs: Any,
    ) -> None:
        self.monitor_args = {"window": window, "stride": stride, "select": select,
                             "sketch_dim": sketch_dim, **monitor_kwargs}
        _common.check_callback_args(self.monitor_args, log_top, log_prefix, params)
        self.log_top, self.log_prefix = log_top, log_prefix
        self.output_dir, self.resume_from, self.params = output_dir, resume_from, params
        self.monitor: GramMonitor | None = None

    # ------------------------------------------------------------------ helpers

    def _build(self, model: torch.nn.Module, optimizer: Any) -> GramMonitor:
        kwargs = dict(self.monitor_args)
        if kwargs.get("optimizer") is None and kwargs.get("lr") is None:
            kwargs["optimizer"] = optimizer
        source = model if self.params is None else self.params(model)
        return GramMonitor(source, **kwargs)

    def _out_dir(self, args: Any) -> Path | None:
        out = self.output_dir if self.output_dir is not None else args.output_dir
        return None if out is None else Path(out)

    def _place_first(self) -> None:
        """Move this callback right after ``DefaultFlowCallback`` in the handler that is
        calling it, so that the loggers, which the Trainer lists before user callbacks,
        receive the statistics added in ``on_log``. ``CallbackHandler.call_event`` hands
        no reference to itself, so it is found in the calling frame."""
        frame = inspect.currentframe()
        caller = frame.f_back.f_back if frame is not None and frame.f_back else None
        handler = caller.f_locals.get("self") if caller is not None else None
        if not isinstance(handler, CallbackHandler) or self not in handler.callbacks:
            warnings.warn(
                "HFGramMonitorCallback: could not find the Trainer's callback list; loggers "
                "listed before this callback will not receive the gram/ statistics",
                RuntimeWarning,
                stacklevel=3,
            )
            return
        place_first(handler.callbacks, self)

    # ------------------------------------------------------------------ events

    def on_train_begin(self, args, state, control, model=None, optimizer=None, **kwargs):
        self._place_first()
        self.monitor = self._build(model, optimizer)
        if state.global_step > 0:
            folder = self.resume_from or os.path.join(
                args.output_dir, f"{PREFIX_CHECKPOINT_DIR}-{state.global_step}"
            )
            path = _common.state_file(folder, self.monitor)
            if path.is_file():
                _common.load_state(self.monitor, path)
            else:
                warnings.warn(
                    f"HFGramMonitorCallback: resuming at step {state.global_step} but {path} "
                    "does not exist; the monitor starts a new window from here",
                    RuntimeWarning,
                    stacklevel=2,
                )

    def on_optimizer_step(self, args, state, control, **kwargs):
        if self.monitor is not None:
            self.monitor.step()

    def on_log(self, args, state, control, logs=None, **kwargs):
        metrics = _common.latest_metrics(self.monitor, self.log_top, self.log_prefix)
        if logs is not None:
            logs.update(metrics)
        # Trainer.log appended a copy of logs to log_history just before: add them there too
        if metrics and state.log_history and state.log_history[-1].get("step") == state.global_step:
            state.log_history[-1].update(metrics)

    def on_save(self, args, state, control, **kwargs):
        if self.monitor is None:
            return
        folder = Path(args.output_dir) / f"{PREFIX_CHECKPOINT_DIR}-{state.global_step}"
        if self.monitor.shard_group is not None or args.should_save:
            _common.save_state(self.monitor, _common.state_file(folder, self.monitor))
        self._write(args)

    def on_train_end(self, args, state, control, **kwargs):
        self._write(args)

    def _write(self, args: Any) -> None:
        out = self._out_dir(args)
        if self.monitor is not None and out is not None and args.should_save:
            _common.write_outputs(self.monitor, out)


def place_first(callbacks: list, callback: Any) -> None:
    """Move ``callback`` to just after the leading ``DefaultFlowCallback``\\ s of the list.

    >>> class A: pass
    >>> cbs = [DefaultFlowCallback(), A(), "me", A()]
    >>> place_first(cbs, "me"); [type(c).__name__ for c in cbs]
    ['DefaultFlowCallback', 'str', 'A', 'A']
    """
    callbacks.remove(callback)
    at = 0
    while at < len(callbacks) and isinstance(callbacks[at], DefaultFlowCallback):
        at += 1
    callbacks.insert(at, callback)
