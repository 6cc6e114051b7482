"""Scores TapPass's secret detector and Yelp's detect-secrets on the same labelled lines.

Run by scripts/compare-detect-secrets.sh inside the detect-secrets virtualenv:
    python compare_detect_secrets.py OURS.jsonl CORPUS.jsonl...
OURS.jsonl is the output of `cargo run --release --bin tappass-lab -- secret-findings CORPUS.jsonl...`.

Scoring:
- line level: a line is positive when it has at least one secret entity; a tool "finds" it when
  it reports anything on it.
- span level (kind-agnostic): a reported span counts for an expected secret it overlaps; a span
  that overlaps none is a false positive. detect-secrets reports the secret's value and its line
  inside the text; its span is where that value occurs on that line. detect-secrets has its own
  type names, so this comparison ignores kinds; TapPass's kind-aware figures (the kind must match
  too, as in `tappass-lab eval`) are printed on their own row.
- splits: the corpora's fixed split (sha256("tappass-corpus-split-v1\\n" + text), first byte
  % 10: 0-5 train, 6-7 dev, 8-9 test); "all" is every line, "test" the held-out split.
"""

import hashlib
import json
import sys

from detect_secrets.core.scan import scan_line
from detect_secrets.settings import default_settings

SECRET_KINDS = {
    "AWS_ACCESS_KEY", "AWS_SECRET_KEY", "GITHUB_TOKEN", "GITLAB_TOKEN", "SLACK_TOKEN",
    "STRIPE_KEY", "GOOGLE_API_KEY", "OPENAI_API_KEY", "ANTHROPIC_API_KEY", "JWT", "PRIVATE_KEY",
    "PASSWORD", "CONNECTION_STRING", "GENERIC_SECRET",
}


def split_of(text):
    b = hashlib.sha256(b"tappass-corpus-split-v1\n" + text.encode()).digest()[0] % 10
    return "train" if b <= 5 else "dev" if b <= 7 else "test"


def overlaps(a, b):
    return a[0] < b[1] and b[0] < a[1]


def detect_secrets_spans(text):
    """(start, end) byte spans of what detect-secrets reports, line by line."""
    spans = []
    raw = text.encode()
    offset = 0
    for line in text.split("\n"):
        for s in scan_line(line):
            value = (s.secret_value or "").encode()
            at = raw.find(value, offset, offset + len(line.encode())) if value else -1
            if at < 0:  # value not verbatim on the line (should not happen): the whole line
                spans.append((offset, offset + len(line.encode())))
            else:
                spans.append((at, at + len(value)))
        offset += len(line.encode()) + 1
    return spans


class Score:
    def __init__(self):
        self.tp = self.fp = self.fn = 0

    def row(self):
        p = self.tp / (self.tp + self.fp) if self.tp + self.fp else 1.0
        r = self.tp / (self.tp + self.fn) if self.tp + self.fn else 1.0
        f = 2 * p * r / (p + r) if p + r else 0.0
        return f"{self.tp:5} {self.fp:5} {self.fn:5} {p:9.3f} {r:7.3f} {f:6.3f}"


def score_spans(score, expected, found, kinds=False):
    used = [False] * len(found)
    for kind, span in expected:
        hit = next((i for i, (k, s) in enumerate(found)
                    if not used[i] and overlaps(s, span) and (not kinds or k == kind)), None)
        if hit is None:
            score.fn += 1
        else:
            used[hit] = True
            score.tp += 1
    for i, (k, s) in enumerate(found):
        if not used[i] and not any(overlaps(s, e) and (not kinds or k == ek) for ek, e in expected):
            score.fp += 1


def main():
    ours_path, corpora = sys.argv[1], sys.argv[2:]
    ours = {}
    for raw in open(ours_path):
        r = json.loads(raw)
        ours[(r["file"], r["line"])] = [(f["kind"], (f["start"], f["end"])) for f in r["findings"]]
    rows = {}  # (split, tool, level) -> Score
    n_lines = {"all": 0, "test": 0}
    with default_settings():
        for path in corpora:
            for n, raw in enumerate(open(path, encoding="utf-8"), 1):
                if not raw.strip():
                    continue
                case = json.loads(raw)
                text = case["text"]
                tb = text.encode()
                expected = []
                for e in case["entities"]:
                    if e["kind"] in SECRET_KINDS:
                        at = tb.find(e["value"].encode())
                        expected.append((e["kind"], (at, at + len(e["value"].encode()))))
                mine = ours[(path, n)]
                theirs = [("?", s) for s in detect_secrets_spans(text)]
                for split in ("all", split_of(text)):
                    if split not in n_lines:
                        continue
                    n_lines[split] += 1
                    for tool, found in (("TapPass", mine), ("detect-secrets", theirs)):
                        line = rows.setdefault((split, tool, "line"), Score())
                        if expected and found:
                            line.tp += 1
                        elif found:
                            line.fp += 1
                        elif expected:
                            line.fn += 1
                        score_spans(rows.setdefault((split, tool, "span"), Score()), expected, found)
                    score_spans(rows.setdefault((split, "TapPass", "span+kind"), Score()),
                                expected, mine, kinds=True)
    print(f"corpora: {', '.join(corpora)}")
    for split in ("all", "test"):
        print(f"\n## {split} ({n_lines[split]} lines)")
        print(f"{'tool':<16} {'level':<10} {'tp':>5} {'fp':>5} {'fn':>5} {'precision':>9} {'recall':>7} {'F1':>6}")
        for level in ("line", "span", "span+kind"):
            for tool in ("TapPass", "detect-secrets"):
                if (split, tool, level) in rows:
                    print(f"{tool:<16} {level:<10} {rows[(split, tool, level)].row()}")


if __name__ == "__main__":
    main()
