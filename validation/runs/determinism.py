"""What makes a run reproducible: minibatches as a pure function of (seed, step)
(:func:`batch_indices`: epoch permutations, ``toolkit-v1``; :func:`sampled_indices`: with
replacement, the ``paper`` protocol) and fixed torch settings for the run's duration
(:func:`torch_settings`)."""

from __future__ import annotations

import math
import os
from collections.abc import Iterator
from contextlib import contextmanager

import numpy as np
import torch
from threadpoolctl import threadpool_limits


def batch_indices(n: int, batch_size: int, seed: int, step: int) -> np.ndarray:
    """Training example indices for optimizer step ``step`` (0-based): a pure function.

    Epoch ``e`` is a permutation drawn from ``(seed, e)``; steps walk through it in order,
    so resuming at any step reproduces the same minibatches.

    Args:
        n: number of training examples.
        batch_size: minibatch size.
        seed: the run's seed.
        step: the optimizer step.

    Returns:
        The indices of the step's minibatch.

    >>> batch_indices(5, 2, seed=0, step=0).tolist() == batch_indices(5, 2, 0, 0).tolist()
    True
    >>> sorted(np.concatenate([batch_indices(5, 2, 0, s) for s in range(3)]).tolist())
    [0, 1, 2, 3, 4]
    """
    per_epoch = math.ceil(n / batch_size)
    epoch, k = divmod(step, per_epoch)
    perm = np.random.default_rng([seed, epoch, 0x5EED]).permutation(n)
    return perm[k * batch_size : (k + 1) * batch_size]


def sampled_indices(n: int, batch_size: int, seed: int, step: int) -> np.ndarray:
    """Training example indices for optimizer step ``step``, drawn uniformly **with
    replacement** (the published scripts' sampling) from a generator keyed by
    ``(seed, step)``: a pure function, so a resumed run draws the same minibatches.

    Args:
        n: number of training examples.
        batch_size: minibatch size.
        seed: the run's seed.
        step: the optimizer step.

    Returns:
        The indices of the step's minibatch.

    >>> a = sampled_indices(50, 50, seed=42, step=3)
    >>> a.tolist() == sampled_indices(50, 50, 42, 3).tolist(), len(set(a.tolist())) < 50
    (True, True)
    """
    return np.random.default_rng([seed, step, 0xB47C]).integers(0, n, size=batch_size)


@contextmanager
def torch_settings(threads: int, device: str) -> Iterator[None]:
    """Fixed thread count (CPU kernels are deterministic at a fixed thread count) for torch
    and for the BLAS libraries NumPy/SciPy call (the probes' Lanczos and eigen-solvers: under
    another executor's default thread count their last digits moved), and, on CUDA,
    deterministic algorithms, for the duration of a run; restored afterwards.

    Args:
        threads: torch's intra-op thread count.
        device: the run's device (``cuda*`` turns on deterministic algorithms).

    Yields:
        Nothing; the settings hold inside the ``with`` block.

    >>> with torch_settings(1, "cpu"):
    ...     torch.get_num_threads()
    1
    """
    old_threads = torch.get_num_threads()
    torch.set_num_threads(threads)
    blas = threadpool_limits(limits=threads, user_api="blas")
    cuda = device.startswith("cuda")
    if cuda:
        old_det = torch.are_deterministic_algorithms_enabled()
        old_warn = torch.is_deterministic_algorithms_warn_only_enabled()
        os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")
        torch.use_deterministic_algorithms(True, warn_only=True)
    try:
        yield
    finally:
        torch.set_num_threads(old_threads)
        blas.restore_original_limits()
        if cuda:
            torch.use_deterministic_algorithms(old_det, warn_only=old_warn)


class ScriptBatches:
    """Minibatches drawn as the published scripts draw them (``draws`` = ``script``): step
    ``k``'s batch is the ``k + 1``-th ``torch.randint(0, n, (batch_size,))`` on a generator
    that starts at ``start_state`` (the global generator's state right after the script's
    model initialisation). Still a pure function of (start state, step): a request out of
    order (a resumed run) replays the draws from the start, so a resumed run draws the
    same batches.

    Args:
        start_state: a CPU generator state (``torch.get_rng_state()``).

    >>> _ = torch.manual_seed(0)
    >>> stream = ScriptBatches(torch.get_rng_state())
    >>> first = [torch.randint(0, 50, (4,)).tolist() for _ in range(3)]
    >>> [stream.indices(50, 4, k).tolist() for k in (0, 1, 2)] == first
    True
    >>> stream.indices(50, 4, 1).tolist() == first[1]
    True
    """

    def __init__(self, start_state: torch.Tensor) -> None:
        self.start_state = start_state.clone()
        self._gen = torch.Generator()
        self._gen.set_state(self.start_state)
        self._next = 0

    def indices(self, n: int, batch_size: int, step: int) -> np.ndarray:
        """The indices of optimizer step ``step`` (0-based).

        Args:
            n: number of training examples.
            batch_size: minibatch size.
            step: the optimizer step.

        Returns:
            The step's indices (with replacement).
        """
        if step != self._next:
            self._gen.set_state(self.start_state)
            for _ in range(step):
                torch.randint(0, n, (batch_size,), generator=self._gen)
        self._next = step + 1
        return torch.randint(0, n, (batch_size,), generator=self._gen).numpy()
