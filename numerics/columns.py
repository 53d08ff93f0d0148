"""The one column schema of a run directory's CSV files: each column's name, unit, meaning.

Every writer and reader of ``spectra.csv``, ``metrics.csv``, ``probes.csv`` and
``probe_windows.csv`` takes the column names from here; ``docs/run-directory.md`` prints the
tables :func:`markdown_table` makes (a test keeps the two equal). Numbered families are one
entry with ``<j>`` (``sigma_<j>``: ``sigma_1``, ``sigma_2``, ...). Gaps carry their unit in
the name: ``g_sigma`` is in singular-value units, ``g23_lambda`` in eigenvalue units.
``kstar`` is everywhere the run's ``kstar_method`` variant; the weighted one is
``kstar_weighted``.

Run directories written before the renames are read through :data:`LEGACY` (old name ->
new name, per file), applied by :func:`upgrade` when a file is loaded.

>>> import pandas as pd
>>> old = pd.DataFrame({"step": [1], "g": [0.5], "g23": [0.2]})
>>> upgrade(old, "spectra.csv").columns.tolist()
['step', 'g_sigma', 'g23_lambda']
>>> G_SIGMA, G23_LAMBDA, "kstar_weighted" in names("probes.csv")
('g_sigma', 'g23_lambda', True)
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from spectral_edge.common.errors import InputError


@dataclass(frozen=True)
class Column:
    """One CSV column: its ``name`` (``<j>`` for a numbered family), ``unit`` and meaning."""

    name: str
    unit: str
    meaning: str


STEP = "step"
KSTAR = "kstar"
KSTAR_WEIGHTED = "kstar_weighted"
G_SIGMA = "g_sigma"
G23_LAMBDA = "g23_lambda"
WD = "wd"

_STEP_END = Column(STEP, "steps", "optimizer step at which the window ends (the spectra.csv step)")
_KSTAR_W = Column(KSTAR_WEIGHTED, "count", "the window's weighted k* (spectra.csv kstar_weighted)")
_ETA = Column("eta_eff", "lr per snapshot", "η_eff = lr · stride")

SPECTRA: tuple[Column, ...] = (
    Column(STEP, "steps", "optimizer step at which the window's newest snapshot was taken"),
    Column("snapshot", "count", "snapshots taken so far"),
    Column("lr", "learning rate", "learning rate at the newest snapshot"),
    Column("skipped", "count", "running total of updates the monitor refused"),
    Column("W", "count", "window length"),
    Column("P", "count", "monitored parameters"),
    Column("rank", "count", "numerical rank of the window Gram (rank guard)"),
    Column(KSTAR, "count", "k* by the run's kstar_method"),
    Column("kstar_method", "-", "which k* variant kstar is (ratio, weighted, signal)"),
    Column("kstar_ratio", "count", "k* maximising σ_k/σ_k+1"),
    Column(KSTAR_WEIGHTED, "count", "k* maximising the weighted gap"),
    Column("kstar_signal", "count", "k* of σ above the noise level"),
    Column("R", "ratio", "σ_k*/σ_k*+1"),
    Column(G_SIGMA, "singular value", "g = σ_k* − σ_k*+1"),
    Column(G23_LAMBDA, "eigenvalue (σ²)", "g₂₃ = λ_2 − λ_3"),
    Column("nu", "singular value", "noise level ν"),
    Column("d_crit", "singular value", "BBP threshold (paper form)"),
    Column("d_crit_textbook", "singular value", "BBP threshold (textbook form)"),
    Column("vacuity", "ratio", "σ_W/d_crit"),
    Column("delta_c_fro", "eigenvalue (σ²)", "‖ΔC‖_F, change of the window Gram"),
    Column("delta_c_op", "eigenvalue (σ²)", "‖ΔC‖_op"),
    Column("A", "1/η", "adiabatic parameter ‖ΔC‖/(η g²) = A_dk·(σ_k*+σ_k*+1)/(η g): not "
           "dimensionless"),
    Column("A_dk", "ratio", "Davis–Kahan rotation bound ‖ΔC‖/(λ_k* − λ_k*+1), dimensionless"),
    Column("regime", "-", "plateau, transition or forgetting (from A)"),
    Column("rtol", "ratio", "σ-relative threshold of the rank guard"),
    Column("sigma_<j>", "singular value", "σ_j of the window, descending"),
    Column("alpha_<j>", "ratio", "stability α_j (exact, from ‖ΔC‖_F)"),
)
"""``spectra.csv``: one row per monitor window (the window statistics: :mod:`.spectra`)."""

METRICS: tuple[Column, ...] = (
    Column(STEP, "steps", "optimizer steps taken"),
    Column("train_loss", "nats", "mean cross-entropy over labels, full training set"),
    Column("test_loss", "nats", "mean cross-entropy over labels, full test set"),
    Column("train_acc", "fraction", "the accuracy the grok rule reads (training set): "
           "modular — the minimum over heads; Dyck — per labelled position; SCAN — sequence "
           "accuracy under teacher forcing"),
    Column("test_acc", "fraction", "the same on the test set"),
    Column("train_acc_<op>", "fraction", "multi-task only: training accuracy of one head"),
    Column("test_acc_<op>", "fraction", "multi-task only: test accuracy of one head"),
    Column("train_seq_acc", "fraction", "Dyck: sequences with every depth right (train)"),
    Column("test_seq_acc", "fraction", "Dyck: sequences with every depth right (test)"),
    Column("train_token_acc", "fraction", "SCAN: per-token accuracy (train)"),
    Column("test_token_acc", "fraction", "SCAN: per-token accuracy (test)"),
)
"""``metrics.csv``: one row per evaluation."""

PROBES: tuple[Column, ...] = (
    _STEP_END,
    Column("mode", "index", "j, 1-based"),
    _KSTAR_W,
    Column("sigma", "singular value", "σ_j of the window"),
    _ETA,
    Column(WD, "1/step", "ω, the weight decay"),
    Column("h", "curvature", "v_jᵀ H v_j, training loss on the probe batch"),
    Column("h_precond", "curvature", "v_jᵀ M H v_j, M from the optimizer state"),
    Column("h_fd", "curvature", "finite-difference curvature along v_j"),
    Column("G_train", "gradient", "⟨v_j, ∇L_train⟩"),
    Column("G_val", "gradient", "⟨v_j, ∇L_val⟩ (test probe batch)"),
    Column("G_eff", "gradient", "⟨v_j, M∇L_train⟩"),
    Column("wd_part", "gradient", "ω⟨v_j, θ⟩"),
    Column("grad_energy_frac", "fraction", "gradient share of the update energy along v_j"),
    Column("Gamma", "gradient²", "injection Γ_j = (G_eff + wd_part)²"),
    Column("N", "gradient²", "noise power: variance of ⟨v_j, M g_b⟩ over minibatches"),
    Column("abl_dloss", "nats", "Δ test loss when v_j alone is ablated"),
    Column("abl_dacc", "fraction", "Δ test accuracy when v_j alone is ablated"),
    Column("mix_pair", "-", "dominant, across or bulk; empty for the last mode"),
    Column("mix_dloss", "nats", "validation-loss change of rotating in the (j, j+1) plane"),
    Column("mix_phi", "radians", "the rotation angle φ"),
    Column("a_sum", "parameter", "⟨Σ_s δ_s, v_j⟩, the summed update along v_j"),
    Column("fd_eps", "parameter", "the finite-difference ε"),
)
"""``probes.csv``: one row per (probed window, mode j)."""

PROBE_WINDOWS: tuple[Column, ...] = (
    _STEP_END,
    _KSTAR_W,
    Column("rank", "count", "numerical rank"),
    Column("modes", "count", "modes probed"),
    Column("K_eta", "count", "#{Hessian λ ≥ 1/(η_eff·W)} among the top K"),
    _ETA,
    Column("hess_top_<j>", "curvature", "the K largest Hessian eigenvalues, descending"),
    Column("hess_k", "count", "K computed at this window (0: skipped)"),
    Column("hess_resid_max", "ratio", "max over the K pairs of ‖Hv − λv‖/|λ|"),
    Column("K_eta_precond", "count", "#{eigenvalue of M^½HM^½ ≥ 1/(η_eff·W)} among the top K; "
           "NaN when M is not diagonal (Muon) or the top K was skipped"),
    Column("precond_top_<j>", "curvature", "the K largest eigenvalues of M^½HM^½ (A2's "
           "curvature operator, M the optimizer's diagonal preconditioner), descending; NaN "
           "when M is not diagonal (Muon)"),
    Column("precond_resid_max", "ratio", "max over the K pairs of M^½HM^½ of the residual "
           "‖Av − λv‖/|λ|"),
    Column("abl_edge_dloss", "nats", "Δ test loss ablating v_1..v_k*"),
    Column("abl_edge_dacc", "fraction", "Δ test accuracy ablating v_1..v_k*"),
    Column("abl_top2_dloss", "nats", "Δ test loss ablating v_1 and v_2 jointly (NaN with "
           "fewer than 2 directions)"),
    Column("abl_top2_dacc", "fraction", "Δ test accuracy ablating v_1 and v_2 jointly"),
    Column("abl_next_dloss", "nats", "Δ test loss ablating v_k*+1..v_2k*"),
    Column("abl_next_dacc", "fraction", "Δ test accuracy ablating v_k*+1..v_2k*"),
    Column("abl_rand_dloss_mean", "nats", "Δ test loss ablating k* random directions (mean)"),
    Column("abl_rand_dloss_std", "nats", "its standard deviation over the draws"),
    Column("abl_rand_dacc_mean", "fraction", "Δ test accuracy, k* random directions (mean)"),
    Column("abl_rand_dacc_std", "fraction", "its standard deviation over the draws"),
    Column("abl_rand_draws", "count", "random draws"),
    Column("base_test_loss", "nats", "test loss before ablation"),
    Column("base_test_acc", "fraction", "test accuracy before ablation"),
    Column("probe_train_loss", "nats", "training loss on the probe batch"),
    Column("n_hvp", "count", "Hessian-vector products the probe used"),
)
"""``probe_windows.csv``: one row per probed window."""

FILES: dict[str, tuple[Column, ...]] = {
    "spectra.csv": SPECTRA,
    "metrics.csv": METRICS,
    "probes.csv": PROBES,
    "probe_windows.csv": PROBE_WINDOWS,
}
"""File name -> its columns."""

LEGACY: dict[str, dict[str, str]] = {
    "spectra.csv": {"g": G_SIGMA, "g23": G23_LAMBDA},
    "metrics.csv": {},
    "probes.csv": {"kstar": KSTAR_WEIGHTED, "omega": WD},
    "probe_windows.csv": {"kstar": KSTAR_WEIGHTED},
}
"""Per file, old column name -> new name (run directories written before the renames)."""


def _columns(file: str) -> tuple[Column, ...]:
    if file not in FILES:
        raise InputError(f"no column schema for {file!r}; use one of {', '.join(FILES)}")
    return FILES[file]


def names(file: str) -> tuple[str, ...]:
    """The column names of ``file`` in order (numbered families as ``name_<j>``).

    Args:
        file: ``spectra.csv``, ``metrics.csv``, ``probes.csv`` or ``probe_windows.csv``.

    Returns:
        The names, in the order the writers use.

    Raises:
        InputError: for a file without a schema.

    >>> names("metrics.csv")[:3]
    ('step', 'train_loss', 'test_loss')
    """
    return tuple(c.name for c in _columns(file))


def upgrade(frame: pd.DataFrame, file: str) -> pd.DataFrame:
    """``frame`` with the old column names of ``file`` renamed by :data:`LEGACY`.

    A legacy column is left alone when its new name is already present (a file written
    after the rename keeps its own column).

    Args:
        frame: the rows as read from ``file``.
        file: the file's name (a key of :data:`FILES`).

    Returns:
        A frame with current column names (the same object when nothing is renamed).

    Raises:
        InputError: for a file without a schema.

    >>> upgrade(pd.DataFrame({"kstar": [1], "omega": [0.1]}), "probes.csv").columns.tolist()
    ['kstar_weighted', 'wd']
    """
    _columns(file)
    rename = {old: new for old, new in LEGACY[file].items()
              if old in frame.columns and new not in frame.columns}
    return frame.rename(columns=rename) if rename else frame


def numbered(frame: pd.DataFrame | list[str], prefix: str = "sigma") -> list[str]:
    """The ``prefix_j`` columns of ``frame`` in order of j.

    Args:
        frame: a DataFrame (or its column names).
        prefix: the family (``sigma``, ``alpha``, ``hess_top``, ``precond_top``).

    Returns:
        The matching column names sorted by j.

    >>> numbered(pd.DataFrame(columns=["sigma_10", "sigma_2", "sigma_1", "g_sigma"]))
    ['sigma_1', 'sigma_2', 'sigma_10']
    """
    cols = frame.columns if isinstance(frame, pd.DataFrame) else frame
    head = f"{prefix}_"
    found = [c for c in cols if c.startswith(head) and c[len(head):].isdigit()]
    return sorted(found, key=lambda c: int(c[len(head):]))


def sigma_columns(frame: pd.DataFrame) -> list[str]:
    """The ``sigma_j`` columns of ``frame`` in mode order.

    Args:
        frame: a spectra table.

    Returns:
        ``sigma_1``, ``sigma_2``, ... as present.

    >>> sigma_columns(pd.DataFrame(columns=["sigma_2", "sigma_1", "R"]))
    ['sigma_1', 'sigma_2']
    """
    return numbered(frame, "sigma")


def markdown_table(file: str) -> str:
    """The column table of ``file`` as Markdown (docs/run-directory.md prints it).

    Args:
        file: a key of :data:`FILES`.

    Returns:
        ``| column | unit | meaning |`` and one row per column.

    Raises:
        InputError: for a file without a schema.

    >>> markdown_table("metrics.csv").splitlines()[2]
    '| `step` | steps | optimizer steps taken |'
    """
    lines = ["| column | unit | meaning |", "|---|---|---|"]
    lines += [f"| `{c.name}` | {c.unit} | {c.meaning} |" for c in _columns(file)]
    return "\n".join(lines)
