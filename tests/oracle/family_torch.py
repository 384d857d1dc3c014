"""Reference BERT / DistilBERT / RoBERTa encoders with their task heads, written by hand in PyTorch (Debian
python3-torch) after Hugging Face transformers' modeling_bert.py, modeling_distilbert.py and modeling_roberta.py.
The module tree mirrors Hugging Face's, so state_dict() keys ARE the Hugging Face tensor names (bert.*, distilbert.*,
roberta.*, cls.predictions.*, vocab_*, lm_head.*, classifier*, qa_outputs.*). Output projections of the masked-LM
heads are tied to the word embeddings and are not parameters of their own (as save_pretrained leaves them out).
Used as an oracle only: make_family_model.py writes folders with it, check_family_model.py checks it against
transformers.js, and the C++ tests compare bertscope against what it computes. Eval mode only (no dropout)."""
import json, math, os, struct
import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

FAMILIES = ("bert", "distilbert", "roberta")
HEADS = ("mlm", "cls", "qa", "token")
ARCH = {"bert": {"mlm": "BertForMaskedLM", "cls": "BertForSequenceClassification", "qa": "BertForQuestionAnswering",
                 "token": "BertForTokenClassification"},
        "distilbert": {"mlm": "DistilBertForMaskedLM", "cls": "DistilBertForSequenceClassification",
                       "qa": "DistilBertForQuestionAnswering", "token": "DistilBertForTokenClassification"},
        "roberta": {"mlm": "RobertaForMaskedLM", "cls": "RobertaForSequenceClassification",
                    "qa": "RobertaForQuestionAnswering", "token": "RobertaForTokenClassification"}}
HEAD_OF_ARCH = {a: h for fam in ARCH.values() for h, a in fam.items()}
NER_LABELS = ["O", "B-PER", "I-PER", "B-LOC", "I-LOC", "B-ORG", "I-ORG", "B-MISC", "I-MISC"]


def label_names(head, n):
    if head == "token":
        return [NER_LABELS[i] if i < len(NER_LABELS) else f"LABEL_{i}" for i in range(n)]
    if n == 2: return ["NEGATIVE", "POSITIVE"]
    if n == 3: return ["NEGATIVE", "NEUTRAL", "POSITIVE"]
    return [f"LABEL_{i}" for i in range(n)]


def make_config(family, head, vocab_size, layers, hidden, heads, inter, num_labels, max_len=512,
                pad_id=None, bos_id=0, eos_id=2):
    """config.json as Hugging Face writes it for this family (the fields its config class reads)."""
    if family == "distilbert":
        cfg = {"model_type": "distilbert", "vocab_size": vocab_size, "dim": hidden, "n_layers": layers, "n_heads": heads,
               "hidden_dim": inter, "activation": "gelu", "max_position_embeddings": max_len, "sinusoidal_pos_embds": False,
               "pad_token_id": 0 if pad_id is None else pad_id, "dropout": 0.1, "attention_dropout": 0.1,
               "seq_classif_dropout": 0.2, "qa_dropout": 0.1, "initializer_range": 0.02, "tie_weights_": True}
    else:
        cfg = {"model_type": family, "vocab_size": vocab_size, "hidden_size": hidden, "num_hidden_layers": layers,
               "num_attention_heads": heads, "intermediate_size": inter, "hidden_act": "gelu",
               "hidden_dropout_prob": 0.1, "attention_probs_dropout_prob": 0.1, "initializer_range": 0.02,
               "position_embedding_type": "absolute"}
        if family == "bert":
            cfg.update({"max_position_embeddings": max_len, "type_vocab_size": 2, "layer_norm_eps": 1e-12,
                        "pad_token_id": 0 if pad_id is None else pad_id})
        else:  # RoBERTa: positions start at pad_token_id + 1, so the table has max_len + 2 rows
            cfg.update({"max_position_embeddings": max_len + 2, "type_vocab_size": 1, "layer_norm_eps": 1e-5,
                        "pad_token_id": 1 if pad_id is None else pad_id, "bos_token_id": bos_id, "eos_token_id": eos_id})
    cfg["architectures"] = [ARCH[family][head]]
    if head in ("cls", "token"):
        names = label_names(head, num_labels)
        cfg["id2label"] = {str(i): n for i, n in enumerate(names)}
        cfg["label2id"] = {n: i for i, n in enumerate(names)}
    return dict(sorted(cfg.items()))


def family_of(cfg):
    mt = cfg.get("model_type")
    if mt not in FAMILIES: raise ValueError(f"unsupported model_type {mt!r}")
    return mt


def head_of(cfg):
    for a in cfg.get("architectures") or []:
        if a in HEAD_OF_ARCH: return HEAD_OF_ARCH[a]
    raise ValueError(f"cannot tell the head from architectures {cfg.get('architectures')!r}")


def num_labels_of(cfg):
    return len(cfg["id2label"]) if "id2label" in cfg else cfg.get("num_labels", 2)


class Dims:
    """the family's config fields under one set of names"""
    def __init__(self, cfg):
        d = cfg["model_type"] == "distilbert"
        self.V = cfg["vocab_size"]
        self.H = cfg["dim"] if d else cfg["hidden_size"]
        self.L = cfg["n_layers"] if d else cfg["num_hidden_layers"]
        self.A = cfg["n_heads"] if d else cfg["num_attention_heads"]
        self.I = cfg["hidden_dim"] if d else cfg["intermediate_size"]
        self.P = cfg["max_position_embeddings"]
        self.T = 0 if d else cfg.get("type_vocab_size", 2)
        self.eps = 1e-12 if d else cfg.get("layer_norm_eps", 1e-12)
        self.pad = cfg.get("pad_token_id", 0)
        act = cfg.get("activation" if d else "hidden_act", "gelu")
        if act != "gelu": raise ValueError(f"only exact (erf) gelu is supported, not {act!r}")
        if d and cfg.get("sinusoidal_pos_embds"): raise ValueError("sinusoidal_pos_embds is not supported")
        if self.H % self.A: raise ValueError("heads must divide the hidden size")


def _mod(**children):
    m = nn.Module()
    for k, v in children.items(): setattr(m, k, v)
    return m


def _lin(i, o): return nn.Linear(i, o)


class Embeddings(nn.Module):
    """BERT: word + position (0..T-1) + token type, LayerNorm. DistilBERT: word + position, LayerNorm (no types).
    RoBERTa: word + token type + position, positions = padding_idx + running count of non-pad tokens (pads get
    padding_idx itself), LayerNorm."""
    def __init__(self, family, d):
        super().__init__()
        self.family, self.pad = family, d.pad
        self.word_embeddings = nn.Embedding(d.V, d.H)
        self.position_embeddings = nn.Embedding(d.P, d.H)
        if family != "distilbert": self.token_type_embeddings = nn.Embedding(d.T, d.H)
        self.LayerNorm = nn.LayerNorm(d.H, eps=d.eps)

    def position_ids(self, input_ids):
        if self.family == "roberta":
            keep = input_ids.ne(self.pad).int()
            return (torch.cumsum(keep, dim=1).type_as(keep) * keep).long() + self.pad
        B, T = input_ids.shape
        return torch.arange(T, dtype=torch.long, device=input_ids.device).unsqueeze(0).expand(B, T)

    def sum(self, input_ids, token_type_ids=None):
        """word + token type + position embeddings: the LayerNorm's input (what bertscope's saliency differentiates)"""
        x = self.word_embeddings(input_ids)
        if self.family != "distilbert":
            if token_type_ids is None: token_type_ids = torch.zeros_like(input_ids)
            x = x + self.token_type_embeddings(token_type_ids)
        return x + self.position_embeddings(self.position_ids(input_ids))

    def forward(self, input_ids, token_type_ids=None, embedding_sum=None):
        return self.LayerNorm(self.sum(input_ids, token_type_ids) if embedding_sum is None else embedding_sum)


class Layer(nn.Module):
    """one post-LayerNorm encoder block, under the family's own sub-module names"""
    def __init__(self, family, d):
        super().__init__()
        self.family, self.A, self.dh = family, d.A, d.H // d.A
        H, I = d.H, d.I
        if family == "distilbert":
            self.attention = _mod(q_lin=_lin(H, H), k_lin=_lin(H, H), v_lin=_lin(H, H), out_lin=_lin(H, H))
            self.sa_layer_norm = nn.LayerNorm(H, eps=d.eps)
            self.ffn = _mod(lin1=_lin(H, I), lin2=_lin(I, H))
            self.output_layer_norm = nn.LayerNorm(H, eps=d.eps)
        else:
            self.attention = _mod(self=_mod(query=_lin(H, H), key=_lin(H, H), value=_lin(H, H)),
                                  output=_mod(dense=_lin(H, H), LayerNorm=nn.LayerNorm(H, eps=d.eps)))
            self.intermediate = _mod(dense=_lin(H, I))
            self.output = _mod(dense=_lin(I, H), LayerNorm=nn.LayerNorm(H, eps=d.eps))

    def parts(self):
        if self.family == "distilbert":
            a = self.attention
            return (a.q_lin, a.k_lin, a.v_lin, a.out_lin, self.sa_layer_norm, self.ffn.lin1, self.ffn.lin2,
                    self.output_layer_norm)
        s, o = self.attention.self, self.attention.output
        return s.query, s.key, s.value, o.dense, o.LayerNorm, self.intermediate.dense, self.output.dense, self.output.LayerNorm

    def forward(self, x, attention_mask, head_mask=None):
        q_lin, k_lin, v_lin, o_lin, ln1, f1, f2, ln2 = self.parts()
        B, T, H = x.shape
        dh = self.dh
        def split(t): return t.view(B, T, self.A, dh).transpose(1, 2)
        q, k, v = split(q_lin(x)), split(k_lin(x)), split(v_lin(x))
        lowest = torch.finfo(x.dtype).min
        if self.family == "distilbert":  # q scaled first, masked keys set to the dtype's minimum
            s = (q / math.sqrt(dh)) @ k.transpose(2, 3)
            s = s.masked_fill((attention_mask == 0).view(B, 1, 1, T).expand_as(s), lowest)
        else:  # BERT / RoBERTa: additive mask (1 - m) * min
            s = q @ k.transpose(-1, -2) / math.sqrt(dh)
            s = s + (1.0 - attention_mask[:, None, None, :].to(x.dtype)) * lowest
        p = s.softmax(-1)
        if head_mask is not None:  # Hugging Face's head_mask: (A) factors on each head's probabilities
            p = p * head_mask.to(p.dtype).view(1, self.A, 1, 1)
        c = (p @ v).transpose(1, 2).reshape(B, T, H)
        x = ln1(o_lin(c) + x)
        x = ln2(f2(F.gelu(f1(x))) + x)
        return x, p


class Body(nn.Module):
    """bert / roberta: embeddings + encoder.layer.N (+ pooler for BERT's classifier); distilbert: embeddings +
    transformer.layer.N"""
    def __init__(self, family, d, pooler=False):
        super().__init__()
        self.family = family
        self.embeddings = Embeddings(family, d)
        layers = nn.ModuleList([Layer(family, d) for _ in range(d.L)])
        if family == "distilbert": self.transformer = _mod(layer=layers)
        else: self.encoder = _mod(layer=layers)
        if pooler: self.pooler = _mod(dense=_lin(d.H, d.H))

    def layers(self):
        return (self.transformer if self.family == "distilbert" else self.encoder).layer

    def forward(self, input_ids, attention_mask, token_type_ids=None, head_mask=None, embedding_sum=None):
        x = self.embeddings(input_ids, token_type_ids, embedding_sum)
        attns = []
        for i, layer in enumerate(self.layers()):
            x, p = layer(x, attention_mask, None if head_mask is None else head_mask[i])
            attns.append(p)
        return x, attns


class FamilyModel(nn.Module):
    """forward(input_ids, attention_mask[, token_type_ids]) -> logits (mlm: [B,T,V], cls: [B,labels],
    token: [B,T,labels]) or (start_logits, end_logits) ([B,T] each) for qa."""
    def __init__(self, cfg, init_std=0.02):
        super().__init__()
        self.cfg, self.family, self.head = cfg, family_of(cfg), head_of(cfg)
        d = self.d = Dims(cfg)
        fam, head, H = self.family, self.head, d.H
        n = num_labels_of(cfg)
        body = Body(fam, d, pooler=(fam == "bert" and head == "cls"))
        setattr(self, fam, body)  # bert.* / distilbert.* / roberta.*
        if head == "mlm":
            if fam == "bert":
                self.cls = _mod(predictions=_mod(transform=_mod(dense=_lin(H, H), LayerNorm=nn.LayerNorm(H, eps=d.eps))))
                self.cls.predictions.bias = nn.Parameter(torch.zeros(d.V))
            elif fam == "distilbert":
                self.vocab_transform = _lin(H, H)
                self.vocab_layer_norm = nn.LayerNorm(H, eps=1e-12)
                self.vocab_projector = _mod(); self.vocab_projector.bias = nn.Parameter(torch.zeros(d.V))
            else:
                self.lm_head = _mod(dense=_lin(H, H), layer_norm=nn.LayerNorm(H, eps=d.eps))
                self.lm_head.bias = nn.Parameter(torch.zeros(d.V))
        elif head == "cls":
            if fam == "bert": self.classifier = _lin(H, n)
            elif fam == "distilbert": self.pre_classifier = _lin(H, H); self.classifier = _lin(H, n)
            else: self.classifier = _mod(dense=_lin(H, H), out_proj=_lin(H, n))
        elif head == "qa":
            self.qa_outputs = _lin(H, 2)
        elif head == "token":
            self.classifier = _lin(H, n)
        self._init(init_std)

    def _init(self, std):
        # Hugging Face's _init_weights at std 0.02: N(0, std) matrices, zero biases, LayerNorm (1, 0), padding rows of
        # the embeddings with a padding_idx zeroed. Any other std (make_model.py's convention): everything random,
        # LayerNorm weights around 1 - peaked outputs whose order does not hinge on rounding.
        for name, p in self.named_parameters():
            is_ln = "LayerNorm" in name or "layer_norm" in name
            with torch.no_grad():
                if p.dim() > 1: nn.init.normal_(p, std=std)
                elif std == 0.02: p.fill_(1.0 if is_ln and name.endswith("weight") else 0.0)
                elif is_ln: nn.init.normal_(p, mean=1.0 if name.endswith("weight") else 0.0, std=std)
                else: nn.init.normal_(p, std=std)
        if std == 0.02:
            e = self.body().embeddings
            with torch.no_grad():
                e.word_embeddings.weight[self.d.pad].zero_()
                if self.family == "roberta": e.position_embeddings.weight[self.d.pad].zero_()

    def body(self):
        return getattr(self, self.family)

    def takes_token_types(self):
        return self.family == "bert"

    def onnx_inputs(self):
        return ["input_ids", "attention_mask"] + (["token_type_ids"] if self.takes_token_types() else [])

    def output_names(self):
        return ["start_logits", "end_logits"] if self.head == "qa" else ["logits"]

    def word_embeddings(self):
        return self.body().embeddings.word_embeddings.weight

    def forward(self, input_ids, attention_mask, token_type_ids=None, want_all=False, head_mask=None, embedding_sum=None):
        """head_mask: (layers, heads), Hugging Face's (1 keeps a head, 0 switches it off); embedding_sum: (B, T, H)
        (word + type + position embeddings, Embeddings.sum) to start from instead of looking the ids up"""
        x, attns = self.body()(input_ids, attention_mask, token_type_ids, head_mask, embedding_sum)
        fam, head = self.family, self.head
        if head == "mlm":
            if fam == "bert":
                t = self.cls.predictions.transform
                out = F.linear(t.LayerNorm(F.gelu(t.dense(x))), self.word_embeddings(), self.cls.predictions.bias)
            elif fam == "distilbert":
                h = self.vocab_layer_norm(F.gelu(self.vocab_transform(x)))
                out = F.linear(h, self.word_embeddings(), self.vocab_projector.bias)
            else:
                h = self.lm_head.layer_norm(F.gelu(self.lm_head.dense(x)))
                out = F.linear(h, self.word_embeddings(), self.lm_head.bias)
        elif head == "cls":
            first = x[:, 0]
            if fam == "bert": out = self.classifier(torch.tanh(self.bert.pooler.dense(first)))
            elif fam == "distilbert": out = self.classifier(F.relu(self.pre_classifier(first)))
            else: out = self.classifier.out_proj(torch.tanh(self.classifier.dense(first)))
        elif head == "qa":
            se = self.qa_outputs(x)
            out = (se[..., 0].contiguous(), se[..., 1].contiguous())
        else:
            out = self.classifier(x)
        return (out, x, attns) if want_all else out

    def hf_tensors(self, keep_tied=False):
        """Hugging Face name -> tensor, as save_pretrained writes them (tied output projections left out), or with
        them (keep_tied: as older pytorch_model.bin checkpoints hold them)."""
        t = dict(self.state_dict())
        if keep_tied and self.head == "mlm":
            w = self.word_embeddings()
            if self.family == "bert":
                t["cls.predictions.decoder.weight"] = w; t["cls.predictions.decoder.bias"] = self.cls.predictions.bias
            elif self.family == "distilbert":
                t["vocab_projector.weight"] = w
            else:
                t["lm_head.decoder.weight"] = w; t["lm_head.decoder.bias"] = self.lm_head.bias
        return t

    def load_hf(self, st):
        """copy a Hugging Face state dict in (shapes checked); tied copies are accepted and checked"""
        st = {k.replace("LayerNorm.gamma", "LayerNorm.weight").replace("LayerNorm.beta", "LayerNorm.bias"): v for k, v in st.items()}
        tied = {"cls.predictions.decoder.weight", "cls.predictions.decoder.bias", "vocab_projector.weight",
                "lm_head.decoder.weight", "lm_head.decoder.bias"}
        own = dict(self.state_dict())
        prefix = self.family + "."
        missing = []
        with torch.no_grad():
            for k, p in own.items():
                src = st.get(k)
                if src is None and k.startswith(prefix): src = st.get(k[len(prefix):])  # base-model checkpoints
                if src is None and k == "lm_head.bias": src = st.get("lm_head.decoder.bias")
                if src is None and k == "cls.predictions.bias": src = st.get("cls.predictions.decoder.bias")
                if src is None: missing.append(k); continue
                if tuple(src.shape) != tuple(p.shape): raise ValueError(f"{k}: shape {tuple(src.shape)}, expected {tuple(p.shape)}")
                p.copy_(src)
        if missing: raise KeyError(f"missing tensors: {missing}")
        unused = [k for k in st if k not in own and k not in tied and not k.endswith("position_ids") and prefix + k not in own]
        notes = [f"unused tensor {k}" for k in unused]
        for k in tied & set(st):
            ref = self.word_embeddings() if k.endswith("weight") else (self.lm_head.bias if self.family == "roberta" else self.cls.predictions.bias)
            if tuple(st[k].shape) == tuple(ref.shape) and not torch.equal(st[k].float(), ref.detach().float()):
                notes.append(f"{k} differs from the tensor it is tied to (Hugging Face ties them, as here)")
        return notes


DT = {"F32": np.float32, "F16": np.float16, "F64": np.float64}


def save_safetensors(path, tensors):
    """F32 safetensors: 8-byte little-endian header length, JSON header (names sorted, as the safetensors library
    writes them), space padding to 8 bytes, then the raw tensors in header order"""
    header, blobs, off = {}, [], 0
    for k in sorted(tensors):
        a = np.ascontiguousarray(tensors[k].detach().cpu().numpy().astype(np.float32))
        b = a.tobytes()
        header[k] = {"dtype": "F32", "shape": list(a.shape), "data_offsets": [off, off + len(b)]}
        blobs.append(b); off += len(b)
    header = {"__metadata__": {"format": "pt"}, **header}
    h = json.dumps(header, separators=(",", ":")).encode()
    h += b" " * ((8 - len(h) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(h))); f.write(h)
        for b in blobs: f.write(b)


def load_safetensors(path):
    with open(path, "rb") as f:
        n = struct.unpack("<Q", f.read(8))[0]; hdr = json.loads(f.read(n)); data = f.read()
    out = {}
    for k, v in hdr.items():
        if k == "__metadata__": continue
        b, e = v["data_offsets"]
        if v["dtype"] == "BF16":
            a = (np.frombuffer(data[b:e], dtype=np.uint16).astype(np.uint32) << 16).view(np.float32)
        else:
            a = np.frombuffer(data[b:e], dtype=DT[v["dtype"]]).astype(np.float32)
        out[k] = torch.from_numpy(a.reshape(v["shape"]).copy())
    return out


def load_dir(d):
    cfg = json.load(open(os.path.join(d, "config.json")))
    m = FamilyModel(cfg)
    notes = m.load_hf(load_safetensors(os.path.join(d, "model.safetensors")))
    m.eval()
    return m, cfg, notes


class _OnnxWrap(nn.Module):
    def __init__(self, m):
        super().__init__(); self.m = m

    def forward(self, input_ids, attention_mask, token_type_ids=None):
        return self.m(input_ids, attention_mask, token_type_ids)


def export_onnx(m, d):
    """onnx/model.onnx with the inputs transformers.js feeds this family (BERT: input_ids, attention_mask,
    token_type_ids; DistilBERT and RoBERTa: input_ids, attention_mask, RoBERTa's positions computed inside the graph)
    and Hugging Face's output names (logits, or start_logits + end_logits)"""
    os.makedirs(os.path.join(d, "onnx"), exist_ok=True)
    first = 0 if m.family == "roberta" else 101
    ids = torch.tensor([[first, 2023, 2003, 7, 2], [first, 2023, 2, m.d.pad, m.d.pad]])
    am = torch.tensor([[1, 1, 1, 1, 1], [1, 1, 1, 0, 0]])
    args = (ids, am) + ((torch.zeros_like(ids),) if m.takes_token_types() else ())
    names_in, names_out = m.onnx_inputs(), m.output_names()
    dyn = {n: {0: "batch_size", 1: "sequence_length"} for n in names_in}
    for o in names_out: dyn[o] = {0: "batch_size"} if m.head == "cls" else {0: "batch_size", 1: "sequence_length"}
    m.eval()
    with torch.no_grad():
        torch.onnx.export(_OnnxWrap(m), args, os.path.join(d, "onnx", "model.onnx"), input_names=names_in,
                          output_names=names_out, dynamic_axes=dyn, opset_version=14, do_constant_folding=False)
