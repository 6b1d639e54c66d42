#!/bin/sh
# matrix.sh - rebuild the suite in every cell and compare every cell with the same golden files.
# Every cell is built with -Werror (a warning fails it; C with -pedantic and C++ with -pedantic
# where the dialect is standard) and also runs `ncsn selftest` (the embedded hashes). Cells:
#  - {gcc, clang} x -O3 -march=native -ffp-contract=fast x {scalar, SSE2, AVX2+FMA, AVX-512} (the
#    SIMD paths this CPU can run), -std=c99 / -std=c++11, each rerunning the golden group with 2, 3
#    and 8 threads. These cells choose the kernels at compile time (NCSN_NO_DISPATCH, the path of
#    MSVC and other compilers);
#  - {gcc, clang} x -O0 x the same paths: one build per compiler (runtime dispatch), the golden
#    files and the self-test on each path forced in turn with NCSN_SIMD;
#  - {gcc, clang} in their default dialects (no -std=: gnu17 / gnu++17), -O2 -march=native (gcc
#    reports FLT_EVAL_METHOD 16 on a CPU with AVX512-FP16);
#  - 32-bit x86 (ILP32, 32-bit size_t): {gcc, clang} -m32 -msse2 -mfpmath=sse at -O2 (SSE2 kernels)
#    and at -O3 -march=native (the widest kernels in 32-bit mode); where the kernel cannot start
#    32-bit programs they run under qemu-i386, with -march=haswell for -march=native;
#  - aarch64 (NEON and scalar) and 32-bit ARM (armhf: ARMv7 NEON has no fused multiply-add and
#    flushes subnormals, so the header uses no NEON there: the scalar kernels, with the VFPv4 vfma
#    instruction for fmaf with -mfpu=neon-vfpv4, and libm's software fmaf on Debian's baseline
#    VFPv3-D16, a cell that runs the golden and selftest groups only), cross-built and run under
#    qemu-user.
#  - baseline flags ({gcc, clang} -O2, no -m options: what most host projects pass): the runtime
#    dispatch, running the dispatch group (the bit checks on every path the CPU has, in one process);
# MATRIX_PARTS="baseline cross" (any of native, baseline, m32, cross) runs only those parts.
# Builds and each cell's test groups use every core (MATRIX_JOBS, default nproc): CI has a time limit.
# Cells run quick mode (golden files and unit checks, not the slow statistical ones: the SSE2 cell
# took 3 min 18 s in full, 5 s quick), except clang -O3 on the widest SIMD path, which runs all.
# The 32-bit x86 cells other than gcc -O2, clang's -O3 scalar cell and both -O3 SSE2 cells run the
# bit groups only ($bits below), armhf with NEON those and the file groups
# (readme, io, safetensors: 32-bit file offsets and directory reads), the -O0 cells and the aarch64
# scalar cell the golden files and the self-test (for time: its kernel checks took 106 s of its 222
# under qemu; the golden files still cover its build of the scalar kernels end to end); the others
# run every group.
set -u
cd "$(dirname "$0")/.."
fails=0; cells=0; total_pass=0; total_fail=0
mkdir -p build/matrix
cpu=$(cat /proc/cpuinfo 2>/dev/null)
paths="scalar sse2"
echo "$cpu" | grep -qw avx2 && echo "$cpu" | grep -qw fma && paths="$paths avx2"
echo "$cpu" | grep -qw avx512f && paths="$paths avx512"

parts=${MATRIX_PARTS:-native baseline m32 cross}
# the groups that check bits (golden files, embedded hashes, every kernel against its scalar
# reference): cells that differ from another cell only in how the same kernels are chosen or built
# run these; the cells that bring a new compiler, flag set or target run every group
bits="golden selftest kernels"
jobs=${MATRIX_JOBS:-$(nproc 2>/dev/null || echo 2)}
want() { case " $parts " in *" $1 "*) return 0;; esac; return 1; }

# add a run's "N passed, N failed" to the totals; a run with no check passed fails (a misspelt
# group name runs nothing)
tally() {
  p=$(echo "$1" | sed -n 's/^\([0-9]*\) passed, \([0-9]*\) failed$/\1/p'); f=$(echo "$1" | sed -n 's/^\([0-9]*\) passed, \([0-9]*\) failed$/\2/p')
  total_pass=$((total_pass+${p:-0})); total_fail=$((total_fail+${f:-1}))
  [ "${p:-0}" -gt 0 ] || { echo "  no check ran"; fails=$((fails+1)); }
}
# build_cell LABEL BUILD MAKE-VARIABLES...: the suite and the ncsn command, -Werror
build_cell() {
  label=$1; b=$2; shift 2
  cells=$((cells+1)); t0=$(date +%s)
  if ! make -s -j"$jobs" BUILD="$b" WERROR=-Werror "$@" "$b/run_tests" >"$b.log" 2>&1; then
    echo "cell $label: BUILD FAILED (a warning fails it too; -Werror)"; tail -20 "$b.log"; fails=$((fails+1)); return 1
  fi
}
# run_cell LABEL BUILD QUICK "GROUPS" [RUNNER...]: the suite (GROUPS "": every group), then
# `ncsn selftest`, under RUNNER (qemu) if given
run_cell() {
  label=$1; b=$2; quick=$3; groups=$4; shift 4
  out=$(NCSN_TEST_JOBS=$jobs NCSN_TEST_QUICK=$quick "$@" "./$b/run_tests" $groups 2>&1); rc=$?
  st=$("$@" "./$b/ncsn" selftest 2>&1); src=$?
  last=$(echo "$out" | tail -1)
  echo "cell $label ($(echo "$out" | head -1 | sed 's/.*kernels: //')): $last; selftest $([ $src -eq 0 ] && echo ok || echo FAILED)  [$(( $(date +%s) - t0 )) s with the build]"
  tally "$last"
  [ $rc -ne 0 ] && { echo "$out" | grep FAIL | head -10; fails=$((fails+1)); }
  [ $src -ne 0 ] && { echo "  $st"; fails=$((fails+1)); }
}
# the golden group again at 2, 3 and 8 threads
thread_cells() {
  label=$1; b=$2
  for t in 2 3 8; do
    cells=$((cells+1))
    tout=$(NCSN_TEST_THREADS=$t "./$b/run_tests" golden 2>&1); trc=$?
    tlast=$(echo "$tout" | tail -1)
    echo "cell $label, $t threads (golden): $tlast"
    tally "$tlast"
    [ $trc -ne 0 ] && { echo "$tout" | grep FAIL | head -5; fails=$((fails+1)); }
  done
}

want native && for cc in gcc clang; do
  command -v $cc >/dev/null 2>&1 || { echo "matrix: $cc not installed"; fails=$((fails+1)); continue; }
  cxx=g++; [ $cc = clang ] && cxx=clang++
  for path in $paths; do
    case $path in
      scalar) arch="-march=x86-64"; defs="-DNCSN_NO_SIMD";;
      sse2)   arch="-march=x86-64 -mno-avx -mno-fma"; defs="-DNCSN_NO_DISPATCH";;
      avx2)   arch="-march=haswell"; defs="-DNCSN_NO_DISPATCH";;
      avx512) arch="-march=native"; defs="-DNCSN_NO_DISPATCH";;
    esac
    # one cell also runs the slow statistical checks (make test runs them with gcc); clang's scalar
    # cell and both SSE2 cells run the bit groups (gcc's scalar cell, a build with no vector code
    # at all, runs every group; the golden group checks the SSE2 kernels end to end)
    quick=1; groups=""; [ $cc = clang ] && [ $path = "${paths##* }" ] && quick=0
    { [ $cc = clang ] && [ $path = scalar ]; } || [ $path = sse2 ] && groups=$bits
    b="build/matrix/$cc-O3-$path"
    build_cell "$cc -O3 $path" "$b" CC=$cc CXX=$cxx OPT="-O3 -ffp-contract=fast" ARCH="$arch" DEFS="$defs" || continue
    run_cell "$cc -O3 $path" "$b" $quick "$groups"
    thread_cells "$cc -O3 $path" "$b"
  done
  # -O0: one build (runtime dispatch), the golden files and the self-test on each path forced in
  # turn (the kernel checks, which run every kernel at every shape, take minutes per path
  # unoptimised; they run in the -O3 and baseline cells)
  b="build/matrix/$cc-O0"
  if build_cell "$cc -O0" "$b" CC=$cc CXX=$cxx OPT=-O0 ARCH="-march=x86-64" DEFS=; then
    for path in $paths; do
      run_cell "$cc -O0, NCSN_SIMD=$path" "$b" 1 "golden selftest" env NCSN_SIMD=$path
      cells=$((cells+1)); t0=$(date +%s)
    done
    cells=$((cells-1))
  fi
  # the compiler's default dialect, as a user's project builds the header
  b="build/matrix/$cc-default-dialect"
  build_cell "$cc -O2 -march=native, default dialect" "$b" CC=$cc CXX=$cxx STD= CXXSTD= WARN="-Wall -Wextra" CXXWARN="-Wall -Wextra" \
    OPT=-O2 ARCH=-march=native DEFS= && run_cell "$cc -O2 -march=native, default dialect" "$b" 1 ""
done

# baseline flags: one build per compiler, running the dispatch group: the kernel, golden-file and
# self-test checks on every kernel path the CPU has, forced in turn in one process (what a cell per
# path forced with NCSN_SIMD ran, one build and three processes cheaper)
want baseline && for cc in gcc clang; do
  command -v $cc >/dev/null 2>&1 || continue
  cxx=g++; [ $cc = clang ] && cxx=clang++
  b="build/matrix/$cc-O2-baseline"
  build_cell "$cc -O2 (baseline flags)" "$b" CC=$cc CXX=$cxx OPT=-O2 ARCH= DEFS= || continue
  run_cell "$cc -O2 (baseline flags), dispatch group" "$b" 1 "dispatch"
done

# 32-bit x86. Without Debian's gcc-multilib (it conflicts with the aarch64 cross compilers) there
# is no /usr/include/asm: the amd64 kernel headers serve both widths, so a link to them is enough.
m32inc=""
if [ ! -e /usr/include/asm ] && [ -d /usr/include/x86_64-linux-gnu/asm ]; then
  mkdir -p build/m32-include && ln -sfn /usr/include/x86_64-linux-gnu/asm build/m32-include/asm && m32inc="-Ibuild/m32-include"
fi
printf '#include <stdio.h>\n#include <errno.h>\nint main(void) { return (int)sizeof(size_t) != 4; }\n' > build/matrix/m32probe.c
printf '#include <pcg_random.hpp>\nint main() { pcg32 r(1u); return (int)(r() & 0u); }\n' > build/matrix/m32probe.cpp
want m32 && for cc in gcc clang; do
  cxx=g++; [ $cc = clang ] && cxx=clang++
  m32="-m32 -msse2 -mfpmath=sse $m32inc"
  if ! $cc $m32 build/matrix/m32probe.c -o build/matrix/m32probe >/dev/null 2>&1 ||
     ! $cxx $m32 build/matrix/m32probe.cpp -o build/matrix/m32probe.cxx >/dev/null 2>&1; then
    echo "matrix: $cc -m32 cannot build 32-bit programs (make deps-matrix: gcc-12-multilib g++-12-multilib libc6-dev-i386): skipped"
    fails=$((fails+1)); continue
  fi
  # a kernel built without IA-32 emulation refuses i386 programs (exec format error): qemu-i386 runs
  # them, the same instructions, as qemu-user runs the cross cells
  run32=""
  if ! ./build/matrix/m32probe 2>/dev/null; then
    if ! command -v qemu-i386 >/dev/null 2>&1; then
      echo "matrix: this kernel cannot start 32-bit x86 programs and qemu-i386 is not installed (make deps-matrix: qemu-user): $cc -m32 skipped"
      fails=$((fails+1)); continue
    elif ! qemu-i386 ./build/matrix/m32probe; then
      echo "matrix: this kernel cannot start 32-bit x86 programs and qemu-i386 failed on the probe: $cc -m32 skipped"
      fails=$((fails+1)); continue
    fi
    run32=qemu-i386
    echo "matrix: this kernel cannot start 32-bit x86 programs: the $cc -m32 cells run under qemu-i386 (the suite's command tests are skipped there)"
  fi
  for opt in O2 O3; do
    o="-O2"; arch=""; [ $opt = O3 ] && o="-O3 -ffp-contract=fast" && arch="-march=native"
    # qemu-i386 has no AVX-512: its widest, AVX2 and FMA, stands for -march=native there
    [ $opt = O3 ] && [ -n "$run32" ] && arch="-march=haswell"
    b="build/matrix/$cc-m32-$opt"
    groups="$bits"; [ $cc = gcc ] && [ $opt = O2 ] && groups=""   # one 32-bit x86 cell runs every group
    build_cell "$cc -m32 -msse2 -mfpmath=sse $o${arch:+ $arch}" "$b" CC="$cc $m32" CXX="$cxx $m32" OPT="$o" ARCH="$arch" DEFS= &&
      run_cell "$cc -m32 -msse2 -mfpmath=sse $o${arch:+ $arch}${run32:+ under $run32}" "$b" 1 "$groups" $run32
  done
done

# cross builds under qemu-user (pcg-cpp is header-only: its three headers are linked in)
mkdir -p build/cross-include
for f in pcg_random.hpp pcg_extras.hpp pcg_uint128.hpp; do ln -sf /usr/include/$f build/cross-include/$f; done
# cross_cells TRIPLE QEMU NAME:FLAGS:GROUPS... (GROUPS empty: every group)
cross_cells() {
  triple=$1; qemu=$2; shift 2
  if ! command -v $triple-gcc >/dev/null 2>&1 || ! command -v $triple-g++ >/dev/null 2>&1 || ! command -v $qemu >/dev/null 2>&1; then
    echo "matrix: $triple cross compiler or $qemu not installed (make deps-cross): $triple cells skipped"
    fails=$((fails+1)); return
  fi
  for spec in "$@"; do
    name=${spec%%:*}; rest=${spec#*:}; flags=${rest%%:*}; groups=${rest#*:}
    b="build/matrix/$triple-O2-$name"
    build_cell "$triple gcc -O2${flags:+ $flags}" "$b" CC="$triple-gcc $flags" CXX="$triple-g++ $flags -Ibuild/cross-include" \
      OPT="-O2 -ffp-contract=fast" ARCH= DEFS= &&
      run_cell "$triple gcc -O2${flags:+ $flags} under qemu, 3 threads${groups:+, groups $groups}" "$b" 1 "$groups" \
        env NCSN_TEST_THREADS=3 $qemu -L /usr/$triple
  done
}
want cross && cross_cells aarch64-linux-gnu qemu-aarch64 "neon::" "scalar:-DNCSN_NO_SIMD:golden selftest"
# Debian's armhf baseline (VFPv3-D16) has no fused multiply-add instruction: fmaf is libm's software
# one, which made the quick suite take 9 min of CPU under qemu; that cell runs golden and selftest
want cross && cross_cells arm-linux-gnueabihf qemu-arm "neon-vfpv4:-mfpu=neon-vfpv4:$bits readme io safetensors" "vfpv3::golden selftest"

echo "matrix: $cells cells, $fails failed"
echo "$total_pass passed, $total_fail failed"
[ $fails -eq 0 ]
