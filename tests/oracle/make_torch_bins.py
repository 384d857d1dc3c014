#!/usr/bin/python3
"""make_torch_bins.py OUT_DIR : PyTorch checkpoints (pytorch_model.bin) for test_torch_file, written by torch.save
itself, and the values they hold as JSON, so bertscope's own reader can be checked against PyTorch.

OUT_DIR/zip/pytorch_model.bin       torch.save's default zip format
OUT_DIR/legacy/pytorch_model.bin    _use_new_zipfile_serialization=False (as bert-base-uncased's own .bin)
OUT_DIR/sharded/                    two shards (one of each format) and pytorch_model.bin.index.json
OUT_DIR/expected.json               {name: {"dtype": "F32", "shape": [...], "values": [...]}} (values as float32)
OUT_DIR/seeds/                      two tiny checkpoints, seeds for the fuzz harness (tests/fuzz/corpus/torch_file)

Run with Debian's /usr/bin/python3 (python3-torch). Deterministic: a fixed seed.
"""
import collections
import json
import os
import sys

import torch

DTYPE_NAMES = {torch.float32: "F32", torch.float16: "F16", torch.bfloat16: "BF16", torch.float64: "F64",
               torch.int64: "I64", torch.int32: "I32", torch.int16: "I16", torch.int8: "I8", torch.uint8: "U8",
               torch.bool: "BOOL"}


def state_dict():
    g = torch.Generator().manual_seed(1234)
    sd = collections.OrderedDict()
    sd["f32"] = torch.randn(3, 4, generator=g)
    sd["f16"] = torch.randn(5, generator=g).half()
    sd["bf16"] = torch.randn(2, 3, generator=g).bfloat16()
    sd["f64"] = torch.randn(2, 2, generator=g, dtype=torch.float64)
    sd["embeddings.position_ids"] = torch.arange(7).unsqueeze(0)  # int64 buffer, shape [1, 7]
    sd["i32"] = torch.tensor([-3, 0, 2147483647], dtype=torch.int32)
    sd["i16"] = torch.tensor([-300, 7], dtype=torch.int16)
    sd["i8"] = torch.tensor([-128, 5, 127], dtype=torch.int8)
    sd["u8"] = torch.tensor([0, 200, 255], dtype=torch.uint8)
    sd["mask"] = torch.tensor([True, False, True])
    # Tied weights: one tensor under two names, so one storage in the file (as Hugging Face BERT's decoder).
    word = torch.randn(6, 4, generator=g)
    sd["embeddings.word_embeddings.weight"] = word
    sd["cls.predictions.decoder.weight"] = word
    sd["transposed"] = torch.randn(4, 3, generator=g).t()           # shape [3, 4], strides (1, 3)
    base = torch.randn(10, generator=g)
    sd["sliced"] = base[2:7]                                        # storage offset 2, storage of 10
    sd["columns"] = torch.randn(4, 6, generator=g)[1:, 1:4]         # offset 7, strides (6, 1): not contiguous
    sd["param"] = torch.nn.Parameter(torch.randn(3, generator=g))   # pickled through _rebuild_parameter
    sd["scalar"] = torch.tensor(2.5)                                # zero dimensions
    sd["empty"] = torch.zeros(0, 3)
    sd._metadata = collections.OrderedDict([("", {"version": 1})])  # as Module.state_dict() sets it
    return sd


def expected(sd):
    out = {}
    for name, t in sd.items():
        t = t.detach()
        out[name] = {"dtype": DTYPE_NAMES[t.dtype], "shape": list(t.shape),
                     "values": t.to(torch.float32).flatten().tolist()}
    return out


def save(obj, path, legacy):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    torch.save(obj, path, _use_new_zipfile_serialization=not legacy)


def main():
    out = sys.argv[1]
    sd = state_dict()
    save(sd, os.path.join(out, "zip", "pytorch_model.bin"), legacy=False)
    save(sd, os.path.join(out, "legacy", "pytorch_model.bin"), legacy=True)

    names = list(sd.keys())
    half = len(names) // 2
    shards = {"pytorch_model-00001-of-00002.bin": names[:half], "pytorch_model-00002-of-00002.bin": names[half:]}
    weight_map = {}
    for i, (file, part) in enumerate(shards.items()):
        # The tied pair lands in one shard; a shard holds its own copy of each storage it uses.
        save(collections.OrderedDict((n, sd[n]) for n in part), os.path.join(out, "sharded", file), legacy=(i == 1))
        weight_map.update({n: file for n in part})
    with open(os.path.join(out, "sharded", "pytorch_model.bin.index.json"), "w") as f:
        json.dump({"metadata": {"total_size": 0}, "weight_map": weight_map}, f, indent=1)

    with open(os.path.join(out, "expected.json"), "w") as f:
        json.dump(expected(sd), f)

    g = torch.Generator().manual_seed(5)
    tiny = collections.OrderedDict([("a", torch.randn(2, 2, generator=g)), ("b", torch.arange(3)),
                                    ("c", torch.randn(3, 2, generator=g).half().t())])
    save(tiny, os.path.join(out, "seeds", "tiny_zip.bin"), legacy=False)
    save(tiny, os.path.join(out, "seeds", "tiny_legacy.bin"), legacy=True)


if __name__ == "__main__":
    main()
