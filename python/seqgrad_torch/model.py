"""seqgrad's encoder-decoder Transformer in PyTorch (docs/model.md): the same network and the
same state_dict names, so a checkpoint's /model loads with load_state_dict.

Construction order (embeddings, positions, dropout, nn.Transformer, generator, then the
embeddings' normal init) decides which values a given torch.manual_seed draws; the fixtures in
tests/reference depend on it, so keep it.
"""
import math

import torch
from torch import nn

from .data import BOS, EOS, PAD


class PositionalEncoding(nn.Module):
    """Adds sinusoidal positions: pe[t, 2i] = sin(t / 10000^(2i/d)), pe[t, 2i+1] = cos(...).
    A buffer, not a parameter (absent from the state_dict)."""

    def __init__(self, d_model, max_len=512):
        super().__init__()
        t = torch.arange(max_len, dtype=torch.float32).unsqueeze(1)
        freq = torch.exp(torch.arange(0, d_model, 2, dtype=torch.float32) * (-math.log(10000.0) / d_model))
        pe = torch.zeros(max_len, d_model)
        pe[:, 0::2] = torch.sin(t * freq)
        pe[:, 1::2] = torch.cos(t * freq[: d_model // 2])
        self.register_buffer("pe", pe, persistent=False)

    def forward(self, x, start=0):
        """x: (B, T, d) -> x + pe[start : start + T]."""
        return x + self.pe[start:start + x.size(1)]


class Seq2Seq(nn.Module):
    """Embeddings (N(0, d^-1/2), scaled by sqrt(d)) plus positions and dropout,
    nn.Transformer(batch_first, relu, post-LN or pre-LN) and a generator Linear(d, tgt_vocab).
    Masks: source padding in the encoder and in cross-attention, causal plus target padding in
    the decoder's self-attention."""

    def __init__(self, src_vocab, tgt_vocab, d_model=128, heads=4, enc_layers=2, dec_layers=2,
                 ff=512, dropout=0.0, norm_first=False, max_len=512):
        super().__init__()
        self.d_model = d_model
        self.src_embed = nn.Embedding(src_vocab, d_model)
        self.tgt_embed = nn.Embedding(tgt_vocab, d_model)
        self.pos = PositionalEncoding(d_model, max_len)
        self.drop = nn.Dropout(dropout)
        self.transformer = nn.Transformer(d_model, heads, enc_layers, dec_layers, ff, dropout,
                                          batch_first=True, norm_first=norm_first)
        self.generator = nn.Linear(d_model, tgt_vocab)
        # N(0, d^-1/2): after the sqrt(d) scaling the embeddings have unit size, like the
        # positions they are added to.
        for e in (self.src_embed, self.tgt_embed):
            nn.init.normal_(e.weight, 0.0, d_model ** -0.5)

    def embed(self, table, ids):
        return self.drop(self.pos(table(ids) * math.sqrt(self.d_model)))

    def encode(self, src):
        """src: (B, S) ids -> memory (B, S, d)."""
        return self.transformer.encoder(self.embed(self.src_embed, src), src_key_padding_mask=src.eq(PAD))

    def decode(self, memory, src, tgt_in):
        """tgt_in: (B, T) ids -> logits (B, T, tgt_vocab)."""
        T = tgt_in.size(1)
        causal = torch.triu(torch.ones(T, T, dtype=torch.bool), 1)
        y = self.transformer.decoder(self.embed(self.tgt_embed, tgt_in), memory, tgt_mask=causal,
                                     tgt_key_padding_mask=tgt_in.eq(PAD),
                                     memory_key_padding_mask=src.eq(PAD))
        return self.generator(y)

    def forward(self, src, tgt_in):
        return self.decode(self.encode(src), src, tgt_in)

    def loss(self, src, tgt_in, tgt_out, label_smoothing=0.0):
        """Mean cross-entropy over the non-pad target tokens (what seqgrad trains on)."""
        logits = self(src, tgt_in)
        return nn.functional.cross_entropy(logits.reshape(-1, logits.size(-1)), tgt_out.reshape(-1),
                                           ignore_index=PAD, label_smoothing=label_smoothing)

    @torch.no_grad()
    def greedy(self, src, steps):
        """`steps` greedy decoding steps from <bos> (no cache: each step decodes the whole
        prefix). Returns (B, steps + 1) ids starting with <bos>; rows that produced <eos> go on
        producing tokens, so compare up to their first <eos>."""
        memory = self.encode(src)
        ys = torch.full((src.size(0), 1), BOS)
        for _ in range(steps):
            logits = self.decode(memory, src, ys)
            ys = torch.cat([ys, logits[:, -1].argmax(-1, keepdim=True)], 1)
        return ys


def strip_eos(ids):
    """A decoded row (without <bos>) up to its first <eos>, as a list."""
    ids = list(ids)
    return ids[:ids.index(EOS)] if EOS in ids else ids
