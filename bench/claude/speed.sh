#!/usr/bin/env bash
# Median wall time of ccusage and tokenledger over the same Claude Code tree,
# run alternately (files in the page cache), their ratio, peak RSS, and the
# `grep -c '"usage"'` floor.
#
# Usage: bench/claude/speed.sh [RUNS]   (default 5)
# Env:   ROOT (default /tmp/ccgen-1g, from gen.py), BIN (default
#        target/release/tokenledger), CCUSAGE (default
#        /tmp/ccu/node_modules/.bin/ccusage), SKIP_CCUSAGE=1 to time ours only.
set -euo pipefail

RUNS=${1:-5}
ROOT=${ROOT:-/tmp/ccgen-1g}
BIN=${BIN:-target/release/tokenledger}
CCUSAGE=${CCUSAGE:-/tmp/ccu/node_modules/.bin/ccusage}
[ -d "$ROOT/projects" ] || { echo "no $ROOT/projects: python3 bench/claude/gen.py $ROOT --seed 1" >&2; exit 1; }
[ -x "$BIN" ] || { echo "no $BIN: cargo build --release" >&2; exit 1; }

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
export HOME="$tmp/home" CLAUDE_CONFIG_DIR="$ROOT" TOKENLEDGER_HOME="$tmp/ledger" \
    TOKENLEDGER_CONFIG="$tmp/none.toml"

# Wall milliseconds and peak RSS (KiB) of one run, appended to $1.
measure() {
    local out=$1
    shift
    local start end
    start=$(date +%s%N)
    /usr/bin/time -f %M -o "$tmp/rss" "$@" >/dev/null 2>"$tmp/err" || {
        cat "$tmp/err" >&2
        exit 1
    }
    end=$(date +%s%N)
    echo "$(((end - start) / 1000000)) $(tail -n1 "$tmp/rss")" >>"$out"
}

grep_floor=(sh -c "find '$ROOT/projects' -name '*.jsonl' -print0 | xargs -0 grep -c '\"usage\"' >/dev/null")

median() { sort -n | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : int((v[NR / 2] + v[NR / 2 + 1]) / 2) }'; }
max_rss() { awk '$2 > m { m = $2 } END { printf "%.1f", m / 1024 }'; }

# Warm the page cache.
find "$ROOT/projects" -name '*.jsonl' -exec cat {} + >/dev/null

for _ in $(seq "$RUNS"); do
    if [ -z "${SKIP_CCUSAGE:-}" ]; then
        measure "$tmp/ccusage" "$CCUSAGE" claude daily --json --offline --timezone UTC
    fi
    measure "$tmp/ours" "$BIN" report --source claude-code --by day --tz UTC --format json
    measure "$tmp/grep" "${grep_floor[@]}"
done

ours=$(cut -d' ' -f1 "$tmp/ours" | median)
floor=$(cut -d' ' -f1 "$tmp/grep" | median)
echo "runs:        $RUNS"
echo "tokenledger: median ${ours} ms, peak RSS $(max_rss <"$tmp/ours") MiB  (all: $(cut -d' ' -f1 "$tmp/ours" | tr '\n' ' '))"
if [ -z "${SKIP_CCUSAGE:-}" ]; then
    cc=$(cut -d' ' -f1 "$tmp/ccusage" | median)
    echo "ccusage:     median ${cc} ms, peak RSS $(max_rss <"$tmp/ccusage") MiB  (all: $(cut -d' ' -f1 "$tmp/ccusage" | tr '\n' ' '))"
    echo "ratio:       $(awk -v a="$cc" -v b="$ours" 'BEGIN { printf "%.2f", a / b }')x (ccusage / tokenledger)"
fi
echo "grep floor:  median ${floor} ms (grep -c '\"usage\"'); tokenledger is $(awk -v a="$ours" -v b="$floor" 'BEGIN { printf "%.1f", a / b }')x the floor, +$((ours - floor)) ms"
