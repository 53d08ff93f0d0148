"""The project's input validators: each raises :class:`spectral_edge.common.errors.InputError`
with a
message that names the argument. Every layer above uses these instead of its own checks.

>>> check_window(10)
10
>>> check_window(1)
Traceback (most recent call last):
...
spectral_edge.common.errors.InputError: window W must be an integer >= 2, got 1
>>> check_finite_number("lr", float("inf"), minimum=0.0, strict=True)
Traceback (most recent call last):
...
spectral_edge.common.errors.InputError: lr must be a finite number > 0.0, got inf
"""

from __future__ import annotations

import math
import numbers
from typing import Any

from spectral_edge.common.errors import InputError


def check_int(name: str, value: Any, minimum: int | None = None,
              maximum: int | None = None) -> int:
    """``value`` as an ``int`` within ``[minimum, maximum]`` (bools and non-integral floats
    are refused).

    Args:
        name: The argument's name in the error message.
        value: The value to check.
        minimum: Inclusive lower bound, or ``None``.
        maximum: Inclusive upper bound, or ``None``.

    Returns:
        ``value`` as an ``int``.

    Raises:
        InputError: If ``value`` is not an integer or lies outside the bounds.
    """
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        else:
            raise InputError(f"{name} must be an integer, got {value!r}")
    value = int(value)
    if minimum is not None and value < minimum:
        raise InputError(f"{name} must be an integer >= {minimum}, got {value}")
    if maximum is not None and value > maximum:
        raise InputError(f"{name} must be an integer <= {maximum}, got {value}")
    return value


def check_window(W: Any, name: str = "window W") -> int:
    """The window length: an integer ≥ 2.

    Args:
        W: The value to check.
        name: The argument's name in the error message.

    Returns:
        ``W`` as an ``int``.

    Raises:
        InputError: If ``W`` is not an integer >= 2.
    """
    if isinstance(W, bool) or not isinstance(W, numbers.Real) or W != W or int(W) != W or W < 2:
        raise InputError(f"{name} must be an integer >= 2, got {W!r}")
    return int(W)


def check_finite_number(name: str, value: Any, minimum: float | None = None,
                        strict: bool = False, maximum: float | None = None) -> float:
    """``value`` as a finite ``float``; ``minimum`` is a lower bound (exclusive when
    ``strict``), ``maximum`` an inclusive upper bound.

    Args:
        name: The argument's name in the error message.
        value: The value to check.
        minimum: Lower bound, or ``None``.
        strict: Whether ``minimum`` itself is refused.
        maximum: Inclusive upper bound, or ``None``.

    Returns:
        ``value`` as a ``float``.

    Raises:
        InputError: If ``value`` is not a finite real number or lies outside the bounds.
    """
    bound = "" if minimum is None else f" {'>' if strict else '>='} {minimum}"
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise InputError(f"{name} must be a finite number{bound}, got {value!r}")
    value = float(value)
    if not math.isfinite(value) or (
        minimum is not None and (value < minimum or (strict and value == minimum))
    ):
        raise InputError(f"{name} must be a finite number{bound}, got {value!r}")
    if maximum is not None and value > maximum:
        raise InputError(f"{name} must be <= {maximum}, got {value!r}")
    return value


def check_choice(name: str, value: Any, choices: tuple[str, ...] | list[str]) -> str:
    """``value`` when it is one of ``choices``.

    Args:
        name: The argument's name in the error message.
        value: The value to check.
        choices: The allowed values.

    Returns:
        ``value``.

    Raises:
        InputError: If ``value`` is not one of ``choices``.
    """
    if value not in choices:
        raise InputError(f"{name} must be one of {', '.join(map(str, choices))}; got {value!r}")
    return value
