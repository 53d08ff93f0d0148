"""Which parameters the monitor watches, and following them when the model replaces one.

:func:`select_parameters` picks the ``(name, tensor)`` pairs (all, the attention projections
of :data:`ATTENTION_PATTERN`, or a name regex) and refuses what cannot be watched.
:class:`Bindings` keeps the monitor's list of tensors current: a parameter replaced by a new
``nn.Parameter`` of the same shape and dtype is followed; a change of shape or dtype, or a
removed parameter, is reported.

>>> net = torch.nn.Linear(2, 1)
>>> binds = Bindings(net, select_parameters(net))
>>> net.weight = torch.nn.Parameter(torch.zeros(1, 2))
>>> import warnings
>>> with warnings.catch_warnings(record=True):
...     binds.check() is None and binds.params[1] is net.weight
True
"""

from __future__ import annotations

import re
import warnings
from collections.abc import Iterable, Mapping
from typing import Any

import torch

from spectral_edge.common.errors import InputError

ATTENTION_PATTERN = (
    r"(^|\.)(q_proj|k_proj|v_proj|o_proj|out_proj|query|key|value|c_attn|W_[QKVO])\.weight$"
    r"|(^|\.)in_proj_weight$|attn\.c_proj\.weight$"
)
"""Names taken by ``select="attention"``: the Q/K/V/O projection weights of common layouts
(separate ``q_proj``/``k_proj``/``v_proj``/``out_proj``, ``nn.MultiheadAttention``'s
``in_proj_weight``, GPT-2's ``attn.c_attn``/``attn.c_proj``)."""

ParamsLike = torch.nn.Module | Iterable[torch.Tensor] | Iterable[tuple[str, torch.Tensor]]


def _named(source: Any) -> list[tuple[str, torch.Tensor]]:
    """``(name, tensor)`` pairs of a module or an iterable of tensors / pairs.

    Returns:
        The pairs, in the source's order.

    Raises:
        InputError: the source or one of its items is not a tensor / pair.
    """
    if isinstance(source, torch.nn.Module):
        return list(source.named_parameters())
    if isinstance(source, torch.Tensor):
        raise InputError("model_or_params is a single tensor; pass a list of tensors ([w])")
    if isinstance(source, str | bytes | Mapping) or not isinstance(source, Iterable):
        raise InputError(
            "model_or_params must be an nn.Module, an iterable of tensors or of (name, tensor) "
            f"pairs, got {type(source).__name__}"
        )
    named = []
    for i, item in enumerate(source):
        if isinstance(item, torch.Tensor):
            named.append((f"param{i:04d}", item))
        elif (isinstance(item, tuple | list) and len(item) == 2
              and isinstance(item[1], torch.Tensor)):
            named.append((str(item[0]), item[1]))
        else:
            raise InputError(
                f"model_or_params item {i} is {type(item).__name__} {item!r:.40}, "
                "not a tensor or a (name, tensor)"
            )
    return named


def _check_tensor(name: str, p: torch.Tensor) -> None:
    """Refuse a tensor the monitor cannot watch.

    Raises:
        InputError: a DTensor, meta, complex, non-float or sparse tensor.
    """
    if hasattr(p, "to_local") and hasattr(p, "placements"):  # a DTensor (FSDP2, TP)
        raise InputError(
            f"parameter {name!r} is a DTensor (FSDP2 / tensor parallel); give the monitor "
            "the local shards, GramMonitor(local_shards(model), "
            "shard_group=group), built after the first optimizer step"
        )
    if p.device.type == "meta":
        raise InputError(
            f"parameter {name!r} is on the meta device (it has no values yet); build the "
            "monitor after the model is materialized (to_empty()/load_state_dict())"
        )
    if p.is_complex():
        raise InputError(
            f"parameter {name!r} is complex ({p.dtype}); GramMonitor watches real "
            "parameters (monitor torch.view_as_real(p) to include both parts)"
        )
    if not p.is_floating_point():
        raise InputError(f"parameter {name!r} has dtype {p.dtype}, not a floating type")
    if p.layout != torch.strided:
        raise InputError(f"parameter {name!r} has layout {p.layout}; only dense tensors")


def _check_together(chosen: list[tuple[str, torch.Tensor]]) -> None:
    """Refuse what cannot be watched together.

    Raises:
        InputError: tensors on several devices, repeated names, repeated or overlapping
            tensors (views of one storage), or no numbers at all.
    """
    devices = {p.device for _, p in chosen}
    if len(devices) > 1:
        raise InputError(
            f"monitored parameters are on several devices ({sorted(map(str, devices))}); "
            "monitor each device's parameters separately or use shard_group"
        )
    names = [n for n, _ in chosen]
    if len(set(names)) != len(names):
        repeated = sorted({n for n in names if names.count(n) > 1})
        raise InputError(f"parameter names repeat: {repeated}")
    if len({id(p) for _, p in chosen}) != len(chosen):
        raise InputError("the same tensor is listed twice in model_or_params")
    spans: dict[int, list[tuple[int, int, str]]] = {}
    for name, p in chosen:  # views of one storage (w and w.view(2, 3)) would count twice
        size = p.element_size()
        start = p.storage_offset() * size
        end = start + size * (1 + sum((n - 1) * abs(s) for n, s in zip(p.shape, p.stride(),
                                                                        strict=True)))
        for a, b, other in spans.setdefault(p.untyped_storage().data_ptr(), []):
            if start < b and a < end and p.numel() > 0:
                raise InputError(f"parameters {other!r} and {name!r} share memory (one is a "
                                 "view of the other); list each tensor once")
        spans[p.untyped_storage().data_ptr()].append((start, end, name))
    if sum(p.numel() for _, p in chosen) == 0:
        raise InputError("the monitored parameters hold no numbers (P = 0)")


def select_parameters(
    source: ParamsLike, select: str = "all"
) -> list[tuple[str, torch.Tensor]]:
    """The monitored ``(name, tensor)`` pairs, sorted by name.

    Args:
        source: an ``nn.Module``, an iterable of tensors, or of ``(name, tensor)`` pairs
            (tensors are named ``param0000``, ``param0001``, ...).
        select: ``"all"`` (every trainable parameter), ``"attention"`` (Q/K/V/O projection
            weights, :data:`ATTENTION_PATTERN`) or a regular expression searched in the names.

    Returns:
        The trainable ``(name, tensor)`` pairs that ``select`` takes, sorted by name.

    Raises:
        InputError: nothing matches; a meta-device, complex, integer or sparse tensor;
            tensors on several devices; repeated names or tensors; anything not a tensor.

    >>> net = torch.nn.Sequential(torch.nn.Linear(2, 3), torch.nn.Linear(3, 1))
    >>> [n for n, _ in select_parameters(net, r"weight")]
    ['0.weight', '1.weight']
    >>> select_parameters([1, 2, 3])
    Traceback (most recent call last):
    ...
    spectral_edge.common.errors.InputError: model_or_params item 0 is int 1, not a tensor or a ...
    """
    named = [(n, p) for n, p in _named(source) if p.requires_grad]
    if not isinstance(select, str):
        raise InputError(f"select must be a string, got {select!r}")
    if select == "attention":
        pattern = re.compile(ATTENTION_PATTERN)
    elif select == "all":
        pattern = None
    else:
        try:
            pattern = re.compile(select)
        except re.error as err:
            raise InputError(f"select is not a valid regular expression: {err}") from err
    chosen = [(n, p) for n, p in named if pattern is None or pattern.search(n)]
    if not chosen:
        raise InputError(f"select={select!r} matches no trainable parameter")
    for name, p in chosen:
        _check_tensor(name, p)
    _check_together(chosen)
    return sorted(chosen, key=lambda item: item[0])


def _signature(params: list[torch.Tensor]) -> list[tuple[Any, ...]]:
    """What must not change under the monitor's cached views.

    Returns:
        Storage pointer, shape, dtype and strides of each tensor.
    """
    return [(p.data_ptr(), p.shape, p.dtype, p.stride()) for p in params]


class Bindings:
    """The monitored tensors, kept current with the model they came from.

    Args:
        root: the ``nn.Module`` the parameters were selected from, or ``None`` (a list of
            tensors: nothing to follow, only shape/dtype changes are detected).
        names_params: the selected ``(name, tensor)`` pairs (:func:`select_parameters`).

    :meth:`check` is O(number of tensors): one dict look-up per module on the way to a
    parameter and per tensor. ``params`` and ``names_params`` are updated in place.

    >>> w = torch.zeros(2, requires_grad=True)
    >>> binds = Bindings(None, [("w", w)])
    >>> w.data = torch.zeros(3)
    >>> binds.check()
    "parameter 'w' changed from (2,) torch.float32 to (3,) torch.float32"
    """

    def __init__(self, root: torch.nn.Module | None,
                 names_params: list[tuple[str, torch.Tensor]]) -> None:
        self.root = root
        self.names_params = names_params
        self.names = [n for n, _ in names_params]
        self.params = [p for _, p in names_params]
        self._layout = [(p.shape, p.dtype) for p in self.params]
        self._edges, self._owners = self._walk() if root is not None else ([], None)
        self.signature = _signature(self.params)
        """Storage pointer, shape, dtype and strides of each tensor when last checked; the
        storage classes rebuild their views when it changes."""

    def _walk(self) -> tuple[list[tuple[dict, str, Any]], list[tuple[dict, str]]]:
        """Walk from the root module to every monitored parameter.

        Returns:
            Every (parent ``_modules`` table, name, child) edge on the way, and each
            parameter's owning ``_parameters`` table and attribute.

        Raises:
            KeyError: ``KeyError(name)`` for a parameter no longer in the model.
        """
        edges: dict[tuple[int, str], tuple[dict, str, Any]] = {}
        owners = []
        for name in self.names:
            *path, attr = name.split(".")
            module = self.root
            for part in path:
                child = module._modules.get(part)
                if child is None:
                    raise KeyError(name)
                edges[(id(module), part)] = (module._modules, part, child)
                module = child
            owners.append((module._parameters, attr))
        return list(edges.values()), owners

    def _follow(self, i: int, current: Any) -> str | None:
        """Follow parameter ``i`` to its replacement ``current``.

        Returns:
            ``None``, or why it cannot be followed.
        """
        name, old = self.names[i], self.params[i]
        if not isinstance(current, torch.Tensor):
            return f"parameter {name!r} was removed from the model"
        if (current.shape, current.dtype, current.device) != (old.shape, old.dtype, old.device):
            return (
                f"parameter {name!r} was replaced by a tensor of shape "
                f"{tuple(current.shape)} {current.dtype} on {current.device} (was "
                f"{tuple(old.shape)} {old.dtype} on {old.device})"
            )
        self.params[i] = current
        self.names_params[i] = (name, current)
        warnings.warn(
            f"GramMonitor: parameter {name!r} was replaced by a new tensor of the same "
            "shape and dtype; the monitor follows the new tensor (this snapshot's "
            "update is new minus old values)",
            RuntimeWarning,
            stacklevel=5,  # the caller of GramMonitor.step()
        )
        return None

    def _replaced(self) -> str | None:
        """Follow replaced ``nn.Parameter`` objects of the same shape and dtype.

        Returns:
            ``None``, or why one cannot be followed.
        """
        if any(table.get(key) is not child for table, key, child in self._edges):
            try:  # a submodule was replaced: find the parameters again by name
                self._edges, self._owners = self._walk()
            except KeyError as err:
                return f"parameter {err.args[0]!r} was removed from the model"
        for i, (table, attr) in enumerate(self._owners):
            current = table.get(attr)
            if current is not self.params[i]:
                problem = self._follow(i, current)
                if problem is not None:
                    return problem
        return None

    def check(self) -> str | None:
        """Check the tensors (``signature`` is updated when a tensor moved to new storage
        of the same shape and dtype).

        Returns:
            ``None`` if the monitor can go on, else why it cannot.
        """
        if self._owners is not None:
            problem = self._replaced()
            if problem is not None:
                return problem
        for p, (ptr, shape, dtype, stride) in zip(self.params, self.signature, strict=True):
            if p.data_ptr() != ptr or p.shape != shape or p.dtype != dtype or p.stride() != stride:
                break
        else:  # unchanged: checked in place, without building a new signature (hot path)
            return None
        signature = _signature(self.params)
        for name, p, (old_shape, old_dt) in zip(self.names, self.params, self._layout,
                                                 strict=True):
            if (p.shape, p.dtype) != (old_shape, old_dt):
                return (
                    f"parameter {name!r} changed from {tuple(old_shape)} {old_dt} to "
                    f"{tuple(p.shape)} {p.dtype}"
                )
        self.signature = signature
        return None
