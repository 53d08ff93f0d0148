"""Score the registered predictions on runs: :func:`evaluate` and :data:`PREDICTIONS`.

Importing this module registers every scorer (:mod:`.sigma`, :mod:`.grokking`,
:mod:`.probes`, :mod:`.flow`); :data:`PREDICTIONS` lists them in the order of the rule
table.

>>> list(PREDICTIONS)[:3], len(PREDICTIONS)
(['P1', 'P2', 'P3'], 16)
"""

from __future__ import annotations

from spectral_edge.common.errors import InputError
from spectral_edge.validation.scorecard.analysis import RunData
from spectral_edge.validation.scorecard.predictions import flow, grokking, probes, sigma
from spectral_edge.validation.scorecard.predictions.base import (
    REGISTRY,
    PredictionResult,
    Scorer,
    missing,
    standard,
)
from spectral_edge.validation.scorecard.predictions.rules import RULES_V1

SCORER_MODULES = (sigma, grokking, probes, flow)
"""The modules whose scorers register themselves (imported for that)."""

PREDICTIONS: dict[str, Scorer] = {r.id: REGISTRY[r.id].scorer for r in RULES_V1}
"""Prediction id -> its scoring function, in the order of the rule table."""

SIGMA_ONLY = ("P1", "P2", "P5", "P6")
"""Predictions measurable from σ per window alone (an external spectra file)."""


def evaluate(runs: list[RunData], ids: tuple[str, ...] | None = None
             ) -> list[PredictionResult]:
    """Score every prediction (or ``ids``) on ``runs``.

    A prediction whose inputs are malformed is ``not measurable`` with the error as the
    reason. Sketched and induced-forgetting runs are read only by the predictions
    registered with ``all_runs`` (P12, P14; see
    :func:`~spectral_edge.validation.scorecard.predictions.base.standard`).

    Args:
        runs: the runs to score (:func:`~spectral_edge.validation.scorecard.analysis.load`).
        ids: prediction ids to score (default: all, in rule-table order).

    Returns:
        One result per prediction.

    Raises:
        InputError: for an unknown prediction id.

    >>> [r.verdict for r in evaluate([], ("P1", "P7"))]
    ['not measurable', 'not measurable']
    """
    out = []
    for pid in ids or tuple(PREDICTIONS):
        if pid not in PREDICTIONS:
            raise InputError(f"unknown prediction id {pid!r}; use P1..P16")
        if not runs:
            out.append(missing(pid, "no runs"))
            continue
        chosen = runs if REGISTRY[pid].all_runs else standard(runs)
        if not chosen:
            out.append(missing(pid, "only sketched or induced-forgetting runs", runs))
            continue
        try:
            out.append(PREDICTIONS[pid](chosen))
        except (KeyError, ValueError, IndexError) as err:
            out.append(missing(pid, f"inputs unusable: {type(err).__name__}: {err}", runs))
    return out
