#!/bin/sh
# deps.sh TARGET - make sure what TARGET needs is installed: on Debian as root it runs apt-get,
# otherwise it prints the exact command and fails. TARGET: test | matrix | torch | bench | plots | cross
set -u
pkgs=""
have_hdr() { printf '#include <%s>\nint main(void){return 0;}\n' "$1" | ${CXX:-c++} -x c++ - -o /dev/null >/dev/null 2>&1; }
case "${1:-test}" in
  test)   command -v cc >/dev/null 2>&1 || pkgs="$pkgs gcc"
          command -v c++ >/dev/null 2>&1 || pkgs="$pkgs g++"
          have_hdr pcg_random.hpp || pkgs="$pkgs libpcg-cpp-dev";;
  matrix) command -v clang >/dev/null 2>&1 || pkgs="$pkgs clang"
          command -v gcc >/dev/null 2>&1 || pkgs="$pkgs gcc g++"
          have_hdr pcg_random.hpp || pkgs="$pkgs libpcg-cpp-dev";;
  torch)  /usr/bin/python3 -c 'import torch' >/dev/null 2>&1 || pkgs="$pkgs python3-torch libopenblas0-pthread";;
  bench)  /usr/bin/python3 -c 'import torch' >/dev/null 2>&1 || pkgs="$pkgs python3-torch libopenblas0-pthread"
          have_hdr oneapi/dnnl/dnnl.hpp || pkgs="$pkgs libdnnl-dev";;
  plots)  command -v gnuplot >/dev/null 2>&1 || pkgs="$pkgs gnuplot-nox";;
  cross)  command -v aarch64-linux-gnu-gcc >/dev/null 2>&1 || pkgs="$pkgs gcc-aarch64-linux-gnu"
          command -v aarch64-linux-gnu-g++ >/dev/null 2>&1 || pkgs="$pkgs g++-aarch64-linux-gnu libc6-dev-arm64-cross"
          command -v qemu-aarch64 >/dev/null 2>&1 || pkgs="$pkgs qemu-user";;
esac
[ -z "$pkgs" ] && exit 0
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
  echo "deps: installing$pkgs"
  DEBIAN_FRONTEND=noninteractive apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $pkgs >/dev/null || exit 1
else
  echo "deps: missing$pkgs; install with: sudo apt-get install$pkgs" >&2
  exit 1
fi
