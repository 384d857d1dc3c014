"""family_gradients.py MODEL_DIR BATCH_JSON OUT_PREFIX
PyTorch autograd, in float64, of the mean cross-entropy loss of a BERT, DistilBERT or RoBERTa folder (family_torch.py:
Hugging Face's tensor names; a sequence-classification, token-classification, question-answering or masked-LM head,
the masked-LM decoder tied to the word embeddings) on one batch, with no dropout. The loss is bertscope's trainer's:
classification, the mean over the sentences; masked LM and token classification, the mean over the labelled tokens
(label -100: no loss); question answering, *ForQuestionAnswering's: labels [s0, e0, s1, e1, ...] (each window's
start and end token) clamped to [0, T], T ignored, (start cross-entropy + end cross-entropy) / 2.
Writes OUT_PREFIX.safetensors (the gradient of every parameter under its Hugging Face name; the tied word embeddings'
gradient sums the embedding lookup and the decoder) and OUT_PREFIX.json (the loss). The batch: {"ids", "mask", "type_ids" (optional: zeros; the family
must take token types for non-zero ones), "labels"}. The family's position ids (RoBERTa's: after the padding index)
come from family_torch's embeddings. The reference for bertscope's backward pass of every family."""
import json, os, sys
import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from family_torch import load_dir, save_safetensors  # noqa: E402

model_dir, batch_file, out = sys.argv[1:4]
model, cfg, notes = load_dir(model_dir)
for n in notes: print("note:", n)
model = model.double()
model.eval()  # family_torch has no dropout at all; eval() for clarity
batch = json.load(open(batch_file))
ids = torch.tensor(batch["ids"])
mask = torch.tensor(batch["mask"])
types = torch.tensor(batch["type_ids"]) if "type_ids" in batch else torch.zeros_like(ids)
if not model.takes_token_types() and model.family != "roberta" and bool(types.ne(0).any()):
    sys.exit(f"{model.family} takes no token types, but the batch has non-zero type_ids")
labels = torch.tensor(batch["labels"])
logits = model(ids, mask, None if model.family == "distilbert" else types)
if model.head == "cls":
    loss = F.cross_entropy(logits, labels)  # mean over the batch
elif model.head in ("mlm", "token"):  # *ForMaskedLM's and *ForTokenClassification's loss: the mean over labelled positions
    loss = F.cross_entropy(logits.reshape(-1, logits.shape[-1]), labels.reshape(-1), ignore_index=-100)
elif model.head == "qa":  # *ForQuestionAnswering's loss, written out as transformers' modeling_bert.py has it
    start_logits, end_logits = logits  # (B, T) each
    positions = labels.reshape(-1, 2)
    ignored = start_logits.shape[1]
    start_positions = positions[:, 0].clamp(0, ignored)
    end_positions = positions[:, 1].clamp(0, ignored)
    loss = (F.cross_entropy(start_logits, start_positions, ignore_index=ignored) +
            F.cross_entropy(end_logits, end_positions, ignore_index=ignored)) / 2
else:
    sys.exit("unsupported head " + model.head)
loss.backward()
grads = {name: p.grad for name, p in model.named_parameters() if p.grad is not None}
missing = [name for name, p in model.named_parameters() if p.grad is None]
if missing: print("no gradient (unused by this loss):", missing)
save_safetensors(out + ".safetensors", grads)
json.dump({"loss": loss.item(), "family": model.family, "head": model.head, "parameters": len(grads)}, open(out + ".json", "w"))
print(f"{model.family} {model.head}: loss {loss.item():.6f}, {len(grads)} gradients -> {out}.safetensors")
