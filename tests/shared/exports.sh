#!/bin/sh
# tests/shared/exports.sh LIB [HEADER] - the shared library exports exactly ncsn.h's API: every
# function declared NCSNDEF before the implementation, and nothing else (no ncsn__ private
# function, no helper a compiler or a stray non-static definition would add). make check-shared.
set -eu
lib=$1
hdr=${2:-ncsn.h}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
awk '/^#ifdef NCSN_IMPLEMENTATION/ { exit } /^NCSNDEF/' "$hdr" |
  sed -n 's/^NCSNDEF[^(]*[ *]\(ncsn_[a-z0-9_]*\)(.*/\1/p' | LC_ALL=C sort -u > "$tmp/api"
nm -D --defined-only "$lib" | awk '{ print $NF }' | LC_ALL=C sort -u > "$tmp/exported"
n_api=$(wc -l < "$tmp/api")
[ "$n_api" -ge 50 ] || { echo "exports: only $n_api API functions found in $hdr" >&2; exit 1; }
extra=$(LC_ALL=C comm -13 "$tmp/api" "$tmp/exported")
missing=$(LC_ALL=C comm -23 "$tmp/api" "$tmp/exported")
[ -z "$extra" ] || { echo "exports: FAIL: $lib exports symbols that are not ncsn.h's API:" >&2; echo "$extra" | sed 's/^/  /' >&2; }
[ -z "$missing" ] || { echo "exports: FAIL: $lib does not export these API functions:" >&2; echo "$missing" | sed 's/^/  /' >&2; }
[ -z "$extra$missing" ] || exit 1
echo "exports: ok: $lib exports exactly the $n_api API functions of $hdr (no ncsn__ private symbol, nothing else)"
