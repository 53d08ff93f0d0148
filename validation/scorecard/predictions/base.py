"""The registry of predictions, the result record, and what every scorer shares.

A prediction is a scorer ``runs -> PredictionResult`` registered under its id with
:func:`register`; its statement and pass rule come from the rule table
(:data:`~spectral_edge.validation.scorecard.predictions.rules.RULES`). Scorers build their
result with :func:`result` (or :func:`missing` for ``not measurable``) and pick their runs
with the selectors below.

>>> REGISTRY["P1"].claim
'BBP is vacuous'
>>> missing("P2", "no windows").verdict
'not measurable'
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from spectral_edge.common.errors import InputError
from spectral_edge.numerics.bootstrap import Estimate
from spectral_edge.validation.runs.rundir import dense_base
from spectral_edge.validation.scorecard.analysis import RunData, grok_step
from spectral_edge.validation.scorecard.predictions.rules import RULE_BY_ID_V1, Rule

PASS, FAIL, NOT_MEASURABLE = "pass", "fail", "not measurable"

Scorer = Callable[[list[RunData]], "PredictionResult"]


@dataclass(frozen=True)
class PredictionResult:
    """One prediction scored: the value, its interval, the verdict and why.

    Version-2 results (``version`` "2") also carry the rule's ``source`` and the test's
    calibration: ``power`` (pass rate on theory-true surrogates) and ``false_pass`` (pass
    rate on the negative control), each with its Monte-Carlo standard error; NaN when the
    result was not calibrated (version 1, not measurable).
    """

    id: str
    statement: str
    rule: str
    published: str
    verdict: str
    value: float = math.nan
    ci_low: float = math.nan
    ci_high: float = math.nan
    ci_over: str = ""
    value_text: str = ""
    reason: str = ""
    runs: tuple[str, ...] = ()
    details: dict[str, Any] = field(default_factory=dict)
    version: str = "1"
    source: str = ""
    power: float = math.nan
    power_se: float = math.nan
    false_pass: float = math.nan
    false_pass_se: float = math.nan
    calibration: str = ""

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready dict (NaN kept as NaN).

        Returns:
            Every field, tuples as lists.

        >>> missing("P1", "none").as_dict()["runs"]
        []
        """
        return {k: (list(v) if isinstance(v, tuple) else v) for k, v in self.__dict__.items()}


@dataclass(frozen=True)
class Prediction:
    """A registered prediction: its id, scorer, and whether it reads every run.

    ``all_runs``: the scorer also reads sketched and induced-forgetting runs (P12, P14);
    every other prediction sees only :func:`standard` runs.
    """

    id: str
    scorer: Scorer
    all_runs: bool = False

    @property
    def spec(self) -> Rule:
        """The prediction's row of the rule table."""
        return RULE_BY_ID_V1[self.id]

    @property
    def claim(self) -> str:
        """What the theory predicts, in a few words."""
        return self.spec.statement

    @property
    def rule(self) -> str:
        """The pass rule."""
        return self.spec.rule


REGISTRY: dict[str, Prediction] = {}
"""Prediction id -> :class:`Prediction`, filled by :func:`register`."""


def register(pid: str, *, all_runs: bool = False) -> Callable[[Scorer], Scorer]:
    """Register the decorated scorer as prediction ``pid``.

    Args:
        pid: an id of the rule table.
        all_runs: the scorer reads sketched and induced-forgetting runs too.

    Returns:
        A decorator that registers the scorer and returns it unchanged.

    Raises:
        InputError: for an id without a rule, or one registered twice.

    >>> register("P99")
    Traceback (most recent call last):
    ...
    spectral_edge.common.errors.InputError: no rule for prediction 'P99'
    """
    if pid not in RULE_BY_ID_V1:
        raise InputError(f"no rule for prediction {pid!r}")

    def decorate(scorer: Scorer) -> Scorer:
        if pid in REGISTRY:
            raise InputError(f"prediction {pid} is registered twice")
        REGISTRY[pid] = Prediction(pid, scorer, all_runs)
        return scorer

    return decorate


def result(pid: str, verdict: str, est: Estimate | None = None, *, over: str = "",
           text: str = "", reason: str = "", runs: list[RunData] | tuple = (),
           **details: Any) -> PredictionResult:
    """A :class:`PredictionResult` of ``pid`` with the rule's texts filled in.

    Args:
        pid: the prediction id.
        verdict: :data:`PASS`, :data:`FAIL` or :data:`NOT_MEASURABLE`.
        est: the measured value and its interval (none: NaN).
        over: what the interval resamples.
        text: the value as shown (default: ``est.text()``).
        reason: why the verdict (required for ``not measurable``).
        runs: the runs used (or their names).
        **details: anything else worth keeping, made JSON-ready.

    Returns:
        The result.

    >>> result("P1", PASS, Estimate(6.0, 5.5, 6.5, 3)).value_text
    '6 [5.5, 6.5]'
    """
    rule = RULE_BY_ID_V1[pid]
    est = est or Estimate(math.nan, math.nan, math.nan, 0)
    names = tuple(r.name if isinstance(r, RunData) else str(r) for r in runs)
    return PredictionResult(
        id=pid, statement=rule.statement, rule=rule.rule, published=rule.published,
        verdict=verdict, value=est.value, ci_low=est.low, ci_high=est.high, ci_over=over,
        value_text=text or est.text(), reason=reason, runs=names, details=_plain(details),
    )


def _plain(obj: Any) -> Any:
    if isinstance(obj, dict):
        return {str(k): _plain(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [_plain(v) for v in obj]
    if isinstance(obj, np.generic):
        return obj.item()
    return obj


def missing(pid: str, reason: str, runs: list[RunData] | tuple = ()) -> PredictionResult:
    """``pid`` not measurable, with the reason (see :func:`result`)."""
    return result(pid, NOT_MEASURABLE, reason=reason, runs=runs)


def param(pid: str, key: str) -> float:
    """A threshold of ``pid``'s rule."""
    return RULE_BY_ID_V1[pid].params[key]


# --------------------------------------------------------------------------- run selectors


def standard(runs: list[RunData]) -> list[RunData]:
    """Runs that are neither sketched (``sketch_dim``), induced-forgetting
    (``forget_step``) nor dense re-runs (:func:`dense_by_original`; the same training as their
    original): the ones every prediction but P8, P12 (c) and P14 reads.

    >>> standard([])
    []
    """
    return [r for r in runs if r.get("sketch_dim") is None and r.get("forget_step") is None
            and dense_base(r.name) is None]


def dense_by_original(runs: list[RunData]) -> dict[str, RunData]:
    """The dense re-runs among ``runs`` (snapshots more often, same training; named by
    :func:`~spectral_edge.validation.runs.rundir.dense_name`), by their original's name.

    >>> dense_by_original([])
    {}
    """
    return {base: r for r in runs if (base := dense_base(r.name)) is not None}


def trained(runs: list[RunData]) -> list[RunData]:
    """The runs trained here (not external spectra files)."""
    return [r for r in runs if not r.external]


def with_file(runs: list[RunData], attr: str) -> list[RunData]:
    """The runs whose ``attr`` (``probes``, ``probe_windows``) has rows."""
    return [r for r in runs if getattr(r, attr) is not None and len(getattr(r, attr))]


def probe_runs(runs: list[RunData], pid: str, what: str = "probes"
               ) -> tuple[list[RunData], PredictionResult | None]:
    """The trained runs with ``what`` rows, or ``pid`` not measurable when there is none."""
    have = with_file(trained(runs), what)
    if not have:
        return [], missing(pid, f"no run has {what}.csv (train with probes on)", runs)
    return have, None


def grok(run: RunData, rule: str = "spec") -> int | None:
    """The run's grok step by ``rule`` (None: never grokked)."""
    return grok_step(run.metrics, rule)


def wd_of(run: RunData) -> float:
    """The run's weight decay from its config (NaN when unknown)."""
    return float(run.get("wd", math.nan))


def forget_step(run: RunData) -> int | None:
    """The step of an induced forgetting event (config ``forget_step``), if any."""
    v = run.get("forget_step")
    return int(v) if v is not None else None


def window_at(run: RunData, step: int) -> int | None:
    """Index of the last window ending at or before ``step`` (None: none does)."""
    steps = run.spectra["step"].to_numpy()
    idx = np.flatnonzero(steps <= step)
    return int(idx[-1]) if idx.size else None
