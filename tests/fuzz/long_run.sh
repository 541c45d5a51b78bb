#!/usr/bin/env bash
# The long fuzz run of docs/FUZZING.md: every target (or those named) for
# RUNS executions (10 million by default) of inputs up to MAX_LEN bytes
# (1024), one at a time under nice, each from its seeds and with its
# dictionary, the corpus it grows kept in WORK/<target>. Prints one
# Markdown table row per target (one whose log in WORK shows a finished run
# is not run again); fails on the first crash, leak, timeout or broken
# invariant (the input is in WORK).
#   tests/fuzz/long_run.sh BUILD_DIR [TARGET...]
# BUILD_DIR is a main build whose fuzz/ holds the targets (cmake --build).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
build=$(cd "${1:?usage: long_run.sh BUILD_DIR [TARGET...]}" && pwd)
shift
runs=${RUNS:-10000000}
max_len=${MAX_LEN:-1024}
work=${WORK:-$build/fuzz-long}
targets=("$@")
if ((${#targets[@]} == 0)); then
  for src in "$here"/*_fuzz.cpp; do
    name=$(basename "$src" .cpp)
    targets+=("${name%_fuzz}")
  done
fi

echo "$(clang++-14 --version | head -1); libFuzzer of the same LLVM; $(nproc) cores"
echo
echo "| target | executions | exec/s | coverage (edges) | features | corpus (units / bytes) | peak RSS (MB) | time (s) |"
echo "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"
for t in "${targets[@]}"; do
  mkdir -p "$work/$t"
  log=$work/$t.log
  dict=()
  [[ -f $here/$t.dict ]] && dict=(-dict="$here/$t.dict")
  # A target whose log shows a finished run is not run again (a run may be
  # resumed target by target).
  if ! grep -qE "^Done $runs runs" "$log" 2>/dev/null; then
    if ! (cd "$work" && nice -n 10 "$build/fuzz/${t}_fuzz" -runs="$runs" -max_len="$max_len" \
            -timeout=10 -print_final_stats=1 -artifact_prefix="$work/$t-" "${dict[@]}" \
            "$work/$t" "$here/corpus/$t" >"$log" 2>&1); then
      echo "$t: FAILED, see $log" >&2
      exit 1
    fi
  fi
  done_line=$(grep -E '^#[0-9]+[[:space:]]+DONE' "$log" | tail -1)
  field() { sed -E "s/.*$1: ([0-9]+).*/\1/" <<<"$done_line"; }
  size=$(sed -E 's/.*corp: [0-9]+\/([0-9a-zA-Z]+).*/\1/' <<<"$done_line")
  secs=$(sed -E 's/^Done [0-9]+ runs in ([0-9]+) second.*/\1/' <(grep -E '^Done ' "$log"))
  stat() { grep -E "^stat::$1:" "$log" | awk '{print $2}'; }
  echo "| $t | $(stat number_of_executed_units) | $(stat average_exec_per_sec) | $(field cov) |" \
       "$(field ft) | $(sed -E 's/.*corp: ([0-9]+)\/.*/\1/' <<<"$done_line") / $size |" \
       "$(stat peak_rss_mb) | $secs |"
done
