#!/usr/bin/env python3
"""fdatasync latency on the filesystem of DIR: N appends of 4 KiB, each followed by
fdatasync — the floor of a durable audit write before a 2xx. Prints JSON {p50_ms, p99_ms, n}."""
import json
import os
import sys
import time

directory, n = sys.argv[1], int(sys.argv[2]) if len(sys.argv) > 2 else 2000
path = os.path.join(directory, f"bench-fsync-{os.getpid()}")
block = os.urandom(4096)
times = []
fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
try:
    for _ in range(n):
        os.write(fd, block)
        t0 = time.perf_counter()
        os.fdatasync(fd)
        times.append(time.perf_counter() - t0)
finally:
    os.close(fd)
    os.unlink(path)
times.sort()
pct = lambda q: times[min(len(times) - 1, int(q * len(times)))] * 1000
print(json.dumps({"p50_ms": round(pct(0.50), 3), "p99_ms": round(pct(0.99), 3), "n": n}))
