#!/usr/bin/env python3
"""Compare tokenledger's Claude Code per-day report with ccusage's.

Usage:
  compare.py --root DIR[,DIR...] (--tokenledger BIN | --ours FILE) [options]

--root is a CLAUDE_CONFIG_DIR value (config dirs or projects/ dirs). ccusage
runs as `ccusage claude daily --json --offline --timezone UTC` with TZ=UTC;
tokenledger as `BIN report --source claude-code --by day --tz UTC --format
json`, both with CLAUDE_CONFIG_DIR=--root. Instead of running tokenledger,
--ours reads its JSON from a file ('-' for stdin): any JSON holding rows with
`day, input_tokens, output_tokens, cache_read_tokens, cache_write_tokens,
total_tokens, cost_usd` (e.g. the ignored `bench_scan` test's output).

Per UTC day, token counts must be equal and cost within --tolerance (0.5%).
Prints a table of differences, each tool's wall time and peak RSS, and exits 1
on any mismatch. Install ccusage with --install (npm, into --prefix).
"""
import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time

FIELDS = [("input_tokens", "inputTokens"), ("output_tokens", "outputTokens"),
          ("cache_read_tokens", "cacheReadTokens"), ("cache_write_tokens", "cacheCreationTokens"),
          ("total_tokens", "totalTokens")]


def find_ccusage(explicit, prefix, install):
    if explicit:
        return [explicit]
    native = os.path.join(prefix, "node_modules/@ccusage/ccusage-linux-x64/bin/ccusage")
    wrapper = os.path.join(prefix, "node_modules/.bin/ccusage")
    if not (os.path.exists(native) or os.path.exists(wrapper)) and install:
        subprocess.run(["npm", "install", "--prefix", prefix, "ccusage@20",
                        "@ccusage/ccusage-linux-x64@20"], check=True, stdout=sys.stderr)
    for candidate in (native, wrapper, shutil.which("ccusage")):
        if candidate and os.path.exists(candidate):
            return [candidate]
    sys.exit(f"ccusage not found under {prefix} or on PATH; run with --install")


def measured(cmd, env):
    """Runs cmd; returns (stdout, seconds, peak RSS in MiB of it and its children)."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        started = time.monotonic()
        proc = subprocess.Popen(cmd, env=env, stdout=out, stderr=err)
        # wait4 reports this child's own high-water mark (including the
        # native binary the ccusage wrapper spawns), not earlier children's.
        _, status, usage = os.wait4(proc.pid, 0)
        seconds = time.monotonic() - started
        proc.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        if proc.returncode != 0:
            sys.exit(f"{' '.join(cmd)} failed ({proc.returncode}):\n{err.read().decode(errors='replace')}")
        return out.read().decode(), seconds, usage.ru_maxrss / 1024


def find_rows(value):
    """The first list of objects with a `day` key, anywhere in the document."""
    if isinstance(value, list):
        if value and all(isinstance(v, dict) and "day" in v for v in value):
            return value
        for v in value:
            found = find_rows(v)
            if found is not None:
                return found
    elif isinstance(value, dict):
        for v in value.values():
            found = find_rows(v)
            if found is not None:
                return found
    return None


def parse_json_stream(text):
    """The last JSON document in text (test harness output may surround it)."""
    for line in reversed(text.strip().splitlines()):
        line = line.strip()
        if line.startswith("{") or line.startswith("["):
            try:
                return json.loads(line)
            except json.JSONDecodeError:
                continue
    return json.loads(text)


def main():
    ap = argparse.ArgumentParser(description="tokenledger vs ccusage, per UTC day")
    ap.add_argument("--root", required=True, help="CLAUDE_CONFIG_DIR value")
    src = ap.add_mutually_exclusive_group(required=True)
    src.add_argument("--tokenledger", help="tokenledger binary to run")
    src.add_argument("--ours", help="tokenledger JSON file ('-' = stdin)")
    ap.add_argument("--ccusage", help="ccusage binary (default: found under --prefix, then PATH)")
    ap.add_argument("--ccusage-json", help="use this ccusage output instead of running it")
    ap.add_argument("--prefix", default="/tmp/ccu", help="npm prefix holding ccusage")
    ap.add_argument("--install", action="store_true", help="npm-install ccusage@20 if missing")
    ap.add_argument("--tolerance", type=float, default=0.005, help="relative cost tolerance")
    ap.add_argument("--ignore-day", action="append", default=[],
                    help="a day allowed to differ (e.g. one only tokenledger can read)")
    args = ap.parse_args()

    env = dict(os.environ, CLAUDE_CONFIG_DIR=args.root, TZ="UTC")
    timings = []
    if args.ccusage_json:
        theirs_doc = json.load(open(args.ccusage_json))
    else:
        cmd = find_ccusage(args.ccusage, args.prefix, args.install) + [
            "claude", "daily", "--json", "--offline", "--timezone", "UTC"]
        out, secs, peak = measured(cmd, env)
        timings.append(("ccusage", secs, peak))
        theirs_doc = json.loads(out)
    if args.tokenledger:
        cmd = [args.tokenledger, "report", "--source", "claude-code", "--by", "day",
               "--tz", "UTC", "--format", "json"]
        out, secs, peak = measured(cmd, env)
        timings.append(("tokenledger", secs, peak))
        ours_doc = parse_json_stream(out)
    else:
        ours_doc = parse_json_stream(sys.stdin.read() if args.ours == "-" else open(args.ours).read())

    theirs = {r["date"]: r for r in theirs_doc["daily"]}
    rows = find_rows(ours_doc)
    if rows is None:
        sys.exit("no rows with a `day` key in tokenledger's JSON")
    ours = {r["day"]: r for r in rows}

    mismatches = 0
    print(f"{'day':<12}{'field':<20}{'tokenledger':>16}{'ccusage':>16}")
    for day in sorted(set(theirs) | set(ours)):
        o, t = ours.get(day), theirs.get(day)
        problems = []
        if o is None or t is None:
            problems.append(("row", "present" if o else "missing", "present" if t else "missing"))
        else:
            for mine, their in FIELDS:
                if int(o.get(mine) or 0) != int(t.get(their) or 0):
                    problems.append((mine, o.get(mine), t.get(their)))
            oc, tc = float(o.get("cost_usd") or 0), float(t.get("totalCost") or 0)
            if abs(oc - tc) > max(args.tolerance * abs(tc), 1e-9):
                problems.append(("cost_usd", f"{oc:.6f}", f"{tc:.6f}"))
        for field, a, b in problems:
            print(f"{day:<12}{field:<20}{str(a):>16}{str(b):>16}")
        if problems and day not in args.ignore_day:
            mismatches += 1
    total = lambda rows, key: sum(int(r.get(key) or 0) for r in rows)  # noqa: E731
    print(f"\ndays: tokenledger {len(ours)}, ccusage {len(theirs)}; total tokens: "
          f"tokenledger {total(ours.values(), 'total_tokens')}, ccusage {total(theirs.values(), 'totalTokens')}")
    for name, secs, peak in timings:
        print(f"{name}: {secs:.2f} s, peak RSS {peak:.0f} MiB")
    print("PARITY OK" if mismatches == 0 else f"PARITY FAILED on {mismatches} day(s)")
    sys.exit(1 if mismatches else 0)


if __name__ == "__main__":
    main()
