#!/usr/bin/env python3
"""Lists lexicon forms that are common words of ANOTHER language, where they may mean something
else: English "die" is the German and Dutch article, "je" is French "I" but Dutch "you".

Reads only the train split of tests/corpus (the split function of src/bin/lab/corpus.rs), so
the check does not look at dev or test lines. A form is reported when it is among the RANK
commonest words of a language whose own word list does not have it. Not every hit is a
conflict (loanwords such as "prompt" or "chatbot" mean the same everywhere): read the list and
remove the forms that do mean something else from src/detect/classifier/lexicon/*.txt.

Usage: scripts/lexicon_conflicts.py [RANK]   (default 300)
"""
import collections
import glob
import hashlib
import json
import os
import re
import sys
import unicodedata

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
LANGS = ["en", "de", "fr", "es", "it", "nl"]


def fold(w):
    w = unicodedata.normalize("NFKD", w.lower())
    return "".join(c for c in w if not unicodedata.combining(c))


def split(text):
    h = hashlib.sha256(b"tappass-corpus-split-v1\n" + text.encode()).digest()[0] % 10
    return "train" if h <= 5 else "dev" if h <= 7 else "test"


def main():
    rank = int(sys.argv[1]) if len(sys.argv) > 1 else 300
    freq = collections.defaultdict(collections.Counter)
    for path in glob.glob(os.path.join(ROOT, "tests/corpus/*.jsonl")):
        for line in open(path, encoding="utf-8"):
            d = json.loads(line)
            if split(d["text"]) != "train":
                continue
            for w in re.findall(r"\w+", d["text"]):
                freq[d.get("lang", "en")][fold(w)] += 1
    where = collections.defaultdict(set)
    for lang in LANGS:
        path = os.path.join(ROOT, f"src/detect/classifier/lexicon/{lang}.txt")
        for line in open(path, encoding="utf-8"):
            parts = line.split()
            for form in parts[1:]:
                where[fold(form)].add((lang, parts[0]))
    for other in LANGS:
        top = [w for w, _ in freq[other].most_common(rank)]
        for w in top:
            listed = where.get(w)
            if listed and other not in {lang for lang, _ in listed}:
                concepts = ", ".join(f"{c} ({lang})" for lang, c in sorted(listed))
                print(f"{other}: {w!r} is common here; listed as {concepts}")


if __name__ == "__main__":
    main()
