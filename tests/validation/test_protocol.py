"""The ``paper`` protocol (docs/protocols.md): settings, initialisation, data, sampling,
stop rule, the ``toolkit-v1`` variant, and the short-run warning."""

from __future__ import annotations

import json
import math
import random
from pathlib import Path

import numpy as np
import pytest
import torch

from spectral_edge.common.errors import InputError
from spectral_edge.validation.runs.config import RunConfig, protocol_settings
from spectral_edge.validation.runs.determinism import sampled_indices
from spectral_edge.validation.runs.initialisation import paper_init
from spectral_edge.validation.runs.models import build_model
from spectral_edge.validation.runs.tasks import make_task
from spectral_edge.validation.runs.tasks.dyck import CLOSE, OPEN
from spectral_edge.validation.runs.training import load_config, run

TINY = dict(p=7, d_model=8, n_heads=2, d_ff=8, n_layers=1, batch_size=16, eval_every=5,
            window=2, stride=3, probe_every=None)


def test_settings_by_task_and_weight_decay() -> None:
    mod1, mod0 = RunConfig.protocol("modadd"), RunConfig.protocol("modadd", wd=0.0)
    assert (mod1.variant, mod1.stride, mod1.window, mod1.steps) == ("paper", 100, 10, 200_000)
    assert (mod1.stop_acc, mod1.stop_patience, mod1.stop_after_grok) == (0.98, 3, None)
    assert (mod0.stride, mod0.steps) == (500, 50_000)
    assert RunConfig.protocol("modadd+modmul+modsq").steps == 300_000
    dyck, dyck0 = RunConfig.protocol("dyck"), RunConfig.protocol("dyck", wd=0.0)
    assert (dyck.stride, dyck.window, dyck.eval_every, dyck.steps) == (200, 3, 100, 20_000)
    assert (dyck.stop_acc, dyck.stop_patience, dyck.data_seed) == (0.99, 10, 0)
    assert (dyck0.stride, dyck0.steps) == (500, 10_000)
    scan = RunConfig.protocol("scan")
    assert (scan.lr, scan.eval_every, scan.stride, scan.window, scan.n_test) == (
        1e-4, 500, 500, 5, 500)
    old = RunConfig.protocol("dyck", variant="toolkit-v1")
    assert (old.eval_every, old.stop_acc, old.data_seed) == (50, None, None)
    assert RunConfig.protocol("modadd", stride=7).stride == 7  # explicit fields win
    with pytest.raises(InputError, match="variant"):
        protocol_settings("modadd", "nope")


def test_old_config_json_reads_as_toolkit_v1(tmp_path: Path) -> None:
    data = RunConfig.protocol("modadd", variant="toolkit-v1").to_dict()
    del data["variant"], data["stop_acc"], data["stop_patience"]
    (tmp_path / "config.json").write_text(json.dumps(data))
    assert load_config(tmp_path / "config.json").variant == "toolkit-v1"


def test_paper_init() -> None:
    torch.manual_seed(0)
    task = make_task("modadd", p=97)
    model = build_model(task)
    paper_init(model)
    a, b = model.layers
    for name, tensor in a.state_dict().items():
        assert torch.equal(tensor, b.state_dict()[name]), name
    for proj in ("q_proj", "k_proj", "v_proj", "out_proj"):
        assert not getattr(a.attn, proj).bias.detach().any()
    bound = math.sqrt(6 / (4 * 128))  # xavier-uniform of the fused (3d x d) in-projection
    q = torch.cat([a.attn.q_proj.weight, a.attn.k_proj.weight, a.attn.v_proj.weight]).detach()
    assert float(q.abs().max()) <= bound
    assert float(q.std()) == pytest.approx(bound / math.sqrt(3), rel=0.05)
    assert float(model.pos_embed.weight.std()) == pytest.approx(1 / math.sqrt(128), rel=0.2)
    dyck = build_model(make_task("dyck", n_train=2, n_test=2))
    paper_init(dyck)
    assert float(dyck.pos_embed.weight.std()) > 0.5  # nn.Embedding, as in the Dyck script


def test_paper_scan_model_has_the_scripts_extra_layernorm(tmp_path: Path) -> None:
    from spectral_edge.validation.runs.session import RunSession

    small = dict(d_model=16, n_heads=2, d_ff=16, n_layers=1, n_dec_layers=1, n_train=8,
                 n_test=4, batch_size=4)
    paper = RunSession(RunConfig.protocol("scan", **small), tmp_path / "p")
    v1 = RunSession(RunConfig.protocol("scan", variant="toolkit-v1", **small), tmp_path / "v")
    assert paper.model.ln_head is not None and v1.model.ln_head is None
    assert math.isfinite(paper.train_step())


def test_modular_split_is_a_seeded_shuffle_of_the_pairs() -> None:
    pairs = [(a, b) for a in range(7) for b in range(7)]
    random.Random(3).shuffle(pairs)
    task = make_task("modadd", seed=3, p=7)
    assert task.n_train == int(0.5 * 49)
    assert [tuple(r) for r in task.x_train.tolist()] == pairs[:24]
    old = make_task("modadd", seed=3, p=7, protocol="toolkit-v1")
    assert [tuple(r) for r in old.x_train.tolist()] != pairs[:24]


def test_dyck_data_is_the_papers_biased_walk() -> None:
    task = make_task("dyck")  # data seed 0: the fixed dataset of every run
    assert (task.n_train, task.n_test) == (50, 5000)
    labelled = task.y_test >= 0
    deep = float(((task.y_test >= 6) & labelled).sum() / labelled.sum())
    assert 0.03 < deep < 0.06  # uniform Dyck words give about 0.02
    train = {tuple(r) for r in task.x_train.tolist()}
    overlap = np.mean([tuple(r) in train for r in task.x_test.tolist()])
    assert 0.15 < overlap < 0.35  # repeats allowed: short words recur
    first = task.x_train[:, 0].tolist()
    assert set(first) == {OPEN} and CLOSE in task.x_train.tolist()[0]
    assert torch.equal(make_task("dyck", seed=0).x_train, task.x_train)
    assert not torch.equal(make_task("dyck", seed=1).x_train, task.x_train)


def test_sampling_with_replacement_is_a_pure_function() -> None:
    draws = [sampled_indices(50, 50, 42, s) for s in range(20)]
    assert all(np.array_equal(d, sampled_indices(50, 50, 42, s)) for s, d in enumerate(draws))
    assert any(len(set(d.tolist())) < 50 for d in draws)  # repeats inside a batch
    assert not np.array_equal(draws[0], draws[1])


def test_stop_rule_needs_a_streak(tmp_path: Path) -> None:
    always = RunConfig.protocol("modadd", **TINY, steps=100, stop_acc=1e-9, stop_patience=3)
    result = run(always, tmp_path / "a", progress=False, plots=False)
    assert result.stop_reason == "stop_acc" and result.steps_done == 10  # evals 0, 5, 10
    never = RunConfig.protocol("modadd", **TINY, steps=20, stop_acc=1.0, stop_patience=1)
    assert run(never, tmp_path / "b", progress=False, plots=False).stop_reason == "max_steps"
    with pytest.raises(InputError, match="stop_patience"):
        RunConfig.protocol("modadd", stop_patience=0)


def test_short_run_warns_with_the_first_window(tmp_path: Path) -> None:
    config = RunConfig.protocol("modadd", **(TINY | {"window": 3, "stride": 10}), steps=20)
    with pytest.warns(UserWarning, match="the first window ends at step 30"):
        run(config, tmp_path / "r", progress=False, plots=False)


def test_multi_task_stop_rule_is_per_head_streaks(tmp_path: Path) -> None:
    from spectral_edge.validation.runs.session import RunSession

    cfg = RunConfig.protocol("modadd+modmul", **TINY, stop_acc=0.98, stop_patience=3)
    session = RunSession(cfg, tmp_path)
    assert session.stop_heads() == ("acc_add", "acc_mul")

    def feed(add: list[float], mul: list[float]) -> bool:
        pairs = enumerate(zip(add, mul, strict=True))
        session.rows = [{"step": 10 * (i + 1), "test_acc_add": a, "test_acc_mul": m,
                         "test_acc": min(a, m)} for i, (a, m) in pairs]
        session.step = session.rows[-1]["step"]
        return session.stop_rule_met()

    # add has its streak early then dips; mul gets its streak later: the scripts stop
    # (each head once), while the minimum over heads never holds 3 evaluations in a row
    add = [0.99, 0.99, 0.99, 0.5, 0.5, 0.5, 0.99]
    mul = [0.1, 0.1, 0.1, 0.99, 0.99, 0.99, 0.1]
    assert feed(add, mul)
    assert session.stop_streak() < 3
    assert not feed(add[:5], mul[:5])  # mul has 2 of 3
    session.step += 1  # a step that was not evaluated never stops
    assert not session.stop_rule_met()
    v1 = RunSession(RunConfig.protocol("modadd+modmul", **TINY, variant="toolkit-v1",
                                       stop_acc=0.98), tmp_path / "v1")
    assert v1.stop_heads() == ("acc",)


def test_dyck_script_draws_give_the_scripts_model_and_batches(tmp_path: Path) -> None:
    from torch import nn

    from spectral_edge.validation.runs.session import RunSession

    assert RunConfig.protocol("dyck").draws == "script"
    assert RunConfig.protocol("dyck", variant="toolkit-v1").draws == "keyed"
    assert RunConfig.protocol("modadd").draws == "keyed"
    with pytest.raises(InputError, match="draws"):
        RunConfig.protocol("modadd", draws="script")
    small = dict(d_model=16, n_heads=2, d_ff=16, n_train=6, n_test=4, batch_size=5, seed=7)
    session = RunSession(RunConfig.protocol("dyck", **small), tmp_path)
    # the script's model, built from PyTorch's modules in its order with the same seed
    torch.manual_seed(7)
    tok, pos = nn.Embedding(3, 16), nn.Embedding(48, 16)
    layer = nn.TransformerEncoderLayer(16, 2, 16, dropout=0.0, activation="gelu",
                                       batch_first=True, norm_first=True)
    ln, head = nn.LayerNorm(16), nn.Linear(16, 13)
    batches = [torch.randint(0, 6, (5,)) for _ in range(3)]
    m = session.model
    assert torch.equal(m.embed.weight[OPEN], tok.weight[0])  # the script's "(" is 0
    assert torch.equal(m.embed.weight[CLOSE], tok.weight[1])
    assert torch.equal(m.pos_embed.weight, pos.weight[:24])
    q = torch.cat([m.layers[1].attn.q_proj.weight, m.layers[1].attn.k_proj.weight,
                   m.layers[1].attn.v_proj.weight])
    assert torch.equal(q, layer.self_attn.in_proj_weight)
    assert torch.equal(m.layers[0].fc2.weight, layer.linear2.weight)
    assert torch.equal(m.head.weight, head.weight) and torch.equal(m.ln_f.bias, ln.bias)
    got = [session.script_batches.indices(6, 5, k) for k in range(3)]
    assert all(torch.equal(torch.as_tensor(g), b) for g, b in zip(got, batches, strict=True))
