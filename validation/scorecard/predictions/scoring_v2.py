"""Score the version-2 checks: :func:`evaluate_v2`, with calibrations cached on disk.

Importing this module registers every version-2 check (:mod:`.spectra_v2`,
:mod:`.flow_v2`, :mod:`.events_v2`, :mod:`.probes_v2`). Calibrating a test costs K
surrogate replicates per side; :class:`CalibrationCache` keeps the results in a JSON file
keyed by the prediction, the rules version, K, the seed and the runs (names and window
counts), so ``spectral-edge report`` on a directory `reproduce` has scored is fast.

>>> [r.verdict for r in evaluate_v2([], ("P1", "P3"))]
['not measurable', 'not measurable']
"""

from __future__ import annotations

import hashlib
import json
import multiprocessing
from concurrent.futures import ProcessPoolExecutor
from dataclasses import asdict
from pathlib import Path

from tqdm.auto import tqdm

from spectral_edge.common.atomic import write_text
from spectral_edge.common.errors import InputError
from spectral_edge.validation.scorecard.calibration import Calibration
from spectral_edge.validation.scorecard.predictions import (  # noqa: F401  (registration)
    events_v2,
    flow_v2,
    probes_v2,
    spectra_v2,
)
from spectral_edge.validation.scorecard.predictions.base import PredictionResult, standard
from spectral_edge.validation.scorecard.predictions.checks import (
    CHECKS,
    DEFAULT_K,
    missing_v2,
    score,
)
from spectral_edge.validation.scorecard.predictions.rules import (
    RULE_BY_ID,
    RULES,
    RULES_VERSION,
)
from spectral_edge.validation.scorecard.rundata import RunData


class CalibrationCache:
    """Calibrations by key, read from and written (atomically) to one JSON file.

    Args:
        path: The file (None: in memory only).

    Raises:
        InputError: When the file exists but is not a calibration cache.
    """

    def __init__(self, path: str | Path | None = None) -> None:
        self.path = Path(path) if path is not None else None
        self.data: dict[str, dict] = {}
        if self.path is not None and self.path.exists():
            try:
                self.data = json.loads(self.path.read_text())
            except (OSError, ValueError) as err:
                raise InputError(f"{self.path}: not a calibration cache ({err})") from err
            if not isinstance(self.data, dict):
                raise InputError(f"{self.path}: not a calibration cache (not an object)")

    @staticmethod
    def key(pid: str, runs: list[RunData], K: int, seed: int) -> str:
        """The cache key of a calibration of ``pid`` on ``runs``."""
        ident = sorted((r.name, len(r.spectra), 0 if r.probes is None else len(r.probes))
                       for r in runs)
        digest = hashlib.sha256(repr(ident).encode()).hexdigest()[:16]
        return f"{pid}|v{RULES_VERSION}|K{K}|s{seed}|{digest}"

    def get(self, key: str) -> Calibration | None:
        """The cached calibration (None: not cached or unreadable)."""
        raw = self.data.get(key)
        try:
            return Calibration(**raw) if isinstance(raw, dict) else None
        except TypeError:
            return None

    def put(self, key: str, cal: Calibration) -> None:
        """Store a calibration and write the file."""
        self.put_json(key, asdict(cal))

    def get_json(self, key: str) -> dict | None:
        """Any other cached record (e.g. a run's calibrated forecast), or None."""
        raw = self.data.get(key)
        return raw if isinstance(raw, dict) else None

    def put_json(self, key: str, record: dict) -> None:
        """Store a JSON-ready record and write the file."""
        self.data[key] = record
        self.save()

    def save(self) -> None:
        """Write the file (atomically; nothing when in memory only)."""
        if self.path is not None:
            write_text(self.path, json.dumps(self.data, indent=1, sort_keys=True,
                                             default=float))


GROUPS = (("P2", "P6", "P7", "P16", "P1", "P3", "P14"),
          ("P4", "P10", "P11", "P5", "P8", "P9", "P12", "P13", "P15"))
"""How :func:`evaluate_v2` splits the work between two processes: the first group shares
the simulator surrogates of :func:`~.spectra_v2.mimic`."""


def _group(runs: list[RunData], ids: tuple[str, ...], K: int, seed: int,
           data: dict) -> tuple[list[PredictionResult], dict]:
    cache = CalibrationCache()
    cache.data = dict(data)
    return evaluate_v2(runs, ids, K=K, seed=seed, cache=cache), cache.data


def evaluate_v2(runs: list[RunData], ids: tuple[str, ...] | None = None, *,
                K: int = DEFAULT_K, seed: int = 0, cache: CalibrationCache | None = None,
                progress: bool = False, workers: int = 1) -> list[PredictionResult]:
    """Score the version-2 checks (or ``ids``) on ``runs``, each calibrated.

    With ``workers`` > 1 the predictions are split into :data:`GROUPS`, one process each;
    the results are the same as with one (each calibration's seeds depend on the
    prediction only).

    Args:
        runs: The runs to score.
        ids: Prediction ids (default: all, in rule-table order).
        K: Surrogate replicates per side of each calibration.
        seed: Seed of the calibrations.
        cache: Where calibrations are looked up and stored (default: not kept).
        progress: Show a progress bar over the predictions.
        workers: Processes (1 or 2 are used).

    Returns:
        One version-2 result per prediction.

    Raises:
        InputError: For an unknown prediction id.
    """
    cache = cache or CalibrationCache()
    out = []
    chosen_ids = ids or tuple(r.id for r in RULES)
    if workers > 1 and len(chosen_ids) > 1:
        groups = [tuple(p for p in g if p in chosen_ids) for g in GROUPS]
        rest = tuple(p for p in chosen_ids if not any(p in g for g in groups))
        groups = [g for g in (groups[0] + rest, groups[1]) if g]
        ctx = multiprocessing.get_context("spawn")
        with ProcessPoolExecutor(len(groups), mp_context=ctx) as pool:
            futures = [pool.submit(_group, runs, g, K, seed, cache.data) for g in groups]
            done: dict[str, PredictionResult] = {}
            for fut in futures:
                results, data = fut.result()
                done |= {r.id: r for r in results}
                cache.data.update(data)
        cache.save()
        return [done[pid] for pid in chosen_ids]
    for pid in tqdm(chosen_ids, desc="calibrating", disable=not progress, unit="prediction"):
        if pid not in RULE_BY_ID:
            raise InputError(f"unknown prediction id {pid!r}; use P1..P16")
        if pid not in CHECKS:
            out.append(missing_v2(pid, "no version-2 check is registered"))
            continue
        chk = CHECKS[pid]
        chosen = runs if chk.all_runs else standard(runs)
        if not chosen:
            out.append(missing_v2(pid, "no runs" if not runs else
                                  "only sketched or induced-forgetting runs", runs))
            continue
        cal = None
        if chk.theory_true is not None:
            key = CalibrationCache.key(pid, chosen, K, seed)
            cal = cache.get(key)
        res = score(chk, chosen, K=K, seed=seed, calibration=cal)
        record = res.details.get("calibration_record")
        if cal is None and isinstance(record, dict):
            cache.put(key, Calibration(**record))
        out.append(res)
    return out
