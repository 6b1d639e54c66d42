#!/bin/sh
# valgrind.sh RUN_TESTS [GROUP...] - the suite under valgrind memcheck, quick mode, one test group
# per valgrind process, VG_JOBS at a time (default: the number of CPUs). A group fails on any
# memcheck error or leak (exit 99) or on a failed check. One exception, stated rather than hidden:
# valgrind computes x87 long double in 64 bits, so the math group's accuracy bounds measured
# against long double references (ncsn_log, ...) cannot be checked under it; a math failure whose
# FAIL lines are all "... ulp ... exceeds ..." is reported and not counted. Memcheck errors in
# math still count. The cli group is run with --trace-children=yes: the ncsn command it drives
# (through /bin/sh) is checked too; a memcheck error there makes ncsn exit with 99, a failed check.
set -u
if [ "${1:-}" = --one ]; then   # one group (run by xargs below)
  bin=$2; g=$3; logs=$(dirname "$bin")/valgrind; start=$(date +%s)
  children=""   # the cli group runs the ncsn command (through sh): check it too
  [ "$g" = cli ] && children="--trace-children=yes"
  NCSN_TEST_QUICK=1 NCSN_TEST_VIRTUAL_CPU=1 valgrind -q --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite,indirect,possible \
    --show-leak-kinds=definite,indirect,possible $children "$bin" "$g" > "$logs/$g.log" 2>&1
  echo "$? $(( $(date +%s) - start ))" > "$logs/$g.rc"
  exit 0
fi
bin=$1; shift
groups=${*:-$(sed -n '/^#define GROUPS(X)/,/[^\\]$/p' tests/main.c | grep -o 'X([a-z_0-9]*)' | sed 's/X(\(.*\))/\1/')}
# VG_SKIP: groups left out. CI leaves out cli (over 11 minutes under valgrind: it runs the ncsn
# command many times, each under memcheck; make asan runs it against a sanitizer-built ncsn) and
# dispatch (573 s, two thirds of the step: the kernel, golden and self-test checks once per path
# valgrind runs, scalar, SSE2 and AVX2; memcheck runs the kernels group on the AVX2 path, and make
# asan runs dispatch on every path, but without memcheck's uninitialised-read checks)
for skip in ${VG_SKIP:-}; do groups=$(printf '%s\n' $groups | grep -vx "$skip" | tr '\n' ' '); done
jobs=${VG_JOBS:-$(nproc 2>/dev/null || echo 2)}
logs=$(dirname "$bin")/valgrind; mkdir -p "$logs"; rm -f "$logs"/*.rc
# the slowest groups first, so that they overlap with the rest
order=""
for g in cli dispatch kernels dsm alloc sampler checkpoint quality; do case " $groups " in *" $g "*) order="$order $g";; esac; done
for g in $groups; do case " $order " in *" $g "*) ;; *) order="$order $g";; esac; done
echo "valgrind: $(echo $order | wc -w) groups, $jobs at a time, quick mode (a few minutes)"
printf '%s\n' $order | xargs -P "$jobs" -I{} sh "$0" --one "$bin" {}
fails=0; pass=0; fail=0
for g in $groups; do
  set -- $(cat "$logs/$g.rc" 2>/dev/null || echo "98 0"); rc=$1; secs=$2
  last=$(tail -1 "$logs/$g.log")
  p=$(echo "$last" | sed -n 's/^\([0-9]*\) passed, \([0-9]*\) failed$/\1/p'); f=$(echo "$last" | sed -n 's/^\([0-9]*\) passed, \([0-9]*\) failed$/\2/p')
  pass=$((pass+${p:-0}))
  note=""
  if [ "$rc" = 99 ]; then note="MEMCHECK ERRORS"; fails=$((fails+1)); fail=$((fail+${f:-1}))
  elif [ "$rc" != 0 ]; then
    if [ "$g" = math ] && [ -n "$(grep '^FAIL' "$logs/$g.log")" ] && [ -z "$(grep '^FAIL' "$logs/$g.log" | grep -v 'ulp.*exceeds')" ]; then
      note="long double accuracy checks not valid under valgrind (64-bit x87 emulation): $(grep -c '^FAIL' "$logs/$g.log") not counted"
    else note="FAILED (exit $rc)"; fails=$((fails+1)); fail=$((fail+${f:-1})); fi
  fi
  echo "valgrind $g: ${secs} s, $last${note:+ - $note}"
  [ -n "$note" ] && [ "$note" != "${note#MEMCHECK}" ] && grep -E '==[0-9]+==|^FAIL' "$logs/$g.log" | head -20
  [ -n "$note" ] && [ "$note" != "${note#FAILED}" ] && grep -E '^FAIL|==[0-9]+==' "$logs/$g.log" | head -10
done
echo "valgrind: memcheck clean in $(( $(echo $groups | wc -w) - fails )) of $(echo $groups | wc -w) groups (logs in $logs)"
echo "$pass passed, $fail failed"
[ $fails -eq 0 ]
