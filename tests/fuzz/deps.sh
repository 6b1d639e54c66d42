#!/bin/sh
# deps.sh - make sure clang can build libFuzzer targets (Debian: clang and libclang-rt-14-dev).
# As root on Debian it installs them; otherwise it prints the command and fails.
probe() { printf '#include <stdint.h>\n#include <stddef.h>\nint LLVMFuzzerTestOneInput(const uint8_t *d, size_t n) { (void)d; (void)n; return 0; }\n' |
          clang -fsanitize=fuzzer,address,undefined -x c - -o /dev/null >/dev/null 2>&1; }
probe && exit 0
pkgs="clang libclang-rt-14-dev"
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
  echo "fuzz: installing $pkgs"
  DEBIAN_FRONTEND=noninteractive apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $pkgs >/dev/null || exit 1
  probe && exit 0
  echo "fuzz: clang still cannot link -fsanitize=fuzzer" >&2; exit 1
fi
echo "fuzz: clang cannot link -fsanitize=fuzzer; install with: sudo apt-get install $pkgs" >&2
exit 1
