#!/bin/sh
# user_builds.sh BUILD - the builds a user makes that the suite's own flags (-std=c99) would hide.
#  1. The README example (examples/minimal.c) and the self-test program (tests/flags/selftest_prog.c) in
#     gcc's and clang's default dialects (no -std=) with -O2 -march=native, -Wall -Wextra -Werror,
#     and the self-test program as C++ (g++'s default dialect): each must build without a warning,
#     the example must print what BUILD/minimal prints, and the self-test must pass.
#  1b. The CLI built as most host projects build the header, plain `cc -O2` (x86-64: no -m options):
#     `ncsn --version` must name the widest kernel path this CPU lists in /proc/cpuinfo (runtime
#     dispatch; before it, such a build ran SSE2 with an emulated FMA), and NCSN_SIMD=sse2 must
#     switch it to SSE2.
#  2. The flag table: tests/flags/selftest_prog.c built with each unsafe-math flag must either be refused at
#     compile time by an #error that names the flag, or compile to a program whose ncsn_selftest()
#     fails. Rows are "compiler|flags|word the #error must contain (default: the first flag)|words
#     the self-test's message must contain (optional)";
#     a flag given as link:F is passed to the link only (gcc's -ffast-math links crtfastmath.o,
#     which flushes subnormals to zero for the whole program). Rows of a missing compiler are skipped.
# Checks run NCSN_TEST_JOBS at a time (default: the number of cores; `make test` passes TEST_JOBS),
# each starting as soon as one ends; 13 full compiles in all (a row with link flags only links
# the self-test's object that its compiler's check compiled: warning flags change no code). Prints
# one line per check, then "user builds: N checks, N failed"; exits 1 if any failed.
set -u
cd "$(dirname "$0")/.."
build=${1:-build/default}
dir="$build/user_builds"
mkdir -p "$dir"
rm -f "$dir"/*.result
ref=$("./$build/minimal" 2>&1) || { echo "user builds: ./$build/minimal failed"; exit 1; }
jobs=${NCSN_TEST_JOBS:-$(nproc 2>/dev/null || echo 2)}; [ "$jobs" -ge 1 ] 2>/dev/null || jobs=1

have() { command -v "$1" >/dev/null 2>&1; }

# one check; its verdict ("ok ..." or "FAIL ...") goes to $dir/$1.result
check_example() {   # id cc
  log="$dir/$1.log"
  if ! $2 -O2 -march=native -Wall -Wextra -Werror examples/minimal.c -o "$dir/$1" -lm -lpthread >"$log" 2>&1; then
    echo "FAIL README example, $2 -O2 -march=native (default dialect): does not build warning-free: $(head -3 "$log" | tr '\n' ' ')"
  elif [ "$("./$dir/$1" 2>&1)" != "$ref" ]; then
    echo "FAIL README example, $2 -O2 -march=native: prints '$("./$dir/$1" 2>&1)', the suite's build '$ref'"
  else echo "ok   README example, $2 -O2 -march=native (default dialect): warning-free, same output"; fi
}
check_control() {   # id cc [-x c++]
  id=$1; cc=$2; shift 2
  log="$dir/$id.log"
  if ! $cc -O2 -march=native -Wall -Wextra -Werror "$@" -c tests/flags/selftest_prog.c -o "$dir/$id.o" >"$log" 2>&1 ||
     ! $cc "$dir/$id.o" -o "$dir/$id" -lm -lpthread >>"$log" 2>&1; then
    : > "$dir/$id.done"
    echo "FAIL self-test, $cc${*:+ $*} -O2 -march=native (default dialect): does not build warning-free: $(head -3 "$log" | tr '\n' ' ')"
  elif : > "$dir/$id.done"; ! out=$("./$dir/$id" 2>&1); then
    echo "FAIL self-test, $cc${*:+ $*} -O2 -march=native (default dialect): $out"
  else echo "ok   self-test, $cc${*:+ $*} -O2 -march=native (default dialect): passes"; fi
}
check_baseline() {   # id cc
  log="$dir/$1.log"
  flags=$(grep -m1 '^flags' /proc/cpuinfo 2>/dev/null)
  case " $flags " in *" avx512f "*) want=avx512;; *" avx2 "*" fma "*|*" fma "*" avx2 "*) want="avx2+fma";; *) want="sse2 (emulated fma)";; esac
  if ! $2 -O2 -Wall -Wextra -Werror tools/ncsn_cli.c -o "$dir/$1" -lm -lpthread >"$log" 2>&1; then
    echo "FAIL ncsn, $2 -O2 (no -m options): does not build warning-free: $(head -3 "$log" | tr '\n' ' ')"
  elif [ "$("./$dir/$1" --version)" != "ncsn $(sed -n 's/^#define NCSN_VERSION_STRING "\(.*\)"/\1/p' ncsn.h) (ncsn.h, kernels $want)" ]; then
    echo "FAIL ncsn, $2 -O2 (no -m options): '$("./$dir/$1" --version)', but this CPU's widest path is $want"
  elif ! NCSN_SIMD=sse2 "./$dir/$1" --version | grep -q 'kernels sse2 (emulated fma)'; then
    echo "FAIL ncsn, $2 -O2: NCSN_SIMD=sse2 ncsn --version: '$(NCSN_SIMD=sse2 "./$dir/$1" --version 2>&1)'"
  elif ! NCSN_SIMD=bogus "./$dir/$1" --help >/dev/null 2>&1; then   # the man page is made from --help
    echo "FAIL ncsn, $2 -O2: NCSN_SIMD=bogus ncsn --help fails (the help must not depend on the kernel path)"
  else echo "ok   ncsn, $2 -O2 (no -m options): --version names kernels $want, NCSN_SIMD=sse2 switches to SSE2, --help whatever NCSN_SIMD says"; fi
}
check_row() {   # id cc flags word [message]
  id=$1; cc=$2; flags=$3; word=$4; msg=${5:-}
  cflags=""; lflags=""
  for f in $flags; do case $f in link:*) lflags="$lflags ${f#link:}";; *) cflags="$cflags $f";; esac; done
  log="$dir/$id.log"
  obj="$dir/$id.o"
  if [ -z "$cflags" ]; then   # link flags only: the object of check_control's build, once it is there
    obj="$dir/selftest_$cc.o"
    while [ ! -e "$dir/selftest_$cc.done" ]; do sleep 0.2; done
  fi
  # the preprocessor alone finds an #error quickly; only a row it lets through is compiled and run
  if ! $cc -O2 -march=native $cflags -E tests/flags/selftest_prog.c -o /dev/null >"$log" 2>&1; then
    if grep -q "error.*ncsn.h:.*$word" "$log"; then echo "ok   $cc $flags: refused, the #error names $word"
    else echo "FAIL $cc $flags: does not preprocess, but no #error naming $word: $(grep -m1 error "$log")"; fi
  elif { [ -n "$cflags" ] && ! $cc -O2 -march=native $cflags -c tests/flags/selftest_prog.c -o "$obj" >"$log" 2>&1; } ||
       ! $cc $lflags "$obj" -o "$dir/$id" -lm -lpthread >>"$log" 2>&1; then
    echo "FAIL $cc $flags: preprocesses but does not build: $(grep -m1 error "$log")"
  elif out=$("./$dir/$id" 2>&1); then
    echo "FAIL $cc $flags: accepted, and ncsn_selftest passes (not caught)"
  elif [ -n "$msg" ] && ! echo "$out" | grep -qF -e "$msg"; then
    echo "FAIL $cc $flags: ncsn_selftest fails, but its message lacks '$msg': $out"
  else echo "ok   $cc $flags: compiles, ncsn_selftest fails: $out"; fi
}

# a pool of $jobs tokens in a FIFO: a check takes one to start and gives it back when it ends
rm -f "$dir"/*.done "$dir/tokens"
mkfifo "$dir/tokens" && exec 3<>"$dir/tokens" && rm -f "$dir/tokens" || { echo "user builds: no FIFO for the job pool"; exit 1; }
i=0; while [ $i -lt "$jobs" ]; do echo >&3; i=$((i + 1)); done
n=0
run() {   # start one check when a token is free
  n=$((n + 1))
  read -r _ <&3
  ( "$@" > "$dir/$(printf %02d $n).result"; echo >&3 ) &
}
for cc in gcc clang; do
  have $cc || { echo "skip $cc: not installed"; continue; }
  run check_example "minimal_$cc" $cc
  run check_control "selftest_$cc" $cc
  case $(uname -m) in x86_64|i?86) run check_baseline "baseline_$cc" $cc;; esac
done
have g++ && run check_control "selftest_gxx" g++ -x c++
while IFS='|' read -r cc flags word msg; do
  case $cc in ''|'#'*) continue;; esac
  have "$cc" || continue
  set -- $flags
  [ -n "$word" ] || word=$1
  run check_row "row$n" "$cc" "$flags" "$word" "$msg"
done <<'EOF'
# the issue's table, with both compilers where the flag exists
gcc|-ffast-math|
clang|-ffast-math|
gcc|-Ofast|-ffast-math
clang|-Ofast|-ffast-math
gcc|-funsafe-math-optimizations|
clang|-funsafe-math-optimizations|
gcc|-fassociative-math -fno-signed-zeros -fno-trapping-math|
clang|-fassociative-math -fno-signed-zeros -fno-trapping-math|
gcc|-ffast-math -fno-finite-math-only|
clang|-ffast-math -fno-finite-math-only|
gcc|-freciprocal-math|
clang|-freciprocal-math|
gcc|-fsingle-precision-constant||-fsingle-precision-constant?
gcc|-ffinite-math-only|
clang|-ffinite-math-only|
gcc|-fno-signed-zeros|
# the macro hidden from the preprocessor: ncsn_selftest's check that Adam refuses a NaN catches it
gcc|-ffinite-math-only -U__FINITE_MATH_ONLY__||Adam accepted an infinite or NaN gradient
# a -ffast-math link puts crtfastmath.o in: FTZ/DAZ for the whole program
gcc|link:-ffast-math|-ffast-math|subnormals are flushed to zero
EOF
wait
fails=0; total=0
for f in "$dir"/*.result; do
  total=$((total + 1))
  cat "$f"
  grep -q '^FAIL' "$f" && fails=$((fails + 1))
done
exec 3>&-
echo "user builds: $total checks, $fails failed"
[ $fails -eq 0 ]
