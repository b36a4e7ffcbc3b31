#!/usr/bin/env bash
# Build the release binary and run the ledger benchmarks (see bench/ledger.py).
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release --quiet
python3 bench/ledger.py "$@"
