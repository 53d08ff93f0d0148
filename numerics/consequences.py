"""The theorems' consequences as executable properties (``spectral-edge verify``).

Each :class:`Consequence` is tied to the result it follows from (docs/spec.md §4), draws its
examples from a strategy of :mod:`spectral_edge.numerics.strategies` (or
:mod:`spectral_edge.numerics.properties`) and states a property of one example. Every
property is followed by at least one **negative control**: the same property with one knob
turned to a deliberately false variant (a bound off by a factor, a sign flipped, the bound
one tighter, the scale separation removed), which must be falsified. Each consequence
declares what it expects (``"held"`` or ``"falsified"``); a run is good exactly when every
outcome equals its expectation.

:func:`verify` searches for a counterexample with Hypothesis itself (``hypothesis.find``:
generation, then shrinking to a minimal counterexample; a control's counterexample is not
shrunk), seeded so a run is reproducible from ``seed``.

>>> out = verify(only=["R10"], examples=20, seed=0)
>>> [(o.id, o.outcome, o.expected) for o in out]  # doctest: +NORMALIZE_WHITESPACE
[('R10 scaling', 'held', 'held'),
 ('R10 scaling [control: d_c quadruples]', 'falsified', 'falsified')]
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import partial
from typing import Any, Literal

import numpy as np
from hypothesis import HealthCheck, Phase, find, settings
from hypothesis import strategies as st
from hypothesis.errors import NoSuchExample, Unsatisfiable

from spectral_edge.common.errors import InputError
from spectral_edge.common.validate import check_int
from spectral_edge.numerics import properties as P
from spectral_edge.numerics.strategies import (
    feedback_parameters,
    gap_parameters,
    loss_parameters,
    signal_parameters,
)

__all__ = ["CONSEQUENCES", "MAX_EXAMPLES", "Consequence", "Outcome", "verify"]

Expectation = Literal["held", "falsified"]
MAX_EXAMPLES = 100_000
"""The largest example budget ``verify`` accepts per consequence."""


@dataclass(frozen=True)
class Consequence:
    """A property ``holds(example)`` of examples drawn from ``strategy``, following from
    result ``result``; ``expected`` is ``"held"`` for a consequence of the theory and
    ``"falsified"`` for a negative control (``control_of`` names the property it controls).
    """

    id: str
    result: str
    statement: str
    strategy: Callable[[], st.SearchStrategy[Any]]
    holds: Callable[[Any], bool]
    expected: Expectation = "held"
    control_of: str | None = None


@dataclass(frozen=True)
class Outcome:
    """What :func:`verify` found for one consequence: ``outcome`` is ``"held"`` after
    ``examples`` examples, or ``"falsified"`` with the shrunk ``counterexample`` (its
    text); ``ok`` when it equals ``expected``."""

    id: str
    result: str
    statement: str
    outcome: Expectation
    expected: Expectation
    examples: int
    counterexample: str | None
    seconds: float

    @property
    def held(self) -> bool:
        """Whether no counterexample was found."""
        return self.outcome == "held"

    @property
    def ok(self) -> bool:
        """Whether the outcome is the expected one."""
        return self.outcome == self.expected

    def as_json(self) -> dict[str, Any]:
        """The JSON record ``verify --json`` prints: ``name``, ``result``, ``expected``,
        ``outcome``, ``examples``, ``counterexample`` (a string or null).

        >>> Outcome("x", "R1", "s", "held", "held", 3, None, 0.1).as_json()["outcome"]
        'held'
        """
        return {"name": self.id, "result": self.result, "expected": self.expected,
                "outcome": self.outcome, "examples": self.examples,
                "counterexample": self.counterexample}


def _control(base: Consequence, what: str, holds: Callable[[Any], bool],
             strategy: Callable[[], st.SearchStrategy[Any]] | None = None) -> Consequence:
    """The negative control of ``base``: a deliberately false variant, expected falsified."""
    return Consequence(f"{base.id} [control: {what}]", base.result,
                       f"FALSE on purpose ({what}); must be falsified", strategy or base.strategy,
                       holds, "falsified", base.id)


def _seeds() -> st.SearchStrategy[int]:
    return st.integers(0, 2**31 - 1)


_PROPERTIES: tuple[Consequence, ...] = (
    Consequence("R5 Davis–Kahan", "R5",
                "sin θ_j ≤ 2‖E‖_op/δ_j (Yu–Wang–Samworth, no assumption) for G + E",
                P.perturbed_gram, P.davis_kahan),
    Consequence("R1 stable steady state", "R1",
                "ḋ(d*) = 0 and ∂ḋ/∂d < 0 at d* = √(WΓ/(h+ω))", signal_parameters, P.r1_stable),
    Consequence("R3 ordered levels", "R3",
                "ordered levels stay ordered: squeezed to contact, every pair moves apart "
                "under R3's full rate (N > 0)", P.dyson_case, P.r3_ordered),
    Consequence("R4 equilibrium", "R4",
                "g* solves c·g − η(h̄+ω)g² + β = 0, g* > 0, and ∂ġ/∂g < 0 there",
                gap_parameters, P.r4_equilibrium),
    Consequence("R6 loss interval", "R6",
                "ΔL' = −ηW Σ cos²θ_j(G_j^eff + ωθ_j)G_j^val lies in the exported interval for "
                "cos²θ_j ∈ [α_j, 1]", loss_parameters, P.r6_interval),
    Consequence("R7 block invariance", "R7",
                "Σ_{j∈B} G_j^tr G_j^val is unchanged by a rotation inside B", P.block_case,
                P.r7_block),
    Consequence("R8 threshold", "R8",
                "just above ρ_c a stable open-gap fixed point, just below none (q ≥ 1, "
                "q = 1 included)", feedback_parameters, P.r8_threshold),
    Consequence("alpha hierarchy", "R5",
                "on R1 equilibrium spectra α_j is ordered like the eigen-gaps δ_j",
                P.equilibrium_spectrum, P.alpha_hierarchy),
    Consequence("R11 k* <= K+1 with separation", "R11",
                f"weighted k* ≤ K + 1 on every one of {P.KRYLOV_BATCH} quadratics per seed at "
                f"each separation level (flat ηhW ≤ {', '.join(map(str, P.KRYLOV_SEPARATIONS))}; "
                "stiff ηhW ≥ 2): the fraction holding reaches 1", _seeds, P.krylov_asymptotic),
    Consequence("R10 scaling", "R10",
                "d_c/(ν√P) = (W/P)^{1/4}; d_c doubles when P grows 16×", P.bbp_case,
                P.r10_scaling),
)

_CONTROLS: dict[str, tuple[tuple[str, Callable[[Any], bool]], ...]] = {
    "R5 Davis–Kahan": (("bound divided by 20", partial(P.davis_kahan, constant=0.05)),),
    "R1 stable steady state": (("d* 10% high", partial(P.r1_stable, factor=1.1)),),
    "R3 ordered levels": (("repulsion sign flipped", partial(P.r3_ordered, repulsion_sign=-1.0)),),
    "R4 equilibrium": (("β sign flipped", partial(P.r4_equilibrium, beta_sign=-1.0)),),
    "R6 loss interval": (("weight-decay sign flipped", partial(P.r6_interval, wd_sign=-1.0)),),
    "R7 block invariance": (("rotation across the block edge", partial(P.r7_block, cross=True)),),
    "R8 threshold": (("threshold halved", partial(P.r8_threshold, factor=0.5)),),
    "alpha hierarchy": (("order reversed", partial(P.alpha_hierarchy, order_sign=-1.0)),),
    "R11 k* <= K+1 with separation": (
        ("k* <= K, one tighter", partial(P.krylov_asymptotic, slack=0)),
        ("no scale separation (flat ηhW up to 1)",
         partial(P.krylov_asymptotic, separations=(1.0,))),
    ),
    "R10 scaling": (("d_c quadruples", partial(P.r10_scaling, growth=4.0)),),
}

CONSEQUENCES: tuple[Consequence, ...] = tuple(
    item for base in _PROPERTIES
    for item in (base, *(_control(base, what, holds) for what, holds in _CONTROLS[base.id]))
)
"""Every consequence, each followed by its negative controls, in the order ``verify`` runs
them."""


def _describe(example: Any) -> str:
    with np.printoptions(precision=6, suppress=False, threshold=50):
        if hasattr(example, "__dataclass_fields__"):
            fields = {k: getattr(example, k) for k in example.__dataclass_fields__}
            extra = f", K={example.K}" if hasattr(example, "K") else ""
            return f"{type(example).__name__}({fields}{extra})".replace("\n", " ")
        return " ".join(repr(example).split())


def verify(only: Iterable[str] | None = None, examples: int = 100,
           seed: int = 0) -> tuple[Outcome, ...]:
    """Search each consequence (those of the results in ``only``, all by default) for a
    counterexample among ``examples`` examples; ``seed`` makes the search reproducible.

    Args:
        only: Result ids (``"R11"``, or comma-separated lists) whose consequences to run.
        examples: Examples per consequence, 1 … :data:`MAX_EXAMPLES`.
        seed: Seed of the search, ≥ 0.

    Returns:
        One :class:`Outcome` per consequence, in the order of :data:`CONSEQUENCES`.

    Raises:
        InputError: For an unknown result id, an ``only`` naming none, ``examples`` outside
            1 … :data:`MAX_EXAMPLES` or a negative seed.

    >>> [o.ok for o in verify(["R1"], examples=20)]
    [True, True]
    """
    examples = check_int("--examples", examples, minimum=1)
    if examples > MAX_EXAMPLES:
        raise InputError(f"--examples must be at most {MAX_EXAMPLES:,}, got {examples:,}")
    seed = check_int("--seed", seed, minimum=0)
    chosen = list(CONSEQUENCES)
    if only is not None:
        wanted = [w.strip().upper() for item in only for w in item.split(",") if w.strip()]
        known = sorted({c.result for c in CONSEQUENCES}, key=lambda r: int(r[1:]))
        if not wanted:
            raise InputError(f"--only names no result; known: {', '.join(known)}")
        for w in wanted:
            if w not in known:
                raise InputError(f"no consequence of {w!r}; known: {', '.join(known)}")
        chosen = [c for c in CONSEQUENCES if c.result in wanted]
    out = []
    for cons in chosen:
        # a control's counterexample only has to exist: it is not shrunk (saves seconds)
        phases = [Phase.generate] if cons.expected == "falsified" else [Phase.generate,
                                                                          Phase.shrink]
        config = settings(max_examples=examples, database=None, deadline=None, phases=phases,
                          suppress_health_check=list(HealthCheck))
        calls = [0]

        def fails(example: Any, cons: Consequence = cons, calls: list = calls) -> bool:
            calls[0] += 1
            with np.errstate(all="ignore"):  # an overflow to inf is judged by the property
                return not cons.holds(example)

        start = time.perf_counter()
        try:
            found = find(cons.strategy(), fails, settings=config, random=random.Random(seed))
        except (NoSuchExample, Unsatisfiable):
            out.append(Outcome(cons.id, cons.result, cons.statement, "held", cons.expected,
                               calls[0], None, time.perf_counter() - start))
            continue
        out.append(Outcome(cons.id, cons.result, cons.statement, "falsified", cons.expected,
                           calls[0], _describe(found), time.perf_counter() - start))
    return tuple(out)
