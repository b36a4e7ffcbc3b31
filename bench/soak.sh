#!/usr/bin/env bash
# Bounded soak test: `log` x16, `sync` over growing Claude Code transcripts,
# `rotate`, and a collector under /v1/events + OTLP load, all at once for
# SECONDS (default 600); then totals must equal what was acknowledged, and the
# collector's memory and file descriptors must stay flat. See bench/soak.py.
#
# Usage: bench/soak.sh [SECONDS]
# Env:   TOKENLEDGER_BIN (default target/release/tokenledger; build it first with
#        `cargo build --release -p tokenledger`), SOAK_WORKERS, SOAK_EVENT_RATE,
#        SOAK_CC_RATE, SOAK_MAX_RSS_PER_100K, SOAK_SEED, SOAK_KEEP=1 (see bench/soak.py)
set -euo pipefail
cd "$(dirname "$0")/.."
export TOKENLEDGER_BIN=${TOKENLEDGER_BIN:-$PWD/target/release/tokenledger}
[ -x "$TOKENLEDGER_BIN" ] || { echo "no $TOKENLEDGER_BIN: cargo build --release -p tokenledger" >&2; exit 1; }
exec python3 bench/soak.py "${1:-600}"
