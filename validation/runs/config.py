"""Run configuration: :class:`RunConfig`, its sections, the per-task protocol table and
value coercion.

``RunConfig`` is plain, flat data (``config.json`` is ``asdict`` of it, and every field is
one ``spectral-edge train`` flag); :data:`SECTIONS` groups its fields (task, model,
optimizer, schedule, stop rules, monitor, probes, system). The defaults are declared once:
the ``probe_*`` defaults are :class:`~spectral_edge.validation.probes.window.ProbeSettings`'
defaults. :data:`PROTOCOLS` holds
the settings of the published protocols (docs/spec.md §7) that differ from the field
defaults, one entry per task family. :func:`coerce_field` is the one function that turns
a value — from JSON or from a command-line string — into a field's type; the CLI uses it
too. Every field is validated before a run writes anything (:meth:`RunConfig.validate`),
each error naming the field.

>>> RunConfig.protocol("dyck", seed=1).batch_size
50
>>> coerce_field("wd", "0.5"), coerce_field("stop_after_grok", "none")
(0.5, None)
>>> RunConfig.protocol("modadd", wd=float("inf"))
Traceback (most recent call last):
...
spectral_edge.common.errors.InputError: config field wd must be a finite number >= 0.0, got inf
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields
from functools import cache
from typing import Any, get_type_hints

from spectral_edge.common.errors import InputError
from spectral_edge.common.validate import check_choice, check_finite_number, check_int, check_window
from spectral_edge.numerics.spectra import KSTAR_METHODS
from spectral_edge.validation.probes.window import ProbeSettings

MAX_SEED = 2**63 - 1
SIZE_LIMITS: dict[str, int] = {
    "steps": 10**9, "batch_size": 2**20, "eval_every": 10**9, "eval_batch": 2**20,
    "checkpoint_every": 10**9, "stride": 10**6, "threads": 1024, "d_model": 65_536,
    "n_heads": 1024, "d_ff": 262_144, "n_layers": 1024, "n_dec_layers": 1024,
    "n_train": 10**8, "n_test": 10**8, "window": 4096, "sketch_dim": 2**24,
    "probe_modes": 64, "probe_batch": 2**20, "probe_hess_k": 100, "probe_noise_batches": 1000,
    "probe_draws": 10_000,
}
"""Upper bounds of the size-like config fields (docs/reliability.md): a value above one is
a typo, not a run (``--probe-hess-k 100000`` would write 100,000 columns)."""
"""Largest accepted seed (seeds go to ``torch.manual_seed`` and NumPy generators)."""

NONE_WORDS = ("none", "null")

MODELS = ("transformer", "mlp")

PROTOCOL_NAMES = ("paper", "toolkit-v1")

DRAWS = ("keyed", "script")
"""Where the random draws come from: ``keyed`` — our order of initial draws and batches
drawn from a generator keyed by (seed, step); ``script`` — the published script's draws
(Dyck: ``torch.manual_seed(seed)``, the model's PyTorch modules built in the script's
order, then every batch ``torch.randint`` on the generator continuing from there), so a
seed gives the published run's initial weights and batches (docs/protocols.md)."""
"""``paper``: the published protocols (docs/protocols.md: initialisation, data and split,
sampling with replacement, cadences, run length, stop rule); ``toolkit-v1``: this toolkit's
earlier choices (default PyTorch initialisation, uniform Dyck words per seed, epoch
permutations, CPU-scaled caps), kept as a named variant."""

#: ``paper`` protocol settings that differ from the ``RunConfig`` field defaults, by task
#: family; :data:`PAPER_NO_DECAY` overrides them for wd = 0 (shorter runs, coarser
#: snapshots), :data:`PAPER_MULTI_TASK` for modular tasks with several heads. Sources:
#: docs/protocols.md.
PAPER: dict[str, dict[str, Any]] = {
    "modular": {"steps": 200_000, "stop_acc": 0.98, "stop_patience": 3,
                "stop_after_grok": None},
    "dyck": {"batch_size": 50, "window": 3, "stride": 200, "steps": 20_000,
             "stop_acc": 0.99, "stop_patience": 10, "stop_after_grok": None,
             "data_seed": 0, "n_train": 50, "n_test": 5000, "draws": "script"},
    "scan": {"lr": 1e-4, "batch_size": 256, "window": 5, "stride": 500, "eval_every": 500,
             "steps": 30_000, "stop_acc": 0.98, "stop_patience": 5,
             "stop_after_grok": None, "data_seed": 0, "n_test": 500},
}
PAPER_NO_DECAY: dict[str, dict[str, Any]] = {
    "modular": {"steps": 50_000, "stride": 500},
    "dyck": {"steps": 10_000, "stride": 500},
    "scan": {"steps": 20_000},
}
PAPER_MULTI_TASK: dict[str, Any] = {"steps": 300_000}
#: the tri-task script's no-decay runs keep its 100-step snapshots (``train_tritask.py``
#: changes only the step count for wd 0), unlike the single-op script's 500
PAPER_TRI_TASK_NO_DECAY: dict[str, Any] = {"stride": 100}

#: ``toolkit-v1`` settings that differ from the field defaults (CPU-scaled step caps).
TOOLKIT_V1: dict[str, dict[str, Any]] = {
    "modular": {"steps": 6000, "stop_after_grok": 1000},
    "dyck": {
        "batch_size": 50,
        "window": 3,
        "stride": 200,
        "eval_every": 50,
        "steps": 3000,
        "stop_after_grok": 400,
        "checkpoint_every": 200,
    },
    "scan": {
        "lr": 1e-4,
        "batch_size": 256,
        "window": 5,
        "stride": 500,
        "eval_every": 100,
        "steps": 6000,
        "stop_after_grok": 1000,
    },
}

#: kept for callers of the old name: the ``toolkit-v1`` table
PROTOCOLS = TOOLKIT_V1


def task_family(task: str) -> str:
    """The protocol-table key of a task name (``modadd`` -> ``modular``).

    Args:
        task: a task name.

    Returns:
        ``modular`` for ``mod*`` tasks, else the name itself.

    >>> task_family("modadd+modmul"), task_family("scan")
    ('modular', 'scan')
    """
    return "modular" if task.startswith("mod") else task


def protocol_settings(task: str, protocol: str = "paper", wd: float = 1.0) -> dict[str, Any]:
    """The settings a protocol gives ``task`` (those that differ from the field defaults).

    Args:
        task: a task name.
        protocol: ``paper`` or ``toolkit-v1``.
        wd: the weight decay (the paper's no-decay runs are shorter, with coarser snapshots).

    Returns:
        Field name -> value.

    Raises:
        InputError: for an unknown protocol.

    >>> protocol_settings("dyck", wd=0.0)["stride"], protocol_settings("modadd+modmul")["steps"]
    (500, 300000)
    >>> protocol_settings("modadd+modmul+modsq", wd=0.0)["stride"]
    100
    """
    check_choice("config field variant", protocol, PROTOCOL_NAMES)
    family = task_family(str(task))
    if protocol == "toolkit-v1":
        return dict(TOOLKIT_V1.get(family, {}))
    out = dict(PAPER.get(family, {}))
    if family == "modular" and "+" in str(task):
        out |= PAPER_MULTI_TASK
    if wd == 0:
        out |= PAPER_NO_DECAY.get(family, {})
        if family == "modular" and str(task).count("+") >= 2:
            out |= PAPER_TRI_TASK_NO_DECAY
    return out


SECTIONS: dict[str, tuple[str, ...]] = {
    "task": ("task", "variant", "seed", "data_seed", "p", "train_frac", "n_train", "n_test",
             "forget_step"),
    "model": ("model", "d_model", "n_heads", "d_ff", "n_layers", "n_dec_layers"),
    "optimizer": ("optimizer", "lr", "wd", "beta1", "beta2", "momentum", "batch_size",
                  "grad_clip"),
    "schedule": ("steps", "eval_every", "eval_batch", "checkpoint_every",
                 "keep_checkpoints_every"),
    "stop rules": ("grok_threshold", "grok_metric", "stop_after_grok", "stop_acc",
                   "stop_patience"),
    "monitor": ("monitor_select", "window", "stride", "sketch_dim", "kstar_method"),
    "probes": ("probe_every", "probe_hess_every", "probe_modes", "probe_batch",
               "probe_hess_k", "probe_noise_batches", "probe_draws", "probe_phi"),
    "system": ("threads", "device", "precision", "draws"),
    "language model": ("corpus", "seq_len", "lr_schedule", "warmup_steps", "lr_min_frac",
                       "eval_max"),
}
"""The sections of :class:`RunConfig`: section name -> its fields, each field in exactly one
(the CLI groups the flags this way). The field order of ``RunConfig`` itself is the order of
``config.json`` and stays as it was; ``forget_step`` and ``keep_checkpoints_every`` came
last.

>>> sorted(f for names in SECTIONS.values() for f in names) == sorted(RunConfig().to_dict())
True
"""

_PROBE = ProbeSettings()


@dataclass
class RunConfig:
    """Every setting of a run (plain data; ``config.json`` is ``asdict`` of it), in the
    sections of :data:`SECTIONS`.

    ``None`` in a size field means the task default
    (``spectral_edge.validation.runs.models.default_sizes``);
    ``data_seed`` None means ``seed``; ``grad_clip`` None or 0 means no clipping;
    ``stop_after_grok`` None means never stop early; ``momentum`` None means the
    optimizer's default (SGD 0, Muon 0.95). ``grok_metric`` is the accuracy the
    grok rule reads: ``acc`` (docs/spec.md §7: minimum over heads, per-position accuracy for
    Dyck, sequence accuracy for SCAN) or another key of
    ``spectral_edge.validation.runs.tasks.accuracy_keys``
    (``seq_acc`` for Dyck, ``token_acc`` for SCAN, ``acc_<op>`` for one head).
    ``device`` is ``cpu`` or ``cuda[:N]``; :func:`check_device` checks it is usable here.
    ``probe_*`` (docs/probes.md): probe every ``probe_every``-th window (None: no probes;
    exact monitor mode only), the top-``probe_hess_k`` Hessian eigenvalues on every
    ``probe_hess_every``-th window (None: never); ``keep_checkpoints_every``: also keep a
    copy of the checkpoint as ``checkpoints/step_N.pt`` at steps divisible by it (None: no
    copies), so ``spectral-edge probe --at N`` can re-probe that window later.
    ``forget_step`` (modular tasks only; None: never): induced forgetting for P12 — from
    that step on the training labels are switched to (y + 1) mod p, evaluation keeps the
    true labels. ``variant`` (:data:`PROTOCOL_NAMES`; docs/protocols.md) selects the
    initialisation, data generation and split, batch sampling and multi-task loss; a
    ``config.json`` written before the field existed reads as ``toolkit-v1``.
    ``draws`` (:data:`DRAWS`): ``keyed`` (our draw order, batches keyed by (seed, step)) or
    ``script`` (the published script's draws; Dyck only; the ``paper`` Dyck protocol's
    default); a ``config.json`` without the field reads as ``keyed``.
    ``stop_acc``/``stop_patience``: stop after ``stop_patience`` consecutive evaluations
    with test ``grok_metric`` >= ``stop_acc`` (None: no such rule; the paper's scripts stop
    this way). Several heads under ``paper`` (grok_metric ``acc``): each head needs its own
    streak, and the run stops once every head has had one, as the multi-task scripts do.
    Language model (task ``lm``, docs/scaling.md): ``corpus`` (a text file or a saved
    dataset), ``seq_len`` (None: 256); ``lr_schedule`` ``constant`` or ``cosine`` (to
    ``lr_min_frac`` · lr at ``steps``) after ``warmup_steps`` of linear warm-up;
    ``eval_max`` evaluates on at most that many examples of each split (None: all);
    ``precision`` ``bf16`` runs the forward pass and loss under bf16 autocast.
    """

    # task (and forget_step below)
    task: str = "modadd"
    seed: int = 42
    data_seed: int | None = None
    p: int = 97
    train_frac: float = 0.5
    n_train: int | None = None
    n_test: int | None = None
    # model
    model: str = "transformer"
    d_model: int | None = None
    n_heads: int | None = None
    d_ff: int | None = None
    n_layers: int | None = None
    n_dec_layers: int | None = None
    # optimizer
    optimizer: str = "adamw"
    lr: float = 1e-3
    wd: float = 1.0
    beta1: float = 0.9
    beta2: float = 0.98
    momentum: float | None = None
    batch_size: int = 512
    grad_clip: float | None = 1.0
    # schedule (and keep_checkpoints_every below); stop rules
    steps: int = 6000
    eval_every: int = 100
    eval_batch: int = 4096
    grok_threshold: float = 0.95
    grok_metric: str = "acc"
    stop_after_grok: int | None = 1000
    checkpoint_every: int = 500
    # monitor
    monitor_select: str = "attention"
    window: int = 10
    stride: int = 100
    sketch_dim: int | None = None
    kstar_method: str = "weighted"
    # system
    threads: int = 1
    device: str = "cpu"
    # probes: cadence here, the rest defaults to ProbeSettings'
    probe_every: int | None = 10
    probe_hess_every: int | None = 30
    probe_modes: int = _PROBE.modes
    probe_batch: int = _PROBE.batch
    probe_hess_k: int = _PROBE.hess_k
    probe_noise_batches: int = _PROBE.noise_batches
    probe_draws: int = _PROBE.draws
    probe_phi: float = _PROBE.phi
    keep_checkpoints_every: int | None = None
    forget_step: int | None = None
    variant: str = "paper"
    stop_acc: float | None = None
    stop_patience: int = 1
    # language model (task lm, docs/scaling.md): corpus, schedule, evaluation cap, precision
    corpus: str | None = None
    seq_len: int | None = None
    lr_schedule: str = "constant"
    warmup_steps: int = 0
    lr_min_frac: float = 0.1
    eval_max: int | None = None
    precision: str = "fp32"
    draws: str = "keyed"

    @classmethod
    def protocol(cls, task: str, **overrides: Any) -> RunConfig:
        """The protocol settings of ``task`` (:func:`protocol_settings`; the protocol is
        ``overrides["variant"]``, default ``paper``, and depends on ``wd``), then
        ``overrides``.

        Args:
            task: the task name.
            **overrides: config fields that replace the protocol's.

        Returns:
            The validated config.

        Raises:
            InputError: for an unknown protocol or a bad field.

        >>> RunConfig.protocol("scan").lr
        0.0001
        >>> RunConfig.protocol("modadd", wd=0.0).stride
        500
        """
        name = overrides.get("variant", "paper")
        wd = coerce_field("wd", overrides.get("wd", 1.0))
        base = {"task": task, "variant": name} | protocol_settings(task, name, wd)
        return cls.from_dict(base | overrides)

    @classmethod
    def from_dict(cls, data: Any) -> RunConfig:
        """Build and validate a config from plain data (``config.json``).

        Args:
            data: a dict of config fields.

        Returns:
            The validated config.

        Raises:
            InputError: for unknown keys, wrong types and impossible values (naming the field).
        """
        if not isinstance(data, dict):
            raise InputError(f"a run config must be a JSON object, got {type(data).__name__}")
        unknown = sorted(set(map(str, data)) - set(_hints()))
        if unknown:
            raise InputError(f"unknown config field(s): {', '.join(unknown)}")
        config = cls(**{"variant": "toolkit-v1"}  # written before the field existed
                     | {k: coerce_field(k, v) for k, v in data.items()})
        config.validate()
        return config

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-serialisable data.

        Returns:
            ``asdict`` of the config (the fields in their declared order).
        """
        return asdict(self)

    def validate(self) -> None:
        """Check every field.

        Raises:
            InputError: naming the field, for any impossible setting.
        """
        from spectral_edge.validation.runs.optimizers import OPTIMIZERS
        from spectral_edge.validation.runs.tasks import TASK_NAMES, is_known_task

        for f in fields(self):
            coerce_field(f.name, getattr(self, f.name))  # types (a config built by hand)

        def field(name: str) -> str:
            return f"config field {name}"

        if not is_known_task(self.task):
            known = ", ".join(TASK_NAMES)
            raise InputError(
                f"{field('task')} must be one of {known} (or mod tasks joined by +), "
                f"got {self.task!r}"
            )
        check_choice(field("optimizer"), self.optimizer, OPTIMIZERS)
        check_choice(field("model"), self.model, MODELS)
        check_choice(field("variant"), self.variant, PROTOCOL_NAMES)
        check_choice(field("draws"), self.draws, DRAWS)
        if self.draws == "script" and (self.task != "dyck" or self.model != "transformer"):
            raise InputError(
                f"{field('draws')} 'script' is implemented for the Dyck transformer only "
                f"(the published dyck/grok_sweep.py), not task {self.task!r} / model "
                f"{self.model!r}; use 'keyed'"
            )
        if self.stop_acc is not None:
            check_finite_number(field("stop_acc"), self.stop_acc, 0.0, strict=True, maximum=1.0)
        check_int(field("stop_patience"), self.stop_patience, 1)
        check_choice(field("kstar_method"), self.kstar_method, KSTAR_METHODS)
        for name in ("seed", "data_seed"):
            if getattr(self, name) is not None:
                check_int(field(name), getattr(self, name), 0, MAX_SEED)
        check_int(field("p"), self.p, 2, 10_007)
        check_finite_number(field("lr"), self.lr, 0.0, strict=True)
        check_finite_number(field("wd"), self.wd, 0.0)
        check_finite_number(field("train_frac"), self.train_frac, 0.0, strict=True, maximum=1.0)
        for name in ("beta1", "beta2", "momentum"):
            if getattr(self, name) is None:
                continue
            value = check_finite_number(field(name), getattr(self, name), 0.0)
            if value >= 1:
                raise InputError(f"{field(name)} must be in [0, 1), got {value}")
        if self.grad_clip is not None:
            check_finite_number(field("grad_clip"), self.grad_clip, 0.0)
        check_finite_number(
            field("grok_threshold"), self.grok_threshold, 0.0, strict=True, maximum=1.0
        )
        for name in ("batch_size", "steps", "eval_every", "eval_batch", "checkpoint_every",
                     "stride", "threads"):
            check_int(field(name), getattr(self, name), 1, SIZE_LIMITS.get(name))
        for name in ("d_model", "n_heads", "d_ff", "n_layers", "n_dec_layers", "n_train",
                     "n_test"):
            if getattr(self, name) is not None:
                check_int(field(name), getattr(self, name), 1, SIZE_LIMITS.get(name))
        if self.stop_after_grok is not None:
            check_int(field("stop_after_grok"), self.stop_after_grok, 0)
        if self.forget_step is not None:
            check_int(field("forget_step"), self.forget_step, 1)
            if task_family(self.task) != "modular":
                raise InputError(f"{field('forget_step')} needs a modular task, "
                                 f"got {self.task!r}")
        for name in ("probe_every", "probe_hess_every", "keep_checkpoints_every"):
            if getattr(self, name) is not None:
                check_int(field(name), getattr(self, name), 1)
        for name, low in (("probe_modes", 1), ("probe_batch", 1), ("probe_hess_k", 0),
                          ("probe_noise_batches", 2), ("probe_draws", 1)):
            check_int(field(name), getattr(self, name), low, SIZE_LIMITS[name])
        check_finite_number(field("probe_phi"), self.probe_phi)
        check_window(self.window, field("window"))
        check_int(field("window"), self.window, 2, SIZE_LIMITS["window"])
        if self.sketch_dim is not None:
            check_int(field("sketch_dim"), self.sketch_dim, self.window,
                      SIZE_LIMITS["sketch_dim"])
        check_device_name(self.device)
        check_choice(field("lr_schedule"), self.lr_schedule, ("constant", "cosine"))
        check_choice(field("precision"), self.precision, ("fp32", "bf16"))
        check_int(field("warmup_steps"), self.warmup_steps, 0)
        check_finite_number(field("lr_min_frac"), self.lr_min_frac, 0.0, maximum=1.0)
        for name in ("seq_len", "eval_max"):
            if getattr(self, name) is not None:
                check_int(field(name), getattr(self, name), 1)


@cache
def _hints() -> dict[str, Any]:
    return get_type_hints(RunConfig)


def coerce_field(name: str, value: Any) -> Any:
    """``value`` as the type of the ``RunConfig`` field ``name``.

    Strings (from the command line) are parsed (``none``/``null`` for an optional field);
    JSON values are type-checked (ints accepted for floats, bools refused for numbers).

    Args:
        name: a ``RunConfig`` field.
        value: a JSON value or a command-line string.

    Returns:
        The value as the field's type.

    Raises:
        InputError: for an unknown field or a value of the wrong type.

    >>> coerce_field("seed", "7"), coerce_field("lr", 1)
    (7, 1.0)
    >>> coerce_field("seed", "2**70")
    Traceback (most recent call last):
    ...
    spectral_edge.common.errors.InputError: config field seed must be int, got '2**70'
    """
    hints = _hints()
    if name not in hints:
        raise InputError(f"unknown config field {name!r}")
    allowed = getattr(hints[name], "__args__", (hints[name],))
    label = f"config field {name}"
    if isinstance(value, str) and str not in allowed:
        text = value.strip()
        if text.lower() in NONE_WORDS and type(None) in allowed:
            return None
        for kind in (int, float):
            if kind in allowed:
                try:
                    value = kind(text)
                except (ValueError, OverflowError):
                    continue
                break
    if value is None:
        if type(None) in allowed:
            return None
        raise InputError(f"{label} must not be null")
    for kind in allowed:
        if kind is float and isinstance(value, int | float) and not isinstance(value, bool):
            return float(value)
        if kind is int and isinstance(value, int) and not isinstance(value, bool):
            return value
        if kind is int and isinstance(value, float) and value.is_integer():
            return int(value)
        if kind is str and isinstance(value, str):
            return value
    names = "/".join("none" if k is type(None) else k.__name__ for k in allowed)
    raise InputError(f"{label} must be {names}, got {value!r}")


def check_device_name(device: str) -> None:
    """Check that ``device`` is ``cpu``, ``cuda`` or ``cuda:N`` (N a non-negative integer).

    Args:
        device: the device name.

    Raises:
        InputError: for any other name.
    """
    head, colon, index = device.partition(":")
    if device != "cpu" and not (head == "cuda" and (not colon or index.isdigit())):
        raise InputError(f"config field device must be cpu, cuda or cuda:N, got {device!r}")


def check_device(device: str) -> None:
    """Check that ``device`` names a device this machine has.

    Args:
        device: the device name.

    Raises:
        InputError: for a bad name, or a CUDA device this machine lacks.

    >>> check_device("cpu")
    """
    check_device_name(device)
    if device == "cpu":
        return
    import torch

    if not torch.cuda.is_available():
        raise InputError(f"config field device is {device!r}, but CUDA is not available here")
    index = int(device.partition(":")[2] or 0)
    if index >= torch.cuda.device_count():
        raise InputError(
            f"config field device is {device!r}, but only {torch.cuda.device_count()} "
            "CUDA device(s) exist"
        )


def base_config(path: str | None) -> dict[str, Any]:
    """The ``--config`` file's fields (validated as a whole config).

    Args:
        path: the JSON file, or None.

    Returns:
        Its fields, or ``{}`` when ``path`` is None.
    """
    if path is None:
        return {}
    from spectral_edge.validation.runs import rundir

    data = rundir.read_json(path)
    RunConfig.from_dict(data)
    return data


def make_config(base: dict[str, Any], given: dict[str, Any]) -> RunConfig:
    """Protocol defaults of the task, then the ``--config`` file, then the flags.

    Args:
        base: fields of the ``--config`` file.
        given: fields given as flags.

    Returns:
        The validated config.
    """
    merged = base | given
    return RunConfig.protocol(merged.pop("task", "modadd"), **merged)
