"""seqgrad's image model (the glyphs task, docs/model.md) in PyTorch: the text model's decoder
behind an image encoder front-end, with the same state_dict names as a seqgrad checkpoint.

    images (B, H, W) ink in [0, 1]
      -> P x P patches in row-major order, each flattened row by row   (B, H/P * W/P, P * P)
      -> patch_embed: Linear(P * P, d)                                 (B, N, d)
      -> + 2-D sinusoidal positions (rows in the first d // 2 channels, columns in the rest)
      -> dropout -> nn.Transformer's encoder (no padding: every patch is read)

Parameter names: patch_embed.weight [d, P * P], patch_embed.bias [d], tgt_embed.weight,
transformer.*, generator.* (no src_embed).
"""
import math

import torch
from torch import nn

from .data import PAD
from .model import PositionalEncoding


def patchify(images, patch):
    """(B, H, W) -> (B, H/P * W/P, P * P): patch (r, c) at position r * W/P + c."""
    B, H, W = images.shape
    grid = images.reshape(B, H // patch, patch, W // patch, patch).permute(0, 1, 3, 2, 4)
    return grid.reshape(B, (H // patch) * (W // patch), patch * patch)


class PatchEmbedding(nn.Linear):
    """Linear(P * P, d) applied to each patch (a Linear, so its parameters are weight and bias,
    as seqgrad names them)."""

    def __init__(self, patch, d_model):
        super().__init__(patch * patch, d_model)
        self.patch = patch

    def forward(self, images):
        return super().forward(patchify(images, self.patch))


class PositionalEncoding2D(nn.Module):
    """pe[r * cols + c] = [1-D table of width d // 2 at r, 1-D table of width d - d // 2 at c].
    A buffer, not a parameter."""

    def __init__(self, d_model, rows, cols):
        super().__init__()
        dr = d_model // 2
        row = PositionalEncoding(dr, rows).pe       # (rows, dr)
        col = PositionalEncoding(d_model - dr, cols).pe  # (cols, d - dr)
        pe = torch.cat([row.unsqueeze(1).expand(rows, cols, dr),
                        col.unsqueeze(0).expand(rows, cols, d_model - dr)], 2)
        self.register_buffer("pe", pe.reshape(rows * cols, d_model), persistent=False)

    def forward(self, x):
        return x + self.pe


class ImageSeq2Seq(nn.Module):
    """Image encoder front-end + nn.Transformer + generator; the decoder side is Seq2Seq's."""

    def __init__(self, tgt_vocab, image_height, image_width, patch, d_model=128, heads=4,
                 enc_layers=2, dec_layers=2, ff=512, dropout=0.0, norm_first=False, max_len=512):
        super().__init__()
        self.d_model = d_model
        self.patch_embed = PatchEmbedding(patch, d_model)
        self.tgt_embed = nn.Embedding(tgt_vocab, d_model)
        self.pos = PositionalEncoding(d_model, max_len)
        self.pos_2d = PositionalEncoding2D(d_model, image_height // patch, image_width // patch)
        self.drop = nn.Dropout(dropout)
        self.transformer = nn.Transformer(d_model, heads, enc_layers, dec_layers, ff, dropout,
                                          batch_first=True, norm_first=norm_first)
        self.generator = nn.Linear(d_model, tgt_vocab)
        nn.init.normal_(self.tgt_embed.weight, 0.0, d_model ** -0.5)

    def encode(self, images):
        """images (B, H, W) -> memory (B, H/P * W/P, d)."""
        return self.transformer.encoder(self.drop(self.pos_2d(self.patch_embed(images))))

    def decode(self, memory, tgt_in):
        """tgt_in (B, T) ids -> logits (B, T, tgt_vocab); cross-attention reads every patch."""
        T = tgt_in.size(1)
        causal = torch.triu(torch.ones(T, T, dtype=torch.bool), 1)
        y = self.drop(self.pos(self.tgt_embed(tgt_in) * math.sqrt(self.d_model)))
        y = self.transformer.decoder(y, memory, tgt_mask=causal,
                                     tgt_key_padding_mask=tgt_in.eq(PAD))
        return self.generator(y)

    def forward(self, images, tgt_in):
        return self.decode(self.encode(images), tgt_in)

    def loss(self, images, tgt_in, tgt_out, label_smoothing=0.0):
        logits = self(images, tgt_in)
        return nn.functional.cross_entropy(logits.reshape(-1, logits.size(-1)), tgt_out.reshape(-1),
                                           ignore_index=PAD, label_smoothing=label_smoothing)
