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

from spectral_edge.common.errors import InputError
from spectral_edge.validation.runs.models import (
    Attention,
    Block,
    CausalTagger,
    EncoderClassifier,
    Seq2SeqTransformer,
)


@torch.no_grad()
def _fused_in_projection(attn: Attention) -> None:
    """Q, K, V as the three row blocks of one xavier-uniform (3d × d) matrix, as PyTorch's
    fused ``in_proj_weight`` is drawn (one draw, so the generator advances as it does there)."""
    d = attn.q_proj.weight.shape[1]
    fused = torch.empty(3 * d, d)
    nn.init.xavier_uniform_(fused)
    for proj, block in zip((attn.q_proj, attn.k_proj, attn.v_proj), fused.chunk(3),
                           strict=True):
        proj.weight.copy_(block)


@torch.no_grad()
def _fused_attention(attn: Attention) -> None:
    """xavier-uniform on the fused (3d × d) in-projection; zero in/out biases."""
    _fused_in_projection(attn)
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
            _fused_in_projection(attn)
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


#: rows of the Dyck script's positional table (``DyckTransformerLM`` is built with
#: ``max(CTX_LEN, CTX_LEN_OOD)`` = 48 for a longer-sequence evaluation; 24 are used)
DYCK_SCRIPT_POS_ROWS = 48


@torch.no_grad()
def dyck_script_init(model: CausalTagger, seed: int, token_order: tuple[int, ...]) -> torch.Tensor:
    """Initialise the Dyck tagger with the published script's draws (``draws`` =
    ``script``): ``torch.manual_seed(seed)``, then PyTorch's own modules built in the order
    of ``DyckTransformerLM.__init__`` (token ``nn.Embedding``, a 48-row positional
    ``nn.Embedding``, one ``nn.TransformerEncoderLayer(norm_first=True)`` — the encoder
    deep-copies it —, the final ``nn.LayerNorm``, the head ``nn.Linear``), copied into our
    model. The fused in-projection splits into W_Q, W_K, W_V; every layer gets the copy.

    Args:
        model: a :class:`CausalTagger` (any number of layers; all start identical).
        seed: the run seed.
        token_order: our token id of each of the script's token ids, in the script's
            order (Dyck: ``(OPEN, CLOSE, PAD)``, the script's 0, 1, 2).

    Returns:
        The global generator's state after the draws: where the script's batch draws
        (``torch.randint``) continue.

    Raises:
        InputError: for a model that is not a :class:`CausalTagger` or a token order that
            is not a permutation of the model's vocabulary.

    >>> from spectral_edge.validation.runs.tasks.dyck import SCRIPT_TOKENS
    >>> m = CausalTagger(vocab_size=3, seq_len=24, n_classes=13, d_model=8, n_heads=2,
    ...                  d_ff=8)
    >>> state = dyck_script_init(m, 42, SCRIPT_TOKENS)
    >>> again = CausalTagger(vocab_size=3, seq_len=24, n_classes=13, d_model=8, n_heads=2,
    ...                      d_ff=8)
    >>> bool(torch.equal(dyck_script_init(again, 42, SCRIPT_TOKENS), state))
    True
    >>> bool(torch.equal(m.layers[0].fc1.weight, again.layers[1].fc1.weight))
    True
    """
    if not isinstance(model, CausalTagger):
        raise InputError(
            f"the script's draws exist for the Dyck tagger, not {type(model).__name__}")
    vocab, d = model.embed.weight.shape
    if sorted(token_order) != list(range(vocab)):
        raise InputError(f"token_order must be a permutation of 0..{vocab - 1}, got {token_order}")
    first = model.layers[0]
    torch.manual_seed(seed)
    tok = nn.Embedding(vocab, d)
    pos = nn.Embedding(max(DYCK_SCRIPT_POS_ROWS, model.pos_embed.weight.shape[0]), d)
    layer = nn.TransformerEncoderLayer(
        d_model=d, nhead=first.attn.n_heads, dim_feedforward=first.fc1.out_features,
        dropout=0.0, activation="gelu", batch_first=True, norm_first=True,
    )
    ln = nn.LayerNorm(d)
    head = nn.Linear(d, model.head.out_features)
    state = torch.get_rng_state()
    for script_id, ours in enumerate(token_order):
        model.embed.weight[ours] = tok.weight[script_id]
    model.pos_embed.weight.copy_(pos.weight[: model.pos_embed.weight.shape[0]])
    attn = layer.self_attn
    for proj, w, b in zip((first.attn.q_proj, first.attn.k_proj, first.attn.v_proj),
                          attn.in_proj_weight.chunk(3), attn.in_proj_bias.chunk(3), strict=True):
        proj.weight.copy_(w)
        proj.bias.copy_(b)
    first.attn.out_proj.load_state_dict(attn.out_proj.state_dict())
    first.fc1.load_state_dict(layer.linear1.state_dict())
    first.fc2.load_state_dict(layer.linear2.state_dict())
    first.ln1.load_state_dict(layer.norm1.state_dict())
    first.ln2.load_state_dict(layer.norm2.state_dict())
    for other in list(model.layers)[1:]:
        other.load_state_dict(first.state_dict())
    model.ln_f.load_state_dict(ln.state_dict())
    model.head.load_state_dict(head.state_dict())
    return state
