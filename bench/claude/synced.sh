#!/usr/bin/env bash
# What `sync` buys: over the same Claude Code tree as speed.sh, the median
# wall time of
#   - a `report` after `sync` with the logs unchanged (the ledger alone),
#   - a `report` after one request was appended to one transcript,
#   - a second `sync` with nothing new, and one after that append.
#
# Usage: bench/claude/synced.sh [RUNS]   (default 9)
# Env:   ROOT (default /tmp/ccgen-1g, from gen.py), BIN (default target/release/tokenledger)
set -euo pipefail

RUNS=${1:-9}
ROOT=${ROOT:-/tmp/ccgen-1g}
BIN=${BIN:-target/release/tokenledger}
[ -d "$ROOT/projects" ] || { echo "no $ROOT/projects: python3 bench/claude/gen.py $ROOT --seed 1" >&2; exit 1; }
[ -x "$BIN" ] || { echo "no $BIN: cargo build --release" >&2; exit 1; }

tmp=$(mktemp -d)
# The tree is copied (hard links would share the appended line with ROOT).
cp -r "$ROOT" "$tmp/tree"
trap 'rm -rf "$tmp"' EXIT
export HOME="$tmp/home" CLAUDE_CONFIG_DIR="$tmp/tree" TOKENLEDGER_HOME="$tmp/ledger" \
    TOKENLEDGER_CONFIG="$tmp/none.toml"

ms() {
    local start end
    start=$(date +%s%N)
    "$@" >/dev/null 2>&1
    end=$(date +%s%N)
    echo $(((end - start) / 1000000))
}
median() { sort -n | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : int((v[NR / 2] + v[NR / 2 + 1]) / 2) }'; }
report=("$BIN" report --source claude-code --by day --tz UTC --format json)

echo "first sync: $(ms "$BIN" sync) ms"
for _ in $(seq "$RUNS"); do ms "$BIN" sync; done | median | sed 's/^/sync, nothing new: median /; s/$/ ms/'
for _ in $(seq "$RUNS"); do ms "${report[@]}"; done | median | sed 's/^/report after sync, logs unchanged: median /; s/$/ ms/'
/usr/bin/time -f "  peak RSS %M KiB" "${report[@]}" 2>&1 >/dev/null | tail -n1

# One request appended to one transcript, a new one each run.
transcript=$(find "$tmp/tree/projects" -name '*.jsonl' -print -quit)
appended=()
synced=()
for i in $(seq "$RUNS"); do
    printf '{"type":"assistant","timestamp":"2026-01-12T13:00:00.000Z","sessionId":"bench","requestId":"req_bench_%s","message":{"id":"msg_bench_%s","model":"claude-sonnet-4-5-20250929","usage":{"input_tokens":7,"output_tokens":3}}}\n' "$i" "$i" >>"$transcript"
    appended+=("$(ms "${report[@]}")")
    synced+=("$(ms "$BIN" sync)")
done
printf '%s\n' "${appended[@]}" | median | sed 's/^/report after one line was appended: median /; s/$/ ms/'
printf '%s\n' "${synced[@]}" | median | sed 's/^/sync of that one line: median /; s/$/ ms/'
"$BIN" sync | head -n1
