"""explain_oracle.py MODEL_DIR CASES_JSON OUT_JSON
The reference for bertscope's explain module (engine/explain): for each case, a BERT, DistilBERT or RoBERTa folder
run by family_torch.py in float64 (eval mode, no dropout), with Hugging Face's head_mask, and PyTorch autograd's
gradient of one output logit with respect to the embedding sum (word + type + position embeddings, the embedding
LayerNorm's input: Embeddings.sum).
A case: {"ids": [T], "type_ids": [T] (optional: zeros), "head_mask": [layers][heads] (optional), "row": r, "index": k}.
The logit: masked LM logits[r, k] (k a vocabulary id); sequence classification logits[k] (r unused); question
answering start (k = 0) or end (k = 1) logit at position r; token classification logits[r, k].
Writes [{"logit", "embedding_sum" (T*H), "gradient" (T*H), "hidden" (T*H, the last layer), "outputs" (every logit
of the head, flattened: mlm (T*V), cls (L), qa (T*2: start, end per position), token (T*L)), "attentions" (layers*heads*T*T,
after the head mask as Hugging Face's output_attentions), "head_mask_gradient" (layers*heads: d(logit)/d(head_mask),
Michel et al.'s head importance)}] in case order."""
import json, os, sys
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from family_torch import load_dir  # noqa: E402

model_dir, cases_file, out_file = sys.argv[1:4]
model, cfg, notes = load_dir(model_dir)
model = model.double()
model.eval()
results = []
for case in json.load(open(cases_file)):
    ids = torch.tensor([case["ids"]])
    types = torch.tensor([case.get("type_ids", [0] * len(case["ids"]))])
    mask = torch.ones_like(ids)
    # Every head's gate as a leaf, 1 where no mask is given (the same outputs as none), for d(logit)/d(gate).
    layers = cfg.get("num_hidden_layers", cfg.get("n_layers"))  # BERT, RoBERTa; DistilBERT
    heads = cfg.get("num_attention_heads", cfg.get("n_heads"))
    gates = case.get("head_mask") or [[1.0] * heads for _ in range(layers)]
    head_mask = torch.tensor(gates, dtype=torch.float64, requires_grad=True)
    types_in = None if model.family == "distilbert" else types
    emb = model.body().embeddings.sum(ids, types_in).detach().requires_grad_(True)  # (1, T, H)
    out, hidden, attns = model(ids, mask, types_in, want_all=True, head_mask=head_mask, embedding_sum=emb)
    r, k = case["row"], case["index"]
    if model.head == "qa":
        logit = out[k][0, r]
        outputs = torch.stack(out, -1)[0]
    elif model.head == "cls":
        logit = out[0, k]
        outputs = out[0]
    else:
        logit = out[0, r, k]
        outputs = out[0]
    logit.backward()
    flat = lambda t: t.detach().reshape(-1).tolist()
    results.append({"logit": logit.item(), "embedding_sum": flat(emb), "gradient": flat(emb.grad), "hidden": flat(hidden[0]),
                    "head_mask_gradient": flat(head_mask.grad),
                    "outputs": flat(outputs), "attentions": flat(torch.stack([a[0] for a in attns]))})
json.dump(results, open(out_file, "w"))
print(f"{model.family} {model.head}: {len(results)} cases -> {out_file}")
