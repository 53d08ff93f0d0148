"""Version-2 predictions: a measurement, its theory-true surrogates and a negative control.

A version-2 prediction is a :class:`Check`: ``measure(runs) -> Outcome`` applies the pass
rule of :data:`~spectral_edge.validation.scorecard.predictions.rules.RULES` to run records;
``theory_true(runs, seed)`` and ``theory_false(runs, seed)`` build surrogate run records
matched to the real ones (same W, window count, stride, probes…), the first with the theory
true by construction, the second with the prediction violated. :func:`score` measures the
real runs, runs the same measurement on K replicates of each surrogate side
(:func:`~spectral_edge.validation.scorecard.calibration.calibrate_runs`) and gives the
verdict: ``pass``/``fail`` when the test can tell (power ≥ 0.8 and false-pass ≤ 0.2),
``inconclusive`` when it cannot, ``not measurable`` when the data lacks what the rule needs.

>>> from spectral_edge.validation.scorecard.predictions import scoring_v2  # registers
>>> sorted(CHECKS, key=lambda p: int(p[1:]))[:3]
['P1', 'P2', 'P3']
>>> missing_v2("P3", "no LM runs").verdict
'not measurable'
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, replace
from typing import Any

from spectral_edge.common.errors import InputError
from spectral_edge.numerics.bootstrap import Estimate
from spectral_edge.validation.scorecard.calibration import Calibration, calibrate_runs
from spectral_edge.validation.scorecard.predictions.base import (
    NOT_MEASURABLE,
    PredictionResult,
    _plain,
)
from spectral_edge.validation.scorecard.predictions.rules import RULE_BY_ID, RULES_VERSION
from spectral_edge.validation.scorecard.rundata import RunData

INCONCLUSIVE = "inconclusive"

DEFAULT_K = 20
"""Surrogate replicates per side of a calibration."""


@dataclass(frozen=True)
class Outcome:
    """A version-2 rule applied to run records.

    ``passed``: the rule's outcome (None: not measurable, ``reason`` says why); ``est``: the
    measured value and its interval; ``text``: the value as shown; ``details``: anything
    else worth keeping (JSON-ready after :func:`score`).
    """

    passed: bool | None
    est: Estimate | None = None
    over: str = ""
    text: str = ""
    reason: str = ""
    runs: tuple[str, ...] = ()
    details: dict[str, Any] = field(default_factory=dict)


Measure = Callable[[list[RunData]], Outcome]
Maker = Callable[[list[RunData], int], list[RunData]]


@dataclass(frozen=True)
class Check:
    """A registered version-2 prediction (see the module docstring).

    ``violation`` names the negative control; ``all_runs``: the measurement also reads
    sketched and induced-forgetting runs (P12, P14).
    """

    id: str
    measure: Measure
    theory_true: Maker | None = None
    theory_false: Maker | None = None
    violation: str = ""
    all_runs: bool = False


CHECKS: dict[str, Check] = {}
"""Prediction id -> its version-2 :class:`Check`, filled by :func:`check`."""


def check(pid: str, *, theory_true: Maker | None = None, theory_false: Maker | None = None,
          violation: str = "", all_runs: bool = False) -> Callable[[Measure], Measure]:
    """Register the decorated measurement as version-2 prediction ``pid``.

    Args:
        pid: An id of the version-2 rule table.
        theory_true: (real runs, seed) -> surrogate runs with the theory true.
        theory_false: (real runs, seed) -> surrogate runs of the negative control.
        violation: The negative control's name.
        all_runs: The measurement reads sketched and induced-forgetting runs too.

    Returns:
        A decorator that registers the measurement and returns it unchanged.

    Raises:
        InputError: For an id without a rule, or one registered twice.

    >>> check("P99")
    Traceback (most recent call last):
    ...
    spectral_edge.common.errors.InputError: no version-2 rule for prediction 'P99'
    """
    if pid not in RULE_BY_ID:
        raise InputError(f"no version-2 rule for prediction {pid!r}")

    def decorate(measure: Measure) -> Measure:
        if pid in CHECKS:
            raise InputError(f"version-2 prediction {pid} is registered twice")
        CHECKS[pid] = Check(pid, measure, theory_true, theory_false, violation, all_runs)
        return measure

    return decorate


def result_v2(pid: str, verdict: str, outcome: Outcome,
              calibration: Calibration | None = None, note: str = "") -> PredictionResult:
    """The :class:`PredictionResult` (version 2) of an outcome and its calibration.

    Args:
        pid: The prediction id.
        verdict: pass, fail, inconclusive or not measurable.
        outcome: The measurement on the real runs.
        calibration: Power and false-pass rate (None: not calibrated).
        note: Why the verdict (added to the outcome's reason).

    Returns:
        The result; calibration numbers NaN when there is none.
    """
    rule = RULE_BY_ID[pid]
    est = outcome.est or Estimate(math.nan, math.nan, math.nan, 0)
    cal = calibration
    reason = "; ".join(x for x in (outcome.reason, note) if x)
    return PredictionResult(
        id=pid, statement=rule.statement, rule=rule.rule, published=rule.published,
        verdict=verdict, value=est.value, ci_low=est.low, ci_high=est.high,
        ci_over=outcome.over, value_text=outcome.text or est.text(), reason=reason,
        runs=tuple(outcome.runs), details=_plain(outcome.details), version=RULES_VERSION,
        source=rule.source, power=cal.power if cal else math.nan,
        power_se=cal.power_se if cal else math.nan,
        false_pass=cal.false_pass if cal else math.nan,
        false_pass_se=cal.false_pass_se if cal else math.nan,
        calibration=(f"K = {cal.K}, control: {cal.violation}" if cal else ""),
    )


def missing_v2(pid: str, reason: str, runs: list[RunData] | tuple = ()) -> PredictionResult:
    """``pid`` not measurable (version 2), with the reason."""
    names = tuple(r.name if isinstance(r, RunData) else str(r) for r in runs)
    return result_v2(pid, NOT_MEASURABLE, Outcome(None, reason=reason, runs=names))


def _passed(measure: Measure) -> Callable[[list[RunData]], bool | None]:
    def test(runs: list[RunData]) -> bool | None:
        if not runs:
            return None
        try:
            return measure(runs).passed
        except (KeyError, ValueError, IndexError, InputError):
            return None
    return test


def calibrate_check(chk: Check, runs: list[RunData], *, K: int = DEFAULT_K,
                    seed: int = 0) -> Calibration:
    """The power and false-pass rate of ``chk``'s measurement, on surrogates of ``runs``.

    Args:
        chk: The prediction.
        runs: The real runs it was measured on (the surrogates copy their settings).
        K: Replicates per side.
        seed: Seed.

    Returns:
        The calibration.

    Raises:
        InputError: When the prediction has no surrogates.
    """
    if chk.theory_true is None or chk.theory_false is None:
        raise InputError(f"{chk.id} has no surrogates to calibrate with")
    make_true, make_false = chk.theory_true, chk.theory_false
    return calibrate_runs(_passed(chk.measure), lambda s: make_true(runs, s),
                          lambda s: make_false(runs, s), violation=chk.violation, K=K,
                          seed=seed)


def score(chk: Check, runs: list[RunData], *, K: int = DEFAULT_K, seed: int = 0,
          calibration: Calibration | None = None) -> PredictionResult:
    """Measure ``chk`` on ``runs`` and give its calibrated verdict.

    Args:
        chk: The prediction.
        runs: The runs it reads.
        K: Replicates per side of the calibration (unused with ``calibration``).
        seed: Seed of the calibration.
        calibration: A calibration computed before (e.g. read from a cache).

    Returns:
        The version-2 result: ``not measurable`` when the rule cannot be applied,
        ``inconclusive`` when the test cannot tell (or has no calibration), else pass/fail.
    """
    try:
        outcome = chk.measure(runs)
    except (KeyError, ValueError, IndexError, InputError) as err:
        outcome = Outcome(None, reason=f"inputs unusable: {type(err).__name__}: {err}")
    if outcome.passed is None:
        return result_v2(chk.id, NOT_MEASURABLE, outcome)
    if calibration is None:
        if chk.theory_true is None:
            return result_v2(chk.id, INCONCLUSIVE, outcome,
                             note="no surrogates to calibrate the test with")
        try:
            calibration = calibrate_check(chk, runs, K=K, seed=seed)
        except (KeyError, ValueError, IndexError, InputError) as err:
            return result_v2(chk.id, INCONCLUSIVE, outcome,
                             note=f"calibration failed: {type(err).__name__}: {err}")
    verdict = calibration.verdict(outcome.passed)
    note = ("" if calibration.conclusive else
            f"the test cannot tell here: power {calibration.power:.2f}, false-pass "
            f"{calibration.false_pass:.2f}; the rule itself says "
            f"{'pass' if outcome.passed else 'fail'}")
    res = result_v2(chk.id, verdict, outcome, calibration, note)
    return replace(res, details=res.details | {"rule_outcome": outcome.passed,
                                               "calibration_record": asdict(calibration)})
