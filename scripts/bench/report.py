#!/usr/bin/env python3
"""Turns one scripts/bench.sh run (its results directory) into Markdown tables, prints them, and
with --docs FILE replaces the text between `<!-- bench:begin -->` and `<!-- bench:end -->`.

Inputs in DIR: meta.json (what bench.sh measured outside oha), passes.jsonl (one line per oha
pass: target, label, rate, seconds, the oha JSON file, CPU ticks of the target's processes and of
the whole machine during the pass) and ttft-<target>.json."""
import json
import os
import sys

BEGIN, END = "<!-- bench:begin -->", "<!-- bench:end -->"


def load(directory):
    meta = json.load(open(os.path.join(directory, "meta.json")))
    passes = []
    for line in open(os.path.join(directory, "passes.jsonl")):
        p = json.loads(line)
        oha = json.load(open(os.path.join(directory, p["oha"])))
        codes = oha.get("statusCodeDistribution", {})
        ok = sum(n for c, n in codes.items() if c.startswith("2"))
        # The requests still in flight when the pass's time is up are cut by oha, not failed.
        errors = {e: n for e, n in oha.get("errorDistribution", {}).items() if e != "aborted due to deadline"}
        total = sum(codes.values()) + sum(errors.values())
        pct = oha.get("latencyPercentiles", {})
        p.update(
            rps=oha["summary"].get("requestsPerSec") or 0.0,
            ok=ok,
            bad=total - ok,
            p50=(pct.get("p50") or 0) * 1000,
            p99=(pct.get("p99") or 0) * 1000,
            p999=(pct.get("p99.9") or 0) * 1000,
            # CPU seconds of the target's processes per successful request, in µs.
            cpu_us=(p["cpu_ticks"] / meta["clk_tck"]) / ok * 1e6 if ok and p["cpu_ticks"] is not None else None,
            # Cores busy during the pass: the target's processes, and the whole machine (the
            # rest is oha, PostgreSQL, the upstream and anything else that ran).
            cores=p["cpu_ticks"] / meta["clk_tck"] / p["secs"],
            machine_cores=p["machine_ticks"] / meta["clk_tck"] / p["secs"],
        )
        passes.append(p)
    ttft = {}
    for target in ("direct", "tappass", "litellm"):
        f = os.path.join(directory, f"ttft-{target}.json")
        if os.path.exists(f):
            ttft[target] = json.load(open(f))
    return meta, passes, ttft


def find(passes, target, label):
    return next((p for p in passes if p["target"] == target and p["label"] == label), None)


def ms(v, digits=2):
    return "—" if v is None else f"{v:.{digits}f}"


def tables(meta, passes, ttft):
    out = []
    m = meta
    out.append(
        f"Run {m['date']} on commit `{m['commit']}`, {m['cpus']} cores, load before the run "
        f"{m['load']}; oha {m['oha']} (open loop, latency-corrected), LiteLLM {m['litellm']} "
        f"(proxy, 1 worker, no database, no guardrails), PostgreSQL {m['postgres']}. Request: "
        f"{m['body_bytes']}-byte chat completion (`scripts/bench/request.json`), fake upstream "
        f"without latency. TapPass: standard preset, audit in PostgreSQL, in-process limits "
        f"with a limit set (so the limiter runs). `fdatasync` on this disk in the same run: "
        f"p50 {m['fsync']['p50_ms']} ms, p99 {m['fsync']['p99_ms']} ms. "
        f"The run took {m['elapsed_s']} s."
    )
    out.append("")
    out.append(
        f"| | saturation (RPS) | CPU per request at saturation | cores used by it / by the whole machine (of {m['cpus']}) "
        "| RSS after the run (peak) | start to ready |"
    )
    out.append("|---|---|---|---|---|---|")
    names = {"direct": "fake upstream alone (direct)", "tappass": "**TapPass**", "litellm": "LiteLLM proxy"}
    for target in ("direct", "tappass", "litellm"):
        s = find(passes, target, "saturation")
        if not s:
            continue
        rss = m["rss_mib"].get(target)
        start = m["start_ms"].get(target)
        out.append(
            f"| {names[target]} | {s['rps']:,.0f}"
            + (f" ({s['bad']:,} not 2xx)" if s["bad"] else "")
            + f" | {ms(s['cpu_us'], 0)} µs | {s['cores']:.2f} / {s['machine_cores']:.2f} | "
            + (f"{rss['now']:.1f} MiB ({rss['peak']:.1f})" if rss else "—")
            + f" | {ms(start, 0)} ms |"
        )
    out.append("")
    out.append("Added latency = the gateway's percentile minus the direct pass's at the same rate, run back to back (ms):")
    out.append("")
    out.append("| rate (RPS) | gateway | achieved | direct p50 / p99 / p99.9 | gateway p50 / p99 / p99.9 | **added p50 / p99 / p99.9** | CPU per request | not 2xx |")
    out.append("|---|---|---|---|---|---|---|---|")
    rates = sorted({p["rate"] for p in passes if p["label"] == "rate"})
    for rate in rates:
        d = next((p for p in passes if p["target"] == "direct" and p["label"] == "rate" and p["rate"] == rate), None)
        for target in ("tappass", "litellm"):
            g = next((p for p in passes if p["target"] == target and p["label"] == "rate" and p["rate"] == rate), None)
            if not g or not d:
                continue
            out.append(
                f"| {rate:,} | {names[target]} | {g['rps']:,.0f} | {ms(d['p50'])} / {ms(d['p99'])} / {ms(d['p999'])} "
                f"| {ms(g['p50'])} / {ms(g['p99'])} / {ms(g['p999'])} "
                f"| **{ms(g['p50'] - d['p50'])} / {ms(g['p99'] - d['p99'])} / {ms(g['p999'] - d['p999'])}** "
                f"| {ms(g['cpu_us'], 0)} µs | {g['bad']:,} |"
            )
    if ttft:
        out.append("")
        out.append(f"Streaming time to first token ({m['ttft_n']} streamed requests at {m['ttft_rate']} per second, a fresh connection each, ms):")
        out.append("")
        out.append("| | p50 | p99 | added p50 | added p99 | failed |")
        out.append("|---|---|---|---|---|---|")
        d = ttft.get("direct")
        for target in ("direct", "tappass", "litellm"):
            t = ttft.get(target)
            if not t:
                continue
            add50 = t["p50_ms"] - d["p50_ms"] if d and t["p50_ms"] is not None and target != "direct" else None
            add99 = t["p99_ms"] - d["p99_ms"] if d and t["p99_ms"] is not None and target != "direct" else None
            out.append(f"| {names[target]} | {ms(t['p50_ms'])} | {ms(t['p99_ms'])} | {ms(add50)} | {ms(add99)} | {t['errors']} |")
    a = m.get("audit")
    if a:
        out.append("")
        out.append(
            f"Audit after the run: the chain verifies; {a['llm_call_events']:,} `llm_call` events for "
            f"{a['answers_2xx']:,} 2xx answers ({a['abandoned']:,} requests abandoned by the client at a deadline)."
        )
    return "\n".join(out)


def main():
    directory = sys.argv[1]
    meta, passes, ttft = load(directory)
    text = tables(meta, passes, ttft)
    print(text)
    if len(sys.argv) > 3 and sys.argv[2] == "--docs":
        path = sys.argv[3]
        doc = open(path).read()
        if BEGIN not in doc or END not in doc:
            sys.exit(f"{path}: no {BEGIN} … {END} markers")
        head, rest = doc.split(BEGIN, 1)
        _, tail = rest.split(END, 1)
        open(path, "w").write(f"{head}{BEGIN}\n{text}\n{END}{tail}")
        print(f"\n{path} updated", file=sys.stderr)


main()
