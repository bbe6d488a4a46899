"""Token ids, text and batches as seqgrad makes them (docs/data.md).

Ids 0..3 are the special tokens <pad>, <bos>, <eos>, <unk>; real tokens start at 4. A batch row
is: encoder input = source + <eos>, decoder input = <bos> + target, decoder target = target +
<eos>, each padded with <pad> to the longest row.
"""
import re

import torch

PAD, BOS, EOS, UNK = 0, 1, 2, 3
FIRST = 4  # the first real token id
SPACE_TOKEN = "\u2581"  # seqgrad's character-level stand-in for " " (as in SentencePiece)


def tokenize(text, mode):
    """Tokens of `text`: "word" splits at ASCII whitespace, "char" takes every code point and
    turns " " into SPACE_TOKEN (seqgrad's Tokenizer)."""
    if mode == "word":
        return [t for t in re.split(r"[ \t\n\v\f\r]+", text) if t]
    return [SPACE_TOKEN if c == " " else c for c in text]


def detokenize(tokens, mode):
    if mode == "word":
        return " ".join(tokens)
    return "".join(tokens).replace(SPACE_TOKEN, " ")


def read_tsv(path, mode, src_vocab, tgt_vocab):
    """(source ids + <eos>, target ids) per line of a source<TAB>target file, encoded with the
    given vocabularies (token lists in id order); unseen tokens become <unk>."""
    src_ids = {t: i for i, t in enumerate(src_vocab)}
    tgt_ids = {t: i for i, t in enumerate(tgt_vocab)}
    pairs = []
    with open(path, encoding="utf-8-sig") as f:
        for line in f.read().split("\n"):
            line = line.rstrip("\r")
            if not line:
                continue
            src, tgt = line.split("\t")
            pairs.append(([src_ids.get(t, UNK) for t in tokenize(src, mode)] + [EOS],
                          [tgt_ids.get(t, UNK) for t in tokenize(tgt, mode)]))
    return pairs


def pad_batch(pairs):
    """src (B, S), tgt_in (B, T), tgt_out (B, T) from (source ids + <eos>, target ids) pairs."""
    S = max(len(s) for s, _ in pairs)
    T = max(len(t) for _, t in pairs) + 1
    src = torch.full((len(pairs), S), PAD)
    tgt_in = torch.full((len(pairs), T), PAD)
    tgt_out = torch.full((len(pairs), T), PAD)
    for i, (s, t) in enumerate(pairs):
        src[i, :len(s)] = torch.tensor(s)
        tgt_in[i, :len(t) + 1] = torch.tensor([BOS] + t)
        tgt_out[i, :len(t) + 1] = torch.tensor(t + [EOS])
    return src, tgt_in, tgt_out


def copy_batch(g, batch, length, symbols):
    """The copy task at a fixed length, no padding: src = `length` random symbols + <eos>,
    tgt = <bos> + the same symbols + <eos> (so tgt[:, :-1] is the decoder input and tgt[:, 1:]
    the target). `g` is a torch.Generator."""
    body = torch.randint(FIRST, FIRST + symbols, (batch, length), generator=g)
    eos = torch.full((batch, 1), EOS)
    bos = torch.full((batch, 1), BOS)
    return torch.cat([body, eos], 1), torch.cat([bos, body, eos], 1)
