#!/usr/bin/env python3
"""Bounded soak test of the whole tool: everything at once for SECONDS.

Usage: bench/soak.py [SECONDS=600]      (bench/soak.sh is the wrapper)
Builds nothing: `cargo build --release -p tokenledger` first; TOKENLEDGER_BIN
picks another binary. Everything lives in a fresh temporary directory (HOME,
config, data homes, the Claude Code tree), so nothing on the machine is read.

For the whole duration, concurrently:
  * SOAK_WORKERS (16) threads each run `tokenledger --home H log ...` again
    and again: one new session key per process (named and positional forms,
    ~10% with timestamps in months `rotate` archives), plus ~5% repeats of a
    key acknowledged earlier (possibly archived since), which must be skipped.
  * `sync` every 2-5 s over a Claude Code tree (CLAUDE_CONFIG_DIR) that an
    appender thread writes to meanwhile: assistant lines with usage (unique
    message.id + requestId), some first as a streaming placeholder copy whose
    complete copy follows seconds later, some written in two pieces with a
    pause between (a line still being written), subagent files, and a new
    session file every ~20 s.
  * `rotate` every 10-30 s (old-month entries keep arriving, so it has work).
  * `report` of the home every 5-10 s: its event count must lie between what
    was acknowledged before it started and what was written by its end
    (a report racing `rotate` must neither lose nor double count entries).
  * A collector (`serve`, file store, its own home) receiving from two
    threads `POST /v1/events` batches (normalized events and register lines;
    ~10% of batches sent again, which must store nothing) at SOAK_EVENT_RATE
    events/s, and from two threads OTLP/JSON (plain or gzip) `POST /v1/logs`
    (`claude_code.api_request`) and `POST /v1/metrics`
    (`claude_code.token.usage` + `claude_code.cost.usage`, delta series, and
    a cumulative series per thread), ~10% resent. Sessions are metrics-only,
    events-only, or both, where the collector's default `otel_prefer =
    "events"` hides the metrics; the truth follows that rule. A reader
    thread checks `GET /v1/report` every 10-20 s never shows less than was
    acknowledged before it asked, nor goes down.
  * The collector's RssAnon and open file descriptors are sampled every 5 s.

At the end (writers stopped, a final `sync`): the home's report must equal the
acknowledged `log` entries plus the transcript lines written, per token field,
exactly (and per source, events, sessions); the register and its archives
must hold every acknowledged key exactly once; the collector's report must
equal what it acknowledged; its fd count must be back to its start value, and
its RssAnon must not grow by more than SOAK_MAX_RSS_PER_100K per 100k events.
Prints a summary with PASS/FAIL per check and exits 1 on any failure.

Env: TOKENLEDGER_BIN, SOAK_WORKERS (16), SOAK_EVENT_RATE (1500 events/s),
SOAK_CC_RATE (40 transcript lines/s), SOAK_MAX_RSS_PER_100K (10 MiB: the
collector's RssAnon growth allowed, from the sample at 30 s to the end, per
100k events stored), SOAK_SEED, SOAK_KEEP=1 (keep the temp dir; it is kept
anyway on failure).
"""

import collections
import datetime as dt
import gzip
import http.client
import json
import os
import random
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import uuid

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BIN = os.environ.get("TOKENLEDGER_BIN") or os.path.join(ROOT, "target", "release", "tokenledger")
SECONDS = float(sys.argv[1]) if len(sys.argv) > 1 else 600.0
WORKERS = int(os.environ.get("SOAK_WORKERS", "16"))
EVENT_RATE = float(os.environ.get("SOAK_EVENT_RATE", "1500"))
CC_RATE = float(os.environ.get("SOAK_CC_RATE", "40"))
SEED = int(os.environ.get("SOAK_SEED", str(int(time.time()))))
KEEP = os.environ.get("SOAK_KEEP") == "1"
# Flat memory: what the collector may keep per event stored (its identity,
# a 128-bit hash in a set, is ~2-4 MiB per 100k), in MiB per 100k events.
RSS_PER_100K = float(os.environ.get("SOAK_MAX_RSS_PER_100K", "10"))
EVENT_THREADS = 2
OTLP_THREADS = 2
FIELDS = ("input_tokens", "output_tokens", "cache_read_tokens", "cache_write_tokens")
MODELS = ["claude-sonnet-4-5", "anthropic/claude-opus-4-5", "claude-haiku-4-5", "glm-4.7",
          "gpt-5", "my-unpriced-model"]
CC_MODELS = ["claude-sonnet-4-5-20250929", "claude-opus-4-6", "claude-haiku-4-5-20251001"]

stop = threading.Event()
lock = threading.Lock()
problems = collections.defaultdict(list)  # check name -> messages (kept short)


def problem(check, message):
    with lock:
        if len(problems[check]) < 20:
            problems[check].append(message)
        else:
            problems[check][-1] = f"... and more (last: {message})"


def tokens(i=0, o=0, cr=0, cw=0):
    return {"input_tokens": i, "output_tokens": o, "cache_read_tokens": cr, "cache_write_tokens": cw}


def add(into, t):
    for f in FIELDS:
        into[f] += t[f]


def iso_s(t):
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(t))


def iso_ms(t):
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(t)) + ".%03dZ" % int((t % 1) * 1000)


def interval(rng, lo, hi):
    """Waits lo-hi seconds; False once stopping."""
    return not stop.wait(rng.uniform(lo, hi))


class Env:
    def __init__(self, tmp):
        self.tmp = tmp
        self.home = os.path.join(tmp, "home")            # the local data home
        self.collector_home = os.path.join(tmp, "collector")
        self.claude = os.path.join(tmp, "claude")          # CLAUDE_CONFIG_DIR
        self.vars = dict(os.environ, HOME=os.path.join(tmp, "user"), NO_COLOR="1",
                         TOKENLEDGER_CONFIG=os.path.join(tmp, "none.toml"), CLAUDE_CONFIG_DIR=self.claude)
        for var in ("TOKENLEDGER_HOME", "TOKENLEDGER_TOKEN", "CODEX_HOME", "OPENCLAW_DIR",
                    "XDG_CONFIG_HOME", "XDG_DATA_HOME", "TOKENLEDGER_CRASH_AT"):
            self.vars.pop(var, None)
        for d in (self.home, self.collector_home, os.path.join(self.claude, "projects"), self.vars["HOME"]):
            os.makedirs(d, exist_ok=True)

    def run(self, *args, home=None, timeout=300):
        return subprocess.run([BIN, "--home", home or self.home, *args], env=self.vars,
                              capture_output=True, text=True, timeout=timeout)


# ---------------------------------------------------------------- log workers

class Register:
    """What `log` acknowledged."""

    def __init__(self):
        self.acked = {}          # key -> tokens
        self.keys = []           # acknowledged keys, for repeats
        self.old = 0             # acknowledged with a timestamp in an archived month
        self.runs = 0
        self.repeats = 0
        self.failed = 0
        self.totals = tokens()
        self.in_flight = 0       # log processes running now (at most WORKERS)


def month_start(t, back):
    d = dt.datetime.fromtimestamp(t, dt.timezone.utc)
    y, m = d.year, d.month - back
    while m < 1:
        y, m = y - 1, m + 12
    return dt.datetime(y, m, 1, tzinfo=dt.timezone.utc).timestamp()


def log_worker(env, reg, w):
    rng = random.Random(SEED * 1000 + w)
    # `rotate --keep-months 2` (the default) keeps this month and the last.
    keep_from = month_start(time.time(), 1)
    n = 0
    while not stop.is_set():
        if rng.random() < 0.05:
            with lock:
                key = rng.choice(reg.keys) if reg.keys else None
            if key is not None:
                with lock:
                    reg.in_flight += 1
                p = env.run("log", "--session", key, "--agent", f"w{w}", "--model", "claude-sonnet-4-5",
                            "--input", str(rng.randrange(1, 10**6)), "--output", "1")
                with lock:
                    reg.in_flight -= 1
                    reg.runs += 1
                    reg.repeats += 1
                if p.returncode != 0 or "already logged" not in p.stdout:
                    problem("log: repeats skipped", f"repeat of {key}: exit {p.returncode}: "
                            f"{(p.stdout + p.stderr).strip()[:200]}")
                continue
        key = f"soak-w{w:02d}-{n:07d}"
        n += 1
        model = rng.choice(MODELS)
        t = tokens(rng.randrange(0, 50_000), rng.randrange(0, 8_000))
        r = rng.random()
        old = False
        if r < 0.10:
            args = ["log", key, f"agent-{w % 5}", model, str(t["input_tokens"]), str(t["output_tokens"])]
            if rng.random() < 0.5:
                args.append(f"{rng.random():.4f}")
        else:
            args = ["log", "--session", key, "--agent", f"agent-{w % 5}", "--model", model,
                    "--input", str(t["input_tokens"]), "--output", str(t["output_tokens"])]
            if rng.random() < 0.5:
                t["cache_read_tokens"] = rng.randrange(0, 200_000)
                args += ["--cache-read", str(t["cache_read_tokens"])]
            if rng.random() < 0.3:
                w5, w1 = rng.randrange(0, 5_000), rng.randrange(0, 5_000)
                t["cache_write_tokens"] = w5 + w1
                args += ["--cache-write", str(w5), "--cache-write-1h", str(w1)]
            if rng.random() < 0.3:
                args += ["--task", f"T{rng.randrange(1000, 1100)}"]
            if r < 0.22:  # a month `rotate` archives (up to ~15 months back)
                old = True
                args += ["--timestamp", iso_s(rng.uniform(keep_from - 450 * 86400, keep_from - 1))]
            elif r < 0.30:  # kept months, explicit
                args += ["--timestamp", iso_s(rng.uniform(keep_from, time.time() - 60))]
        with lock:
            reg.in_flight += 1
        p = env.run(*args)
        with lock:
            reg.in_flight -= 1
            reg.runs += 1
            if p.returncode == 0 and "Logged session" in p.stdout:
                reg.acked[key] = t
                reg.keys.append(key)
                add(reg.totals, t)
                reg.old += old
            else:
                reg.failed += 1
        if not (p.returncode == 0 and "Logged session" in p.stdout):
            problem("log: every new entry acknowledged", f"{key}: exit {p.returncode}: "
                    f"{(p.stdout + p.stderr).strip()[:300]}")


# ------------------------------------------------------- Claude Code appender

class Transcripts:
    """Appends to Claude Code transcripts while `sync` reads them."""

    def __init__(self, env):
        self.rng = random.Random(SEED + 7)
        self.projects = [os.path.join(env.claude, "projects", p) for p in ("-tmp-soak-app", "-tmp-soak-lib")]
        self.active = []     # open files: dict(path, session, sidechain, fd, pending)
        self.retired = []    # files to close once their pending piece is written
        self.placeholders = []  # (due, file, final line dict, usage)
        self.truth = tokens()
        self.requests = 0    # complete final copies written
        self.sessions = set()
        self.lines = 0       # complete lines written (all kinds)
        self.usage_lines = 0  # complete assistant lines written (placeholders included)
        self.split = 0       # lines written in two pieces
        self.files = 0
        self.last_new = 0.0

    def new_file(self):
        rng = self.rng
        parents = [f for f in self.active if not f["sidechain"]]
        if parents and rng.random() < 0.25:
            parent = rng.choice(parents)
            agent = "%08x" % rng.getrandbits(32)
            path = os.path.join(os.path.dirname(parent["path"]), parent["session"], "subagents", f"agent-{agent}.jsonl")
            f = dict(session=parent["session"], sidechain=True, agent=agent, cwd=parent["cwd"])
        else:
            session = str(uuid.UUID(int=rng.getrandbits(128), version=4))
            project = rng.choice(self.projects)
            path = os.path.join(project, f"{session}.jsonl")
            f = dict(session=session, sidechain=False, agent=None, cwd="/tmp/soak/" + os.path.basename(project))
        os.makedirs(os.path.dirname(path), exist_ok=True)
        f.update(path=path, fd=os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644), pending=None)
        self.active.append(f)
        self.files += 1
        self.last_new = time.monotonic()
        if len(self.active) > 8:
            self.retired.append(self.active.pop(0))

    def base(self, f, kind):
        line = {"parentUuid": None, "isSidechain": f["sidechain"], "userType": "external", "cwd": f["cwd"],
                "sessionId": f["session"], "version": "2.1.3", "gitBranch": "main"}
        if f["agent"]:
            line["agentId"] = f["agent"]
        line["type"] = kind
        line["uuid"] = str(uuid.UUID(int=self.rng.getrandbits(128), version=4))
        line["timestamp"] = iso_ms(time.time())
        return line

    def write(self, f, line, counts=None):
        """Writes one line, now or in two pieces; `counts` is added to the truth once complete."""
        data = (json.dumps(line, separators=(",", ":")) + "\n").encode()
        if self.rng.random() < 0.04:
            cut = self.rng.randrange(1, len(data) - 1)
            os.write(f["fd"], data[:cut])
            f["pending"] = (time.monotonic() + self.rng.uniform(0.2, 3.0), data[cut:], counts, line)
            self.split += 1
        else:
            os.write(f["fd"], data)
            self.complete(f, counts, line)

    def complete(self, f, counts, line):
        self.lines += 1
        if line["type"] == "assistant":
            self.usage_lines += 1
        if counts is not None:
            add(self.truth, counts)
            self.requests += 1
            self.sessions.add(f["session"])

    def finish_pending(self, f, force=False):
        if f["pending"] and (force or f["pending"][0] <= time.monotonic()):
            _, rest, counts, line = f["pending"]
            os.write(f["fd"], rest)
            f["pending"] = None
            self.complete(f, counts, line)

    def assistant(self, f, mid, rid, usage, model, placeholder=False):
        line = self.base(f, "assistant")
        text = " ".join(self.rng.choice(("token", "ledger", "cache", "read", "the", "build")) for _ in range(self.rng.randrange(5, 300)))
        line["message"] = {"model": model, "id": mid, "type": "message", "role": "assistant",
                           "content": [{"type": "text", "text": text}],
                           "stop_reason": None if placeholder else "end_turn", "stop_sequence": None,
                           "usage": usage}
        line["requestId"] = rid
        return line

    def step(self):
        rng = self.rng
        now = time.monotonic()
        for f in self.active + self.retired:
            self.finish_pending(f)
        for f in [f for f in self.retired if not f["pending"] and not any(p[1] is f for p in self.placeholders)]:
            os.close(f["fd"])
            self.retired.remove(f)
        for p in [p for p in self.placeholders if p[0] <= now]:
            if not p[1]["pending"]:  # (this loop's own writes may leave a piece pending)
                self.placeholders.remove(p)
                _, f, line, counts = p
                self.write(f, line, counts)
        if len(self.active) < 6 or now - self.last_new > rng.uniform(15, 25):
            self.new_file()
        free = [f for f in self.active if not f["pending"]]
        if not free:
            return False
        f = rng.choice(free)
        if rng.random() < 0.3:
            line = self.base(f, "user")
            line["message"] = {"role": "user", "content": "please " + " ".join(rng.choice(("fix", "the", "test", "now")) for _ in range(20))}
            self.write(f, line)
            return True
        mid, rid = "msg_01" + "%022x" % rng.getrandbits(88), "req_011" + "%021x" % rng.getrandbits(84)
        model = rng.choice(CC_MODELS)
        inp, read, out = rng.choice([1, 3, 8, 12, 40, 300]), rng.randrange(0, 180_000), rng.randrange(20, 3_000)
        w5, w1 = (rng.randrange(0, 4_000), 0) if rng.random() < 0.3 else (0, rng.randrange(0, 4_000))
        def usage(output):
            return {"input_tokens": inp, "cache_creation_input_tokens": w5 + w1, "cache_read_input_tokens": read,
                    "cache_creation": {"ephemeral_5m_input_tokens": w5, "ephemeral_1h_input_tokens": w1},
                    "output_tokens": output, "service_tier": "standard"}
        counts = tokens(inp, out, read, w5 + w1)
        final = self.assistant(f, mid, rid, usage(out), model)
        if rng.random() < 0.12:
            # Streaming: a placeholder copy now, the complete copy (same ids) later.
            self.write(f, self.assistant(f, mid, rid, usage(rng.choice([1, 2])), model, placeholder=True))
            self.placeholders.append((now + rng.uniform(1, 8), f, final, counts))
        else:
            self.write(f, final, counts)
        return True

    def run(self):
        # Paced by the clock, not by sleeps: with the driver's other threads
        # busy, a thread wakes late, and the rate would sag.
        start, steps = time.monotonic(), 0
        while not stop.wait(self.rng.expovariate(CC_RATE)):
            due = min(int((time.monotonic() - start) * CC_RATE), steps + 50)
            while steps < due:
                with lock:  # the mid-run reader reads these counters
                    if not self.step():
                        break
                steps += 1
        # Stopping: every line still being written, and every complete copy due, is finished.
        for _, f, line, counts in self.placeholders:
            self.finish_pending(f, force=True)
            data = (json.dumps(line, separators=(",", ":")) + "\n").encode()
            os.write(f["fd"], data)
            self.complete(f, counts, line)
        self.placeholders = []
        for f in self.active + self.retired:
            self.finish_pending(f, force=True)
            os.close(f["fd"])


# ------------------------------------------------------------- sync / rotate

class Runs:
    def __init__(self):
        self.count = 0
        self.failed = 0
        self.moved = 0
        self.new_events = 0
        self.seconds = []
        self.warnings = 0


def syncer(env, runs):
    rng = random.Random(SEED + 11)
    while interval(rng, 2, 5):
        run_sync(env, runs)


def run_sync(env, runs):
    t0 = time.monotonic()
    p = env.run("sync")
    with lock:
        runs.count += 1
        runs.seconds.append(time.monotonic() - t0)
        m = re.search(r"claude-code: (\d+) new events", p.stdout)
        runs.new_events += int(m.group(1)) if m else 0
        if p.returncode != 0:
            runs.failed += 1
        warnings = [line for line in p.stderr.splitlines() if "warning" in line]
        runs.warnings += len(warnings)
    if p.returncode != 0:
        problem("sync: every run exits 0", f"exit {p.returncode}: {(p.stdout + p.stderr).strip()[:300]}")
    for line in warnings[:3]:
        problem("sync: no warnings", line[:300])


def rotator(env, runs):
    rng = random.Random(SEED + 13)
    while interval(rng, 10, 30):
        t0 = time.monotonic()
        p = env.run("rotate")
        with lock:
            runs.count += 1
            runs.seconds.append(time.monotonic() - t0)
            m = re.search(r"moved (\d+)", p.stdout + p.stderr)
            runs.moved += int(m.group(1)) if m else 0
            if p.returncode != 0:
                runs.failed += 1
        if p.returncode != 0:
            problem("rotate: every run exits 0", f"exit {p.returncode}: {(p.stdout + p.stderr).strip()[:300]}")


def report_json(env, *args, home=None):
    p = env.run("report", "--format", "json", "--since", "2000-01-01", "--until", "2100-01-01", *args, home=home)
    if p.returncode != 0:
        raise RuntimeError(f"report exited {p.returncode}: {p.stderr.strip()[:500]}")
    return json.loads(p.stdout)


def local_reader(env, reg, cc, runs):
    """Mid-run reports: events between acknowledged-before and written-by-the-end."""
    rng = random.Random(SEED + 17)
    while interval(rng, 5, 10):
        with lock:
            low = len(reg.acked) + cc.requests
        t0 = time.monotonic()
        try:
            report = report_json(env)
        except Exception as e:  # noqa: BLE001
            problem("mid-run local reports consistent", str(e)[:300])
            continue
        with lock:
            # In flight: a log process may have written its line without having
            # exited yet; a placeholder line counts until its complete copy.
            # A final copy in two pieces: its placeholder may count already.
            pending = sum(1 for f in list(cc.active) + list(cc.retired) if f["pending"])
            high = len(reg.acked) + WORKERS + cc.requests + len(cc.placeholders) + pending
            runs.count += 1
            runs.seconds.append(time.monotonic() - t0)
        events = report["totals"]["events"] if report["rows"] else 0
        if not low <= events <= high:
            problem("mid-run local reports consistent",
                    f"report at {time.monotonic() - T0:.0f}s counted {events} events, expected {low}..{high}")


# ------------------------------------------------------------------ collector

class Collector:
    def __init__(self, env):
        self.env = env
        self.proc = subprocess.Popen([BIN, "--home", env.collector_home, "serve", "--listen", "127.0.0.1:0"],
                                     env=env.vars, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        self.stderr = collections.deque(maxlen=40)
        line = self.proc.stderr.readline()
        self.stderr.append(line)
        m = re.search(r"http://([0-9.]+):(\d+)", line)
        if not m:
            raise RuntimeError(f"collector did not start: {line}{self.proc.stderr.read()}")
        self.host, self.port = m.group(1), int(m.group(2))
        self.url = f"http://{self.host}:{self.port}"
        threading.Thread(target=self.drain, daemon=True).start()
        # Truth: what the collector acknowledged and must report.
        self.truth = tokens()
        self.visible_events = 0   # events the report must count (hidden metrics excluded)
        self.stored = 0           # events stored (hidden metrics included), for memory per event
        self.sessions = set()
        self.batches = 0          # /v1/events requests acknowledged (resends included)
        self.resends = 0
        self.events_acked = 0     # unique events acknowledged through /v1/events
        self.otlp_requests = 0    # OTLP requests acknowledged (resends included)
        self.otlp_resends = 0
        self.retries = collections.Counter()
        self.latency = collections.defaultdict(list)  # route -> seconds per answered request

    def drain(self):
        for line in self.proc.stderr:
            self.stderr.append(line)

    def proc_status(self):
        rss = None
        with open(f"/proc/{self.proc.pid}/status") as f:
            for line in f:
                # Anonymous memory only: the mapped snapshot's file pages
                # are page cache the kernel can drop, not the heap.
                if line.startswith("RssAnon:"):
                    rss = int(line.split()[1])
        return rss, len(os.listdir(f"/proc/{self.proc.pid}/fd"))

    def fd_targets(self):
        out = []
        for fd in os.listdir(f"/proc/{self.proc.pid}/fd"):
            try:
                out.append(os.readlink(f"/proc/{self.proc.pid}/fd/{fd}"))
            except OSError:
                pass
        return collections.Counter(re.sub(r"\[\d+\]", "[…]", t) for t in out)


class Client:
    """Keep-alive HTTP to the collector; retries 429/503 and lost connections."""

    def __init__(self, collector):
        self.c = collector
        self.conn = None

    def close(self):
        if self.conn:
            self.conn.close()
            self.conn = None

    def request(self, method, path, body=None, headers=None):
        """(status, body bytes, whether an earlier attempt may have been applied)."""
        ambiguous = False
        for attempt in range(60):
            try:
                if self.conn is None:
                    self.conn = http.client.HTTPConnection(self.c.host, self.c.port, timeout=300)
                t0 = time.monotonic()
                self.conn.request(method, path, body, headers or {})
                response = self.conn.getresponse()
                data = response.read()
                with lock:
                    self.c.latency[f"{method} {path}"].append(time.monotonic() - t0)
            except (OSError, http.client.HTTPException) as e:
                self.close()
                ambiguous = True
                with lock:
                    self.c.retries[type(e).__name__] += 1
                time.sleep(min(0.1 * (attempt + 1), 2))
                continue
            if response.status in (429, 503):
                with lock:
                    self.c.retries[str(response.status)] += 1
                time.sleep(min(0.1 * (attempt + 1), 2))
                continue
            return response.status, data, ambiguous
        raise RuntimeError(f"{method} {path}: no answer after 60 attempts")


def events_sender(col, t):
    rng = random.Random(SEED * 31 + t)
    client = Client(col)
    sent = collections.deque(maxlen=64)
    per_thread = EVENT_RATE / EVENT_THREADS
    next_at = time.monotonic()
    n = 0
    while not stop.is_set():
        if sent and rng.random() < 0.10:
            body, count = rng.choice(sent)
            status, data, _ = client.request("POST", "/v1/events", body, {"Content-Type": "application/json"})
            answer = json.loads(data) if status == 200 else {}
            if status != 200 or answer.get("accepted") != 0 or answer.get("duplicates") != count:
                problem("collector: resent batches store nothing", f"status {status}: {data[:200]!r}")
            with lock:
                col.batches += 1
                col.resends += 1
            continue
        size = rng.randint(20, 500)
        items, batch_truth, sessions = [], tokens(), set()
        for _ in range(size):
            when = time.time() - rng.uniform(0, 90 * 86400)
            tk = tokens(rng.randrange(0, 20_000), rng.randrange(0, 4_000), rng.randrange(0, 100_000))
            if rng.random() < 0.15:  # a register line, identified by its session key
                key = f"creg-{t}-{n}"
                w5 = rng.randrange(0, 3_000)
                tk["cache_write_tokens"] = w5
                items.append({"timestamp": iso_s(when), "session_key": key, "agent_id": f"team/{t}",
                              "model": rng.choice(MODELS), "tokens_input": tk["input_tokens"],
                              "tokens_output": tk["output_tokens"], "cost": round(rng.random(), 4),
                              "tokens_cache_read": tk["cache_read_tokens"], "tokens_cache_write": w5})
                sessions.add(key)
            else:
                w5, w1 = rng.randrange(0, 3_000), rng.randrange(0, 3_000)
                tk["cache_write_tokens"] = w5 + w1
                session = f"cs-{t}-{n // 40}"
                items.append({"timestamp": iso_s(when), "source": "claude-code", "agent_id": f"team/{t}",
                              "session": session, "model": rng.choice(MODELS),
                              "tokens": {"input": tk["input_tokens"], "output": tk["output_tokens"],
                                         "cache_read": tk["cache_read_tokens"], "cache_write_5m": w5,
                                         "cache_write_1h": w1, "reasoning": 0},
                              "reported_cost": None, "task": None, "project": None,
                              "dedupe_key": f"soak:{t}:{n}"})
                sessions.add(session)
            add(batch_truth, tk)
            n += 1
        body = json.dumps(items).encode()
        status, data, ambiguous = client.request("POST", "/v1/events", body, {"Content-Type": "application/json"})
        answer = json.loads(data) if status == 200 else {}
        ok = (status == 200 and not answer.get("rejected")
              and answer.get("accepted", -1) + answer.get("duplicates", -1) == size
              and (ambiguous or answer.get("accepted") == size))
        if not ok:
            problem("collector: every batch acknowledged whole", f"status {status}: {data[:300]!r}")
            continue
        with lock:
            add(col.truth, batch_truth)
            col.visible_events += size
            col.stored += size
            col.events_acked += size
            col.batches += 1
            col.sessions |= sessions
        sent.append((body, size))
        next_at += size / per_thread
        delay = next_at - time.monotonic()
        if delay > 0:
            stop.wait(delay)
        else:
            next_at = time.monotonic()
    client.close()


def kv(key, value):
    if isinstance(value, bool):
        return {"key": key, "value": {"boolValue": value}}
    if isinstance(value, int):
        return {"key": key, "value": {"intValue": str(value)}}
    if isinstance(value, float):
        return {"key": key, "value": {"doubleValue": value}}
    return {"key": key, "value": {"stringValue": value}}


RESOURCE = {"attributes": [kv("service.name", "claude-code"), kv("service.version", "2.1.3")]}


def otlp_sender(col, t):
    rng = random.Random(SEED * 37 + t)
    client = Client(col)
    sent = collections.deque(maxlen=32)
    clock = [time.time_ns()]
    both_points = []            # metric points of "both" sessions, sent after their log events
    cum = {"session": f"otc-{t}-0", "n": 0, "values": tokens(), "cost": 0.0, "start": time.time_ns()}
    cum_final = {}              # cumulative session -> acknowledged running totals
    k = 0

    def now_ns():
        clock[0] = max(clock[0] + 1000, time.time_ns())
        return clock[0]

    def usage():
        return tokens(rng.randrange(1, 500), rng.randrange(1, 4_000), rng.randrange(0, 150_000), rng.randrange(0, 5_000))

    def post(path, payload):
        body = json.dumps(payload).encode()
        headers = {"Content-Type": "application/json"}
        if rng.random() < 0.3:
            body = gzip.compress(body)
            headers["Content-Encoding"] = "gzip"
        status, data, _ = client.request("POST", path, body, headers)
        ok = status == 200 and not (json.loads(data) or {}).get("partialSuccess")
        if not ok:
            problem("collector: every OTLP request acknowledged", f"{path}: status {status}: {data[:300]!r}")
        else:
            sent.append((path, body, headers))
        return ok

    def metric_points(session, time_ns, u, cost, start_ns):
        attrs = [kv("session.id", session), kv("model", "claude-sonnet-4-5"), kv("user.id", f"u{t}")]
        names = {"input_tokens": "input", "output_tokens": "output", "cache_read_tokens": "cacheRead",
                 "cache_write_tokens": "cacheCreation"}
        points = [{"attributes": attrs + [kv("type", names[f])], "startTimeUnixNano": str(start_ns),
                   "timeUnixNano": str(time_ns), "asInt": str(u[f]) if rng.random() < 0.5 else u[f]}
                  for f in FIELDS]
        return points, {"attributes": attrs, "startTimeUnixNano": str(start_ns), "timeUnixNano": str(time_ns),
                        "asDouble": cost}

    def metrics_body(groups):
        """groups: [(temporality, token points, cost point)]"""
        metrics = []
        for temporality, points, cost_point in groups:
            metrics.append({"name": "claude_code.token.usage", "unit": "tokens",
                            "sum": {"dataPoints": points, "aggregationTemporality": temporality, "isMonotonic": True}})
            metrics.append({"name": "claude_code.cost.usage", "unit": "USD",
                            "sum": {"dataPoints": [cost_point], "aggregationTemporality": temporality, "isMonotonic": True}})
        return {"resourceMetrics": [{"resource": RESOURCE, "scopeMetrics": [
            {"scope": {"name": "com.anthropic.claude_code"}, "metrics": metrics}]}]}

    while not stop.wait(rng.uniform(0.1, 0.3)):
        if sent and rng.random() < 0.10:
            path, body, headers = rng.choice(sent)
            status, data, _ = client.request("POST", path, body, headers)
            if status != 200:
                problem("collector: every OTLP request acknowledged", f"resend {path}: status {status}: {data[:200]!r}")
            with lock:
                col.otlp_requests += 1
                col.otlp_resends += 1
            continue
        if rng.random() < 0.5:
            # Log events: api_request records of events-only and "both" sessions.
            records, truth, new_both, sessions = [], tokens(), [], set()
            for _ in range(rng.randint(1, 12)):
                both = rng.random() < 0.3
                session = f"otb-{t}-{k // 15}" if both else f"otl-{t}-{k // 15}"
                k += 1
                u, cost, ts = usage(), round(rng.uniform(0.001, 0.5), 6), now_ns()
                num = (lambda v: str(v)) if rng.random() < 0.5 else (lambda v: v)
                records.append({"timeUnixNano": str(ts), "observedTimeUnixNano": str(ts),
                                "body": {"stringValue": "claude_code.api_request"},
                                "attributes": [kv("event.name", "api_request"), kv("session.id", session),
                                               kv("model", "claude-sonnet-4-5"),
                                               kv("input_tokens", num(u["input_tokens"])),
                                               kv("output_tokens", num(u["output_tokens"])),
                                               kv("cache_read_tokens", num(u["cache_read_tokens"])),
                                               kv("cache_creation_tokens", num(u["cache_write_tokens"])),
                                               kv("cost_usd", str(cost) if rng.random() < 0.5 else cost),
                                               kv("duration_ms", rng.randrange(100, 9000)),
                                               kv("request_id", f"req_soak_{t}_{k}")]})
                add(truth, u)
                sessions.add(session)
                if both:
                    new_both.append((session, u, cost))
            if post("/v1/logs", {"resourceLogs": [{"resource": RESOURCE, "scopeLogs": [
                    {"scope": {"name": "com.anthropic.claude_code"}, "logRecords": records}]}]}):
                with lock:
                    add(col.truth, truth)
                    col.visible_events += len(records)
                    col.stored += len(records)
                    col.otlp_requests += 1
                    col.sessions |= sessions
                both_points.extend(new_both)
            continue
        # Metrics: delta points of metrics-only sessions, the "both" sessions'
        # points (hidden by their events), and the thread's cumulative series.
        groups, truth, visible, stored, sessions = [], tokens(), 0, 0, set()
        for _ in range(rng.randint(1, 8)):
            session = f"otm-{t}-{k // 15}"
            k += 1
            u = usage()
            points, cost_point = metric_points(session, now_ns(), u, round(rng.uniform(0.001, 0.5), 6), clock[0] - 10**9)
            groups.append((1, points, cost_point))
            add(truth, u)
            visible += 1
            stored += 1
            sessions.add(session)
        hidden = both_points[:rng.randint(0, 8)]
        for session, u, cost in hidden:
            points, cost_point = metric_points(session, now_ns(), u, cost, clock[0] - 10**9)
            groups.append((1, points, cost_point))
            stored += 1
        cum_before = dict(cum["values"])
        grew = rng.random() < 0.8
        if grew:
            add(cum["values"], usage())
            cum["cost"] += 0.01
        points, cost_point = metric_points(cum["session"], now_ns(), cum["values"], round(cum["cost"], 6), cum["start"])
        groups.append((2, points, cost_point))
        if post("/v1/metrics", metrics_body(groups)):
            del both_points[:len(hidden)]
            with lock:
                add(col.truth, truth)
                for f in FIELDS:
                    col.truth[f] += cum["values"][f] - cum_before[f]
                cum_final[cum["session"]] = dict(cum["values"])
                col.visible_events += visible + (1 if grew else 0)
                col.stored += stored + (1 if grew else 0)
                col.otlp_requests += 1
                col.sessions |= sessions | ({cum["session"]} if grew else set())
        else:
            cum["values"] = cum_before
        cum["n"] += 1
        if cum["n"] % 200 == 0:  # a new Claude Code session: a new cumulative series
            cum.update(session=f"otc-{t}-{cum['n'] // 200}", values=tokens(), cost=0.0, start=time.time_ns())
    client.close()


def collector_reader(col, runs):
    """Mid-run GET /v1/report: never less than acknowledged before, never going down."""
    rng = random.Random(SEED + 19)
    client = Client(col)
    last = None
    while interval(rng, 10, 20):
        with lock:
            low = dict(col.truth)
        t0 = time.monotonic()
        status, data, _ = client.request("GET", "/v1/report")
        with lock:
            runs.count += 1
            runs.seconds.append(time.monotonic() - t0)
        if status != 200:
            problem("mid-run collector reports consistent", f"status {status}: {data[:200]!r}")
            continue
        totals = json.loads(data)["totals"]
        for f in FIELDS:
            if totals.get(f, 0) < low[f]:
                problem("mid-run collector reports consistent", f"{f} {totals.get(f, 0)} < acknowledged {low[f]}")
            if last and totals.get(f, 0) < last.get(f, 0):
                problem("mid-run collector reports consistent", f"{f} went down: {last[f]} -> {totals[f]}")
        last = totals
    client.close()


# --------------------------------------------------------------------- main

T0 = time.monotonic()


def pick(values, q):
    values = sorted(values)
    return values[min(len(values) - 1, int(q * len(values)))] * 1000 if values else 0.0


def rate(n, seconds):
    return f"{n / seconds:,.1f}/s" if seconds > 0 else "-"


def main():
    global T0
    if not os.access(BIN, os.X_OK):
        sys.exit(f"{BIN} missing: run `cargo build --release -p tokenledger` (or set TOKENLEDGER_BIN)")
    tmp = tempfile.mkdtemp(prefix="tl-soak-")
    env = Env(tmp)
    print(f"soak: {SECONDS:.0f} s, binary {BIN}, seed {SEED}, dir {tmp}", flush=True)
    col = Collector(env)
    checks = []
    failed = True
    try:
        # Warm-up: one batch and one report over a connection closed afterwards,
        # so the fd count at start includes the ledger the store holds open.
        warm = Client(col)
        warm.request("POST", "/v1/events", json.dumps([{"timestamp": iso_s(time.time()), "session_key": "warm-up",
                                                       "agent_id": "soak", "model": "claude-sonnet-4-5",
                                                       "tokens_input": 1, "tokens_output": 1}]).encode(),
                     {"Content-Type": "application/json"})
        warm.request("GET", "/v1/report")
        warm.close()
        add(col.truth, tokens(1, 1))
        col.visible_events += 1
        col.stored += 1
        col.sessions.add("warm-up")
        time.sleep(0.5)
        rss0, fd_start = col.proc_status()
        fd_start_targets = col.fd_targets()

        reg, cc = Register(), Transcripts(env)
        syncs, rotations, local_reports, remote_reports = Runs(), Runs(), Runs(), Runs()
        samples = []  # (seconds, rss KiB, fds, stored events)
        T0 = time.monotonic()
        threads = [threading.Thread(target=log_worker, args=(env, reg, w)) for w in range(WORKERS)]
        threads += [threading.Thread(target=cc.run), threading.Thread(target=syncer, args=(env, syncs)),
                    threading.Thread(target=rotator, args=(env, rotations)),
                    threading.Thread(target=local_reader, args=(env, reg, cc, local_reports)),
                    threading.Thread(target=collector_reader, args=(col, remote_reports))]
        threads += [threading.Thread(target=events_sender, args=(col, t)) for t in range(EVENT_THREADS)]
        threads += [threading.Thread(target=otlp_sender, args=(col, t)) for t in range(OTLP_THREADS)]
        for th in threads:
            th.start()
        next_sample, next_print = T0, T0 + 60
        while time.monotonic() - T0 < SECONDS:
            time.sleep(max(0.0, min(next_sample, T0 + SECONDS) - time.monotonic()))
            now = time.monotonic()
            if now >= next_sample:
                rss, fds = col.proc_status()
                with lock:
                    samples.append((now - T0, rss, fds, col.stored))
                next_sample += 5
            if now >= next_print:
                with lock:
                    print(f"  {now - T0:4.0f}s: {len(reg.acked):,} logged, {syncs.count} syncs, "
                          f"{rotations.count} rotations ({rotations.moved:,} moved), {cc.requests:,} transcript "
                          f"requests, collector {col.stored:,} events stored, RSS {samples[-1][1] / 1024:.1f} MiB, "
                          f"{samples[-1][2]} fds", flush=True)
                next_print += 60
        stop.set()
        for th in threads:
            th.join()
        duration = time.monotonic() - T0
        print(f"  stopped after {duration:.1f} s; final sync and checks", flush=True)
        run_sync(env, syncs)

        def check(name, ok, detail=""):
            ok = ok and not problems.get(name)
            checks.append((name, ok, detail))

        # ---- the home: register + transcripts
        report = report_json(env, "--by", "source")
        rows = {r["source"]: r for r in report["rows"]}
        want = {f: reg.totals[f] + cc.truth[f] for f in FIELDS}
        got = {f: report["totals"][f] for f in FIELDS}
        check("local report totals = acknowledged log entries + transcript lines, per token field", got == want,
              f"got {got}, want {want}" if got != want else f"{sum(want.values()):,} tokens")
        got_reg = {f: rows.get("register", {}).get(f, 0) for f in FIELDS}
        got_cc = {f: rows.get("claude-code", {}).get(f, 0) for f in FIELDS}
        check("local report per source (register, claude-code)", got_reg == reg.totals and got_cc == cc.truth,
              "" if got_reg == reg.totals and got_cc == cc.truth else f"register {got_reg} vs {reg.totals}; claude-code {got_cc} vs {cc.truth}")
        want_ev = len(reg.acked) + cc.requests
        want_sess = len(reg.acked) + len(cc.sessions)
        got_ev, got_sess = report["totals"]["events"], report["totals"]["sessions"]
        check("local report events and sessions", (got_ev, got_sess) == (want_ev, want_sess),
              f"events {got_ev} (want {want_ev}), sessions {got_sess} (want {want_sess})")
        check("local report has no warnings", not report["warnings"], "; ".join(report["warnings"][:3]))
        check("local report --period all equals the window", report_json(env)["totals"] == report["totals"])
        fresh = os.path.join(tmp, "fresh")
        os.makedirs(fresh)
        scan = report_json(env, "--source", "claude-code", home=fresh)
        got_scan = {f: scan["totals"][f] for f in FIELDS} if scan["rows"] else tokens()
        check("a fresh home reading the transcripts directly agrees with the ledger",
              got_scan == cc.truth and not scan["warnings"],
              "" if got_scan == cc.truth and not scan["warnings"] else f"{got_scan} vs {cc.truth}; {scan['warnings'][:3]}")
        seen, archived = collections.Counter(), 0
        for name in sorted(os.listdir(env.home)):
            path = os.path.join(env.home, name)
            if name == "token-usage-register.jsonl" or (name.startswith("token-usage-register-") and name.endswith(".jsonl.gz")):
                opener = gzip.open if name.endswith(".gz") else open
                with opener(path, "rt") as f:
                    for line in f:
                        if line.strip() and not line.lstrip().startswith("#"):
                            seen[json.loads(line)["session_key"]] += 1
                            archived += name.endswith(".gz")
        dup = [k for k, c in seen.items() if c > 1]
        missing = set(reg.acked) - set(seen)
        extra = set(seen) - set(reg.acked)
        check("register + archives hold every acknowledged key exactly once", not dup and not missing and not extra,
              f"{len(dup)} doubled, {len(missing)} missing, {len(extra)} unacknowledged (e.g. {(dup or sorted(missing) or sorted(extra))[:3]})"
              if dup or missing or extra else f"{len(seen):,} keys, {archived:,} in archives")
        check("rotate moved entries into archives", rotations.moved > 0 and archived > 0,
              f"{rotations.moved:,} moved, {archived:,} in archives, {reg.old:,} old entries logged")
        check("log: every new entry acknowledged", reg.failed == 0, f"{reg.failed} failed")
        check("log: repeats skipped", True, f"{reg.repeats} repeats")
        check("sync: every run exits 0", syncs.failed == 0, f"{syncs.failed} failed")
        check("sync: no warnings", syncs.warnings == 0, f"{syncs.warnings} warnings")
        check("rotate: every run exits 0", rotations.failed == 0, f"{rotations.failed} failed")
        check("mid-run local reports consistent", local_reports.count > 0, f"{local_reports.count} reports")

        # ---- the collector
        time.sleep(1)
        status, data, _ = Client(col).request("GET", "/v1/report")
        remote = json.loads(data)
        got = {f: remote["totals"].get(f, 0) for f in FIELDS}
        check("collector report = acknowledged events + OTLP (events preferred over metrics)", got == col.truth,
              f"got {got}, want {col.truth}" if got != col.truth else f"{sum(got.values()):,} tokens")
        got_ev, got_sess = remote["totals"].get("events"), remote["totals"].get("sessions")
        check("collector report events and sessions", (got_ev, got_sess) == (col.visible_events, len(col.sessions)),
              f"events {got_ev} (want {col.visible_events}), sessions {got_sess} (want {len(col.sessions)})")
        cli = env.run("report", "--remote", col.url, "--format", "json")
        cli_totals = json.loads(cli.stdout)["totals"] if cli.returncode == 0 else None
        check("report --remote equals GET /v1/report", cli_totals == remote["totals"],
              "" if cli_totals == remote["totals"] else f"exit {cli.returncode} {cli.stderr[:200]}")
        check("collector: every batch acknowledged whole", True, f"{col.batches:,} batches")
        check("collector: resent batches store nothing", True, f"{col.resends:,} resent")
        check("collector: every OTLP request acknowledged", True, f"{col.otlp_requests:,} requests")
        check("mid-run collector reports consistent", remote_reports.count > 0, f"{remote_reports.count} reports")
        time.sleep(1)
        rss_end, fd_end = col.proc_status()
        samples.append((time.monotonic() - T0, rss_end, fd_end, col.stored))
        fd_end_targets = col.fd_targets()
        leaked = fd_end_targets - fd_start_targets
        check("collector: no file descriptors leaked", fd_end <= fd_start,
              f"start {fd_start}, end {fd_end}" + (f"; new: {dict(leaked)}" if leaked else ""))

        warm_at = min(30.0, SECONDS / 10)
        start = next((s for s in samples if s[0] >= warm_at), samples[0])
        peak = max(samples, key=lambda s: s[1])
        grown = (rss_end - start[1]) / 1024
        stored_since = col.stored - start[3]
        per_100k = grown / stored_since * 100_000 if stored_since > 0 else 0.0

        check(f"collector memory flat: RssAnon growth after warm-up <= {RSS_PER_100K:g} MiB per 100k events stored",
              per_100k <= RSS_PER_100K, f"{per_100k:+.2f} MiB per 100k ({start[1] / 1024:.1f} -> {rss_end / 1024:.1f} MiB, "
              f"max {peak[1] / 1024:.1f} MiB)")

        col.proc.send_signal(signal.SIGTERM)
        try:
            code = col.proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            col.proc.kill()
            code = "timeout"
        check("collector stops cleanly on SIGTERM", code == 0, f"exit {code}")

        # ---- summary
        tokens_total = sum(want.values())
        with lock:
            lines = [
                "",
                f"duration                {duration:.1f} s (seed {SEED})",
                f"log processes           {reg.runs:,} run ({rate(reg.runs, duration)}), {len(reg.acked):,} new entries "
                f"acknowledged ({rate(len(reg.acked), duration)}), {reg.repeats:,} repeats skipped, "
                f"{reg.old:,} with an archived month, {reg.failed} failed",
                f"sync                    {syncs.count} runs ({syncs.failed} failed), {syncs.new_events:,} new events, "
                f"median {sorted(syncs.seconds)[len(syncs.seconds) // 2] * 1000:.0f} ms, max {max(syncs.seconds) * 1000:.0f} ms",
                f"rotate                  {rotations.count} runs ({rotations.failed} failed), {rotations.moved:,} entries moved, "
                f"{archived:,} in archives at the end",
                f"transcripts             {cc.lines:,} lines appended ({rate(cc.lines, duration)}): {cc.requests:,} requests "
                f"({cc.usage_lines - cc.requests:,} placeholder copies), {cc.split:,} written in two pieces, "
                f"{cc.files} files, {len(cc.sessions)} sessions",
                f"local reports           {local_reports.count} mid-run, median "
                f"{sorted(local_reports.seconds)[len(local_reports.seconds) // 2] * 1000 if local_reports.seconds else 0:.0f} ms; "
                f"final totals {tokens_total:,} tokens, {want_ev:,} events",
                f"collector /v1/events    {col.batches:,} batches acknowledged ({col.resends:,} resent), {col.events_acked:,} "
                f"unique events ({rate(col.events_acked, duration)})",
                f"collector OTLP          {col.otlp_requests:,} requests acknowledged ({rate(col.otlp_requests, duration)}, "
                f"{col.otlp_resends:,} resent); retries {dict(col.retries) or 'none'}",
                f"collector stored        {col.stored:,} events ({rate(col.stored, duration)}), "
                f"{remote_reports.count} mid-run reports (median "
                f"{sorted(remote_reports.seconds)[len(remote_reports.seconds) // 2] * 1000 if remote_reports.seconds else 0:.0f} ms)",
                f"collector RssAnon         idle {rss0 / 1024:.1f} MiB; start {start[1] / 1024:.1f} MiB (at {start[0]:.0f} s, "
                f"{start[3]:,} events), max {peak[1] / 1024:.1f} MiB (at {peak[0]:.0f} s), end {rss_end / 1024:.1f} MiB "
                f"({col.stored:,} events): {per_100k:+.2f} MiB per 100k events stored",
                f"collector fds           start {fd_start}, end {fd_end} (max under load {max(s[2] for s in samples)})",
                "collector RSS (MiB) every 30 s: " + " ".join(f"{s[1] / 1024:.0f}" for s in samples[::6]),
            ] + [
                f"collector latency       {route}: {len(v):,} requests, p50 {pick(v, 0.5):.0f} ms, "
                f"p99 {pick(v, 0.99):.0f} ms, max {pick(v, 1):.0f} ms"
                for route, v in sorted(col.latency.items())
            ] + [
                "",
            ]
        print("\n".join(lines))
        for name, ok, detail in checks:
            print(f"{'PASS' if ok else 'FAIL'}  {name}" + (f": {detail}" if detail else ""))
            for message in problems.get(name, []):
                print(f"        {message}")
        for name in problems:
            if name not in {c[0] for c in checks}:
                print(f"FAIL  {name}")
                for message in problems[name]:
                    print(f"        {message}")
                checks.append((name, False, ""))
        failed = not all(ok for _, ok, _ in checks)
        if failed:
            print("collector stderr (last lines):\n  " + "  ".join(col.stderr))
        print(f"\nsoak {'FAILED' if failed else 'PASSED'}")
    finally:
        stop.set()
        if col.proc.poll() is None:
            col.proc.kill()
            col.proc.wait()
        if failed or KEEP:
            print(f"kept {tmp}")
        else:
            shutil.rmtree(tmp, ignore_errors=True)
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
