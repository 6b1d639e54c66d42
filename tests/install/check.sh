#!/bin/sh
# tests/install/check.sh BUILD - `make check-install`: install into a temporary DESTDIR, build and
# run tests/install/consumer.c by pkg-config, find_package and FetchContent (from an archive of
# this checkout, no network), check the man page, uninstall, and check that the tree is exactly
# as before (paths, types, modes and the contents of what was there). The prefix starts with
# other packages' files and an empty directory, which must survive; lib/cmake does not exist
# before, so install creates it and uninstall must remove it. Fails on the first difference.
set -eu
build=${1:-build/default}
CC=${CC:-cc}
MAKE=${MAKE:-make}
repo=$(pwd)
tmp=$(mktemp -d "${TMPDIR:-/tmp}/ncsn_install.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
dest=$tmp/dest
prefix=/opt/ncsn-test
P=$dest$prefix
fail() { echo "check-install: FAIL: $*" >&2; exit 1; }
ok() { echo "check-install: ok: $*"; }

# the tree: every path with its type and mode, and a checksum of every file
snapshot() { (cd "$dest" && find . -printf '%y %m %p\n' | LC_ALL=C sort && find . -type f -exec md5sum {} + | LC_ALL=C sort -k2); }

mkdir -p "$P/bin" "$P/include" "$P/share/man/man1" "$P/lib/pkgconfig"
echo '#!/bin/sh' > "$P/bin/other-tool"; chmod 755 "$P/bin/other-tool"
echo '.TH OTHER 1' > "$P/share/man/man1/other.1"
printf 'Name: other\nVersion: 1\nDescription: x\n' > "$P/lib/pkgconfig/other.pc"
snapshot > "$tmp/before"

# twice: a second install over the first must change nothing that uninstall cannot undo
$MAKE --no-print-directory install DESTDIR="$dest" PREFIX="$prefix" BUILD="$build" > "$tmp/install.log"
$MAKE --no-print-directory install DESTDIR="$dest" PREFIX="$prefix" BUILD="$build" > "$tmp/install.log"
(cd "$dest" && find . -type f | LC_ALL=C sort) > "$tmp/files"
cat > "$tmp/want" <<EOF
.$prefix/bin/ncsn
.$prefix/bin/other-tool
.$prefix/include/ncsn.h
.$prefix/lib/cmake/ncsn/ncsnConfig.cmake
.$prefix/lib/cmake/ncsn/ncsnConfigVersion.cmake
.$prefix/lib/pkgconfig/ncsn.pc
.$prefix/lib/pkgconfig/other.pc
.$prefix/share/man/man1/ncsn.1
.$prefix/share/man/man1/other.1
.$prefix/share/ncsn/install-manifest
EOF
diff "$tmp/want" "$tmp/files" || fail "installed files differ from the list above (< expected, > installed)"
cmp -s ncsn.h "$P/include/ncsn.h" || fail "the installed ncsn.h differs from the checkout's"
"$P/bin/ncsn" selftest > /dev/null || fail "the installed ncsn selftest failed"
ok "make install: the 7 files, the installed command passes its selftest"

# the man page: no groff warnings, and every option of every --help text in it
groff -man -Tutf8 -ww -z "$P/share/man/man1/ncsn.1" 2> "$tmp/groff.err"
[ ! -s "$tmp/groff.err" ] || { cat "$tmp/groff.err" >&2; fail "groff warns about ncsn.1"; }
groff -man -Tascii -P-cbou "$P/share/man/man1/ncsn.1" 2>/dev/null > "$tmp/man.txt"
cmds=$("$P/bin/ncsn" --help | awk '/^commands:/ { on = 1; next } on && /^$/ { exit } on { print $1 }')
n=0
for c in "" $cmds; do
  if [ -z "$c" ]; then "$P/bin/ncsn" --help; else "$P/bin/ncsn" help "$c"; fi
done | grep -o -- '--[a-z][a-z0-9-]*' | sort -u > "$tmp/options"
while read -r o; do
  grep -qF -- "$o" "$tmp/man.txt" || fail "option $o of ncsn --help is not in the man page"
  n=$((n + 1))
done < "$tmp/options"
for c in $cmds; do grep -q "^ *ncsn $c\$" "$tmp/man.txt" || fail "the man page has no section for ncsn $c"; done
[ "$n" -ge 20 ] || fail "only $n options found in the help texts"
ok "ncsn.1: no groff warnings; its $(echo $cmds | wc -w) commands and all $n options of the help texts"

# route 1: pkg-config (the sysroot prefixes the .pc file's -I with DESTDIR)
export PKG_CONFIG_LIBDIR="$P/lib/pkgconfig" PKG_CONFIG_SYSROOT_DIR="$dest"
[ "$(pkg-config --modversion ncsn)" = "$(sed -n 's/^#define NCSN_VERSION_STRING "\(.*\)"/\1/p' ncsn.h)" ] || fail "pkg-config --modversion ncsn"
[ "$(echo $(pkg-config --libs ncsn))" = "-lm -lpthread" ] || fail "pkg-config --libs ncsn = '$(pkg-config --libs ncsn)'"
[ "$(echo $(pkg-config --cflags ncsn))" = "-I$P/include" ] || fail "pkg-config --cflags ncsn = '$(pkg-config --cflags ncsn)'"
mkdir "$tmp/pc"
# shellcheck disable=SC2046
$CC -std=c99 -Wall -Wextra -pedantic -O2 -DROUTE='"pkg-config"' $(pkg-config --cflags ncsn) tests/install/consumer.c \
  -o "$tmp/pc/consumer" $(pkg-config --libs ncsn) || fail "the pkg-config consumer does not build"
"$tmp/pc/consumer" || fail "the pkg-config consumer failed"
unset PKG_CONFIG_LIBDIR PKG_CONFIG_SYSROOT_DIR

# route 2: find_package(ncsn) with CMAKE_PREFIX_PATH
major=$(sed -n 's/^#define NCSN_VERSION_MAJOR \([0-9]*\)$/\1/p' ncsn.h)
minor=$(sed -n 's/^#define NCSN_VERSION_MINOR \([0-9]*\)$/\1/p' ncsn.h)
older=   # while the major version is 0, the minor before must be refused (0.x releases change the API)
[ "$major" != 0 ] || [ "$minor" -lt 1 ] || older=0.$((minor - 1))
cmake -S tests/install/find_package -B "$tmp/fp" -DCMAKE_C_COMPILER="$CC" -DCMAKE_PREFIX_PATH="$P" \
  -DNCSN_WANT="$major.$minor" -DNCSN_WANT_OLDER="$older" > "$tmp/fp.log" 2>&1 ||
  { cat "$tmp/fp.log" >&2; fail "cmake find_package(ncsn) configure"; }
grep -q "ncsn .* from $P/lib/cmake/ncsn" "$tmp/fp.log" || { cat "$tmp/fp.log" >&2; fail "find_package(ncsn) did not use $P"; }
cmake --build "$tmp/fp" > "$tmp/fp.build.log" 2>&1 || { cat "$tmp/fp.build.log" >&2; fail "the find_package consumer does not build"; }
"$tmp/fp/consumer" || fail "the find_package consumer failed"

# route 3: FetchContent of the repository, from a file:// archive of this checkout
tar -C "$repo" --exclude=./build --exclude=./.git --exclude=./plots/out -czf "$tmp/ncsn-src.tar.gz" .
cmake -S tests/install/fetchcontent -B "$tmp/fc" -DCMAKE_C_COMPILER="$CC" -DNCSN_URL="file://$tmp/ncsn-src.tar.gz" \
  > "$tmp/fc.log" 2>&1 || { cat "$tmp/fc.log" >&2; fail "cmake FetchContent configure"; }
cmake --build "$tmp/fc" > "$tmp/fc.build.log" 2>&1 || { cat "$tmp/fc.build.log" >&2; fail "the FetchContent consumer does not build"; }
grep -q -- "-I$tmp/fc/_deps/ncsn-src" "$tmp/fc/CMakeFiles/consumer.dir/flags.make" || fail "the FetchContent consumer did not take the fetched ncsn.h"
"$tmp/fc/consumer" || fail "the FetchContent consumer failed"

# uninstall: the tree exactly as before
$MAKE --no-print-directory uninstall DESTDIR="$dest" PREFIX="$prefix" BUILD="$build" > "$tmp/uninstall.log"
snapshot > "$tmp/after"
diff "$tmp/before" "$tmp/after" || fail "after make uninstall the tree differs from before the install (< before, > after)"
ok "make uninstall: the tree is as before ($(wc -l < "$tmp/before") lines of paths, modes and checksums)"

# a DESTDIR that does not exist yet (a packager's fresh staging directory): made by install, and
# after uninstall it is all that is left (timeout: a loop that never reaches an existing directory)
fresh=$tmp/fresh/stage
timeout 300 $MAKE --no-print-directory install DESTDIR="$fresh" PREFIX=/usr BUILD="$build" > "$tmp/install2.log" ||
  fail "make install into a DESTDIR that does not exist"
[ -f "$fresh/usr/include/ncsn.h" ] || fail "make install into a new DESTDIR did not install ncsn.h"
timeout 300 $MAKE --no-print-directory uninstall DESTDIR="$fresh" PREFIX=/usr BUILD="$build" > "$tmp/uninstall2.log" ||
  fail "make uninstall from a new DESTDIR"
left=$(cd "$tmp/fresh" && find . | LC_ALL=C sort | tr '\n' ' ')
[ "$left" = ". ./stage " ] || fail "after install and uninstall in a new DESTDIR, left: $left"
ok "a new DESTDIR: install made it, uninstall left it empty"
echo "check-install: passed"
