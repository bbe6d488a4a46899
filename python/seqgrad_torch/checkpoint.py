"""Reading seqgrad checkpoints (docs/checkpoint.md) with h5py: the config is the JSON attribute
of /config, the vocabularies are /vocab/src and /vocab/tgt, and /model holds one float32
dataset per state_dict key. A glyphs run's checkpoint holds an image model (ImageSeq2Seq)."""
import json
import math

import h5py
import torch

from .image import ImageSeq2Seq
from .model import Seq2Seq


def image_size(config):
    """(height, width) of a glyphs run's images: --image-width 0 means
    ceil(H / 16 * (11 * max_len + 2)) rounded up to a multiple of --patch (docs/data.md)."""
    height, width, patch = config["image_height"], config["image_width"], config["patch"]
    if width <= 0:
        need = math.ceil(height / 16.0 * (11.0 * config["max_len"] + 2))
        width = (need + patch - 1) // patch * patch
    return height, width


def model_from_config(config, src_vocab_size, tgt_vocab_size):
    """An untrained Seq2Seq (or ImageSeq2Seq for the glyphs task) of the shape a checkpoint's
    config describes. Its positional table covers max(512, 2 * max_len + 16) positions, as
    seqgrad's."""
    max_len = max(512, 2 * config.get("max_len", 0) + 16)
    if config.get("task") == "glyphs":
        height, width = image_size(config)
        return ImageSeq2Seq(tgt_vocab_size, height, width, config["patch"], config["d_model"],
                            config["heads"], config["enc_layers"], config["dec_layers"],
                            config["ff"], config["dropout"], norm_first=config["norm_first"],
                            max_len=max_len)
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
