#!/usr/bin/env python3
"""After a scripts/bench.sh run: does the audit trail hold one `llm_call` event per 2xx answer
TapPass gave? Usage: audit_count.py RESULTS_DIR LLM_CALL_EVENTS. Counts the 2xx answers in every
oha-tappass-*.json (warm-ups included) and in ttft-tappass.json. A request the client abandoned
(oha's "aborted due to deadline", a stream that failed on the client's side) may still have been
answered and audited, so those may add events; none may be missing. Prints JSON
{answers_2xx, abandoned, llm_call_events}; exits non-zero when the counts disagree."""
import glob
import json
import os
import sys

out, events = sys.argv[1], int(sys.argv[2])
ok = abandoned = 0
for f in glob.glob(os.path.join(out, "oha-tappass-*.json")):
    oha = json.load(open(f))
    ok += sum(n for c, n in oha.get("statusCodeDistribution", {}).items() if c.startswith("2"))
    abandoned += oha.get("errorDistribution", {}).get("aborted due to deadline", 0)
ttft = json.load(open(os.path.join(out, "ttft-tappass.json")))
ok, abandoned = ok + ttft["n"], abandoned + ttft["errors"]
print(json.dumps({"answers_2xx": ok, "abandoned": abandoned, "llm_call_events": events}))
if not ok <= events <= ok + abandoned:
    sys.exit(
        f"bench: {ok:,} 2xx answers (+ {abandoned:,} abandoned) but {events:,} llm_call events "
        "in the audit trail"
    )
