"""make_family_model.py OUT_DIR --family bert|distilbert|roberta --head mlm|cls|qa|token
       (--vocab_dir DIR | --tokenizer_dir DIR) [--layers L --hidden H --heads A --inter I --labels N --seed S
       --init_std S --max_len N --keep_tied --logits_out FILE]
   make_family_model.py OUT_DIR --from_dir DIR [--logits_out FILE]
Sibling of hf-oracle's make_model.py for more model families and heads: writes a Hugging Face layout folder
(config.json, tokenizer files, model.safetensors with Hugging Face's tensor names, onnx/model.onnx for transformers.js)
with seeded random weights, or re-exports an existing folder (--from_dir: checks its tensor names and shapes).
bert and distilbert take a WordPiece vocabulary (--vocab_dir: vocab.txt and tokenizer.json, e.g. bert-base-uncased);
roberta takes a byte-level BPE tokenizer folder (--tokenizer_dir: vocab.json, merges.txt, tokenizer.json,
tokenizer_config.json), the vocabulary size is read from it. --logits_out writes what the PyTorch module outputs for a
fixed padded batch of token ids (every position), for tests that compare whole logit tensors."""
import argparse, json, os, shutil, sys
import numpy as np
import torch
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from family_torch import (FamilyModel, make_config, load_dir, save_safetensors, export_onnx, family_of, HEADS, FAMILIES)

WORDPIECE_FILES = ("vocab.txt", "tokenizer.json")
BPE_FILES = ("vocab.json", "merges.txt", "tokenizer.json", "tokenizer_config.json", "special_tokens_map.json", "added_tokens.json")


def copy_files(src, dst, names):
    for n in names:
        if os.path.exists(os.path.join(src, n)) and os.path.abspath(src) != os.path.abspath(dst):
            shutil.copy(os.path.join(src, n), os.path.join(dst, n))


def wordpiece_vocab(d):
    vocab = {}
    for i, line in enumerate(open(os.path.join(d, "vocab.txt"), encoding="utf-8")):
        vocab.setdefault(line.rstrip("\n"), i)
    return vocab


def bpe_vocab(d):
    """token -> id over vocab.json and tokenizer.json's added tokens"""
    vocab = dict(json.load(open(os.path.join(d, "vocab.json"), encoding="utf-8")))
    tj = os.path.join(d, "tokenizer.json")
    if os.path.exists(tj):
        for t in json.load(open(tj, encoding="utf-8")).get("added_tokens", []): vocab.setdefault(t["content"], t["id"])
    return vocab


def wordpiece_lowercase(d):
    tc = os.path.join(d, "tokenizer_config.json")
    if os.path.exists(tc) and "do_lower_case" in json.load(open(tc)): return json.load(open(tc))["do_lower_case"]
    tj = os.path.join(d, "tokenizer.json")
    if os.path.exists(tj): return (json.load(open(tj, encoding="utf-8")).get("normalizer") or {}).get("lowercase", True)
    return True


def write_wordpiece_tokenizer(src, out, family, max_len):
    """vocab.txt + tokenizer.json copied as they are (bert-base-uncased's and distilbert-base-uncased's tokenizer.json
    are the same file: [CLS] A [SEP] B [SEP] with type ids 0/1); tokenizer_config.json names the class, which tells
    transformers.js whether to hand token_type_ids to the model (BertTokenizer yes, DistilBertTokenizer no)"""
    copy_files(src, out, WORDPIECE_FILES)
    if not os.path.exists(os.path.join(out, "tokenizer.json")): sys.exit(f"no tokenizer.json in {src}")
    lower = wordpiece_lowercase(src)
    specials = {"unk_token": "[UNK]", "sep_token": "[SEP]", "pad_token": "[PAD]", "cls_token": "[CLS]", "mask_token": "[MASK]"}
    tc = {"tokenizer_class": "DistilBertTokenizer" if family == "distilbert" else "BertTokenizer", "do_lower_case": lower,
          "model_max_length": max_len, "tokenize_chinese_chars": True, "strip_accents": None,
          "clean_up_tokenization_spaces": True, **specials}
    json.dump(tc, open(os.path.join(out, "tokenizer_config.json"), "w"), indent=2)
    json.dump(specials, open(os.path.join(out, "special_tokens_map.json"), "w"), indent=2)


def special_ids(d, family):
    if family == "roberta":
        v = bpe_vocab(d)
        return {"cls": v["<s>"], "sep": v["</s>"], "pad": v["<pad>"], "mask": v["<mask>"], "unk": v.get("<unk>")}
    v = wordpiece_vocab(d)
    return {"cls": v["[CLS]"], "sep": v["[SEP]"], "pad": v["[PAD]"], "mask": v["[MASK]"], "unk": v.get("[UNK]")}


def logits_batch(d, family, V):
    """two rows of 8: <cls> w w w <mask> w w <sep> ; a padded pair <cls> w w <sep> (<sep>) w.. <sep> <pad>"""
    s = special_ids(d, family)
    rng = np.random.RandomState(1234)
    specials = set(x for x in s.values() if x is not None)
    words = [int(x) for x in rng.randint(1000, min(V, 30000), size=40) if int(x) not in specials][:12]
    w = iter(words)
    row0 = [s["cls"], next(w), next(w), next(w), s["mask"], next(w), next(w), s["sep"]]
    if family == "roberta":
        row1 = [s["cls"], next(w), next(w), s["sep"], s["sep"], next(w), s["sep"], s["pad"]]
        types = None
    else:
        row1 = [s["cls"], next(w), next(w), s["sep"], next(w), next(w), s["sep"], s["pad"]]
        types = [[0] * 8, [0, 0, 0, 0, 1, 1, 1, 0]] if family == "bert" else None
    mask = [[1] * 8, [1] * 7 + [0]]
    return [row0, row1], mask, types


def fmt(x):
    if isinstance(x, list): return "[" + ",".join(fmt(v) for v in x) + "]"
    return "%.8g" % x


def write_logits(m, d, path):
    ids, mask, types = logits_batch(d, m.family, m.d.V)
    ti = torch.tensor(ids); tm = torch.tensor(mask); tt = torch.tensor(types) if types is not None else None
    with torch.no_grad():
        out, hidden, _ = m(ti, tm, tt, want_all=True)
        pos = m.body().embeddings.position_ids(ti)
    outs = {"start_logits": out[0], "end_logits": out[1]} if m.head == "qa" else {"logits": out}
    parts = [f'"family":{json.dumps(m.family)}', f'"head":{json.dumps(m.head)}', f'"architecture":{json.dumps(m.cfg["architectures"][0])}',
             f'"input_ids":{json.dumps(ids)}', f'"attention_mask":{json.dumps(mask)}', f'"token_type_ids":{json.dumps(types)}',
             f'"position_ids":{json.dumps(pos.tolist())}',
             '"note":"PyTorch float32, eval mode; every position, padded ones included; token_type_ids null: the model takes none (zeros)"',
             f'"last_hidden_state":{fmt(hidden.tolist())}'] + [f'"{k}":{fmt(v.tolist())}' for k, v in outs.items()]
    with open(path, "w") as f: f.write("{" + ",\n".join(parts) + "}\n")


ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
ap.add_argument("out")
ap.add_argument("--family", choices=FAMILIES, default="bert"); ap.add_argument("--head", choices=HEADS, default="mlm")
ap.add_argument("--vocab_dir", help="bert/distilbert: folder with vocab.txt and tokenizer.json")
ap.add_argument("--tokenizer_dir", help="roberta: folder with vocab.json, merges.txt, tokenizer.json, tokenizer_config.json")
ap.add_argument("--layers", type=int, default=2); ap.add_argument("--hidden", type=int, default=128)
ap.add_argument("--heads", type=int, default=2); ap.add_argument("--inter", type=int, default=512)
ap.add_argument("--labels", type=int, help="labels of the cls/token heads (default 2 for cls, 5 for token: O B-PER I-PER B-LOC I-LOC)")
ap.add_argument("--max_len", type=int, default=512, help="longest input (RoBERTa's position table gets 2 rows more)")
ap.add_argument("--seed", type=int, default=0)
ap.add_argument("--init_std", type=float, default=0.02, help="0.02 is Hugging Face's init (near-uniform outputs); ~0.3 gives peaked, well-separated predictions, and random biases and LayerNorm parameters")
ap.add_argument("--keep_tied", action="store_true", help="also save the tied output projection (as old pytorch_model.bin files hold it); save_pretrained leaves it out")
ap.add_argument("--from_dir", help="re-export this folder's config.json + model.safetensors (+ its tokenizer files)")
ap.add_argument("--logits_out", help="write PyTorch's outputs for a fixed padded batch to this JSON file")
a = ap.parse_args()
torch.manual_seed(a.seed)
os.makedirs(a.out, exist_ok=True)

if a.from_dir:
    m, cfg, notes = load_dir(a.from_dir)
    for n in notes: print("note:", n)
    family = family_of(cfg)
    copy_files(a.from_dir, a.out, sorted(set(WORDPIECE_FILES + BPE_FILES + ("vocab.txt",))))
    tok_dir = a.from_dir
else:
    family = a.family
    if family == "roberta":
        if not a.tokenizer_dir: sys.exit("roberta needs --tokenizer_dir (a byte-level BPE tokenizer folder)")
        copy_files(a.tokenizer_dir, a.out, BPE_FILES)
        vocab = bpe_vocab(a.out)
        V = max(vocab.values()) + 1
        for t, want in (("<s>", 0), ("<pad>", 1), ("</s>", 2)):
            if vocab.get(t) != want: print(f"warning: {t} has id {vocab.get(t)}, RoBERTa's is {want}")
        ids = {"pad_id": vocab["<pad>"], "bos_id": vocab["<s>"], "eos_id": vocab["</s>"]}
        tok_dir = a.out
    else:
        if not a.vocab_dir: sys.exit(f"{family} needs --vocab_dir (vocab.txt + tokenizer.json)")
        write_wordpiece_tokenizer(a.vocab_dir, a.out, family, a.max_len)
        V = sum(1 for _ in open(os.path.join(a.out, "vocab.txt"), encoding="utf-8"))
        ids = {"pad_id": wordpiece_vocab(a.out)["[PAD]"]}
        tok_dir = a.out
    labels = a.labels or (5 if a.head == "token" else 2)
    cfg = make_config(family, a.head, V, a.layers, a.hidden, a.heads, a.inter, labels, a.max_len, **ids)
    m = FamilyModel(cfg, init_std=a.init_std); m.eval()

json.dump(cfg, open(os.path.join(a.out, "config.json"), "w"), indent=2)
save_safetensors(os.path.join(a.out, "model.safetensors"), m.hf_tensors(keep_tied=a.keep_tied))
export_onnx(m, a.out)
if a.logits_out: write_logits(m, tok_dir, a.logits_out)
print("wrote", a.out, "(" + cfg["architectures"][0] + ")")
