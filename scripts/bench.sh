#!/usr/bin/env bash
# The load harness (issue 13): TapPass beside LiteLLM's proxy and the bare upstream, in one run,
# on this machine, loopback only. Prints the tables and refreshes docs/benchmarks.md (between
# `<!-- bench:begin -->` and `<!-- bench:end -->`).
#
#   scripts/bench.sh                 # ~4 minutes
#   BENCH_QUICK=1 scripts/bench.sh   # ~1 minute smoke run (docs untouched unless BENCH_DOCS=1)
#
# On a fresh machine it installs what it lacks into $BENCH_CACHE (default
# /var/cache/tappass-bench): oha (pinned, `cargo install`), LiteLLM's proxy (pinned, in a venv);
# and PostgreSQL from Debian's packages if nothing answers on 127.0.0.1:5432 (scripts/services.sh,
# as CI does). It creates a database `tappass_bench` there. Knobs: BENCH_RATES ("500 1000 2000"),
# BENCH_SECONDS (10 per pass), BENCH_LITELLM_RATE (25), BENCH_NO_LITELLM=1 (TapPass and the
# upstream only), BENCH_SKIP_BUILD=1, BENCH_PG (another server's URL without database; then
# nothing is installed), BENCH_PROFILE=1 (perf profile of TapPass at saturation), BENCH_KEEP=1
# (keep the work dir).
#
# Method: oha open loop (`-q RATE`, `--latency-correction`, so a slow answer counts from when
# the request was due), the same request body everywhere. For each rate: the upstream directly,
# then TapPass, then (at the low rate) LiteLLM, back to back, so "added" latency compares
# passes a few seconds apart. Saturation: 64 connections, no rate limit. CPU per request: the
# target's processes' utime+stime from /proc during the pass, over its 2xx answers; beside it, how
# busy the whole machine was (/proc/stat), so a pass that shared the cores with something else
# shows. After the run: the audit chain must verify and hold one `llm_call` event per 2xx answer.
set -euo pipefail
cd "$(dirname "$0")/.."

CACHE="${BENCH_CACHE:-/var/cache/tappass-bench}"
OHA_VERSION=1.16.0
LITELLM_VERSION=1.108.7
SECS="${BENCH_SECONDS:-10}"
RATES="${BENCH_RATES:-500 1000 2000}"
LITELLM_RATE="${BENCH_LITELLM_RATE:-25}"
TTFT_N=400
TTFT_RATE=50
if [ "${BENCH_QUICK:-0}" = 1 ]; then
    SECS=3 RATES="500 2000" TTFT_N=100
fi
PG="${BENCH_PG:-postgres://postgres@127.0.0.1:5432}"
LITELLM=1
[ "${BENCH_NO_LITELLM:-0}" = 1 ] && LITELLM=0
# BENCH_PROFILE=1: `perf record` TapPass during its saturation pass; the summary goes here.
PROFILE_OUT="${BENCH_PROFILE_OUT:-/tmp/tappass-bench-profile.txt}"
RUN_START=$(date +%s)
say() { printf '== %s\n' "$*" >&2; }
die() { printf 'bench: %s\n' "$*" >&2; exit 1; }

# --- tools ----------------------------------------------------------------------------------------
mkdir -p "$CACHE"
OHA="$CACHE/tools/bin/oha"
if ! "$OHA" --version 2>/dev/null | grep -q "$OHA_VERSION"; then
    say "installing oha $OHA_VERSION into $CACHE/tools (cargo install, a few minutes once)"
    # Its own throwaway target dir, not a CARGO_TARGET_DIR the caller may have set.
    env -u CARGO_TARGET_DIR cargo install oha --locked --version "$OHA_VERSION" --root "$CACHE/tools" >&2
fi
LITELLM_VENV="$CACHE/litellm-venv"
if [ "$LITELLM" = 1 ] && ! "$LITELLM_VENV/bin/python" -c "import importlib.metadata as m, sys; sys.exit(m.version('litellm') != '$LITELLM_VERSION')" 2>/dev/null; then
    say "installing LiteLLM $LITELLM_VERSION (proxy) into $LITELLM_VENV"
    python3 -m venv "$LITELLM_VENV"
    "$LITELLM_VENV/bin/pip" install -q "litellm[proxy]==$LITELLM_VERSION" >&2
fi
if [ -z "${BENCH_PG:-}" ]; then
    log() { say "$@"; }
    # shellcheck source=scripts/services.sh
    . scripts/services.sh
    ensure_postgres >&2
fi
psql -q "$PG/postgres" -c 'SELECT 1' >/dev/null || die "PostgreSQL does not answer at $PG"

TARGET_DIR=$(cargo metadata --no-deps --format-version 1 | python3 -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])')
if [ "${BENCH_SKIP_BUILD:-0}" != 1 ]; then
    say "building the release binaries"
    cargo build --release --locked --bin tappass --bin tappass-fake-upstream >&2
fi
TAPPASS="$TARGET_DIR/release/tappass"
FAKE="$TARGET_DIR/release/tappass-fake-upstream"

# --- processes ------------------------------------------------------------------------------------
WORK=$(mktemp -d /tmp/tappass-bench.XXXXXX)
# Started as root, TapPass drops to its own user (uid 999), which must reach its config here.
chmod 755 "$WORK"
OUT="$WORK/results"
mkdir -p "$OUT"
PIDS=()
cleanup() {
    for pid in "${PIDS[@]}"; do
        pkill -TERM -P "$pid" 2>/dev/null || true
        kill -TERM "$pid" 2>/dev/null || true
    done
    wait 2>/dev/null || true
    [ "${BENCH_KEEP:-0}" = 1 ] || rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
now_ms() { date +%s%3N; }
# Waits until URL answers 200; prints the milliseconds since $1.
wait_200() {
    local since=$1 url=$2
    for _ in $(seq 600); do
        if [ "$(curl -s -o /dev/null -w '%{http_code}' "$url")" = 200 ]; then
            echo $(($(now_ms) - since))
            return
        fi
        sleep 0.05
    done
    die "$url did not answer 200 within 30 s"
}
# The process and its descendants (LiteLLM runs workers under its launcher).
tree() {
    local pid=$1
    echo "$pid"
    for c in $(pgrep -P "$pid" 2>/dev/null); do tree "$c"; done
}
cpu_ticks() {
    local total=0
    for p in $(tree "$1"); do
        [ -r "/proc/$p/stat" ] || continue
        total=$((total + $(awk '{print $14 + $15}' "/proc/$p/stat")))
    done
    echo "$total"
}
# Busy ticks of the whole machine (all CPUs, everything but idle and iowait), from /proc/stat.
machine_ticks() { awk '$1 == "cpu" {print $2 + $3 + $4 + $7 + $8 + $9; exit}' /proc/stat; }
rss_kib() { # field: VmRSS or VmHWM, summed over the tree
    local total=0
    for p in $(tree "$1"); do
        total=$((total + $(awk -v f="$2:" '$1 == f {print $2}' "/proc/$p/status" 2>/dev/null || echo 0)))
    done
    echo "$total"
}

say "fake upstream"
UP_PORT=$(free_port)
"$FAKE" --listen "127.0.0.1:$UP_PORT" >/dev/null 2>"$WORK/fake.log" &
PIDS+=($!)
UP_PID=$!
wait_200 "$(now_ms)" "http://127.0.0.1:$UP_PORT/health" >/dev/null

say "TapPass (PostgreSQL audit, standard preset)"
psql -q "$PG/postgres" -c "DROP DATABASE IF EXISTS tappass_bench" -c "CREATE DATABASE tappass_bench" >/dev/null
GW_PORT=$(free_port)
cat >"$WORK/tappass.toml" <<EOF
[limits]
window_secs = 60
agent_requests = 1000000000
EOF
start_tappass() {
    RUST_LOG=warn OPENAI_API_KEY=sk-bench \
        TAPPASS_PROVIDERS__OPENAI__BASE_URL="http://127.0.0.1:$UP_PORT/v1" \
        "$TAPPASS" serve --config "$WORK/tappass.toml" --listen "127.0.0.1:$GW_PORT" \
        --state-dir "$WORK/state" --database-url "$PG/tappass_bench" 2>>"$WORK/tappass.log" &
    GW_PID=$!
    PIDS+=("$GW_PID")
}
t0=$(now_ms)
start_tappass
wait_200 "$t0" "http://127.0.0.1:$GW_PORT/health/ready" >/dev/null
ADMIN_KEY=$(cat "$WORK/state/admin.key")
AGENT_KEY=$(curl -sf "http://127.0.0.1:$GW_PORT/admin/agents" -H "Authorization: Bearer $ADMIN_KEY" \
    -H 'content-type: application/json' -d '{"agent_id":"bench"}' | python3 -c 'import json,sys; print(json.load(sys.stdin)["api_key"])')
# Start time: a restart on an existing database (the first start also migrates it).
kill -TERM "$GW_PID"
wait "$GW_PID" 2>/dev/null || true
t0=$(now_ms)
start_tappass
GW_START=$(wait_200 "$t0" "http://127.0.0.1:$GW_PORT/health/ready")

LL_START=None LL_PID=  # read by the Python below when LiteLLM does not run
start_litellm() {
    say "LiteLLM $LITELLM_VERSION proxy"
    LL_PORT=$(free_port)
    # It refuses to start without a master key (and then wants it on every request).
    LL_KEY="sk-$(python3 -c 'import secrets; print(secrets.token_hex(24))')"
    cat >"$WORK/litellm.yaml" <<EOF
model_list:
  - model_name: gpt-4o-mini
    litellm_params:
      model: openai/gpt-4o-mini
      api_base: http://127.0.0.1:$UP_PORT/v1
      api_key: sk-bench
general_settings:
  master_key: $LL_KEY
litellm_settings:
  telemetry: false
EOF
    t0=$(now_ms)
    (cd "$WORK" && exec env LITELLM_LOG=ERROR "$LITELLM_VENV/bin/litellm" --config "$WORK/litellm.yaml" \
        --host 127.0.0.1 --port "$LL_PORT" --num_workers 1 >"$WORK/litellm.log" 2>&1) &
    LL_PID=$!
    PIDS+=("$LL_PID")
    LL_START=$(wait_200 "$t0" "http://127.0.0.1:$LL_PORT/health/liveliness")
}
[ "$LITELLM" = 0 ] || start_litellm

python3 scripts/bench/fsync.py "$CACHE" 2000 >"$OUT/fsync.json"

# --- passes ---------------------------------------------------------------------------------------
BODY=scripts/bench/request.json
url_of() {
    case $1 in
        direct) echo "http://127.0.0.1:$UP_PORT" ;;
        tappass) echo "http://127.0.0.1:$GW_PORT" ;;
        litellm) echo "http://127.0.0.1:$LL_PORT" ;;
    esac
}
key_of() { case $1 in tappass) echo "$AGENT_KEY" ;; litellm) echo "$LL_KEY" ;; *) echo sk-bench ;; esac; }
pid_of() { case $1 in direct) echo "$UP_PID" ;; tappass) echo "$GW_PID" ;; litellm) echo "$LL_PID" ;; esac; }
# pass TARGET LABEL RATE [SECONDS]: RATE 0 = saturation (64 connections, no rate).
pass() {
    local target=$1 label=$2 rate=$3 secs=${4:-$SECS} file="oha-$1-$2-$3.json" before after
    local args=(-z "${secs}s" --no-tui --output-format json -m POST -T application/json
        -H "Authorization: Bearer $(key_of "$target")" -D "$BODY")
    if [ "$rate" = 0 ]; then args+=(-c 64); else args+=(-q "$rate" -c 256 --latency-correction); fi
    say "$target $label ${rate/#0/max} RPS, ${secs} s"
    local perf=
    if [ "${BENCH_PROFILE:-0}" = 1 ] && [ "$target/$label" = tappass/saturation ]; then
        perf record -q -F 999 -g -p "$GW_PID" -o "$WORK/perf.data" -- sleep "$secs" 2>/dev/null &
        perf=$!
    fi
    local machine_before machine_after
    machine_before=$(machine_ticks)
    before=$(cpu_ticks "$(pid_of "$target")")
    "$OHA" "${args[@]}" "$(url_of "$target")/v1/chat/completions" >"$OUT/$file"
    after=$(cpu_ticks "$(pid_of "$target")")
    machine_after=$(machine_ticks)
    if [ -n "$perf" ]; then
        wait "$perf" || true
        # Where TapPass's CPU goes at saturation: by library, then by function.
        { perf report -i "$WORK/perf.data" --no-children --sort dso --percent-limit 1 \
              --stdio -g none 2>/dev/null
          perf report -i "$WORK/perf.data" --no-children --sort dso,symbol --percent-limit 0.7 \
              --stdio -g none 2>/dev/null; } | grep -v '^#' | grep -v '^$' >"$PROFILE_OUT"
        say "profile of TapPass at saturation: $PROFILE_OUT"
    fi
    printf '{"target":"%s","label":"%s","rate":%s,"oha":"%s","secs":%s,"cpu_ticks":%s,"machine_ticks":%s}\n' \
        "$target" "$label" "$rate" "$file" "$secs" $((after - before)) \
        $((machine_after - machine_before)) >>"$OUT/passes.jsonl"
}

# Warm-up: connections, caches, the database's pages.
pass tappass warmup 500 2 && sed -i '$d' "$OUT/passes.jsonl"
[ "$LITELLM" = 0 ] || { pass litellm warmup 10 2 && sed -i '$d' "$OUT/passes.jsonl"; }

pass direct rate "$LITELLM_RATE"
pass tappass rate "$LITELLM_RATE"
[ "$LITELLM" = 0 ] || pass litellm rate "$LITELLM_RATE"
for rate in $RATES; do
    pass direct rate "$rate"
    pass tappass rate "$rate"
done
pass direct saturation 0
pass tappass saturation 0
[ "$LITELLM" = 0 ] || pass litellm saturation 0

say "streaming time to first token"
python3 scripts/bench/ttft.py "$(url_of direct)" sk-bench scripts/bench/request-stream.json "$TTFT_N" "$TTFT_RATE" >"$OUT/ttft-direct.json"
python3 scripts/bench/ttft.py "$(url_of tappass)" "$AGENT_KEY" scripts/bench/request-stream.json "$TTFT_N" "$TTFT_RATE" >"$OUT/ttft-tappass.json"
[ "$LITELLM" = 0 ] || python3 scripts/bench/ttft.py "$(url_of litellm)" "$LL_KEY" scripts/bench/request-stream.json "$((TTFT_N / 4))" 10 >"$OUT/ttft-litellm.json"

# The chain the run wrote must verify: a benchmark of a gateway that lost events is no benchmark.
VERIFY=$(curl -sf "http://127.0.0.1:$GW_PORT/audit/verify" -H "Authorization: Bearer $ADMIN_KEY")
echo "$VERIFY" | grep -q '"verified":true' || die "the audit chain does not verify after the run: $VERIFY"
# … and hold every answer: one llm_call event per 2xx TapPass gave (oha's passes, warm-ups
# included, and the streams). A request oha abandoned at a pass's deadline may have been answered
# and audited all the same, so those may add events, never remove one.
LLM_CALLS=$(psql -tA "$PG/tappass_bench" -c "SELECT count(*) FROM audit_events WHERE event_type = 'llm_call'")
python3 scripts/bench/audit_count.py "$OUT" "$LLM_CALLS" >"$OUT/audit.json"

mib() { awk -v k="$1" 'BEGIN { printf "%.1f", k / 1024 }'; }
rss() { printf '{"now":%s,"peak":%s}' "$(mib "$(rss_kib "$1" VmRSS)")" "$(mib "$(rss_kib "$1" VmHWM)")"; }
python3 - "$OUT" <<EOF
import json, sys
meta = {
    "date": "$(date -u +%Y-%m-%dT%H:%MZ)",
    "commit": "$(git rev-parse --short HEAD)$(git diff --quiet HEAD -- src Cargo.toml Cargo.lock || echo '+changes')",
    "cpus": $(nproc),
    "load": "$(cut -d' ' -f1-3 /proc/loadavg)",
    "oha": "$("$OHA" --version | awk '{print $2}')",
    "litellm": "$LITELLM_VERSION",
    "postgres": "$(psql -tA "$PG/postgres" -c 'SHOW server_version' | awk '{print $1}')",
    "body_bytes": $(wc -c <"$BODY"),
    "fsync": json.load(open("$OUT/fsync.json")),
    "clk_tck": $(getconf CLK_TCK),
    "start_ms": {"tappass": $GW_START, "litellm": $LL_START},
    "rss_mib": {"direct": $(rss "$UP_PID"), "tappass": $(rss "$GW_PID")$([ -z "$LL_PID" ] || echo ", \"litellm\": $(rss "$LL_PID")")},
    "audit": json.load(open("$OUT/audit.json")),
    "ttft_n": $TTFT_N, "ttft_rate": $TTFT_RATE,
    "elapsed_s": $(($(date +%s) - RUN_START)),
}
json.dump(meta, open(sys.argv[1] + "/meta.json", "w"))
EOF
if [ "${BENCH_QUICK:-0}" = 1 ] && [ "${BENCH_DOCS:-0}" != 1 ]; then
    python3 scripts/bench/report.py "$OUT"
else
    python3 scripts/bench/report.py "$OUT" --docs docs/benchmarks.md
fi
