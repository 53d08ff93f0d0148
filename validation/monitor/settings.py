"""The monitor's settings, checked once: a frozen record of ``GramMonitor``'s arguments.

>>> MonitorSettings.checked(window=4, sketch_dim=8).keep_grams
True
>>> MonitorSettings.checked(window=4, sketch_dim=2)
Traceback (most recent call last):
...
spectral_edge.common.errors.InputError: sketch_dim must be an integer >= 4, got 2
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

import torch

from spectral_edge.common.errors import InputError
from spectral_edge.common.validate import check_choice, check_finite_number, check_int, check_window
from spectral_edge.numerics import spectra

DEFAULT_MAX_MEMORY = 2 << 30
"""``max_memory_bytes`` default (2 GiB): a monitor whose memory estimate
(``GramMonitor.memory_bytes``) is larger is refused unless the caller opts in."""


@dataclass(frozen=True)
class MonitorSettings:
    """``GramMonitor``'s arguments after their checks (see ``GramMonitor`` for each)."""

    window: int
    stride: int = 1
    sketch_dim: int | None = None
    lr: float | None = None
    kstar_method: spectra.KStarMethod = "weighted"
    dtype: torch.dtype | None = None
    on_error: Literal["warn", "raise"] = "warn"
    seed: int = 0
    keep_grams: bool | int = True
    max_memory_bytes: int | None = DEFAULT_MAX_MEMORY
    sharded: bool = False

    @classmethod
    def checked(cls, window: int, *, stride: int = 1, sketch_dim: int | None = None,
                lr: float | None = None, kstar_method: Any = "weighted",
                dtype: torch.dtype | None = None, on_error: Any = "warn", seed: int = 0,
                keep_grams: bool | int = True,
                max_memory_bytes: int | None = DEFAULT_MAX_MEMORY,
                sharded: bool = False) -> MonitorSettings:
        """Check every argument and return the settings.

        Args:
            window: W (≥ 2).
            stride: snapshot every ``stride`` calls (≥ 1).
            sketch_dim: ``None`` (exact mode) or m ≥ W.
            lr: ``None`` or a finite number > 0.
            kstar_method: one of :data:`spectral_edge.numerics.spectra.KSTAR_METHODS`.
            dtype: ``None``, ``torch.float32`` or ``torch.float64``.
            on_error: ``"warn"`` or ``"raise"``.
            seed: the sketch hash's seed (an integer).
            keep_grams: ``True``, ``False`` or a count ≥ 0.
            max_memory_bytes: ``None`` or a byte count ≥ 0.
            sharded: a ``shard_group`` was given (exact mode only).

        Returns:
            The checked settings (``keep_grams`` as ``True``, or a count; 0 for none).

        Raises:
            InputError: naming the first bad argument.

        >>> MonitorSettings.checked(window=3, keep_grams=False).keep_grams
        0
        """
        window = check_window(window, "window")
        stride = check_int("stride", stride, minimum=1)
        if sketch_dim is not None:
            sketch_dim = check_int("sketch_dim", sketch_dim, minimum=window)
        if lr is not None:
            lr = check_finite_number("lr", lr, minimum=0.0, strict=True)
        check_choice("kstar_method", kstar_method, spectra.KSTAR_METHODS)
        check_choice("on_error", on_error, ("warn", "raise"))
        if dtype is not None and dtype not in (torch.float32, torch.float64):
            raise InputError(f"dtype must be None, torch.float32 or torch.float64, got {dtype}")
        if not isinstance(keep_grams, bool):
            keep_grams = check_int("keep_grams", keep_grams, minimum=0)
        elif not keep_grams:
            keep_grams = 0
        if max_memory_bytes is not None:
            max_memory_bytes = check_int("max_memory_bytes", max_memory_bytes, minimum=0)
        if sharded and sketch_dim is not None:
            raise InputError("shard_group works in exact mode only (sketch_dim=None)")
        seed = check_int("seed", seed)
        return cls(window, stride, sketch_dim, lr, kstar_method, dtype, on_error, seed,
                   keep_grams, max_memory_bytes, sharded)


def check_memory(cfg: MonitorSettings, buffer_bytes: int, grams_bytes: int) -> int:
    """The monitor's memory estimate, checked against ``cfg.max_memory_bytes``.

    Args:
        cfg: the settings.
        buffer_bytes: updates and θ_{t−1} (the storage's estimate).
        grams_bytes: the (W+1)-Grams (ring, waiting, kept, eigensolver work).

    Returns:
        The estimate in bytes.

    Raises:
        InputError: the estimate is above ``max_memory_bytes``.

    >>> check_memory(MonitorSettings.checked(window=2), 100, 20)
    120
    """
    total = int(buffer_bytes + grams_bytes)
    limit = cfg.max_memory_bytes
    if limit is not None and total > limit:
        raise InputError(
            f"GramMonitor(window={cfg.window}) needs about {gib(total)} "
            f"(updates {gib(buffer_bytes)}, float64 Grams of about (W+1)² "
            f"{gib(grams_bytes)}), above max_memory_bytes={limit} ({gib(limit)}); pass "
            "max_memory_bytes=None (or a larger limit) to opt in, or use a smaller "
            "window, keep_grams=False or sketch_dim")
    return total


def gib(n: float) -> str:
    """``n`` bytes in GiB, for messages.

    Returns:
        e.g. ``'1.50 GiB'``.

    >>> gib(3 << 29)
    '1.50 GiB'
    """
    return f"{n / 2**30:.2f} GiB"
