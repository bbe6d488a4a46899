"""seqgrad's model in PyTorch, self-contained in the repository (python3-torch and python3-h5py
only): the Seq2Seq Transformer with seqgrad's parameter names, checkpoint loading, the data
helpers and the benchmark modes. Put the repository's python/ folder on sys.path (or
PYTHONPATH) and `import seqgrad_torch`.

    model.py       PositionalEncoding, Seq2Seq
    image.py       PatchEmbedding, PositionalEncoding2D, ImageSeq2Seq (the glyphs task's model)
    checkpoint.py  load_checkpoint, model_from_config (a text or an image model)
    data.py        token ids, tokenize, read_tsv, pad_batch, copy_batch
    bench.py       the throughput and converge modes (python3 -m seqgrad_torch)
    corpus.py      a --tokenize spm --max-tokens run's recipe trained in PyTorch
                   (python3 -m seqgrad_torch.corpus; bench/real_corpus.sh)
"""
from .checkpoint import image_size, load_checkpoint, model_from_config
from .data import (BOS, EOS, FIRST, PAD, SPACE_TOKEN, UNK, copy_batch, detokenize, pad_batch,
                   read_tsv, tokenize)
from .image import ImageSeq2Seq, PatchEmbedding, PositionalEncoding2D, patchify
from .model import PositionalEncoding, Seq2Seq, strip_eos
from .bench import greedy_exact

__all__ = ["BOS", "EOS", "FIRST", "PAD", "SPACE_TOKEN", "UNK", "ImageSeq2Seq", "PatchEmbedding",
           "PositionalEncoding", "PositionalEncoding2D", "Seq2Seq", "copy_batch", "detokenize",
           "greedy_exact", "image_size", "load_checkpoint", "model_from_config", "pad_batch",
           "patchify", "read_tsv", "strip_eos", "tokenize"]
