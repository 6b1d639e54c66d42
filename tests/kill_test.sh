#!/bin/sh
# kill_test.sh NCSN [TRIALS] - the crash-safety promise of checkpoints, tested on the real command.
#
# A reference run of `ncsn train` (checkpointing every 2 steps) goes uninterrupted. Then, in each
# trial, the same run is killed with SIGKILL at random moments (1 to 3 times: every restart is
# killed again while it has kills left), each time resumed with --resume from whatever checkpoint
# the kill left (or started afresh if none was written yet), and finally let finish. Every
# checkpoint a kill leaves must load (`ncsn info`), and the final model must be byte-identical
# to the reference. Kills that land during a checkpoint write are counted (a PATH.tmp.XXXXXX file
# is left behind: the old checkpoint must still be there and intact).
set -u
ncsn=$(cd "$(dirname "$1")" && pwd)/$(basename "$1"); trials=${2:-25}
dir=$(mktemp -d "${TMPDIR:-/tmp}/ncsn_kill_XXXXXX") || exit 1
trap 'rm -rf "$dir"' EXIT
cd "$dir" || exit 1
# two Gaussians, 2000 points (awk's generator: fixed seed, any awk)
awk 'BEGIN { srand(7); print "x,y"; for (i = 0; i < 2000; i++) { u = rand(); v = rand(); if (u < 1e-12) u = 1e-12;
       r = sqrt(-2 * log(u)); c = (i % 2) ? 3 : -3; printf "%.6f,%.6f\n", c + 0.5 * r * cos(6.283185307 * v), 0.5 * r * sin(6.283185307 * v) } }' > data.csv
args="data.csv -o model.safetensors --steps 300 --batch 512 --width 128 --depth 3 --levels 10 --seed 5 --checkpoint-every 2 --progress none -q"
rand() { od -An -N4 -tu4 /dev/urandom | tr -d ' '; }   # 0 .. 2^32-1
now_ms() { date +%s%3N; }

t0=$(now_ms)
"$ncsn" train $args || { echo "kill-test: the reference run failed"; exit 1; }
t_ref=$(( $(now_ms) - t0 ))
mv model.safetensors reference.safetensors
ck_bytes=$(wc -c < model.safetensors.ckpt)
rm -f model.safetensors.ckpt
echo "kill-test: reference run of 300 steps: $t_ref ms, a checkpoint of $ck_bytes bytes every 2 steps; $trials trials"

fails=0; kills=0; mid_write=0; before_first=0; resumed=0
t=1
while [ $t -le "$trials" ]; do
  rm -f model.safetensors model.safetensors.ckpt model.safetensors.ckpt.tmp.* model.safetensors.tmp.*
  left=$(( 1 + $(rand) % 3 )); log=""
  while :; do
    if [ -f model.safetensors.ckpt ]; then set -- --resume model.safetensors.ckpt; resumed=$((resumed+1)); else set --; fi
    if [ $left -gt 0 ]; then
      "$ncsn" train $args "$@" & pid=$!
      ms=$(( $(rand) % (t_ref + 1) ))
      sleep "$(awk -v m=$ms 'BEGIN { printf "%.3f", m / 1000 }')"
      if kill -KILL $pid 2>/dev/null; then
        wait $pid 2>/dev/null
        kills=$((kills+1)); left=$((left-1)); log="$log kill@${ms}ms"
        if ls model.safetensors.ckpt.tmp.* >/dev/null 2>&1; then mid_write=$((mid_write+1)); log="$log(mid-write)"; fi
        rm -f model.safetensors.ckpt.tmp.* model.safetensors.tmp.*   # ncsn removes only its own: the user cleans up after a crash
        if [ -f model.safetensors.ckpt ]; then
          if ! "$ncsn" info model.safetensors.ckpt > info.txt 2>&1; then
            echo "kill-test: trial $t: the checkpoint left by a kill does not load:"; cat info.txt; fails=$((fails+1)); break
          fi
          log="$log->step $(sed -n 's/^ncsn.step: //p' info.txt)"
        else before_first=$((before_first+1)); log="$log->none"; fi
        continue
      fi
      wait $pid; rc=$?   # it finished before the kill
      log="$log finished"
    else
      "$ncsn" train $args "$@"; rc=$?
    fi
    if [ $rc -ne 0 ]; then echo "kill-test: trial $t: the run exited with $rc"; fails=$((fails+1)); fi
    break
  done
  if [ -f model.safetensors ] && cmp -s model.safetensors reference.safetensors; then
    echo "trial $t:$log: identical"
  else
    echo "trial $t:$log: DIFFERS from the uninterrupted run"; fails=$((fails+1))
  fi
  t=$((t+1))
done
echo "kill-test: $trials trials, $kills SIGKILLs ($mid_write during a checkpoint write, $before_first before the first checkpoint), $resumed resumes; $fails failed"
[ $fails -eq 0 ]
