"""The ``paper`` protocol's initialisation of our transformers (docs/protocols.md).

The published scripts build their trunks from PyTorch's ``nn.TransformerEncoderLayer`` /
``nn.Transformer``. What that means for the initial weights, restated for our models (which
keep separate Q/K/V/O layers so the monitor can name them):

* attention: the fused (3d × d) in-projection is xavier-uniform (so W_Q, W_K, W_V are the
  three row blocks of one xavier-uniform matrix, bound √(6 / 4d)); the in-projection and
  out-projection biases are zero; W_O keeps the default ``nn.Linear`` initialisation;
* the stacked layers are deep copies of one layer, so every layer starts identical;
* encoder–decoder (SCAN): ``nn.Transformer`` then re-draws every matrix of every block
  xavier-uniform, independently per layer (biases stay as copied);
* a two-token classifier (modular arithmetic) has a positional embedding drawn
  ``randn(L, d) / √d`` (standard deviation 1/√d ≈ 0.09 at d = 128), where ``nn.Embedding``
  would draw standard deviation 1; the Dyck and SCAN scripts use ``nn.Embedding``.

Token embeddings, feed-forward layers, LayerNorms and heads keep PyTorch's defaults, as in
the scripts. Draws come from torch's global generator (the run seeds it), so the same seed
gives the same model; the values are not those of the scripts (the draw order differs).

>>> import torch
>>> from spectral_edge.validation.runs.models import EncoderClassifier
>>> _ = torch.manual_seed(0)
>>> model = EncoderClassifier(vocab_size=7, seq_len=2, n_classes=7, d_model=8, n_heads=2,
...                           d_ff=8, n_layers=2)
>>> paper_init(model)
>>> bool(torch.equal(model.layers[0].fc1.weight, model.layers[1].fc1.weight))
True
>>> float(model.layers[0].attn.q_proj.bias.detach().abs().max())
0.0
"""

from __future__ import annotations

import math

import torch
from torch import nn

from spectral_edge.validation.runs.models import (
    Attention,
    Block,
    EncoderClassifier,
    Seq2SeqTransformer,
)


@torch.no_grad()
def _fused_attention(attn: Attention) -> None:
    """xavier-uniform on the fused (3d × d) in-projection; zero in/out biases."""
    d = attn.q_proj.weight.shape[1]
    fused = torch.empty(3 * d, d)
    nn.init.xavier_uniform_(fused)
    for proj, block in zip((attn.q_proj, attn.k_proj, attn.v_proj), fused.chunk(3),
                           strict=True):
        proj.weight.copy_(block)
    for proj in (attn.q_proj, attn.k_proj, attn.v_proj, attn.out_proj):
        proj.bias.zero_()


def _attentions(block: Block) -> list[Attention]:
    return [a for a in (block.attn, block.cross_attn) if a is not None]


@torch.no_grad()
def _copy_first(layers: nn.ModuleList) -> None:
    """Initialise layer 0's attention as the scripts do, then copy it into every layer."""
    if not len(layers):
        return
    for attn in _attentions(layers[0]):
        _fused_attention(attn)
    for layer in list(layers)[1:]:
        layer.load_state_dict(layers[0].state_dict())


@torch.no_grad()
def _redraw_matrices(layers: nn.ModuleList) -> None:
    """``nn.Transformer``: every matrix xavier-uniform, per layer (fused in-projection)."""
    for layer in layers:
        for attn in _attentions(layer):
            d = attn.q_proj.weight.shape[1]
            fused = torch.empty(3 * d, d)
            nn.init.xavier_uniform_(fused)
            for proj, rows in zip((attn.q_proj, attn.k_proj, attn.v_proj), fused.chunk(3),
                                  strict=True):
                proj.weight.copy_(rows)
            nn.init.xavier_uniform_(attn.out_proj.weight)
        nn.init.xavier_uniform_(layer.fc1.weight)
        nn.init.xavier_uniform_(layer.fc2.weight)


@torch.no_grad()
def paper_init(model: nn.Module) -> None:
    """Re-initialise ``model`` in place as the published scripts' models start (module
    docstring). Models without transformer blocks (the MLP baseline) are left unchanged.

    Args:
        model: one of the transformers of ``spectral_edge.validation.runs.models``.
    """
    layers = getattr(model, "layers", None)
    if not isinstance(layers, nn.ModuleList) or not all(isinstance(b, Block) for b in layers):
        return
    _copy_first(layers)
    if isinstance(model, Seq2SeqTransformer):
        _copy_first(model.dec_layers)
        _redraw_matrices(layers)
        _redraw_matrices(model.dec_layers)
    if isinstance(model, EncoderClassifier):
        weight = model.pos_embed.weight
        weight.copy_(torch.randn(weight.shape) / math.sqrt(weight.shape[1]))
