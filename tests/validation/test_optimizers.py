"""Optimizers: Muon gets exactly the hidden 2-D matrices; state round trips; validation."""

from __future__ import annotations

import copy

import pytest
import torch

from numerics.errors import InputError
from validation.models import ModelSizes, build_model
from validation.optimizers import build_optimizer, hidden_matrices
from validation.tasks import make_task


def _model(name: str = "modadd") -> torch.nn.Module:
    task = make_task(name, p=7) if name.startswith("mod") else make_task(name, n_test=4)
    sizes = ModelSizes(d_model=16, n_heads=2, d_ff=32, n_layers=1, n_dec_layers=1)
    return build_model(task, sizes=sizes)


@pytest.mark.parametrize("name", ["modadd", "scan"])
def test_muon_gets_only_hidden_matrices(name: str) -> None:
    model = _model(name)
    opt = build_optimizer(model, "muon", lr=1e-3, weight_decay=1.0)
    muon, adamw = opt.optimizers
    muon_ids = {id(p) for g in muon.param_groups for p in g["params"]}
    adamw_ids = {id(p) for g in adamw.param_groups for p in g["params"]}
    names = {id(p): n for n, p in model.named_parameters()}
    assert muon_ids.isdisjoint(adamw_ids)
    assert muon_ids | adamw_ids == set(names)
    for pid in muon_ids:
        n = names[pid]
        assert n.endswith(".weight") and "embed" not in n and not n.startswith("head")
        assert ("attn." in n) or (".fc" in n)
    for pid in adamw_ids:
        n = names[pid]
        assert n.endswith(".bias") or "ln" in n or "embed" in n or n.startswith("head")
    hidden, _ = hidden_matrices(model)
    assert {id(p) for _, p in hidden} == muon_ids


@pytest.mark.parametrize("name", ["adamw", "sgd", "muon"])
def test_state_round_trip_gives_identical_steps(name: str) -> None:
    torch.manual_seed(0)
    task = make_task("modadd", p=7)
    a = _model()
    b = _model()
    b.load_state_dict(a.state_dict())
    opt_a = build_optimizer(a, name, lr=1e-2, weight_decay=0.5, momentum=0.9)

    def step(model: torch.nn.Module, opt) -> None:
        opt.zero_grad()
        logits = model(task.x_train)
        torch.nn.functional.cross_entropy(logits[:, 0], task.y_train[:, 0]).backward()
        opt.step()

    for _ in range(3):
        step(a, opt_a)
    b.load_state_dict(a.state_dict())
    opt_b = build_optimizer(b, name, lr=1e-2, weight_decay=0.5, momentum=0.9)
    opt_b.load_state_dict(copy.deepcopy(opt_a.state_dict()))  # as if saved and loaded
    for _ in range(2):
        step(a, opt_a)
        step(b, opt_b)
    for (_, pa), (_, pb) in zip(a.named_parameters(), b.named_parameters(), strict=True):
        assert torch.equal(pa, pb)


def test_weight_decay_is_decoupled_for_adamw() -> None:
    w = torch.nn.Linear(2, 2, bias=False)
    with torch.no_grad():
        w.weight.fill_(1.0)
    opt = build_optimizer(w, "adamw", lr=0.1, weight_decay=1.0)
    w.weight.grad = torch.zeros_like(w.weight)
    opt.step()
    torch.testing.assert_close(w.weight, torch.full((2, 2), 0.9))


@pytest.mark.parametrize(
    "kwargs",
    [{"name": "adam"}, {"lr": -1e-3}, {"lr": 0.0}, {"weight_decay": -1.0}, {"momentum": 1.0}],
)
def test_bad_optimizer_input(kwargs: dict) -> None:
    args = {"name": "adamw", "lr": 1e-3} | kwargs
    with pytest.raises(InputError):
        build_optimizer(_model(), **args)
