"""Experiment trackers for a training run: TensorBoard event files
(``spectral-edge train --tensorboard DIR``) through ``torch.utils.tensorboard``.

:class:`TensorBoardTracker` logs, at the step each happened:

* per window (tag prefix ``gram/``, named as ``spectra.csv``'s columns): ``sigma_1`` ..
  ``sigma_W``, ``kstar``, ``g_sigma``, ``R``, ``g23_lambda``, ``A`` and the dimensionless
  forms ``A_dk`` (the Davis–Kahan rotation bound ‖ΔC‖_F/(λ_k* − λ_k*+1)), ``vacuity``
  (σ_W/d_crit) and ``alpha_1`` .. ``alpha_W``;
* per evaluation (``eval/``): every ``metrics.csv`` column (``train_loss``, ``test_acc``…);
* per probe (``probe/``): ``h``, ``G_train``, ``G_val`` and ``Gamma`` of each probed edge
  mode j, as ``probe/<name>_<j>``.

Non-finite values are left out. A resumed run logs only what happened after it resumed.

>>> import tempfile
>>> tags = window_scalars({"sigma_1": 2.0, "kstar": 1, "A": float("nan"), "regime": "x"})
>>> tags
{'gram/sigma_1': 2.0, 'gram/kstar': 1.0}
"""

from __future__ import annotations

import math
import os
import re
from typing import Any

WINDOW_COLUMNS = ("kstar", "g_sigma", "R", "g23_lambda", "A", "A_dk", "vacuity")
"""Window statistics logged besides the numbered ``sigma_j`` and ``alpha_j``."""
PROBE_COLUMNS = ("h", "G_train", "G_val", "Gamma")
"""Per-mode probe terms logged."""
_NUMBERED = re.compile(r"(sigma|alpha)_\d+")


def _finite(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value) if math.isfinite(value) else None


def window_scalars(row: dict[str, Any], prefix: str = "gram/") -> dict[str, float]:
    """The logged statistics of one window row (``WindowStats.as_row()``).

    Args:
        row: column -> value.
        prefix: tag prefix.

    Returns:
        ``{prefix + column: value}`` for the finite logged columns.
    """
    out = {}
    for key, value in row.items():
        if key in WINDOW_COLUMNS or _NUMBERED.fullmatch(key):
            number = _finite(value)
            if number is not None:
                out[prefix + key] = number
    return out


class TensorBoardTracker:
    """TensorBoard event files for one run: call :meth:`sync` after steps, :meth:`close`
    at the end.

    Args:
        log_dir: the event-file directory (created).
        session: the run's ``RunSession``; what it already holds (a resumed run) is not
            logged again.

    Raises:
        InputError: when TensorBoard is not installed.
    """

    def __init__(self, log_dir: str | os.PathLike, session: Any) -> None:
        try:
            from torch.utils.tensorboard import SummaryWriter
        except ImportError as err:
            from spectral_edge.common.errors import InputError

            raise InputError("--tensorboard needs TensorBoard: pip install tensorboard") from err
        self.writer = SummaryWriter(log_dir=str(log_dir))
        self._rows = len(session.rows)
        self._probes = len(session.probe_rows)
        self._stats = session.monitor.stats

    def sync(self, session: Any) -> None:
        """Log what the session added since the last call.

        Args:
            session: the run's ``RunSession``.
        """
        stats = session.monitor.stats
        if stats is not None and stats is not self._stats:
            self._stats = stats
            for tag, value in window_scalars(stats.as_row()).items():
                self.writer.add_scalar(tag, value, session.step)
        for row in session.rows[self._rows:]:
            for key, value in row.items():
                number = _finite(value)
                if key != "step" and number is not None:
                    self.writer.add_scalar(f"eval/{key}", number, int(row["step"]))
        self._rows = len(session.rows)
        for row in session.probe_rows[self._probes:]:
            for key in PROBE_COLUMNS:
                number = _finite(row.get(key))
                if number is not None:
                    self.writer.add_scalar(f"probe/{key}_{row['mode']}", number, int(row["step"]))
        self._probes = len(session.probe_rows)

    def close(self) -> None:
        """Flush and close the event file."""
        self.writer.close()
