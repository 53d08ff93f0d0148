"""All derivations R1–R12, in order, by id.

>>> [der.id for der in all_derivations()][:3]
['R1', 'R2', 'R3']
>>> derivation("R4").title
'Near-collapse regimes'
"""

from __future__ import annotations

from collections.abc import Callable

from spectral_edge.theory import (
    gap_flow,
    krylov,
    loss_decomposition,
    maximality,
    noise,
    signal_flow,
    stability,
)
from spectral_edge.theory.axioms import DEFAULT_AXIOMS, AxiomSet
from spectral_edge.theory.derivation import Derivation

_BUILDERS: dict[str, Callable[[AxiomSet], Derivation]] = {
    "R1": signal_flow.r1,
    "R2": gap_flow.r2,
    "R3": noise.r3,
    "R4": gap_flow.r4,
    "R5": stability.r5,
    "R6": loss_decomposition.r6,
    "R7": maximality.r7,
    "R8": stability.r8,
    "R9": stability.r9,
    "R10": noise.r10,
    "R11": krylov.r11,
    "R12": gap_flow.r12,
}

IDS: tuple[str, ...] = tuple(_BUILDERS)
"""The ids of every derivation, in the order of docs/spec.md §4."""


def derivation(derivation_id: str, axioms: AxiomSet = DEFAULT_AXIOMS) -> Derivation:
    """Build (once per process and axiom set) the derivation with this id from ``axioms``.

    Args:
        derivation_id: ``"R1"`` … ``"R12"`` (case and surrounding spaces ignored).
        axioms: The axiom set to derive from (A1–A3 as stated by default).

    Returns:
        The derivation, with its steps, result and claims.

    Raises:
        ValueError: For an unknown id, or whatever the derivation raises when the axioms do
            not allow its route (a variant under which the route breaks).

    >>> derivation(" r9 ").id
    'R9'
    """
    key = derivation_id.strip().upper()
    if key not in _BUILDERS:
        raise ValueError(f"unknown derivation {derivation_id!r}; known: {', '.join(IDS)}")
    return _BUILDERS[key](axioms)


def all_derivations(axioms: AxiomSet = DEFAULT_AXIOMS) -> tuple[Derivation, ...]:
    """Every derivation, R1 … R12, in order.

    Args:
        axioms: The axiom set to derive from (A1–A3 as stated by default).

    Returns:
        The twelve derivations.

    Raises:
        ValueError: When a derivation's route breaks under ``axioms``.

    >>> len(all_derivations())
    12
    """
    return tuple(derivation(key, axioms) for key in IDS)
