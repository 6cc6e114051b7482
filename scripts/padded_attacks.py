#!/usr/bin/env python3
"""Writes the dev split's attacks wrapped in benign text, to measure how far padding dilutes
the injection classifier (docs/governance.md, "Why two scales").

Each dev attack (lines whose only entity is PROMPT_INJECTION) gets the first 100 words of one
benign English long document from the train split before it and the next 100 after it: the
document of median length, so the choice is fixed by the corpus, not by hand.

Usage: scripts/padded_attacks.py OUT_DIR
       cargo run --release --bin tappass-lab -- --corpus OUT_DIR eval --split train --split dev --split test
(every split: the padded lines hash to new splits of their own).
"""
import glob
import hashlib
import json
import os
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def split(text):
    h = hashlib.sha256(b"tappass-corpus-split-v1\n" + text.encode()).digest()[0] % 10
    return "train" if h <= 5 else "dev" if h <= 7 else "test"


def main():
    out = sys.argv[1]
    attacks, docs = [], []
    for path in sorted(glob.glob(os.path.join(ROOT, "tests/corpus/*.jsonl"))):
        for line in open(path, encoding="utf-8"):
            d = json.loads(line)
            kinds = [e["kind"] for e in d["entities"]]
            s = split(d["text"])
            if s == "dev" and kinds == ["PROMPT_INJECTION"]:
                attacks.append(d)
            if (
                s == "train"
                and not kinds
                and d.get("category") == "benign_long_document"
                and d.get("lang", "en") == "en"
            ):
                docs.append(d["text"])
    docs.sort(key=len)
    words = docs[len(docs) // 2].split()
    pre, post = " ".join(words[:100]), " ".join(words[100:200])
    os.makedirs(out, exist_ok=True)
    with open(os.path.join(out, "padded.jsonl"), "w", encoding="utf-8") as f:
        for d in attacks:
            f.write(
                json.dumps(
                    {
                        "text": f"{pre}\n\n{d['text']}\n\n{post}",
                        "entities": [{"kind": "PROMPT_INJECTION"}],
                        "lang": d.get("lang", "en"),
                        "category": d.get("category", ""),
                    },
                    ensure_ascii=False,
                )
                + "\n"
            )
    print(f"{len(attacks)} padded attacks in {out}/padded.jsonl")


if __name__ == "__main__":
    main()
