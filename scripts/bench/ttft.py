#!/usr/bin/env python3
"""Streaming time to first token: N streamed chat requests sent open-loop at RATE per second to
URL (its /v1/chat/completions) with KEY; the time from sending a request to the first content
chunk (`"content":"echo`, the fake upstream's first words) is recorded. Standard library only:
one fresh connection per request, the same for every target. Prints JSON {p50_ms, p99_ms, n,
errors}."""
import asyncio
import json
import sys
import time
from urllib.parse import urlsplit

url, key, body_file, n, rate = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]), float(sys.argv[5])
body = open(body_file, "rb").read()
u = urlsplit(url)
MARK = b'"content":"echo'


async def one(results):
    t0 = time.perf_counter()
    try:
        reader, writer = await asyncio.open_connection(u.hostname, u.port)
        head = (
            f"POST {u.path.rstrip('/')}/v1/chat/completions HTTP/1.1\r\nHost: {u.netloc}\r\n"
            f"Authorization: Bearer {key}\r\nContent-Type: application/json\r\n"
            f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n"
        ).encode()
        t0 = time.perf_counter()
        writer.write(head + body)
        await writer.drain()
        seen = b""
        while True:
            chunk = await asyncio.wait_for(reader.read(65536), 10)
            if not chunk:
                results.append(None)
                break
            seen += chunk
            if MARK in seen:
                results.append(time.perf_counter() - t0)
                break
        writer.close()
    except Exception:
        results.append(None)


async def main():
    results, tasks = [], []
    start = time.perf_counter()
    for i in range(n):
        delay = start + i / rate - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        tasks.append(asyncio.create_task(one(results)))
    await asyncio.gather(*tasks)
    ok = sorted(r for r in results if r is not None)
    pct = lambda q: round(ok[min(len(ok) - 1, int(q * len(ok)))] * 1000, 3) if ok else None
    print(json.dumps({"p50_ms": pct(0.50), "p99_ms": pct(0.99), "n": len(ok), "errors": len(results) - len(ok)}))


asyncio.run(main())
