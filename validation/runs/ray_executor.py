"""Ray as the engine of a grid of runs (``--executor ray``): one Ray task per run, asking
for the CPUs and GPUs its config needs.

Each task calls the function the grid engine hands over, the one the local executor calls
(:func:`spectral_edge.validation.runs.grid.train_one`), so a run trained here is
byte-identical to one trained locally. A task whose worker dies (killed, node lost) is
retried by Ray (``max_retries``); the retry finds the run's ``config.json`` and resumes from
``checkpoint.pt``. The run directory's ``flock`` (released by the kernel when the holder
dies) still guarantees one writer per run. Exceptions raised by a run (a bad config, a
locked directory) are not retried: they come back as failure lines.

Without ``address`` a local Ray instance is started for the call (``workers`` × the
largest ``threads`` CPUs, no dashboard) and stopped after it; with ``address`` the call
joins that cluster (``"auto"`` for the one this node belongs to) and leaves it running.
When Ray is already initialised in this process the call uses that instance as it is.
The run directories must be on a file system every node sees.

>>> from spectral_edge.validation.runs.config import RunConfig
>>> run_resources(RunConfig(threads=2, device="cuda"))
{'num_cpus': 2, 'num_gpus': 1}
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from spectral_edge.common.errors import InputError
from spectral_edge.validation.runs.config import RunConfig

#: how often Ray re-runs a task whose worker died (each retry resumes from the checkpoint)
MAX_RETRIES = 3


def run_resources(config: RunConfig) -> dict[str, int]:
    """The Ray resources one run asks for: ``threads`` CPUs, one GPU on a CUDA device.

    Args:
        config: the run's config.

    Returns:
        ``{"num_cpus": ..., "num_gpus": ...}`` (Ray's ``.options`` keywords).
    """
    return {"num_cpus": config.threads, "num_gpus": 1 if config.device != "cpu" else 0}


def import_ray() -> Any:
    """Import Ray, or say how to install it.

    Returns:
        The ``ray`` module.

    Raises:
        InputError: when Ray is not installed.
    """
    try:
        import ray
    except ImportError as err:
        raise InputError("--executor ray needs Ray: pip install 'spectral-edge[ray]'") from err
    return ray


@contextmanager
def ray_session(address: str | None, num_cpus: int) -> Iterator[Any]:
    """Ray for the block: the instance already running in this process, the cluster at
    ``address``, or a local instance of ``num_cpus`` CPUs started now and stopped after.

    Args:
        address: a Ray cluster address (``"auto"``, ``"ray://host:10001"``), or None.
        num_cpus: CPUs of a local instance started here.

    Yields:
        The ``ray`` module, initialised.

    Raises:
        InputError: when Ray is missing or the cluster cannot be reached.
    """
    ray = import_ray()
    if ray.is_initialized():
        yield ray
        return
    try:
        if address is None:
            ray.init(num_cpus=num_cpus, include_dashboard=False, logging_level=logging.WARNING)
        else:
            ray.init(address=address, logging_level=logging.WARNING)
    except (ConnectionError, RuntimeError) as err:
        raise InputError(f"--address {address}: cannot connect to a Ray cluster ({err})") from err
    try:
        yield ray
    finally:
        ray.shutdown()


def train_ray(
    todo: list[Any],
    root: Path,
    workers: int,
    plots: bool,
    train: Callable[[Any, str, bool, bool], str],
    address: str | None = None,
    on_done: Callable[[], None] | None = None,
) -> list[str]:
    """Train the grid items ``todo`` under ``root`` as Ray tasks, at most ``workers`` at a
    time.

    Args:
        todo: :class:`~spectral_edge.validation.runs.grid.SweepItem` s not finished yet.
        root: the grid directory (one run directory per item).
        workers: runs in flight at once (and the local instance's CPUs × threads).
        plots: draw each run's ``plots/``.
        train: the task body, ``train(config, out_dir, progress, plots)`` (importable on
            the workers: a module-level function).
        address: a Ray cluster to join (None: a local instance for this call).
        on_done: called after each run ends (a progress bar's update).

    Returns:
        ``"name: error"`` for each run that failed.

    Raises:
        InputError: when Ray is missing or the cluster cannot be reached.
    """
    if not todo:
        return []
    cpus = workers * max(item.config.threads for item in todo)
    failed: list[str] = []
    with ray_session(address, cpus) as ray:
        task = ray.remote(max_retries=MAX_RETRIES, retry_exceptions=False)(train)
        pending: dict[Any, Any] = {}
        queue = list(todo)
        while queue or pending:
            while queue and len(pending) < workers:
                item = queue.pop(0)
                ref = task.options(**run_resources(item.config)).remote(
                    item.config, str(root / item.name), False, plots)
                pending[ref] = item
            ready, _ = ray.wait(list(pending), num_returns=1)
            for ref in ready:
                item = pending.pop(ref)
                try:
                    ray.get(ref)
                except Exception as err:  # noqa: BLE001 - one failed run must not stop the rest
                    failed.append(f"{item.name}: {_cause(err)}")
                if on_done is not None:
                    on_done()
    return failed


def _cause(err: BaseException) -> str:
    """The run's own error message out of Ray's wrapper (``RayTaskError``)."""
    cause = getattr(err, "cause", None)
    return str(cause) if cause is not None else str(err).splitlines()[-1]
