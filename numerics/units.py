"""Units of every measured term, derived from the axioms (docs/predictions.md, "Units").

Two base units carry everything: [δ], the unit of a parameter update (and of the
parameters), and [η], the unit of the learning rate per snapshot η = lr·stride. The clock
is the snapshot, so time, W and every count are dimensionless, and a rate per snapshot
such as η(h+ω) is a pure number. Each term of :data:`TERMS` states its unit as exponents
of [δ] and [η] and the relation of A2/A3 (or of the statistic's definition) that fixes it.

:func:`dimension` checks a SymPy expression of the theory for dimensional homogeneity
under this table (every additive term must carry the same unit) and returns its unit, so a
wrong entry in the table — or a term of a derived equation with the wrong unit — fails a
test instead of silently rescaling a verdict. :func:`units_markdown` renders the table
that docs/predictions.md prints.

>>> str(UNITS["Gamma"]), str(UNITS["A"]), str(UNITS["A_dk"])
('[δ]²/[η]', '1/[η]', '1')
>>> str(UNITS["eta"] * UNITS["Gamma"] / UNITS["d"])  # ηWΓ/d: a rate of d per snapshot
'[δ]'
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction

import sympy as sp

from spectral_edge.common.errors import InputError

_SUPERSCRIPT = str.maketrans("-0123456789/", "⁻⁰¹²³⁴⁵⁶⁷⁸⁹ᐟ")


@dataclass(frozen=True)
class Unit:
    """[δ]^delta · [η]^eta, exponents as fractions (a square root halves them).

    >>> str(Unit(2, -1)), str(Unit(0, 0)), str(Unit(1, -1) ** 2)
    ('[δ]²/[η]', '1', '[δ]²/[η]²')
    """

    delta: Fraction = Fraction(0)
    eta: Fraction = Fraction(0)

    def __post_init__(self) -> None:
        object.__setattr__(self, "delta", Fraction(self.delta))
        object.__setattr__(self, "eta", Fraction(self.eta))

    def __mul__(self, other: Unit) -> Unit:
        return Unit(self.delta + other.delta, self.eta + other.eta)

    def __truediv__(self, other: Unit) -> Unit:
        return Unit(self.delta - other.delta, self.eta - other.eta)

    def __pow__(self, power: int | Fraction) -> Unit:
        return Unit(self.delta * power, self.eta * power)

    @property
    def dimensionless(self) -> bool:
        """True for the unit 1."""
        return self.delta == 0 and self.eta == 0

    def __str__(self) -> str:
        def part(name: str, exp: Fraction) -> str:
            exp = abs(exp)
            return name if exp == 1 else name + str(exp).translate(_SUPERSCRIPT)

        num = [part(n, e) for n, e in (("[δ]", self.delta), ("[η]", self.eta)) if e > 0]
        den = [part(n, e) for n, e in (("[δ]", self.delta), ("[η]", self.eta)) if e < 0]
        top = "·".join(num) or "1"
        return top + ("/" + "·".join(den) if den else "")


@dataclass(frozen=True)
class Term:
    """One measured term: its key, the symbol the docs use, its unit, what fixes it."""

    key: str
    symbol: str
    unit: Unit
    relation: str


ONE = Unit()
_D, _E = Unit(1, 0), Unit(0, 1)

TERMS: tuple[Term, ...] = (
    Term("delta", "δ, c_j = ⟨δ, v_j⟩, ξ", _D, "base unit: the update between snapshots "
         "(v_j is a unit vector, so a projection keeps the unit)"),
    Term("theta", "θ, θ_j", _D, "δ = θ_t − θ_{t−1}"),
    Term("eta", "η = lr·stride", _E, "base unit: the step per snapshot; time is counted in "
         "snapshots, so t, W and counts are 1"),
    Term("u", "u_j", _D / _E, "A2 along mode j: c_j = −η u_j + ξ_j"),
    Term("G_eff", "G_j^eff = ⟨v_j, M∇L⟩", _D / _E, "A2: u_j = G_j^eff + ωθ_j"),
    Term("omega", "ω", ONE / _E, "A2: ωθ_j adds to u_j, so [ω] = [u]/[θ]"),
    Term("h", "h_j, h_precond = v_jᵀM∇²Lv_j", ONE / _E, "R1 from A1+A2: du_j/dt = "
         "−η(h_j+ω)u_j, a rate per snapshot, so [h] = [ω] = 1/[η]"),
    Term("d", "d_j = σ_j", _D, "A3: λ_j = d_j² = Σ_window c_j²"),
    Term("lambda", "λ_j = σ_j²", _D**2, "A3: λ_j = Σ_window c_j²"),
    Term("Gamma", "Γ_j", _D**2 / _E, "a window of steady updates has d² = Wη²u²; R1's steady "
         "state d*² = WΓ/(h+ω) then gives Γ_j = η²(h_j+ω)u_j² (not u_j²)"),
    Term("N", "N_j", _D**2 / _E**2, "A2: ξ has power η²N_j along mode j and [ξ] = [δ]"),
    Term("g", "g = σ_k* − σ_k*+1", _D, "difference of singular values"),
    Term("g23", "g₂₃ = λ_2 − λ_3", _D**2, "difference of eigenvalues"),
    Term("dC", "‖ΔC‖_F, ‖ΔC‖_op", _D**2, "C = XᵀX, a sum of products of two updates"),
    Term("A", "A = ‖ΔC‖_F/(η g²)", ONE / _E, "[δ]²/([η][δ]²); equals "
         "A_dk·(σ_k+σ_k+1)/(η g), so it carries 1/[η]"),
    Term("A_dk", "A_dk = ‖ΔC‖_F/(λ_k − λ_k+1)", ONE, "eigenvalue units over eigenvalue "
         "units: the Davis–Kahan bound on sin θ per snapshot"),
    Term("A_star", "A* = A_dk/(η(h̄+ω))", ONE, "A_dk over the relaxation rate per snapshot "
         "η(h̄+ω), itself a pure number"),
)
"""Every measured term with its unit and the relation that fixes it."""

UNITS: dict[str, Unit] = {t.key: t.unit for t in TERMS}
"""Term key -> unit."""

# theory/symbols.py names -> the term whose unit they carry (W, counts and time are 1)
SYMBOL_TERMS: dict[str, str | None] = {
    "eta": "eta", "omega": "omega", "W": None, "t": None, "s": None, "P": None,
    "h": "h", "h_k": "h", "h_k1": "h", r"\bar{h}": "h", r"(\bar{h}+\omega)": "h",
    "Gamma": "Gamma", "Gamma_k": "Gamma", "Gamma_k1": "Gamma", "Gamma_0": "Gamma",
    "N": "N", "N_i": "N", "N_j": "N", "N_k": "N", "N_k1": "N",
    "d": "d", "d_k": "d", "d_k1": "d", r"\bar{d}": "d", "g": "g", "d_b": "d",
    "lambda": "lambda", "lambda_i": "lambda", "lambda_j": "lambda",
    r"\|\Delta{C}\|": "dC", "theta": "theta", "G": "u", "x": "theta",
}
"""Names of theory symbols mapped to a key of :data:`UNITS` (None: dimensionless)."""

_BASE_D, _BASE_E = sp.symbols("unit_delta unit_eta", positive=True)


def dimension(expr: sp.Expr, extra: dict[str, Unit] | None = None) -> Unit:
    """The unit of a SymPy expression of the theory, checking that it is homogeneous.

    Every symbol x is replaced by x·[δ]^a[η]^b (its unit from :data:`SYMBOL_TERMS`, or
    ``extra`` by symbol name); the expression is homogeneous when the ratio of the scaled
    to the original expression is a pure monomial in the two base units.

    Args:
        expr: A SymPy expression (e.g. a derivation's output).
        extra: Units of symbols the table does not name (symbol name -> Unit).

    Returns:
        The expression's unit.

    Raises:
        InputError: If a symbol has no unit, or the terms of ``expr`` differ in unit.

    >>> eta, h, d = sp.symbols("eta h d", positive=True)
    >>> str(dimension(eta * h * d))
    '[δ]'
    >>> dimension(eta * h * d + d**2)
    Traceback (most recent call last):
    ...
    spectral_edge.common.errors.InputError: not dimensionally homogeneous: d**2 + d*eta*h
    """
    table = dict(extra or {})
    scale = {}
    for sym in expr.free_symbols:
        if sym.name in table:
            unit = table[sym.name]
        elif sym.name in SYMBOL_TERMS:
            key = SYMBOL_TERMS[sym.name]
            unit = ONE if key is None else UNITS[key]
        else:
            raise InputError(f"no unit for the symbol {sym.name!r}")
        scale[sym] = sym * _BASE_D ** sp.Rational(unit.delta) * _BASE_E ** sp.Rational(unit.eta)
    ratio = sp.powsimp(sp.cancel(sp.powsimp(expr.xreplace(scale) / expr, force=True)),
                       force=True)
    if ratio.free_symbols - {_BASE_D, _BASE_E}:
        raise InputError(f"not dimensionally homogeneous: {expr}")
    powers = ratio.as_powers_dict()
    if set(powers) - {_BASE_D, _BASE_E, sp.Integer(1)}:
        raise InputError(f"not dimensionally homogeneous: {expr}")
    return Unit(Fraction(str(powers.get(_BASE_D, 0))), Fraction(str(powers.get(_BASE_E, 0))))


def units_markdown() -> str:
    """The units table of docs/predictions.md ("Units"), rendered from :data:`TERMS`.

    Returns:
        A Markdown table, one row per term.

    >>> units_markdown().splitlines()[0]
    '| term | unit | fixed by |'
    """
    lines = ["| term | unit | fixed by |", "|---|---|---|"]
    lines += [f"| {t.symbol} | {t.unit} | {t.relation} |" for t in TERMS]
    return "\n".join(lines)
