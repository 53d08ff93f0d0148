"""Optimizers: Muon gets exactly the hidden 2-D matrices; state round trips; validation."""

from __future__ import annotations

import copy

import pytest
import torch

from spectral_edge.common.errors import InputError
from spectral_edge.validation.runs.models import ModelSizes, build_model
from spectral_edge.validation.runs.optimizers import (
    Float32Muon,
    build_optimizer,
    hidden_matrices,
    newton_schulz_float32,
)
from spectral_edge.validation.runs.tasks import make_task


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


def test_float32_newton_schulz_matches_torch_within_bfloat16_precision() -> None:
    from torch.optim import _muon

    gen = torch.Generator().manual_seed(0)
    coeffs = (_muon.DEFAULT_A, _muon.DEFAULT_B, _muon.DEFAULT_C)
    for shape in [(8, 8), (16, 4), (4, 16)]:
        grad = torch.randn(*shape, generator=gen)
        ours = newton_schulz_float32(grad, coeffs, 5, 1e-7)
        ref = _muon._zeropower_via_newtonschulz(grad, coeffs, 5, 1e-7).float()
        assert ours.dtype == torch.float32 and ours.shape == grad.shape
        assert torch.linalg.norm(ours - ref) / torch.linalg.norm(ref) < 3e-2
        # and it orthogonalises: singular values in the quintic's band around 1
        s = torch.linalg.svdvals(ours)
        assert bool(((s > 0.5) & (s < 1.5)).all())


def test_float32_muon_steps_like_torch_muon_and_restores_torch() -> None:
    from torch.optim import _muon

    original = _muon._zeropower_via_newtonschulz
    gen = torch.Generator().manual_seed(1)
    w0 = torch.randn(12, 6, generator=gen)
    grads = [torch.randn(12, 6, generator=gen) for _ in range(3)]
    out = []
    for cls in (Float32Muon, torch.optim.Muon):
        w = w0.clone().requires_grad_(True)
        opt = cls([w], lr=0.02, weight_decay=0.1, adjust_lr_fn="match_rms_adamw")
        for g in grads:
            w.grad = g.clone()
            opt.step()
        out.append(w.detach())
    assert _muon._zeropower_via_newtonschulz is original
    step_ours, step_ref = out[0] - w0, out[1] - w0
    assert torch.linalg.norm(step_ours - step_ref) / torch.linalg.norm(step_ref) < 3e-2
    assert not torch.equal(out[0], out[1])  # the float32 path really ran
