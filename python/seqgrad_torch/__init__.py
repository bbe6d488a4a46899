"""seqgrad's model in PyTorch, self-contained in the repository (python3-torch and python3-h5py
only): the Seq2Seq Transformer with seqgrad's parameter names, checkpoint loading, the data
helpers and the benchmark modes. Put the repository's python/ folder on sys.path (or
PYTHONPATH) and `import seqgrad_torch`.

    model.py       PositionalEncoding, Seq2Seq
    checkpoint.py  load_checkpoint, model_from_config
    data.py        token ids, tokenize, read_tsv, pad_batch, copy_batch
    bench.py       the throughput and converge modes (python3 -m seqgrad_torch)
    corpus.py      a --tokenize spm --max-tokens run's recipe trained in PyTorch
                   (python3 -m seqgrad_torch.corpus; bench/real_corpus.sh)
"""
from .checkpoint import load_checkpoint, model_from_config
from .data import (BOS, EOS, FIRST, PAD, SPACE_TOKEN, UNK, copy_batch, detokenize, pad_batch,
                   read_tsv, tokenize)
from .model import PositionalEncoding, Seq2Seq, strip_eos
from .bench import greedy_exact

__all__ = ["BOS", "EOS", "FIRST", "PAD", "SPACE_TOKEN", "UNK", "PositionalEncoding", "Seq2Seq",
           "copy_batch", "detokenize", "greedy_exact", "load_checkpoint", "model_from_config",
           "pad_batch", "read_tsv", "strip_eos", "tokenize"]
