#!/usr/bin/python3
"""bpe_random_inputs.py SEED COUNT : prints COUNT seeded random {"text", "text_pair"?} lines for the byte-level BPE
oracle comparison: short strings glued from pieces that exercise GPT-2's split (contractions, spaces of every kind,
letters, numbers, marks, symbols, emoji, CJK) and RoBERTa's added tokens. No U+0085 or U+FEFF (transformers.js's
\\s differs from Hugging Face's there) and no empty text_pair (hf_pipeline.mjs would drop it)."""
import json
import random
import sys

PIECES = [" ", "  ", "\t", "\n", "\r\n", "\u00a0", "\u3000", "\u2028", "\u1680", "\u2003",
          "a", "b", "x", "Z", "ab", "cd", "The", "hello", "ing", " the", " of", "\u00df", "\u0130", "\u03a3", "\u0416",
          "'s", "'t", "'re", "'ve", "'m", "'ll", "'d", "'", "'S", "\u2019",
          "0", "12", "3.5", "\u00bd", "\u2462", "\U00010400",
          "!", "?", ".", ",", "...", "-", "_", "(", ")", "\"", "$", "@", "#", "\u2014", "\u20ac", "\u00ad", "\u0600",
          "\u00e9", "e\u0301", "\u0301", "\u0939\u093f", "\u200d", "\u200b", "\u0000", "\u0007", "\u007f", "\ufffd",
          "\u4e2d", "\u6587", "\ud55c", "\u0645", "\u05e9", "\U0001D518", "\U0001F600", "\U0001F44D\U0001F3FD",
          "<mask>", "<s>", "</s>", "<pad>", "<unk>", "<mask", "mask>"]


def text(rng, most):
    return "".join(rng.choice(PIECES) for _ in range(rng.randint(0, most)))


def main():
    rng = random.Random(int(sys.argv[1]))
    for _ in range(int(sys.argv[2])):
        line = {"text": text(rng, 25)}
        if rng.random() < 0.2:
            pair = text(rng, 10)
            if pair:
                line["text_pair"] = pair
        print(json.dumps(line))


if __name__ == "__main__":
    main()
