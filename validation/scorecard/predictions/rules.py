"""The versioned rule table: every prediction's statement, pass rule and thresholds.

The pass rules were fixed before any run was analysed; ``docs/predictions.md`` prints the
table (:func:`rules_markdown`). A rule changed after looking at data must get a new
:data:`RULES_VERSION` and a line in :data:`RULE_CHANGES`.

>>> [r.id for r in RULES][:3], RULES_VERSION, RULE_BY_ID["P2"].params
(['P1', 'P2', 'P3'], '1', {'max_mode': 3})
"""

from __future__ import annotations

from dataclasses import dataclass

RULES_VERSION = "1"
"""Version of :data:`RULES`. Version 1 was written on 2026-11-25 from docs/spec.md §6,
before any run directory was scored."""

RULE_CHANGES: tuple[str, ...] = ()
"""Every change of a rule after data was seen, with its reason (none so far)."""


@dataclass(frozen=True)
class Rule:
    """One prediction's statement, pass rule, thresholds and the published figure."""

    id: str
    statement: str
    rule: str
    params: dict[str, float]
    published: str
    needs: str


RULES: tuple[Rule, ...] = (
    Rule("P1", "BBP is vacuous", "min over windows of σ_W/d_crit > 5",
         {"min_vacuity": 5.0}, "vacuous at P ~ 1e5–1e8", "spectra.csv (P)"),
    Rule("P2", "few active modes", "mode of k* ≤ 3 in every run",
         {"max_mode": 3}, "k* ≤ 3", "spectra.csv"),
    Rule("P3", "the optimizer sets the gap position",
         "mode k*(Muon) < mode k*(AdamW), same task and model, for every task with both",
         {}, "Muon k* = 1, AdamW k* = 2", "spectra.csv of AdamW and Muon runs"),
    Rule("P4", "Krylov bound with the measured Hessian",
         "k* ≤ #{Lanczos h ≥ 1/(η_eff W)} in ≥ 90% of probed windows",
         {"min_fraction": 0.9}, "k* ≤ 4–5 checked (no Hessian)", "probe_windows.csv"),
    Rule("P5", "three-phase pattern, gap coupled to the loss",
         "rise/plateau/collapse segments (Welch p < 0.05 each side) in ≥ half the runs, "
         "and mean detrended |corr(R, val loss)| > 0.3",
         {"min_corr": 0.3, "p_value": 0.05, "min_fraction": 0.5},
         "|corr| = 0.67", "spectra.csv, metrics.csv"),
    Rule("P6", "stability hierarchy",
         "mean α_dom > mean α_gap > mean α_sub (dom = modes 1..k*, gap = k*+1, k*+2, "
         "sub = ≥ k*+3), exact α",
         {}, "α₁ 0.82 > α₂ 0.23 > α≥4 ≈ 0 (proxy α)", "spectra.csv"),
    Rule("P7", "gap flow with measured terms",
         "pooled R² ≥ 0.5 of the right-hand side of R2 (measured h, Γ, N, ω) against ġ",
         {"min_r2": 0.5}, "r ≈ 0 (g vs ġ, no curvature)", "probes.csv"),
    Rule("P8", "gap dynamics precede grokking",
         "g₂₃ declines > 1.5× by the grok step in N/N grokking weight-decay runs, and 0/N "
         "no-decay runs grok",
         {"min_decline": 1.5}, "24/24 vs 0/24 (1/24); 8–111×", "spectra.csv, metrics.csv"),
    Rule("P9", "k* = 1 at grokking",
         "weighted k* = 1 in the last window at or before the grok step, in every grokking run",
         {}, "k* = 1 in every Dyck/SCAN run", "spectra.csv, metrics.csv"),
    Rule("P10", "loss decomposition",
         "mean over probed windows of Spearman(α_j G_j^tr G_j^val, Δloss of ablating v_j) > 0.5",
         {"min_rho": 0.5}, "-", "probes.csv, spectra.csv"),
    Rule("P11", "Gap Maximality",
         "mean |Δloss| of mixing across k* ≥ 10× mean |Δloss| of mixing within a block",
         {"min_ratio": 10.0}, "-", "probes.csv"),
    Rule("P12", "adiabatic regimes",
         "median A < 0.1 away (> 2 windows) from the grok step; peak A within ±2 windows of "
         "the grok step in every grokking run; max A > 10 after induced forgetting",
         {"low": 0.1, "high": 10.0, "within": 2}, "A ≪ 1 / ~1 / ≫ 1",
         "spectra.csv, metrics.csv, a forgetting run"),
    Rule("P13", "lifecycle: gradient-driven to weight-decay-driven",
         "gradient energy fraction on v_1 > 0.8 before grokking and < 0.2 after (wd runs)",
         {"before": 0.8, "after": 0.2}, "88–98% → 0.2–5%", "probes.csv, metrics.csv"),
    Rule("P14", "sketching keeps the spectrum",
         "mean relative σ error ≤ 10% at sketch dimension 10W (σ₂/σ₃ ratio error reported too)",
         {"max_error": 0.10}, "≤ 7.4% (σ₂/σ₃ ratio error)",
         "a sketched run and its exact twin"),
    Rule("P15", "edge ablation",
         "mean |Δacc| of removing v_1..v_k* ≥ 100× mean |Δacc| of random directions",
         {"min_ratio": 100.0}, "Δacc ≈ −0.58 ± 0.09, > 4000×", "probe_windows.csv"),
    Rule("P16", "steady-state hierarchy",
         "mean over probed windows of Spearman(d_j, √(WΓ_j/(h_j+ω))) > 0.5",
         {"min_rho": 0.5}, "-", "probes.csv"),
)

RULE_BY_ID = {r.id: r for r in RULES}
"""Prediction id -> its :class:`Rule`."""


def rules_markdown() -> str:
    """The rule table as Markdown (docs/predictions.md and the scorecard print it).

    Returns:
        A Markdown table, one row per rule of :data:`RULES`.

    >>> rules_markdown().splitlines()[0]
    '| id | prediction | pass rule | published | measured from |'
    """
    lines = ["| id | prediction | pass rule | published | measured from |",
             "|---|---|---|---|---|"]
    lines += [f"| {r.id} | {r.statement} | {r.rule} | {r.published} | {r.needs} |"
              for r in RULES]
    return "\n".join(lines)
