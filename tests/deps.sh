#!/bin/sh
# deps.sh TARGET - make sure what TARGET needs is installed: on Debian as root it runs apt-get,
# otherwise it prints the exact command and fails. TARGET: test | matrix | torch | bench | plots | cross | quality | install | shared | images
#   test:  a C and a C++ compiler, pcg's reference C++ header (libpcg-cpp-dev), and a locale with a
#          decimal comma (de_DE.UTF-8, made with localedef) for the locale test; without root the
#          locale is only named (that one test then says SKIP), everything else is required.
#   plots: a C compiler, gnuplot with its PNG (cairo) terminal and the DejaVu fonts the figures use,
#          and Fashion-MNIST (the reduced image run).
#   quality: R (r-base-core: faithful, iris), python3-sklearn (its digits.csv.gz) and gnuplot.
#   install: what make check-install builds consumers with: cmake, pkg-config (pkgconf) and groff
#          (the man page is checked with it).
#   shared: make check-shared: nm (binutils) and numpy for /usr/bin/python3.
#   images: Fashion-MNIST (dataset-fashion-mnist: gzip'd IDX files), gzip, gnuplot and its fonts.
set -u
pkgs=""
have_hdr() { printf '#include <%s>\nint main(void){return 0;}\n' "$1" | ${CXX:-c++} -x c++ - -o /dev/null >/dev/null 2>&1; }
is_root() { [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; }
# a decimal-comma locale for the locale-independence test (tests/test_io.c)
comma_locale() {
  locale -a 2>/dev/null | grep -qi '^de_DE\.utf-\{0,1\}8$' && return 0
  if is_root; then
    [ -f /usr/share/i18n/locales/de_DE ] || pkgs="$pkgs locales"
    LOCALE_TODO=1
  else
    echo "deps: no de_DE.UTF-8 locale (the locale test will say SKIP); make it with: sudo localedef -i de_DE -f UTF-8 de_DE.UTF-8" >&2
  fi
}
LOCALE_TODO=0
case "${1:-test}" in
  test)   command -v cc >/dev/null 2>&1 || pkgs="$pkgs gcc libc6-dev"
          if command -v c++ >/dev/null 2>&1; then have_hdr pcg_random.hpp || pkgs="$pkgs libpcg-cpp-dev"
          else pkgs="$pkgs g++ libpcg-cpp-dev"; fi
          comma_locale;;
  matrix) command -v clang >/dev/null 2>&1 || pkgs="$pkgs clang"
          command -v gcc >/dev/null 2>&1 || pkgs="$pkgs gcc g++"
          have_hdr pcg_random.hpp || pkgs="$pkgs libpcg-cpp-dev"
          # 32-bit x86 cells: the versioned multilib packages (gcc-multilib conflicts with the aarch64 cross compilers)
          v=$(gcc -dumpversion 2>/dev/null | cut -d. -f1)
          { echo 'int main(void){return 0;}' | gcc -m32 -x c - -o /dev/null && echo 'int main(){return 0;}' | g++ -m32 -x c++ - -o /dev/null; } >/dev/null 2>&1 ||
            pkgs="$pkgs gcc-${v:-12}-multilib g++-${v:-12}-multilib libc6-dev-i386"
          # a kernel without IA-32 emulation (built so, or booted with ia32_emulation=0) cannot start
          # them: qemu-i386 runs those cells; its config file does not say which, so always have it
          [ "$(uname -m)" = x86_64 ] && ! command -v qemu-i386 >/dev/null 2>&1 && pkgs="$pkgs qemu-user";;
  torch)  /usr/bin/python3 -c 'import torch' >/dev/null 2>&1 || pkgs="$pkgs python3-torch libopenblas0-pthread";;
  bench)  /usr/bin/python3 -c 'import torch' >/dev/null 2>&1 || pkgs="$pkgs python3-torch libopenblas0-pthread"
          have_hdr oneapi/dnnl/dnnl.hpp || pkgs="$pkgs libdnnl-dev";;
  plots)  command -v cc >/dev/null 2>&1 || pkgs="$pkgs gcc libc6-dev"
          # the reduced image run is one of make plots' producers
          [ -f /usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz ] || pkgs="$pkgs dataset-fashion-mnist"
          command -v gnuplot >/dev/null 2>&1 || pkgs="$pkgs gnuplot-nox"
          [ -f /usr/share/fonts/truetype/dejavu/DejaVuSans.ttf ] || pkgs="$pkgs fonts-dejavu-core";;
  quality) command -v Rscript >/dev/null 2>&1 || pkgs="$pkgs r-base-core"
          [ -f /usr/lib/python3/dist-packages/sklearn/datasets/data/digits.csv.gz ] || pkgs="$pkgs python3-sklearn"
          command -v gnuplot >/dev/null 2>&1 || pkgs="$pkgs gnuplot-nox";;
  install) command -v cc >/dev/null 2>&1 || pkgs="$pkgs gcc libc6-dev"
          command -v cmake >/dev/null 2>&1 || pkgs="$pkgs cmake"
          command -v pkg-config >/dev/null 2>&1 || pkgs="$pkgs pkgconf"
          command -v groff >/dev/null 2>&1 || pkgs="$pkgs groff-base";;
  shared) command -v nm >/dev/null 2>&1 || pkgs="$pkgs binutils"
          /usr/bin/python3 -c 'import numpy' >/dev/null 2>&1 || pkgs="$pkgs python3-numpy";;
  images) [ -f /usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz ] || pkgs="$pkgs dataset-fashion-mnist"
          command -v gzip >/dev/null 2>&1 || pkgs="$pkgs gzip"
          command -v gnuplot >/dev/null 2>&1 || pkgs="$pkgs gnuplot-nox"
          [ -f /usr/share/fonts/truetype/dejavu/DejaVuSans.ttf ] || pkgs="$pkgs fonts-dejavu-core";;
  cross)  command -v aarch64-linux-gnu-gcc >/dev/null 2>&1 || pkgs="$pkgs gcc-aarch64-linux-gnu"
          command -v aarch64-linux-gnu-g++ >/dev/null 2>&1 || pkgs="$pkgs g++-aarch64-linux-gnu libc6-dev-arm64-cross"
          command -v arm-linux-gnueabihf-gcc >/dev/null 2>&1 || pkgs="$pkgs gcc-arm-linux-gnueabihf"
          command -v arm-linux-gnueabihf-g++ >/dev/null 2>&1 || pkgs="$pkgs g++-arm-linux-gnueabihf"
          { command -v qemu-aarch64 && command -v qemu-arm; } >/dev/null 2>&1 || pkgs="$pkgs qemu-user";;
esac
if [ -n "$pkgs" ]; then
  if is_root; then
    echo "deps: installing$pkgs"
    # with the Recommends, as CI always installed them (gnuplot-nox recommends fonts-liberation)
    # another apt-get (a second make, the system's timers) may hold apt's locks: wait for them;
    # any other failure (unknown package, no network) is reported at once
    log=$(mktemp) tries=0
    until { DEBIAN_FRONTEND=noninteractive apt-get update -qq -o DPkg::Lock::Timeout=300 &&
            DEBIAN_FRONTEND=noninteractive apt-get install -y -qq -o DPkg::Lock::Timeout=300 $pkgs >/dev/null; } 2>"$log"; do
      cat "$log" >&2
      tries=$((tries + 1))
      if ! grep -qi 'lock' "$log" || [ "$tries" -ge 5 ]; then
        rm -f "$log"; echo "deps: apt-get failed; install with: apt-get install$pkgs" >&2; exit 1
      fi
      echo "deps: another apt-get holds apt's lock; trying again in 15 s" >&2
      sleep 15
    done
    rm -f "$log"
  else
    echo "deps: missing$pkgs; install with: sudo apt-get install$pkgs" >&2
    exit 1
  fi
fi
if [ "$LOCALE_TODO" = 1 ]; then
  echo "deps: making the de_DE.UTF-8 locale (localedef)"
  localedef -i de_DE -f UTF-8 de_DE.UTF-8 || exit 1
fi
exit 0
