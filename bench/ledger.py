#!/usr/bin/env python3
"""Whole-process benchmarks of the ledger (issue 2's targets).

Usage: bench/ledger.py [--entries 1000000] [--log-runs 200] [--report-runs 7]
Builds nothing: run `cargo build --release` first (bench/run.sh does).
Prints medians for:
  - `log` of a new session key into a register of N entries (target <= 5 ms),
  - `log` of an already-logged key (the duplicate path),
  - `report --by day,model` over N entries (target <= 0.5 s),
  - peak RSS of each (target <= 100 MiB), from GNU time.
Timings include process start; `true` is measured too as the floor.
"""
import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BIN = os.path.join(ROOT, "target", "release", "tokenledger")


def timed(cmd, env):
    t0 = time.perf_counter()
    r = subprocess.run(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    dt = time.perf_counter() - t0
    if r.returncode != 0:
        sys.exit(f"command failed ({r.returncode}): {' '.join(cmd)}")
    return dt


def peak_rss_mib(cmd, env):
    r = subprocess.run(["/usr/bin/time", "-f", "%M"] + cmd, env=env,
                       stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    return int(r.stderr.strip().splitlines()[-1]) / 1024


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--entries", type=int, default=1_000_000)
    ap.add_argument("--log-runs", type=int, default=200)
    ap.add_argument("--report-runs", type=int, default=7)
    args = ap.parse_args()
    if not os.path.exists(BIN):
        sys.exit(f"{BIN} missing: run cargo build --release")
    home = tempfile.mkdtemp(prefix="tokenledger-bench-")
    # HOME points into the temp dir so no agent log on this machine is read:
    # these figures are for the register alone.
    env = dict(os.environ, TOKENLEDGER_HOME=home, TOKENLEDGER_CONFIG=os.path.join(home, "none.toml"),
               NO_COLOR="1", HOME=home)
    for var in ("CLAUDE_CONFIG_DIR", "CODEX_HOME", "OPENCLAW_DIR", "XDG_CONFIG_HOME", "XDG_DATA_HOME"):
        env.pop(var, None)
    try:
        reg = os.path.join(home, "token-usage-register.jsonl")
        subprocess.run([sys.executable, os.path.join(ROOT, "bench", "gen_register.py"), str(args.entries), reg], check=True)
        size = os.path.getsize(reg) / 2**20
        print(f"register: {args.entries:,} entries, {size:.0f} MiB")
        # The first log builds the key index once; it is not part of the steady state.
        first = timed([BIN, "log", "warmup", "main", "claude-sonnet-4-5", "1", "1"], env)
        print(f"first log (builds the index): {first*1000:.0f} ms")
        floor = statistics.median(timed(["true"], env) for _ in range(50))
        new = [timed([BIN, "log", f"bench-{i}", "main", "claude-sonnet-4-5", "1000", "500"], env)
               for i in range(args.log_runs)]
        dup = [timed([BIN, "log", "bench-0", "main", "claude-sonnet-4-5", "1000", "500"], env)
               for _ in range(args.log_runs // 2)]
        print(f"process spawn floor (true): median {floor*1000:.2f} ms")
        print(f"log new key:   median {statistics.median(new)*1000:.2f} ms  p90 {sorted(new)[int(len(new)*.9)]*1000:.2f} ms  (target <= 5 ms)")
        print(f"log duplicate: median {statistics.median(dup)*1000:.2f} ms")
        print(f"log peak RSS:  {peak_rss_mib([BIN, 'log', 'rss-probe', 'main', 'm', '1', '1', '0'], env):.1f} MiB")
        report = [BIN, "report", "--by", "day,model", "--format", "json"]
        runs = [timed(report, env) for _ in range(args.report_runs)]
        print(f"report --by day,model: median {statistics.median(runs)*1000:.0f} ms  min {min(runs)*1000:.0f} ms  (target <= 500 ms)")
        print(f"report peak RSS: {peak_rss_mib(report, env):.1f} MiB  (target <= 100 MiB)")
        daily = [BIN, "report", "daily"]
        runs = [timed(daily, env) for _ in range(args.report_runs)]
        print(f"report daily: median {statistics.median(runs)*1000:.0f} ms")
    finally:
        shutil.rmtree(home, ignore_errors=True)


if __name__ == "__main__":
    main()
