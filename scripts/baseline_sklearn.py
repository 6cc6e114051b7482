"""A yardstick for the injection classifier: scikit-learn's logistic regression on the same split.

Reads tests/corpus/*.jsonl with the harness's split (sha256("tappass-corpus-split-v1\\n" + text),
first byte mod 10: 0-5 train, 6-7 dev, 8-9 test), fits fully converged, class-balanced logistic
regressions on the train split over several feature sets, and prints each one's recall on the
dev split at 1 % and 2 % false-positive rates. Never reads the test split. If these figures are
far above `tappass-lab eval --split dev`'s "model alone", the trainer, not the data, is the limit.

    python3 -m venv /tmp/skv && /tmp/skv/bin/pip install scikit-learn
    /tmp/skv/bin/python scripts/baseline_sklearn.py
"""
import glob
import hashlib
import json
import os

import numpy as np
from scipy.sparse import hstack
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression

CORPUS = os.path.join(os.path.dirname(__file__), "..", "tests", "corpus")


def split(text):
    b = hashlib.sha256(b"tappass-corpus-split-v1\n" + text.encode()).digest()[0] % 10
    return "train" if b <= 5 else "dev" if b <= 7 else "test"


def load():
    out = {"train": [], "dev": []}
    for path in sorted(glob.glob(os.path.join(CORPUS, "*.jsonl"))):
        for line in open(path, encoding="utf-8"):
            d = json.loads(line)
            s = split(d["text"])
            if s in out:
                y = any(e["kind"] == "PROMPT_INJECTION" for e in d["entities"])
                out[s].append((d["text"].lower(), y))
    return out


def recall_at(scores, y, fpr):
    benign = np.sort(scores[~y])[::-1]
    threshold = benign[int(fpr * len(benign))]
    return (scores[y] > threshold).mean()


FEATURES = {
    "word 1-2-grams, tf-idf": lambda: [TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True)],
    "char 3-5-grams, tf-idf": lambda: [
        TfidfVectorizer(analyzer="char_wb", ngram_range=(3, 5), sublinear_tf=True)
    ],
    "char 3-5-grams, binary": lambda: [
        TfidfVectorizer(analyzer="char_wb", ngram_range=(3, 5), binary=True, use_idf=False)
    ],
    "words and chars, tf-idf": lambda: [
        TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True),
        TfidfVectorizer(analyzer="char_wb", ngram_range=(3, 5), sublinear_tf=True),
    ],
}

data = load()
train_x, train_y = [t for t, _ in data["train"]], np.array([y for _, y in data["train"]])
dev_x, dev_y = [t for t, _ in data["dev"]], np.array([y for _, y in data["dev"]])
print(f"train {len(train_x)} lines, dev {len(dev_x)} lines ({dev_y.sum()} attacks)")
for name, make in FEATURES.items():
    vs = make()
    a = hstack([v.fit_transform(train_x) for v in vs]).tocsr()
    b = hstack([v.transform(dev_x) for v in vs]).tocsr()
    for c in (1, 10, 100):
        m = LogisticRegression(C=c, max_iter=5000, class_weight="balanced").fit(a, train_y)
        s = m.decision_function(b)
        print(f"{name:<26} C={c:<4} recall@1% {recall_at(s, dev_y, 0.01):.3f}  "
              f"recall@2% {recall_at(s, dev_y, 0.02):.3f}")
