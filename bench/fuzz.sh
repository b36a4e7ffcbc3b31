#!/usr/bin/env bash
# Coverage-guided fuzzing of every parser with cargo-fuzz (libFuzzer) on
# stable Rust: no sanitizer (`-s none`), as AddressSanitizer needs nightly.
#
#   bash bench/fuzz.sh [SECONDS_PER_TARGET] [--runs N] [TARGET...]
#
# Each target's corpus (fuzz/corpus/<target>, gitignored) starts from the
# fixtures fuzz/seeds.txt names and the crashes in fuzz/regressions/<target>/;
# then all targets are built and each runs for SECONDS (60 by default) or for
# N inputs. Prints per target its executions, time and whether it crashed, and
# exits 1 if one did (the input is in fuzz/artifacts/<target>/, the log in
# fuzz/artifacts/<target>.log). Needs `cargo install cargo-fuzz --locked`.
set -euo pipefail
cd "$(dirname "$0")/.."

seconds=60
runs=
targets=()
while (($#)); do
  case $1 in
    --runs) runs=$2; shift 2 ;;
    --runs=*) runs=${1#--runs=}; shift ;;
    [0-9]*) seconds=$1; shift ;;
    *) targets+=("$1"); shift ;;
  esac
done
if ((${#targets[@]} == 0)); then
  mapfile -t targets < <(ls fuzz/fuzz_targets | sed 's/\.rs$//')
fi

# Seeds named by content, as libFuzzer names its own inputs: fixtures with
# the same name in two directories both stay.
seed() {
  local target=$1 file=$2
  mkdir -p "fuzz/corpus/$target"
  cp "$file" "fuzz/corpus/$target/$(sha1sum <"$file" | cut -c1-40)"
}
while read -r target dir pattern; do
  [[ -z $target || $target == \#* ]] && continue
  while IFS= read -r -d '' file; do seed "$target" "$file"; done \
    < <(find "$dir" -type f -name "$pattern" -print0)
done <fuzz/seeds.txt
for dir in fuzz/regressions/*/; do
  [[ -d $dir ]] || continue
  for file in "$dir"*; do [[ -f $file ]] && seed "$(basename "$dir")" "$file"; done
done

cargo fuzz build -s none
# The binaries themselves, not `cargo fuzz run`, which would rebuild first
# whenever a source file changed meanwhile.
bin=fuzz/target/$(rustc -vV | sed -n 's/^host: //p')/release

# The readers that take a path write each input to a scratch directory.
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
if [[ -n $runs ]]; then limit=(-runs="$runs"); else limit=(-max_total_time="$seconds"); fi

failed=()
printf '%-24s %12s %8s  %s\n' target executions seconds result
for target in "${targets[@]}"; do
  mkdir -p "fuzz/corpus/$target" "fuzz/artifacts/$target"
  log=fuzz/artifacts/$target.log
  start=$(date +%s%N)
  if TMPDIR=$scratch "$bin/$target" "${limit[@]}" -timeout=20 -print_final_stats=1 \
    -artifact_prefix="fuzz/artifacts/$target/" "fuzz/corpus/$target" >"$log" 2>&1; then
    result=ok
  else
    result="CRASH (see $log)"
    failed+=("$target")
  fi
  elapsed=$(awk -v ns=$(($(date +%s%N) - start)) 'BEGIN { printf "%.1f", ns / 1e9 }')
  execs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$' | tail -1)
  # A crash may end the run before the final stats: take libFuzzer's last count.
  [[ -n $execs ]] || execs=$(grep -o '^#[0-9]*' "$log" | tail -1 | tr -d '#')
  printf '%-24s %12s %8s  %s\n' "$target" "${execs:-?}" "$elapsed" "$result"
done

if ((${#failed[@]})); then
  echo "crashed: ${failed[*]}" >&2
  exit 1
fi
