"""tag_baseline.py TRAIN.conll TEST.conll
The per-word majority-tag baseline for a tagging task: each word of TEST gets the tag it had most often in TRAIN
(ties: the tag seen first), a word never seen in TRAIN gets TRAIN's most frequent tag. Prints JSON with the token
accuracy and, when the tags are entity tags (O, B-X, I-X), entity precision/recall/F1 read as strict IOB2 spans
(seqeval's mode="strict": B-X opens an entity, I-X of the same type continues it, anything else closes it), the
same rule as bertscope's evaluate --task ner. CoNLL: a word per line, its tag in the last column, blank lines
between sentences, -DOCSTART- lines skipped. Any python3 runs it."""
import collections, json, sys

from conll_io import read_conll


def spans(tags):
    """strict IOB2 entity spans (type, first, last)"""
    out, open_at, kind = [], None, None
    for i, t in enumerate(tags + ["O"]):
        if t.startswith("I-") and open_at is not None and t[2:] == kind: continue
        if open_at is not None: out.append((kind, open_at, i - 1))
        open_at, kind = (i, t[2:]) if t.startswith("B-") else (None, None)
    return out


def main():
    train, test = read_conll(sys.argv[1]), read_conll(sys.argv[2])
    by_word = collections.defaultdict(collections.Counter)
    overall = collections.Counter()
    for s in train:
        for w, t in s:
            by_word[w][t] += 1
            overall[t] += 1
    default = overall.most_common(1)[0][0]
    words = correct = unknown = 0
    correct_entities = predicted_entities = true_entities = 0
    tags = set(overall)
    for s in test:
        truth = [t for _, t in s]
        guess = [by_word[w].most_common(1)[0][0] if w in by_word else default for w, _ in s]
        unknown += sum(w not in by_word for w, _ in s)
        words += len(s)
        correct += sum(a == b for a, b in zip(truth, guess))
        tags.update(truth)
        want, got = set(spans(truth)), set(spans(guess))
        true_entities += len(want)
        predicted_entities += len(got)
        correct_entities += len(want & got)
    out = {"baseline": "most frequent tag per word (unseen words: " + default + ")", "train_sentences": len(train),
           "test_sentences": len(test), "words": words, "unseen_words": unknown, "accuracy": correct / words}
    if all(t == "O" or t[:2] in ("B-", "I-") for t in tags):
        p = correct_entities / predicted_entities if predicted_entities else 0.0
        r = correct_entities / true_entities if true_entities else 0.0
        out.update(precision=p, recall=r, f1=2 * p * r / (p + r) if p + r else 0.0, entities=true_entities)
    print(json.dumps(out))


if __name__ == "__main__":
    main()
