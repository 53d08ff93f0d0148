"""Models for the real training runs: pre-LN transformers (docs/spec.md §7) and an MLP baseline.

Attention uses separate ``q_proj``/``k_proj``/``v_proj``/``out_proj`` linear layers, so the
monitor's ``select="attention"`` picks exactly W_Q, W_K, W_V, W_O of every layer (for the
modular model: 2 layers x 4 x 128 x 128 = 131,072 numbers, as in §7).

* :class:`EncoderClassifier` -- bidirectional encoder over the input tokens, readout from
  position 0, one linear head per task head (modular arithmetic; ~290K parameters).
* :class:`CausalTagger` -- the same trunk with a causal mask, one prediction per position
  (Dyck depth).
* :class:`Seq2SeqTransformer` -- encoder-decoder with cross-attention (SCAN).
* :class:`MLPClassifier` -- embeddings of the input tokens, concatenated, then an MLP.

Parameter names: embeddings start with ``embed``/``pos_embed``/``tgt_embed``/``tgt_pos_embed``
and output layers with ``head``; everything else is hidden (see
``spectral_edge.validation.runs.optimizers``).

>>> model = EncoderClassifier(vocab_size=97, seq_len=2, n_classes=97, n_heads_out=1)
>>> count_parameters(model)
290401
>>> model(torch.zeros(3, 2, dtype=torch.long)).shape
torch.Size([3, 1, 97])
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from spectral_edge.common.errors import InputError
from spectral_edge.validation.runs.tasks import TaskData
from spectral_edge.validation.runs.tasks.base import Classify, Seq2Seq, Tag, TaskKind


def count_parameters(model: nn.Module) -> int:
    """Number of trainable scalars."""
    return sum(p.numel() for p in model.parameters() if p.requires_grad)


class Attention(nn.Module):
    """Multi-head attention with separate Q/K/V/O projections (names the monitor knows)."""

    def __init__(self, d_model: int, n_heads: int) -> None:
        super().__init__()
        if d_model % n_heads:
            raise InputError(f"d_model ({d_model}) must be divisible by n_heads ({n_heads})")
        self.n_heads = n_heads
        self.q_proj = nn.Linear(d_model, d_model)
        self.k_proj = nn.Linear(d_model, d_model)
        self.v_proj = nn.Linear(d_model, d_model)
        self.out_proj = nn.Linear(d_model, d_model)

    def _split(self, x: torch.Tensor) -> torch.Tensor:
        n, length, d = x.shape
        return x.view(n, length, self.n_heads, d // self.n_heads).transpose(1, 2)

    def forward(
        self, x: torch.Tensor, memory: torch.Tensor | None = None, mask: torch.Tensor | None = None
    ) -> torch.Tensor:
        """Attend from ``x`` to ``memory`` (self-attention when None); ``mask`` is boolean,
        broadcastable to (N, heads, Lq, Lk), True where attending is allowed."""
        kv = x if memory is None else memory
        q, k, v = (
            self._split(self.q_proj(x)),
            self._split(self.k_proj(kv)),
            self._split(self.v_proj(kv)),
        )
        scores = q @ k.transpose(-2, -1) / math.sqrt(q.shape[-1])
        if mask is not None:
            scores = scores.masked_fill(~mask, float("-inf"))
        out = torch.softmax(scores, dim=-1) @ v
        return self.out_proj(out.transpose(1, 2).reshape(x.shape))


class Block(nn.Module):
    """Pre-LN transformer block: x + attn(LN x) [+ x + cross(LN x, memory)] + x + MLP(LN x)."""

    def __init__(self, d_model: int, n_heads: int, d_ff: int, cross: bool = False) -> None:
        super().__init__()
        self.ln1 = nn.LayerNorm(d_model)
        self.attn = Attention(d_model, n_heads)
        self.ln_cross = nn.LayerNorm(d_model) if cross else None
        self.cross_attn = Attention(d_model, n_heads) if cross else None
        self.ln2 = nn.LayerNorm(d_model)
        self.fc1 = nn.Linear(d_model, d_ff)
        self.fc2 = nn.Linear(d_ff, d_model)

    def forward(
        self,
        x: torch.Tensor,
        mask: torch.Tensor | None = None,
        memory: torch.Tensor | None = None,
        memory_mask: torch.Tensor | None = None,
    ) -> torch.Tensor:
        """One block; ``memory`` is the encoder output for a decoder block."""
        x = x + self.attn(self.ln1(x), mask=mask)
        if self.cross_attn is not None:
            x = x + self.cross_attn(self.ln_cross(x), memory=memory, mask=memory_mask)
        return x + self.fc2(F.gelu(self.fc1(self.ln2(x))))


def _causal_mask(length: int, device: torch.device) -> torch.Tensor:
    return torch.ones(length, length, dtype=torch.bool, device=device).tril()


class _Encoder(nn.Module):
    """Token + learned position embeddings, ``n_layers`` pre-LN blocks, final LayerNorm."""

    def __init__(
        self, vocab_size: int, seq_len: int, d_model: int, n_heads: int, d_ff: int, n_layers: int
    ) -> None:
        super().__init__()
        _check_sizes(vocab_size, seq_len, d_model, n_heads, d_ff, n_layers)
        self.embed = nn.Embedding(vocab_size, d_model)
        self.pos_embed = nn.Embedding(seq_len, d_model)
        self.layers = nn.ModuleList(Block(d_model, n_heads, d_ff) for _ in range(n_layers))
        self.ln_f = nn.LayerNorm(d_model)

    def encode(self, x: torch.Tensor, mask: torch.Tensor | None = None) -> torch.Tensor:
        """Hidden states (N, L, d_model) of tokens ``x`` (N, L)."""
        h = self.embed(x) + self.pos_embed(torch.arange(x.shape[1], device=x.device))
        for layer in self.layers:
            h = layer(h, mask=mask)
        return self.ln_f(h)


def _check_sizes(*sizes: int) -> None:
    if min(sizes) < 1:
        raise InputError(f"model sizes must all be >= 1, got {sizes}")


class EncoderClassifier(_Encoder):
    """Bidirectional pre-LN encoder; logits (N, n_heads_out, n_classes) read at position 0."""

    def __init__(
        self,
        vocab_size: int,
        seq_len: int,
        n_classes: int,
        n_heads_out: int = 1,
        d_model: int = 128,
        n_heads: int = 4,
        d_ff: int = 256,
        n_layers: int = 2,
    ) -> None:
        super().__init__(vocab_size, seq_len, d_model, n_heads, d_ff, n_layers)
        self.heads = nn.ModuleList(nn.Linear(d_model, n_classes) for _ in range(n_heads_out))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Logits for tokens ``x`` (N, L)."""
        h = self.encode(x)[:, 0]
        return torch.stack([head(h) for head in self.heads], dim=1)


class CausalTagger(_Encoder):
    """Causal pre-LN encoder with one prediction per position: logits (N, L, n_classes)."""

    def __init__(
        self,
        vocab_size: int,
        seq_len: int,
        n_classes: int,
        d_model: int = 128,
        n_heads: int = 4,
        d_ff: int = 256,
        n_layers: int = 2,
    ) -> None:
        super().__init__(vocab_size, seq_len, d_model, n_heads, d_ff, n_layers)
        self.head = nn.Linear(d_model, n_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Per-position logits; position i sees tokens 0..i only."""
        return self.head(self.encode(x, mask=_causal_mask(x.shape[1], x.device)))


class Seq2SeqTransformer(_Encoder):
    """Pre-LN encoder-decoder: ``forward(src, tgt_in)`` gives logits (N, Lt, tgt_vocab).

    The encoder ignores source padding (``src_pad``); the decoder is causal and
    cross-attends to the encoder output. ``head_norm`` adds a second LayerNorm
    (``ln_head``) between the decoder's final LayerNorm and the head, as the published
    SCAN script has (``nn.Transformer``'s decoder norm, then its own ``self.ln``); the
    ``paper`` protocol turns it on (docs/protocols.md).

    >>> m = Seq2SeqTransformer(5, 6, 4, 3, d_model=8, n_heads=2, d_ff=8, n_layers=1,
    ...                        n_dec_layers=1, head_norm=True)
    >>> count_parameters(m) - count_parameters(Seq2SeqTransformer(
    ...     5, 6, 4, 3, d_model=8, n_heads=2, d_ff=8, n_layers=1, n_dec_layers=1))
    16
    """

    def __init__(
        self,
        src_vocab: int,
        tgt_vocab: int,
        src_len: int,
        tgt_len: int,
        src_pad: int = 0,
        d_model: int = 256,
        n_heads: int = 4,
        d_ff: int = 512,
        n_layers: int = 3,
        n_dec_layers: int = 3,
        head_norm: bool = False,
    ) -> None:
        super().__init__(src_vocab, src_len, d_model, n_heads, d_ff, n_layers)
        _check_sizes(tgt_vocab, tgt_len, n_dec_layers)
        self.src_pad = src_pad
        self.tgt_embed = nn.Embedding(tgt_vocab, d_model)
        self.tgt_pos_embed = nn.Embedding(tgt_len, d_model)
        self.dec_layers = nn.ModuleList(
            Block(d_model, n_heads, d_ff, cross=True) for _ in range(n_dec_layers)
        )
        self.ln_dec = nn.LayerNorm(d_model)
        self.ln_head = nn.LayerNorm(d_model) if head_norm else None
        self.head = nn.Linear(d_model, tgt_vocab)

    def forward(self, src: torch.Tensor, tgt_in: torch.Tensor) -> torch.Tensor:
        """Teacher-forced logits for decoder input ``tgt_in`` given source ``src``."""
        keep = (src != self.src_pad)[:, None, None, :]
        memory = self.encode(src, mask=keep)
        length = tgt_in.shape[1]
        h = self.tgt_embed(tgt_in) + self.tgt_pos_embed(torch.arange(length, device=src.device))
        causal = _causal_mask(length, src.device)
        for layer in self.dec_layers:
            h = layer(h, mask=causal, memory=memory, memory_mask=keep)
        h = self.ln_dec(h)
        if self.ln_head is not None:
            h = self.ln_head(h)
        return self.head(h)


class MLPClassifier(nn.Module):
    """Baseline: token embeddings concatenated, ``n_layers`` GELU layers of width ``d_ff``,
    one linear head per task head; logits (N, n_heads_out, n_classes)."""

    def __init__(
        self,
        vocab_size: int,
        seq_len: int,
        n_classes: int,
        n_heads_out: int = 1,
        d_model: int = 128,
        d_ff: int = 256,
        n_layers: int = 2,
    ) -> None:
        super().__init__()
        _check_sizes(vocab_size, seq_len, n_classes, n_heads_out, d_model, d_ff, n_layers)
        self.embed = nn.Embedding(vocab_size, d_model)
        widths = [seq_len * d_model] + [d_ff] * n_layers
        self.layers = nn.ModuleList(
            nn.Linear(a, b) for a, b in zip(widths, widths[1:], strict=False)
        )
        self.heads = nn.ModuleList(nn.Linear(d_ff, n_classes) for _ in range(n_heads_out))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Logits for tokens ``x`` (N, L)."""
        h = self.embed(x).flatten(1)
        for layer in self.layers:
            h = F.gelu(layer(h))
        return torch.stack([head(h) for head in self.heads], dim=1)


@dataclass(frozen=True)
class ModelSizes:
    """Architecture sizes; ``None`` means the task's default (see :func:`default_sizes`)."""

    d_model: int | None = None
    n_heads: int | None = None
    d_ff: int | None = None
    n_layers: int | None = None
    n_dec_layers: int | None = None


def default_sizes(task: TaskData) -> ModelSizes:
    """docs/spec.md §7 sizes: d=128, 4 heads, d_ff=256, 2 layers (modular, Dyck); SCAN
    d=256, 4 heads, d_ff=512, 3+3 layers.

    >>> from spectral_edge.validation.runs.tasks import make_task
    >>> default_sizes(make_task("modadd", p=5)).d_model
    128
    """
    if task.rules.has_decoder:
        return ModelSizes(d_model=256, n_heads=4, d_ff=512, n_layers=3, n_dec_layers=3)
    return ModelSizes(d_model=128, n_heads=4, d_ff=256, n_layers=2, n_dec_layers=0)


def build_model(
    task: TaskData,
    arch: str = "transformer",
    sizes: ModelSizes | None = None,
    head_norm: bool = False,
) -> nn.Module:
    """The model for ``task``: ``arch`` is ``transformer`` (the task kind decides which) or
    ``mlp`` (classification tasks only). Sizes left ``None`` take the task defaults.

    Args:
        task: the task (its kind picks the transformer).
        arch: ``transformer`` or ``mlp``.
        sizes: architecture sizes (``None`` fields: the task's defaults).
        head_norm: the encoder–decoder gets the published SCAN script's extra LayerNorm
            before the head (:class:`Seq2SeqTransformer`); ignored by the other models.

    Returns:
        The model (PyTorch's default initialisation).

    Raises:
        InputError: for an unknown ``arch``, ``mlp`` on a non-classification task, or
            sizes < 1.

    >>> from spectral_edge.validation.runs.tasks import make_task
    >>> build_model(make_task("dyck", n_train=2, n_test=2)).__class__.__name__
    'CausalTagger'
    """
    base = default_sizes(task)
    given = sizes or ModelSizes()
    s = ModelSizes(
        **{
            k: getattr(base, k) if getattr(given, k) is None else getattr(given, k)
            for k in base.__dataclass_fields__
        }
    )
    seq_len = int(task.x_train.shape[1])
    if arch == "mlp":
        if not isinstance(task.rules, Classify):
            raise InputError(f"the mlp baseline handles classification tasks, not {task.name}")
        return MLPClassifier(
            task.vocab_size,
            seq_len,
            task.n_classes,
            len(task.head_names),
            d_model=s.d_model,
            d_ff=s.d_ff,
            n_layers=s.n_layers,
        )
    if arch != "transformer":
        raise InputError(f"unknown model {arch!r}; known: transformer, mlp")
    common = {"d_model": s.d_model, "n_heads": s.n_heads, "d_ff": s.d_ff, "n_layers": s.n_layers}
    if head_norm and task.rules.has_decoder:
        common["head_norm"] = True
    return _TRANSFORMERS[type(task.rules)](task, seq_len, s, common)


def _classifier(task: TaskData, seq_len: int, s: ModelSizes, common: dict) -> nn.Module:
    return EncoderClassifier(
        task.vocab_size, seq_len, task.n_classes, len(task.head_names), **common
    )


def _tagger(task: TaskData, seq_len: int, s: ModelSizes, common: dict) -> nn.Module:
    return CausalTagger(task.vocab_size, seq_len, task.n_classes, **common)


def _seq2seq(task: TaskData, seq_len: int, s: ModelSizes, common: dict) -> nn.Module:
    return Seq2SeqTransformer(
        task.vocab_size,
        task.n_classes,
        seq_len,
        int(task.y_train.shape[1]),
        src_pad=task.src_pad,
        n_dec_layers=s.n_dec_layers,
        **common,
    )


_TRANSFORMERS: dict[type[TaskKind], Callable[..., nn.Module]] = {
    Classify: _classifier,
    Tag: _tagger,
    Seq2Seq: _seq2seq,
}
"""The transformer of each task kind."""
