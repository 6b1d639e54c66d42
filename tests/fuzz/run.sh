#!/bin/sh
# run.sh BUILD SECONDS TARGET... - run each libFuzzer target for SECONDS from its seed corpus
# (tests/fuzz/corpus/TARGET, read-only) plus a working corpus in BUILD/corpus_TARGET; print one
# line per target (time, inputs executed, coverage, crashes) and keep BUILD/fuzz_TARGET.log.
# Crash inputs go to BUILD/artifacts_TARGET/; any crash fails the run. FUZZ_JOBS targets run at once.
set -u
build=$1; secs=$2; shift 2
jobs=${FUZZ_JOBS:-1}
summary="$build/fuzz_summary.txt"
# one target: its summary line into BUILD/fuzz_TARGET.result, "FAILED" in it on a crash
one() {
  t=$1; bin="$build/fuzz_$t"; work="$build/corpus_$t"; art="$build/artifacts_$t"; log="$build/fuzz_$t.log"
  mkdir -p "$work" "$art"
  case $t in csv) maxlen=4096;; *) maxlen=16384;; esac
  start=$(date +%s)
  "$bin" -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 -max_len=$maxlen -dict="tests/fuzz/$t.dict" \
    -artifact_prefix="$art/" -print_final_stats=1 "$work" "tests/fuzz/corpus/$t" > "$log" 2>&1
  rc=$?
  took=$(( $(date +%s) - start ))
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
  last=$(grep -E '^#[0-9]+' "$log" | tail -1)
  cov=$(echo "$last" | sed -n 's/.*cov: \([0-9]*\).*/\1/p'); ft=$(echo "$last" | sed -n 's/.*ft: \([0-9]*\).*/\1/p')
  corp=$(echo "$last" | sed -n 's/.*corp: \([0-9]*\).*/\1/p')
  crashes=$(ls "$art" | wc -l)
  line="fuzz $t: ${took} s, ${execs:-?} inputs, coverage ${cov:-?} edges / ${ft:-?} features, corpus ${corp:-?}, crashes $crashes"
  if [ $rc -ne 0 ] || [ "$crashes" -ne 0 ]; then
    line="$line: FAILED (exit $rc; see $log, inputs in $art)"
    grep -E 'ERROR|broken promise|SUMMARY' "$log" | head -5
  fi
  echo "$line" > "$build/fuzz_$t.result"
}
# FUZZ_JOBS targets at a time (every target runs for the same time, so batches lose nothing)
n=0
for t in "$@"; do
  rm -f "$build/fuzz_$t.result"; one "$t" & n=$((n+1))
  [ $n -ge "$jobs" ] && { wait; n=0; }
done
wait
fails=0; : > "$summary"
for t in "$@"; do
  line=$(cat "$build/fuzz_$t.result" 2>/dev/null || echo "fuzz $t: FAILED (no result)")
  case $line in *FAILED*) fails=$((fails+1));; esac
  echo "$line"; echo "$line" >> "$summary"
done
[ $fails -eq 0 ]
