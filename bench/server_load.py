#!/usr/bin/env python3
"""Bounded loopback load test of `tokenledger serve` with the file store.

Starts the collector (release build) on a free loopback port in a fresh
temporary home, posts EVENTS normalized events in batches of BATCH over
CONNECTIONS concurrent keep-alive connections, then checks the report counts
every event exactly once. Prints events/s, p50/p99 batch latency, and the
server's anonymous resident memory (RssAnon: its heap, without the page
cache of the mapped ledger snapshot) at start, at its peak under load and
after the report.

Usage: bench/server_load.py [EVENTS=200000] [BATCH=500] [CONNECTIONS=4]
       (TOKENLEDGER_STORE=postgres://... measures the PostgreSQL store instead)
(build first: cargo build --release -p tokenledger; TOKENLEDGER_BIN picks another binary)
"""

import http.client
import json
import os
import re
import subprocess
import sys
import tempfile
import threading
import time

EVENTS = int(sys.argv[1]) if len(sys.argv) > 1 else 200_000
BATCH = int(sys.argv[2]) if len(sys.argv) > 2 else 500
CONNECTIONS = int(sys.argv[3]) if len(sys.argv) > 3 else 4
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BIN = os.environ.get("TOKENLEDGER_BIN") or os.path.join(ROOT, "target", "release", "tokenledger")


def body(batch):
    events = []
    for i in range(BATCH):
        n = batch * BATCH + i
        events.append({
            "timestamp": f"2026-03-{1 + n % 28:02d}T{n % 24:02d}:00:00Z",
            "source": "claude-code", "agent_id": f"agent-{n % 16}", "session": f"s-{n // 50}",
            "model": "claude-sonnet-4-5",
            "tokens": {"input": 10, "output": 100, "cache_read": 1000, "cache_write_5m": 50,
                       "cache_write_1h": 0, "reasoning": 0},
            "reported_cost": None, "task": None, "project": None, "dedupe_key": f"bench:{n}",
        })
    return json.dumps(events).encode()


def rss_mib(pid):
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("RssAnon:"):
                return int(line.split()[1]) / 1024
    return 0.0


def sample_rss(pid, samples, stop):
    while not stop.is_set():
        samples.append(rss_mib(pid))
        stop.wait(0.2)


def main():
    home = tempfile.mkdtemp(prefix="tl-bench-")
    # One client sending as fast as it can is the point here: the per-peer
    # rate limit (200 requests/s by default) is turned off.
    config = os.path.join(home, "config.toml")
    with open(config, "w") as f:
        f.write("[server]\nrate_per_second = 0\n")
    env = dict(os.environ, TOKENLEDGER_HOME=home, TOKENLEDGER_CONFIG=config)
    store = ["--store", os.environ["TOKENLEDGER_STORE"]] if os.environ.get("TOKENLEDGER_STORE") else []
    server = subprocess.Popen([BIN, "serve", "--listen", "127.0.0.1:0", *store], env=env,
                              stderr=subprocess.PIPE, text=True)
    try:
        line = server.stderr.readline()
        host, port = re.search(r"http://([0-9.]+):(\d+)", line).groups()
        bodies = [body(b) for b in range(EVENTS // BATCH)]
        latencies, lock, failures = [], threading.Lock(), []
        next_batch = iter(range(len(bodies)))

        def worker():
            conn = http.client.HTTPConnection(host, int(port), timeout=60)
            while True:
                with lock:
                    b = next(next_batch, None)
                if b is None:
                    return
                start = time.perf_counter()
                conn.request("POST", "/v1/events", bodies[b], {"Content-Type": "application/json"})
                response = conn.getresponse()
                text = response.read()
                elapsed = time.perf_counter() - start
                with lock:
                    latencies.append(elapsed)
                    if response.status != 200 or json.loads(text)["accepted"] != BATCH:
                        failures.append((response.status, text[:200]))

        rss_start, rss_samples, rss_stop = rss_mib(server.pid), [], threading.Event()
        sampler = threading.Thread(target=sample_rss, args=(server.pid, rss_samples, rss_stop))
        sampler.start()
        started = time.perf_counter()
        threads = [threading.Thread(target=worker) for _ in range(CONNECTIONS)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        wall = time.perf_counter() - started
        rss_stop.set()
        sampler.join()
        conn = http.client.HTTPConnection(host, int(port), timeout=120)
        conn.request("GET", "/v1/report")
        events = json.loads(conn.getresponse().read())["totals"]["events"]
        rss_end = rss_mib(server.pid)
        latencies.sort()
        pick = lambda q: latencies[min(len(latencies) - 1, int(q * len(latencies)))] * 1000
        print(f"{len(bodies) * BATCH} events in batches of {BATCH} over {CONNECTIONS} connections: "
              f"{wall:.2f} s, {len(bodies) * BATCH / wall:,.0f} events/s, "
              f"batch p50 {pick(0.50):.1f} ms, p99 {pick(0.99):.1f} ms; report counts {events}")
        print(f"server RssAnon: {rss_start:.1f} MiB at start, {max(rss_samples, default=0):.1f} MiB peak "
              f"under load, {rss_end:.1f} MiB after the report")
        if failures or events != len(bodies) * BATCH:
            print(f"FAILED: {failures[:3]}", file=sys.stderr)
            sys.exit(1)
    finally:
        server.terminate()
        server.wait(timeout=60)


if __name__ == "__main__":
    main()
