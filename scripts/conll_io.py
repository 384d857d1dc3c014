"""conll_io.py: CoNLL files as the tagging scripts read and write them (a word per line with its tag in the last
column, blank lines between sentences, -DOCSTART- lines skipped), the layout bertscope's train/evaluate --task ner
read. A sentence is a list of (word, tag)."""


def read_conll(path):
    sentences, current = [], []
    for line in open(path, encoding="utf-8"):
        cols = line.split()
        if not cols or cols[0] == "-DOCSTART-":
            if current: sentences.append(current)
            current = []
            continue
        current.append((cols[0], cols[-1]))
    if current: sentences.append(current)
    return sentences


def write_conll(path, sentences):
    with open(path, "w", encoding="utf-8") as f:
        for sentence in sentences:
            for word, tag in sentence: f.write(f"{word} {tag}\n")
            f.write("\n")
