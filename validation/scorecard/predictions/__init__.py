"""The sixteen predictions P1–P16 (docs/spec.md §6), each scored on run directories.

Every prediction is a registered scorer ``runs -> PredictionResult`` of a list of
:class:`spectral_edge.validation.scorecard.analysis.RunData`. The result carries the
measured value with a bootstrap confidence interval (fixed seed,
:mod:`spectral_edge.numerics.bootstrap`; over windows or seeds, said in ``ci_over``), the
pass rule, the verdict — ``pass``, ``fail`` or ``not measurable`` with the reason — and
the runs used. Where the published scripts define a quantity differently (docs/spec.md
§8), both values are in ``details``.

The package, one job per module:

* :mod:`.rules` — the versioned rule table :data:`RULES` (version :data:`RULES_VERSION`),
  fixed before any run was analysed; a rule changed after looking at data gets a new
  version and a line in :data:`RULE_CHANGES`;
* :mod:`.base` — the registry (:func:`register`, :class:`Prediction`), the result record
  and the run selectors;
* :mod:`.stats` — generic statistics (mode, Spearman, three-phase segmentation);
* :mod:`.sigma`, :mod:`.grokking`, :mod:`.probes`, :mod:`.flow` — the scorers;
* :mod:`.terms` — figure data shared by scorers and figures;
* :mod:`.scoring` — :func:`evaluate`.

Version 2.2 (:data:`RULES`, :data:`RULES_VERSION` "2.2"; version 1 is :data:`RULES_V1`): each
prediction is a calibrated :class:`~.checks.Check` (:mod:`.checks`; scorers in
:mod:`.spectra_v2`, :mod:`.flow_v2`, :mod:`.events_v2`, :mod:`.probes_v2`), scored by
:func:`evaluate_v2` (:mod:`.scoring_v2`) with verdicts pass / fail / inconclusive / not
measurable.

>>> [r.id for r in RULES][:3], RULES_VERSION
(['P1', 'P2', 'P3'], '2.2')
>>> evaluate([])[0].verdict, evaluate_v2([])[0].verdict
('not measurable', 'not measurable')
"""

from __future__ import annotations

from spectral_edge.validation.scorecard.predictions.base import (
    FAIL,
    NOT_MEASURABLE,
    PASS,
    REGISTRY,
    Prediction,
    PredictionResult,
    register,
    standard,
)
from spectral_edge.validation.scorecard.predictions.rules import (
    RULE_BY_ID,
    RULE_BY_ID_V1,
    RULE_CHANGES,
    RULES,
    RULES_V1,
    RULES_VERSION,
    Rule,
    rules_markdown,
)
from spectral_edge.validation.scorecard.predictions.scoring import (
    PREDICTIONS,
    SIGMA_ONLY,
    evaluate,
)
from spectral_edge.validation.scorecard.predictions.scoring_v2 import (
    CalibrationCache,
    evaluate_v2,
)
from spectral_edge.validation.scorecard.predictions.stats import three_phase
from spectral_edge.validation.scorecard.predictions.terms import (
    MONITOR_ONLY,
    gap_flow_terms,
    lifecycle_runs,
    sketch_twins,
    steady_state_terms,
)

__all__ = [
    "RULES_V1", "RULE_BY_ID_V1", "CalibrationCache", "evaluate_v2",
    "FAIL", "MONITOR_ONLY", "NOT_MEASURABLE", "PASS", "PREDICTIONS", "REGISTRY",
    "RULES", "RULES_VERSION", "RULE_BY_ID", "RULE_CHANGES", "SIGMA_ONLY", "Prediction",
    "PredictionResult", "Rule", "evaluate", "gap_flow_terms", "lifecycle_runs",
    "register", "rules_markdown", "sketch_twins", "standard", "steady_state_terms",
    "three_phase",
]
