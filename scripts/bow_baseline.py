"""bow_baseline.py SPLIT_DIR : a bag-of-words logistic-regression sentiment baseline (benchmark tooling, not part of
bertscope). Reads SPLIT_DIR/train.tsv and SPLIT_DIR/validation.tsv (text<TAB>label, as `bertscope-cli train
--save-split` writes them), trains on lower-cased word counts with L2-regularised logistic regression (numpy,
full-batch gradient descent), and prints JSON with the validation accuracy."""
import json, re, sys
import numpy as np

def read(path):
    rows = [line.rstrip("\n").split("\t") for line in open(path, encoding="utf-8") if line.strip()]
    return [r[0] for r in rows], [r[1] for r in rows]

def words(text):
    return re.findall(r"[a-z0-9']+", text.lower())

train_x, train_y = read(sys.argv[1] + "/train.tsv")
val_x, val_y = read(sys.argv[1] + "/validation.tsv")
vocab = {w: i for i, w in enumerate(sorted({w for t in train_x for w in words(t)}))}
labels = sorted(set(train_y))
def features(texts):
    m = np.zeros((len(texts), len(vocab) + 1))
    m[:, -1] = 1.0  # bias
    for r, t in enumerate(texts):
        for w in words(t):
            if w in vocab: m[r, vocab[w]] += 1.0
    return m
X, Xv = features(train_x), features(val_x)
Y = np.array([labels.index(y) for y in train_y]); Yv = np.array([labels.index(y) for y in val_y])
onehot = np.eye(len(labels))[Y]
W = np.zeros((X.shape[1], len(labels)))
l2 = 1e-3
for _ in range(3000):  # softmax regression, gradient descent
    z = X @ W; z -= z.max(1, keepdims=True); p = np.exp(z); p /= p.sum(1, keepdims=True)
    W -= 0.5 * (X.T @ (p - onehot) / len(Y) + l2 * W)
acc = float(((Xv @ W).argmax(1) == Yv).mean())
print(json.dumps({"baseline": "bag-of-words logistic regression", "vocabulary": len(vocab), "train": len(Y),
                  "validation": len(Yv), "accuracy": acc}))
