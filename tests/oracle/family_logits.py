"""family_logits.py MODEL_DIR BATCH_JSON OUT_JSON
Loads a BERT, DistilBERT or RoBERTa folder into family_torch.py's PyTorch modules (Hugging Face's tensor names: a
missing or mis-shaped tensor fails the load) and writes what it outputs for one batch ({"ids", "mask", "type_ids"
(optional: zeros)}) in float32, eval mode: {"family", "head", "architecture", "notes" (unused tensors, tied copies that
differ), "logits"}. For tests that check a folder bertscope wrote loads in PyTorch and predicts what bertscope does."""
import json, os, sys
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from family_torch import load_dir  # noqa: E402

model_dir, batch_file, out = sys.argv[1:4]
model, cfg, notes = load_dir(model_dir)
batch = json.load(open(batch_file))
ids = torch.tensor(batch["ids"])
mask = torch.tensor(batch["mask"])
types = torch.tensor(batch["type_ids"]) if "type_ids" in batch else torch.zeros_like(ids)
with torch.no_grad():
    logits = model(ids, mask, None if model.family == "distilbert" else types)
if model.head == "qa": logits = torch.stack(logits, -1)
json.dump({"family": model.family, "head": model.head, "architecture": cfg["architectures"][0], "notes": notes,
           "logits": logits.tolist()}, open(out, "w"))
