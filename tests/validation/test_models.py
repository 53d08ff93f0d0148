"""Models: output shapes, parameter counts (exact formulas), attention selection, causality."""

from __future__ import annotations

import pytest
import torch

from spectral_edge.common.errors import InputError
from spectral_edge.validation.monitor import select_parameters
from spectral_edge.validation.runs.models import ModelSizes, build_model, count_parameters
from spectral_edge.validation.runs.tasks import decoder_input, make_task


def block_params(d: int, ff: int, cross: bool = False) -> int:
    attn = 4 * (d * d + d)
    return 2 * 2 * d + attn + (2 * d + attn if cross else 0) + d * ff + ff + ff * d + d


def test_modular_model_matches_protocol_size() -> None:
    task = make_task("modadd")
    model = build_model(task)
    d, ff, p = 128, 256, 97
    expected = p * d + 2 * d + 2 * block_params(d, ff) + 2 * d + d * p + p
    assert count_parameters(model) == expected == 290_401  # published: ~290K
    attention = select_parameters(model, "attention")
    assert sum(t.numel() for _, t in attention) == 131_072  # §7: P = 2 x 4 x 128 x 128
    assert len(attention) == 8
    assert model(task.x_test[:5]).shape == (5, 1, 97)


def test_multitask_has_one_head_per_op() -> None:
    task = make_task("modadd+modmul+modsq", p=7)
    model = build_model(task)
    assert model(task.x_train[:4]).shape == (4, 3, 7)
    assert len(model.heads) == 3


def test_causal_tagger_shape_count_and_causality() -> None:
    task = make_task("dyck", n_train=4, n_test=4)
    model = build_model(task)
    d, ff = 128, 256
    expected = 3 * d + 24 * d + 2 * block_params(d, ff) + 2 * d + d * 13 + 13
    assert count_parameters(model) == expected
    x = task.x_train[:2].clone()
    out = model(x)
    assert out.shape == (2, 24, 13)
    x[:, 10:] = 1  # changing later tokens must not change earlier outputs
    torch.testing.assert_close(model(x)[:, :10], out[:, :10], rtol=0, atol=1e-6)
    assert not torch.allclose(model(x)[:, 12:], out[:, 12:])


def test_seq2seq_shape_count_and_padding() -> None:
    task = make_task("scan", n_test=10)
    sizes = ModelSizes(d_model=32, d_ff=64, n_layers=1, n_dec_layers=2)
    model = build_model(task, sizes=sizes)
    d, ff = 32, 64
    ls, lt = task.x_train.shape[1], task.y_train.shape[1]
    expected = (
        14 * d
        + ls * d
        + block_params(d, ff)
        + 2 * d
        + 9 * d
        + lt * d
        + 2 * block_params(d, ff, cross=True)
        + 2 * d
        + d * 9
        + 9
    )
    assert count_parameters(model) == expected
    src, y = task.x_train[:3], task.y_train[:3]
    out = model(src, decoder_input(task, y))
    assert out.shape == (3, lt, 9)
    assert decoder_input(task, y)[0, 0] == task.bos_id
    torch.testing.assert_close(decoder_input(task, y)[:, 1:], y[:, :-1])
    # source padding is ignored: appending pad columns leaves the output unchanged
    padded = torch.cat([src, torch.zeros(3, 0, dtype=torch.long)], dim=1)
    torch.testing.assert_close(model(padded, decoder_input(task, y)), out)


def test_default_scan_and_mlp_sizes() -> None:
    task = make_task("scan", n_test=10)
    assert count_parameters(build_model(task)) == 3_977_737  # d=256, d_ff=512, 3+3 layers
    mod = make_task("modadd", p=11)
    mlp = build_model(mod, "mlp")
    assert count_parameters(mlp) == 11 * 128 + (256 * 256 + 256) * 2 + 256 * 11 + 11
    assert mlp(mod.x_train[:2]).shape == (2, 1, 11)


@pytest.mark.parametrize(
    ("task", "arch", "sizes"),
    [
        ("dyck", "mlp", None),
        ("modadd", "lstm", None),
        ("modadd", "transformer", ModelSizes(d_model=30, n_heads=4)),
    ],
)
def test_bad_model_input(task: str, arch: str, sizes: ModelSizes | None) -> None:
    t = make_task(task, n_train=2, n_test=2) if task == "dyck" else make_task(task, p=5)
    with pytest.raises(InputError):
        build_model(t, arch, sizes)


def test_scan_head_norm_is_a_second_layernorm_before_the_head() -> None:
    task = make_task("scan", n_test=10)
    sizes = ModelSizes(d_model=16, d_ff=16, n_layers=1, n_dec_layers=1)
    torch.manual_seed(0)
    plain = build_model(task, sizes=sizes)
    torch.manual_seed(0)
    normed = build_model(task, sizes=sizes, head_norm=True)
    assert count_parameters(normed) - count_parameters(plain) == 2 * 16
    assert plain.ln_head is None and normed.ln_head is not None
    # identity-initialised, so the only change at init is a second normalisation: applied to
    # an already layer-normed state it changes little, but not nothing (eps), and a changed
    # gain reaches the logits
    src, y = task.x_train[:2], task.y_train[:2]
    with torch.no_grad():
        normed.ln_head.weight.mul_(2.0)
    tgt = decoder_input(task, y)
    assert not torch.allclose(normed(src, tgt), plain(src, tgt))
    # the other kinds ignore the flag
    dyck = make_task("dyck", n_train=2, n_test=2)
    n_dyck = count_parameters(build_model(dyck))
    assert count_parameters(build_model(dyck, head_norm=True)) == n_dyck
