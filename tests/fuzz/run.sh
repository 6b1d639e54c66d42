#!/bin/sh
# run.sh BUILD SECONDS TARGET... - run each libFuzzer target for SECONDS from its seed corpus
# (tests/fuzz/corpus/TARGET, read-only) plus a working corpus in BUILD/corpus_TARGET; print one
# line per target (time, inputs executed, coverage, crashes) and keep BUILD/fuzz_TARGET.log.
# Crash inputs go to BUILD/artifacts_TARGET/; any crash fails the run.
set -u
build=$1; secs=$2; shift 2
fails=0
summary="$build/fuzz_summary.txt"
: > "$summary"
for t in "$@"; do
  bin="$build/fuzz_$t"; work="$build/corpus_$t"; art="$build/artifacts_$t"; log="$build/fuzz_$t.log"
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
    line="$line: FAILED (exit $rc; see $log, inputs in $art)"; fails=$((fails+1))
    grep -E 'ERROR|broken promise|SUMMARY' "$log" | head -5
  fi
  echo "$line"; echo "$line" >> "$summary"
done
[ $fails -eq 0 ]
