#!/usr/bin/env bash
# Compares TapPass's secret detector with Yelp's detect-secrets on the labelled secret corpora
# (tests/corpus/secrets*.jsonl): precision, recall and F1 for both, side by side, on the whole
# corpus and on its held-out test split.
#
# detect-secrets is installed from PyPI into a throwaway virtualenv cached under
# ${XDG_CACHE_HOME:-~/.cache}/tappass/detect-secrets-venv (delete it to reinstall); pin another
# version with DETECT_SECRETS_VERSION. Every step is bounded in time. Needs python3 (with venv)
# and cargo. Prints a report; records nothing.
#
# Usage: scripts/compare-detect-secrets.sh [corpus.jsonl ...]
set -euo pipefail

root="$(cd "$(dirname "$0")/.." && pwd)"
cache="${XDG_CACHE_HOME:-$HOME/.cache}/tappass"
venv="$cache/detect-secrets-venv"
version="${DETECT_SECRETS_VERSION:-1.5.0}"

if [ "$#" -gt 0 ]; then
    corpora=("$@")
else
    corpora=("$root"/tests/corpus/secrets*.jsonl)
fi

if ! "$venv/bin/python" -c 'import detect_secrets' 2>/dev/null; then
    echo "installing detect-secrets $version into $venv" >&2
    rm -rf "$venv"
    mkdir -p "$cache"
    timeout 120 python3 -m venv "$venv"
    timeout 300 "$venv/bin/pip" install --quiet --disable-pip-version-check "detect-secrets==$version"
fi

ours="$(mktemp)"
trap 'rm -f "$ours"' EXIT
# our findings, one JSON line per corpus line
(cd "$root" && timeout 900 cargo run --quiet --release --bin tappass-lab -- secret-findings "${corpora[@]}") >"$ours"

timeout 600 "$venv/bin/python" "$root/scripts/compare_detect_secrets.py" "$ours" "${corpora[@]}"
