"""torch_gradients.py ORACLE_DIR MODEL_DIR BATCH_JSON OUT_PREFIX
PyTorch autograd, in float64, of the mean cross-entropy loss of a Hugging Face BERT folder (classifier or masked-LM
head) on one batch: writes OUT_PREFIX.safetensors (the gradient of every parameter, under Hugging Face names) and
OUT_PREFIX.json (the loss). The reference for bertscope's backward pass."""
import json, sys
import torch
import torch.nn.functional as F

oracle, model_dir, batch_file, out = sys.argv[1:5]
sys.path.insert(0, oracle)
from bert_torch import load_dir, hf_names, save_safetensors  # noqa: E402

model, cfg = load_dir(model_dir)
model = model.double()
batch = json.load(open(batch_file))
ids = torch.tensor(batch["ids"])
mask = torch.tensor(batch["mask"])
types = torch.tensor(batch["type_ids"])
labels = torch.tensor(batch["labels"])
logits = model(ids, mask, types)
if model.head == "cls":
    loss = F.cross_entropy(logits, labels)
elif model.head == "mlm":
    loss = F.cross_entropy(logits.reshape(-1, logits.shape[-1]), labels.reshape(-1), ignore_index=-100)
else:
    raise SystemExit("unsupported head " + model.head)
loss.backward()
grads = {name: p.grad for name, p in hf_names(model).items() if p.grad is not None}
save_safetensors(out + ".safetensors", grads)
json.dump({"loss": loss.item()}, open(out + ".json", "w"))
