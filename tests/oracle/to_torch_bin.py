"""to_torch_bin.py SRC DST [--legacy]: the model folder SRC as Hugging Face's older repos have it: the same config
and tokenizer files, the weights as pytorch_model.bin written by PyTorch's torch.save (zip format, or with
--legacy the pre-1.6 format bert-base-uncased's own .bin uses). Tied weights are saved as PyTorch models hold
them: the masked-LM decoder and the word embeddings share one storage, under both names. Also a transposed
storage, so a reader that ignores strides fails."""
import os
import shutil
import sys

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from family_torch import load_safetensors  # noqa: E402

src, dst = sys.argv[1], sys.argv[2]
legacy = "--legacy" in sys.argv[3:]
os.makedirs(dst)
for name in os.listdir(src):
    if name not in ("model.safetensors", "onnx") and os.path.isfile(os.path.join(src, name)):
        shutil.copy(os.path.join(src, name), dst)
tensors = load_safetensors(os.path.join(src, "model.safetensors"))
state = {}
for name, t in tensors.items():
    # Every 2-D weight stored as the transpose of a contiguous copy: same values, column-major strides.
    state[name] = t.t().contiguous().t() if t.dim() == 2 else t
for word, decoder in [("distilbert.embeddings.word_embeddings.weight", "vocab_projector.weight"),
                      ("roberta.embeddings.word_embeddings.weight", "lm_head.decoder.weight"),
                      ("bert.embeddings.word_embeddings.weight", "cls.predictions.decoder.weight")]:
    if word in state and any(k.startswith(decoder.split(".")[0]) for k in state):
        state[decoder] = state[word]  # one tensor, two names: torch.save keeps one storage
torch.save(state, os.path.join(dst, "pytorch_model.bin"), _use_new_zipfile_serialization=not legacy)
