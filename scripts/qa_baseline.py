"""qa_baseline.py SQUAD_FILE
Two baselines for extractive question answering on a SQuAD v1.1 JSON file, scored with SQuAD's exact match and F1
(answers lower-cased, ASCII punctuation and the articles a/an/the removed, white space collapsed; the best over the
gold answers), as `bertscope-cli evaluate --task qa` scores a model:
  first sentence     the context up to its first ". "
  first answer span  the earliest gold answer of any question on the same context (right only for the question
                     about the passage's first fact: it knows where answers are, not which one is asked for)
Prints {"first_sentence": {"exact_match", "f1"}, "first_answer_span": {...}, "questions": N}. Any python3 runs it."""
import collections, json, re, string, sys

PUNCTUATION = set(string.punctuation)


def normalize(text):
    text = "".join(c for c in text.lower() if c not in PUNCTUATION)
    text = re.sub(r"\b(a|an|the)\b", " ", text)
    return " ".join(text.split())


def f1(gold, predicted):
    g, p = normalize(gold).split(), normalize(predicted).split()
    common = sum((collections.Counter(g) & collections.Counter(p)).values())
    if common == 0:
        return 0.0
    precision, recall = common / len(p), common / len(g)
    return 2 * precision * recall / (precision + recall)


def main():
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    with open(sys.argv[1], encoding="utf-8") as f:
        data = json.load(f)["data"]
    questions = [(p["context"], q) for article in data for p in article["paragraphs"] for q in p["qas"] if q["answers"]]
    first_span = {}
    for context, q in questions:
        for a in q["answers"]:
            if context not in first_span or a["answer_start"] < first_span[context][0]:
                first_span[context] = (a["answer_start"], a["text"])
    guesses = {"first_sentence": lambda c: c[:c.index(". ") + 1] if ". " in c else c,
               "first_answer_span": lambda c: first_span[c][1]}
    report = {"questions": len(questions)}
    for name, guess in guesses.items():
        exact = sum(max(float(normalize(a["text"]) == normalize(guess(c))) for a in q["answers"]) for c, q in questions)
        f1_sum = sum(max(f1(a["text"], guess(c)) for a in q["answers"]) for c, q in questions)
        report[name] = {"exact_match": 100 * exact / len(questions), "f1": 100 * f1_sum / len(questions)}
    print(json.dumps(report))


if __name__ == "__main__":
    main()
