"""The state of one training run between steps: :class:`RunSession` (task, model,
optimizer, monitor, metric and probe rows, counters) and what it does at a step — train,
probe, evaluate, decide to stop — and its ``summary.json``.

The loop that drives a session and writes the run directory is
:func:`spectral_edge.validation.runs.training.run`; the checkpoint of a session is in
:mod:`spectral_edge.validation.runs.checkpoint`.

>>> import tempfile
>>> cfg = RunConfig.protocol("modadd", p=7, d_model=16, n_heads=2, d_ff=16, n_layers=1,
...                          window=2, stride=5, batch_size=16)
>>> session = RunSession(cfg, Path(tempfile.mkdtemp()))
>>> losses = [session.train_step() for _ in range(3)]
>>> session.step, sorted(session.evaluate())[:2]
(3, ['step', 'test_acc'])
"""

from __future__ import annotations

import dataclasses
import math
import warnings
from pathlib import Path
from typing import Any

import torch

from spectral_edge.common.errors import InputError
from spectral_edge.validation.monitor import GramMonitor
from spectral_edge.validation.probes.window import (
    ProbeSettings,
    WindowProbe,
    is_probe_step,
    probe_window,
)
from spectral_edge.validation.runs.config import RunConfig
from spectral_edge.validation.runs.determinism import (
    ScriptBatches,
    batch_indices,
    sampled_indices,
)
from spectral_edge.validation.runs.evaluation import evaluate, forward, trim_padding
from spectral_edge.validation.runs.initialisation import dyck_script_init, paper_init
from spectral_edge.validation.runs.models import ModelSizes, build_model, count_parameters
from spectral_edge.validation.runs.optimizers import build_optimizer
from spectral_edge.validation.runs.probing import probe_data
from spectral_edge.validation.runs.schedule import autocast, set_lr
from spectral_edge.validation.runs.tasks import accuracy_keys, make_task, task_loss


class RunSession:
    """The state of one run between steps (everything the checkpoint stores).

    Args:
        config: the run's config (seeds torch's global RNG with ``config.seed``).
        out_dir: the run directory (named in progress output; nothing is written here).

    Raises:
        InputError: when ``config.grok_metric`` is not an accuracy of the task.
    """

    def __init__(self, config: RunConfig, out_dir: Path) -> None:
        self.config, self.out_dir = config, out_dir
        device = torch.device(config.device)
        torch.manual_seed(config.seed)
        task = make_task(
            config.task,
            seed=config.seed if config.data_seed is None else config.data_seed,
            p=config.p,
            train_frac=config.train_frac,
            n_train=config.n_train,
            n_test=config.n_test,
            protocol=config.variant,
            corpus=config.corpus,
            seq_len=config.seq_len,
        )
        if config.grok_metric not in accuracy_keys(task):
            raise InputError(
                f"grok_metric {config.grok_metric!r} does not exist for task {config.task}; "
                f"choose from {', '.join(accuracy_keys(task))}"
            )
        self.task = dataclasses.replace(
            task,
            x_train=task.x_train.to(device),
            y_train=task.y_train.to(device),
            x_test=task.x_test.to(device),
            y_test=task.y_test.to(device),
        )
        sizes = ModelSizes(
            config.d_model, config.n_heads, config.d_ff, config.n_layers, config.n_dec_layers
        )
        # the paper's SCAN model has one more LayerNorm before the head (docs/protocols.md)
        model = build_model(self.task, config.model, sizes,
                            head_norm=config.variant == "paper")
        if config.variant == "paper":
            paper_init(model)
        # draws "script": the published script's initial weights and batch stream (the
        # Dyck tagger only; RunConfig.validate refuses the rest)
        self.script_batches: ScriptBatches | None = None
        if config.draws == "script":
            from spectral_edge.validation.runs.tasks.dyck import SCRIPT_TOKENS

            self.script_batches = ScriptBatches(
                dyck_script_init(model, config.seed, SCRIPT_TOKENS))
        self.model = model.to(device)
        self.optimizer = build_optimizer(
            self.model,
            config.optimizer,
            lr=config.lr,
            weight_decay=config.wd,
            betas=(config.beta1, config.beta2),
            momentum=config.momentum,
        )
        self.monitor = GramMonitor(
            self.model,
            window=config.window,
            stride=config.stride,
            select=config.monitor_select,
            sketch_dim=config.sketch_dim,
            optimizer=self.optimizer,
            kstar_method=config.kstar_method,
            seed=config.seed,
        )
        self.step = 0
        self.rows: list[dict[str, float]] = []
        self.grok_step: int | None = None
        self.grok_wall_s: float | None = None
        self.fit_step: int | None = None
        self.stop_reason: str | None = None
        self.wall_s = 0.0
        self.probe_rows: list[dict[str, Any]] = []
        self.probe_windows: list[dict[str, Any]] = []
        self.probe_wall_s = 0.0
        self.probe_timing: list[dict[str, float]] = []

    def train_step(self) -> float:
        """One optimizer step on the step's minibatch (then the monitor, maybe a probe).

        Returns:
            The minibatch loss before the step.
        """
        cfg, task = self.config, self.task
        if self.script_batches is not None:
            drawn = self.script_batches.indices(task.n_train, cfg.batch_size, self.step)
        else:
            draw = sampled_indices if cfg.variant == "paper" else batch_indices
            drawn = draw(task.n_train, cfg.batch_size, cfg.seed, self.step)
        idx = torch.as_tensor(drawn, device=task.x_train.device)
        x, y = trim_padding(task, task.x_train[idx], task.y_train[idx])
        if cfg.forget_step is not None and self.step >= cfg.forget_step:
            y = (y + 1) % task.n_classes  # induced forgetting (P12): switched labels
        self.model.train()
        self.optimizer.zero_grad(set_to_none=True)
        set_lr(self.optimizer, cfg, self.step)  # warm-up / cosine (lm); else unchanged
        with autocast(cfg, x.device):
            loss = task_loss(task, forward(self.model, task, x, y), y)
        if cfg.variant == "paper":  # the multi-task scripts sum the heads' losses
            loss = loss * len(task.head_names)
        loss.backward()
        if cfg.grad_clip:
            torch.nn.utils.clip_grad_norm_(self.model.parameters(), cfg.grad_clip)
        self.optimizer.step()
        self.step += 1
        if self.monitor.step():
            self.maybe_probe()
        return float(loss.detach())

    def maybe_probe(self) -> None:
        """Probe the window that just ended when the cadence says so (docs/probes.md); the
        probe uses no global RNG and restores the parameters, so training is unchanged."""
        if (
            self.monitor.sketch_dim is not None
            or self.monitor.stopped is not None
            or not is_probe_step(self.step, self.config.stride, self.config.probe_every)
            or not all(bool(torch.isfinite(p).all()) for _, p in self.monitor.names_params)
        ):
            return
        try:
            self.probe_now()
        except (ArithmeticError, ValueError, RuntimeError) as err:  # never stop training
            warnings.warn(f"probe of the window at step {self.step} failed: {err}",
                          RuntimeWarning, stacklevel=2)

    def probe_now(self, hess_k: int | None = None) -> WindowProbe:
        """Probe the monitor's current window (ending at ``self.step``); rows are kept
        (replacing any of the same step).

        Args:
            hess_k: top Hessian eigenvalues to compute (None: ``probe_hess_k`` on the
                ``probe_hess_every`` cadence, else 0).

        Returns:
            The probe's result.
        """
        cfg = self.config
        settings = ProbeSettings.from_config(cfg)
        if hess_k is not None:
            settings = dataclasses.replace(settings, hess_k=hess_k)
        elif not is_probe_step(self.step, cfg.stride, cfg.probe_hess_every):
            settings = dataclasses.replace(settings, hess_k=0)
        result = probe_window(
            self.model, self.optimizer, self.monitor,
            probe_data(self.model, self.task, cfg.eval_batch),
            step=self.step, seed=cfg.seed, batch_size=cfg.batch_size,
            wd=cfg.wd, settings=settings,
        )
        self.probe_rows = [r for r in self.probe_rows if r["step"] != self.step]
        self.probe_windows = [r for r in self.probe_windows if r["step"] != self.step]
        self.probe_rows.extend(result.rows)
        self.probe_windows.append(result.window)
        self.probe_wall_s += result.wall_s
        self.probe_timing.append(
            {"step": self.step, "wall_s": result.wall_s, "hess_wall_s": result.hess_wall_s}
        )
        return result

    def evaluate(self) -> dict[str, float]:
        """Evaluate on the train and test splits, keep the metrics row, note fit and grok.

        Returns:
            The metrics row (``step``, ``train_*``, ``test_*``).
        """
        cfg, task = self.config, self.task
        m = cfg.eval_max  # None: the whole split
        tr = evaluate(self.model, task, task.x_train[:m], task.y_train[:m], cfg.eval_batch)
        te = evaluate(self.model, task, task.x_test[:m], task.y_test[:m], cfg.eval_batch)
        row: dict[str, float] = {"step": self.step}
        row |= {f"train_{k}": v for k, v in tr.items()}
        row |= {f"test_{k}": v for k, v in te.items()}
        self.rows.append(row)
        key = cfg.grok_metric
        if self.fit_step is None and tr[key] >= cfg.grok_threshold:
            self.fit_step = self.step
        if self.grok_step is None and te[key] >= cfg.grok_threshold:
            self.grok_step = self.step
            self.grok_wall_s = self.wall_s
        return row

    def should_stop(self, train_loss: float) -> bool:
        """Apply the stop rules (divergence, ``stop_after_grok``, ``steps``).

        Args:
            train_loss: the last step's loss.

        Returns:
            Whether to stop (``stop_reason`` says why).
        """
        cfg = self.config
        if not math.isfinite(train_loss):
            self.stop_reason = "diverged"
        elif (
            cfg.stop_after_grok is not None
            and self.grok_step is not None
            and self.step >= self.grok_step + cfg.stop_after_grok
            and self.step % cfg.eval_every == 0
        ):
            self.stop_reason = "early_stop_after_grok"
        elif cfg.stop_acc is not None and self.stop_rule_met():
            self.stop_reason = "stop_acc"
        elif self.step >= cfg.steps:
            self.stop_reason = "max_steps"
        return self.stop_reason is not None

    def stop_streak(self, column: str | None = None) -> int:
        """Consecutive evaluations, ending at this step, with test ``column`` (default:
        ``grok_metric``) >= ``stop_acc`` (0 when this step was not evaluated or there is no
        ``stop_acc``).

        Args:
            column: the accuracy key (``acc``, ``acc_<head>``, ...); None: ``grok_metric``.

        Returns:
            The length of the streak.
        """
        cfg = self.config
        if cfg.stop_acc is None or not self.rows or self.rows[-1]["step"] != self.step:
            return 0
        key = f"test_{column or cfg.grok_metric}"
        n = 0
        for row in reversed(self.rows):
            if not row[key] >= cfg.stop_acc:
                break
            n += 1
        return n

    def stop_heads(self) -> tuple[str, ...]:
        """The accuracy keys the stop rule watches: one per head (``acc_<head>``) for a
        several-head task under the ``paper`` variant with ``grok_metric`` ``acc`` (the
        multi-task scripts track each head's streak), else ``grok_metric`` alone.

        Returns:
            The keys.
        """
        cfg = self.config
        heads = tuple(k for k in accuracy_keys(self.task) if k.startswith("acc_"))
        if cfg.variant == "paper" and cfg.grok_metric == "acc" and heads:
            return heads
        return (cfg.grok_metric,)

    def stop_rule_met(self) -> bool:
        """The scripts' stop rule, evaluated at this step: every watched key
        (:meth:`stop_heads`) has had ``stop_patience`` consecutive evaluations with test
        accuracy >= ``stop_acc`` at some point (a head that has done so stays done, as in
        ``train_multitask.py`` / ``train_tritask.py``), and this step was evaluated. One
        key: the streak must end at this step, the single-task scripts' rule.

        Returns:
            Whether to stop.
        """
        cfg = self.config
        if cfg.stop_acc is None or not self.rows or self.rows[-1]["step"] != self.step:
            return False
        keys = self.stop_heads()
        if len(keys) == 1:
            return self.stop_streak(keys[0]) >= cfg.stop_patience
        for key in keys:
            run = best = 0
            for row in self.rows:
                run = run + 1 if row[f"test_{key}"] >= cfg.stop_acc else 0
                best = max(best, run)
            if best < cfg.stop_patience:
                return False
        return True

    def summary(self, status: str) -> dict[str, Any]:
        """``summary.json``; ``final`` is the last evaluation whose numbers are all finite
        (``final_step`` says which), so a diverged run does not report NaNs as its end.

        Args:
            status: ``finished``, ``interrupted`` or ``running``.

        Returns:
            The summary's fields.
        """
        finite = [r for r in self.rows if all(math.isfinite(v) for v in r.values())]
        last = finite[-1] if finite else {}
        cfg, mon = self.config, self.monitor
        return {
            "status": status,
            "task": cfg.task,
            "optimizer": cfg.optimizer,
            "wd": cfg.wd,
            "seed": cfg.seed,
            "steps": cfg.steps,
            "steps_done": self.step,
            "variant": cfg.variant,
            "grokked": self.grok_step is not None,
            "grok_step": self.grok_step,
            "grok_metric": cfg.grok_metric,
            "grok_wall_s": self.grok_wall_s,
            "fit_step": self.fit_step,
            "stop_reason": self.stop_reason,
            "diverged": self.stop_reason == "diverged",
            "final_step": last.get("step"),
            "final": {k: v for k, v in last.items() if k != "step"},
            "best_test_acc": max((r["test_acc"] for r in finite), default=None),
            "n_params": count_parameters(self.model),
            "n_monitored": mon.n_params,
            "monitored": mon.names,
            "n_windows": len(mon.history()),
            "skipped_updates": {"total": mon.skipped, **mon.skipped_by_kind, "bad_lr": mon.bad_lr},
            "wall_time_s": self.wall_s,
            "probe_wall_s": self.probe_wall_s,
            "n_probed_windows": len(self.probe_windows),
            "probe_timing": self.probe_timing,
            "torch": torch.__version__,
        }
