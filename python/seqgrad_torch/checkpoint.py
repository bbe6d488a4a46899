"""Reading seqgrad checkpoints (docs/checkpoint.md) with h5py: the config is the JSON attribute
of /config, the vocabularies are /vocab/src and /vocab/tgt, and /model holds one float32
dataset per state_dict key."""
import json

import h5py
import torch

from .model import Seq2Seq


def model_from_config(config, src_vocab_size, tgt_vocab_size):
    """An untrained Seq2Seq of the shape a checkpoint's config describes. Its positional table
    covers max(512, 2 * max_len + 16) positions, as seqgrad's."""
    return Seq2Seq(src_vocab_size, tgt_vocab_size, config["d_model"], config["heads"],
                   config["enc_layers"], config["dec_layers"], config["ff"], config["dropout"],
                   norm_first=config["norm_first"],
                   max_len=max(512, 2 * config.get("max_len", 0) + 16))


def load_checkpoint(path):
    """(model in eval mode, config dict, source tokens, target tokens) of a seqgrad checkpoint."""
    with h5py.File(path, "r") as f:
        config = json.loads(f["config"].attrs["json"])
        src_vocab = list(f["vocab/src"].asstr()[()])
        tgt_vocab = list(f["vocab/tgt"].asstr()[()])
        model = model_from_config(config, len(src_vocab), len(tgt_vocab))
        model.load_state_dict({k: torch.from_numpy(v[()]) for k, v in f["model"].items()})
    model.eval()
    return model, config, src_vocab, tgt_vocab
