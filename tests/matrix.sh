#!/bin/sh
# matrix.sh - rebuild the suite in every cell and compare every cell with the same golden files.
# Cells: {gcc, clang} x {-O0, -O3 -march=native -ffp-contract=fast} x {scalar, SSE2, AVX2+FMA, AVX-512}
# (the SIMD paths this CPU can run); -O3 cells also rerun the golden group with 2, 3 and 8 threads.
# Then aarch64 (NEON and scalar) cross-built and run under qemu-user when installed.
# Cells run quick mode (golden files and unit checks, not the slow statistical ones: the SSE2 cell
# took 3 min 18 s in full, 5 s quick), except clang -O3 on the widest SIMD path, which runs all.
set -u
cd "$(dirname "$0")/.."
fails=0; cells=0; total_pass=0; total_fail=0
mkdir -p build/matrix
cpu=$(cat /proc/cpuinfo 2>/dev/null)
paths="scalar sse2"
echo "$cpu" | grep -qw avx2 && echo "$cpu" | grep -qw fma && paths="$paths avx2"
echo "$cpu" | grep -qw avx512f && paths="$paths avx512"
for cc in gcc clang; do
  command -v $cc >/dev/null 2>&1 || { echo "matrix: $cc not installed"; fails=$((fails+1)); continue; }
  cxx=g++; [ $cc = clang ] && cxx=clang++
  for opt in O0 O3; do
    for path in $paths; do
      case $path in
        scalar) arch="-march=x86-64"; defs="-DNCSN_NO_SIMD";;
        sse2)   arch="-march=x86-64 -mno-avx -mno-fma"; defs="";;
        avx2)   arch="-march=haswell"; defs="";;
        avx512) arch="-march=x86-64-v4"; defs="";;
      esac
      if [ $opt = O0 ]; then o="-O0"; quick=1; else o="-O3 -ffp-contract=fast"; quick=1
        [ $path = avx512 ] && arch="-march=native"
        # one cell also runs the slow statistical checks (make test runs them with gcc)
        [ $cc = clang ] && [ $path = "${paths##* }" ] && quick=0; fi
      b="build/matrix/$cc-$opt-$path"
      cells=$((cells+1)); t0=$(date +%s)
      if ! make -s BUILD="$b" CC=$cc CXX=$cxx OPT="$o" ARCH="$arch" DEFS="$defs" "$b/run_tests" >"$b.log" 2>&1; then
        mkdir -p "$(dirname "$b")"; echo "cell $cc $opt $path: BUILD FAILED"; tail -20 "$b.log"; fails=$((fails+1)); continue
      fi
      out=$(NCSN_TEST_QUICK=$quick "./$b/run_tests" 2>&1); rc=$?
      last=$(echo "$out" | tail -1)
      echo "cell $cc -$opt $path ($(echo "$out" | head -1 | sed 's/.*kernels: //')): $last  [$(( $(date +%s) - t0 )) s with the build]"
      p=$(echo "$last" | sed -n 's/^\([0-9]*\) passed, \([0-9]*\) failed$/\1/p'); f=$(echo "$last" | sed -n 's/^\([0-9]*\) passed, \([0-9]*\) failed$/\2/p')
      total_pass=$((total_pass+${p:-0})); total_fail=$((total_fail+${f:-1}))
      [ $rc -ne 0 ] && { echo "$out" | grep FAIL | head -10; fails=$((fails+1)); }
      if [ $opt = O3 ]; then
        for t in 2 3 8; do
          cells=$((cells+1))
          tout=$(NCSN_TEST_THREADS=$t "./$b/run_tests" golden 2>&1); trc=$?
          tlast=$(echo "$tout" | tail -1)
          echo "cell $cc -$opt $path, $t threads (golden): $tlast"
          tp=$(echo "$tlast" | sed -n 's/^\([0-9]*\) passed, \([0-9]*\) failed$/\1/p'); tf=$(echo "$tlast" | sed -n 's/^\([0-9]*\) passed, \([0-9]*\) failed$/\2/p')
          total_pass=$((total_pass+${tp:-0})); total_fail=$((total_fail+${tf:-1}))
          [ $trc -ne 0 ] && { echo "$tout" | grep FAIL | head -5; fails=$((fails+1)); }
        done
      fi
    done
  done
done
# aarch64: NEON and scalar, under qemu-user (pcg-cpp is header-only: its three headers are linked in)
if command -v aarch64-linux-gnu-gcc >/dev/null 2>&1 && command -v aarch64-linux-gnu-g++ >/dev/null 2>&1 && command -v qemu-aarch64 >/dev/null 2>&1; then
  mkdir -p build/cross-include
  for f in pcg_random.hpp pcg_extras.hpp pcg_uint128.hpp; do ln -sf /usr/include/$f build/cross-include/$f; done
  for path in neon scalar; do
    defs=""; [ $path = scalar ] && defs="-DNCSN_NO_SIMD"
    b="build/matrix/aarch64-O2-$path"
    cells=$((cells+1)); t0=$(date +%s)
    mkdir -p build/matrix
    if ! make -s BUILD="$b" CC=aarch64-linux-gnu-gcc CXX="aarch64-linux-gnu-g++ -Ibuild/cross-include" OPT="-O2 -ffp-contract=fast" ARCH= DEFS="$defs" "$b/run_tests" >"$b.log" 2>&1; then
      echo "cell aarch64 $path: BUILD FAILED"; tail -20 "$b.log"; fails=$((fails+1)); continue
    fi
    out=$(NCSN_TEST_QUICK=1 NCSN_TEST_THREADS=3 qemu-aarch64 -L /usr/aarch64-linux-gnu "./$b/run_tests" 2>&1); rc=$?
    last=$(echo "$out" | tail -1)
    echo "cell aarch64 gcc -O2 $path under qemu, 3 threads ($(echo "$out" | head -1 | sed 's/.*kernels: //')): $last  [$(( $(date +%s) - t0 )) s with the build]"
    p=$(echo "$last" | sed -n 's/^\([0-9]*\) passed, \([0-9]*\) failed$/\1/p'); f=$(echo "$last" | sed -n 's/^\([0-9]*\) passed, \([0-9]*\) failed$/\2/p')
    total_pass=$((total_pass+${p:-0})); total_fail=$((total_fail+${f:-1}))
    [ $rc -ne 0 ] && { echo "$out" | grep FAIL | head -10; fails=$((fails+1)); }
  done
else
  echo "matrix: aarch64 cross compiler or qemu-user not installed (make deps-cross): aarch64 cells skipped"
  fails=$((fails+1))
fi
echo "matrix: $cells cells, $fails failed"
echo "$total_pass passed, $total_fail failed"
[ $fails -eq 0 ]
