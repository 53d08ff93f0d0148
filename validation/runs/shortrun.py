"""Why a run directory has no window: the words ``train``, ``analyze``, ``fit``, ``probe``
and ``report`` use for a run shorter than its first window (no torch, no pandas).

A window needs W updates between snapshots taken every ``stride`` steps, so the first one
ends at step W·stride; a run that stops earlier writes a ``spectra.csv`` without rows.

>>> import json, tempfile
>>> from pathlib import Path
>>> d = Path(tempfile.mkdtemp())
>>> _ = (d / "config.json").write_text(json.dumps({"window": 3, "stride": 200}))
>>> _ = (d / "summary.json").write_text(json.dumps({"steps_done": 500}))
>>> print(no_window_message(d)[:60])
the run has no complete window: it stopped at step 500 and t
"""

from __future__ import annotations

import json
from pathlib import Path


def _read(path: Path) -> dict:
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def no_window_message(run_dir: str | Path) -> str | None:
    """The explanation for a run directory whose run is shorter than its first window.

    Args:
        run_dir: a run directory (``config.json`` gives W and the stride, ``summary.json``
            the steps done).

    Returns:
        The sentence, or None when the config is unreadable or the run reached its first
        window (then an empty ``spectra.csv`` has another cause).
    """
    d = Path(run_dir)
    config, summary = _read(d / "config.json"), _read(d / "summary.json")
    window, stride = config.get("window"), config.get("stride")
    if not isinstance(window, int) or not isinstance(stride, int):
        return None
    done = summary.get("steps_done", config.get("steps"))
    end = window * stride
    if not isinstance(done, int) or done >= end:
        return None
    return (f"the run has no complete window: it stopped at step {done} and the first "
            f"window ends at step {end} (W = {window} x stride {stride})")
