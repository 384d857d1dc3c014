#!/usr/bin/env python3
"""stack_layers.py MODEL_DIR OUT_DIR : doubles a BERT's depth by stacking (Gong et al. 2019, "Efficient Training of
BERT by Progressively Stacking"): layer i of the new 2L-layer model is layer i mod L of the old one, so training goes
on from a model that already computes something sensible instead of from random deeper layers. Everything else
(embeddings, pooler, masked-LM head, vocabulary) is copied unchanged. The default model's second edition (issue 20)
grows this way from the shipped 4-layer model when that model's capacity is what holds it back.

Reads and writes safetensors directly (an 8-byte little-endian header length, a JSON header, raw tensor bytes),
since the safetensors Python package is not in Debian 12."""
import json
import re
import shutil
import struct
import sys
from pathlib import Path

LAYER = re.compile(r"^(.*\.layer\.)(\d+)(\..*)$")


def read_safetensors(path):
    data = path.read_bytes()
    (header_len,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8:8 + header_len])
    body = data[8 + header_len:]
    tensors = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        begin, end = info["data_offsets"]
        tensors[name] = (info["dtype"], info["shape"], body[begin:end])
    return tensors, header.get("__metadata__")


def write_safetensors(path, tensors, metadata):
    header, offset, chunks = {}, 0, []
    if metadata:
        header["__metadata__"] = metadata
    for name in sorted(tensors):
        dtype, shape, raw = tensors[name]
        header[name] = {"dtype": dtype, "shape": shape, "data_offsets": [offset, offset + len(raw)]}
        chunks.append(raw)
        offset += len(raw)
    encoded = json.dumps(header, separators=(",", ":")).encode()
    encoded += b" " * (-len(encoded) % 8)  # the format pads the header to 8 bytes
    tmp = path.with_suffix(".tmp")
    with open(tmp, "wb") as f:
        f.write(struct.pack("<Q", len(encoded)) + encoded)
        for raw in chunks:
            f.write(raw)
    tmp.rename(path)


def main():
    if len(sys.argv) != 3:
        sys.exit("usage: stack_layers.py MODEL_DIR OUT_DIR")
    src, out = Path(sys.argv[1]), Path(sys.argv[2])
    if out.exists():
        sys.exit(f"{out} exists; choose a new folder (nothing is overwritten)")
    config = json.loads((src / "config.json").read_text())
    layers = config["num_hidden_layers"]
    tensors, metadata = read_safetensors(src / "model.safetensors")
    stacked = {}
    for name, value in tensors.items():
        m = LAYER.match(name)
        if not m:
            stacked[name] = value
            continue
        i = int(m.group(2))
        stacked[name] = value
        stacked[f"{m.group(1)}{i + layers}{m.group(3)}"] = value
    out.mkdir(parents=True)
    for f in src.iterdir():
        if f.is_file() and f.name not in ("model.safetensors", "config.json"):
            shutil.copy2(f, out / f.name)
    config["num_hidden_layers"] = 2 * layers
    (out / "config.json").write_text(json.dumps(config, indent=2) + "\n")
    write_safetensors(out / "model.safetensors", stacked, metadata)
    print(f"{src}: {layers} layers -> {out}: {2 * layers} layers, {len(stacked)} tensors")


if __name__ == "__main__":
    main()
