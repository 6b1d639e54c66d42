#!/bin/sh
# mk/install.sh install|uninstall|files - `make install` and `make uninstall` (mk/install.mk sets
# the environment: DESTDIR, prefix, bindir, includedir, pkgconfigdir, cmakedir, man1dir,
# manifestdir, NCSN_VERSION, NCSN_CLI (the built command), NCSN_MAN (the built man page)).
#
# The installed files are one fixed list (`files` prints it), so uninstall removes exactly them,
# whether or not anything else is in the prefix. The directories install had to create are
# written to a manifest ($manifestdir/install-manifest); uninstall removes those of them that are
# empty afterwards, and only those: a directory that existed before the install stays, even if
# empty. The manifest is a file, so it is not trusted: a directory it names is removed only if it
# is one of the directories this list of files lives in (or their parents), and only if empty.
set -eu
what=${1:-}
for v in prefix bindir includedir pkgconfigdir cmakedir man1dir manifestdir NCSN_VERSION; do
  eval "val=\${$v:-}"
  [ -n "$val" ] || { echo "install.sh: $v is not set (run it through make install)" >&2; exit 2; }
done
case "${DESTDIR:-}$prefix$bindir$includedir$pkgconfigdir$cmakedir$man1dir$manifestdir" in
  *[[:space:]]*) echo "install.sh: DESTDIR and the install directories must not contain white space" >&2; exit 2;;
esac
for v in prefix bindir includedir pkgconfigdir cmakedir man1dir manifestdir; do
  eval "val=\$$v"
  case "$val" in /*) ;; *) echo "install.sh: $v = '$val' must be an absolute path" >&2; exit 2;; esac
done
D=${DESTDIR:-}
D=${D%/}
manifest=$manifestdir/install-manifest

# the installed files, without DESTDIR
files() {
  printf '%s\n' "$includedir/ncsn.h" "$bindir/ncsn" "$man1dir/ncsn.1" "$pkgconfigdir/ncsn.pc" \
    "$cmakedir/ncsnConfig.cmake" "$cmakedir/ncsnConfigVersion.cmake" "$manifest"
}

# every directory a file lives in and each parent up to the root, deepest first (without DESTDIR)
candidate_dirs() {
  files | while read -r f; do
    d=$(dirname "$f")
    while [ "$d" != / ] && [ "$d" != . ]; do echo "$d"; d=$(dirname "$d"); done
  done | sort -u | awk '{ print length($0) " " $0 }' | sort -rn | cut -d' ' -f2-
}

# mkdir -p that prints each directory it creates (without DESTDIR), parents first; DESTDIR itself
# is made if missing but not listed (a staging directory is the packager's)
make_dir() {
  d=$1 missing=
  [ -z "$D" ] || mkdir -p "$D"
  while [ "$d" != / ] && [ ! -d "$D$d" ]; do missing="$d $missing"; d=$(dirname "$d"); done
  for m in $missing; do mkdir "$D$m"; echo "$m"; done
}

# the path of directory $2 relative to directory $1 (both absolute; no realpath -m on BSD or macOS)
relative() {
  common=$1 up=
  while [ "$common" != / ] && [ "${2#"$common"/}" = "$2" ] && [ "$2" != "$common" ]; do
    common=$(dirname "$common") up="../$up"
  done
  if [ "$2" = "$common" ]; then rest=; elif [ "$common" = / ]; then rest=${2#/}; else rest=${2#"$common"/}; fi
  r="$up$rest"; r=${r%/}
  echo "${r:-.}"
}

# a template with @NCSN_VERSION@ etc. replaced
subst() {
  major=${NCSN_VERSION%%.*} rest=${NCSN_VERSION#*.}
  minor=${rest%%.*}
  inc_rel=$(relative "$cmakedir" "$includedir")
  sed -e "s|@NCSN_VERSION@|$NCSN_VERSION|g" -e "s|@NCSN_VERSION_MAJOR@|$major|g" \
      -e "s|@NCSN_VERSION_MINOR@|$minor|g" -e "s|@NCSN_INCLUDE_REL@|$inc_rel|g" "$1"
}

pc_file() {
  case "$includedir" in "$prefix"/*) pc_includedir="\${prefix}/${includedir#"$prefix"/}";; *) pc_includedir=$includedir;; esac
  cat <<EOF
# ncsn.pc - ncsn.h, a single-header C99 library: define NCSN_IMPLEMENTATION in one source file.
prefix=$prefix
includedir=$pc_includedir

Name: ncsn
Description: Noise Conditional Score Networks (Song & Ermon 2019) in one C header
Version: $NCSN_VERSION
Cflags: -I\${includedir}
Libs: -lm -lpthread
EOF
}

do_install() {
  for f in "${NCSN_CLI:-}" "${NCSN_MAN:-}"; do
    [ -n "$f" ] && [ -f "$f" ] || { echo "install.sh: NCSN_CLI and NCSN_MAN must name the built command and man page" >&2; exit 2; }
  done
  tmp=$(mktemp -d)
  trap 'rm -rf "$tmp"' EXIT
  # directories created now, and those an earlier install created (kept in its manifest)
  : > "$tmp/created"
  [ -f "$D$manifest" ] && sed -n 's/^dir //p' "$D$manifest" >> "$tmp/created"
  for d in "$includedir" "$bindir" "$man1dir" "$pkgconfigdir" "$cmakedir" "$manifestdir"; do make_dir "$d" >> "$tmp/created"; done
  install -m 644 ncsn.h "$D$includedir/ncsn.h"
  install -m 755 "$NCSN_CLI" "$D$bindir/ncsn"
  install -m 644 "$NCSN_MAN" "$D$man1dir/ncsn.1"
  pc_file > "$tmp/ncsn.pc"
  install -m 644 "$tmp/ncsn.pc" "$D$pkgconfigdir/ncsn.pc"
  subst cmake/ncsnConfig.cmake.in > "$tmp/ncsnConfig.cmake"
  subst cmake/ncsnConfigVersion.cmake.in > "$tmp/ncsnConfigVersion.cmake"
  install -m 644 "$tmp/ncsnConfig.cmake" "$tmp/ncsnConfigVersion.cmake" "$D$cmakedir/"
  {
    echo "# ncsn.h $NCSN_VERSION: what \`make install\` installed (\`make uninstall\` removes it)"
    files | sed 's/^/file /'
    sort -u "$tmp/created" | sed 's/^/dir /'
  } > "$tmp/manifest"
  install -m 644 "$tmp/manifest" "$D$manifest"
  files | sed "s|^|installed $D|"
}

do_uninstall() {
  created=$(mktemp)
  trap 'rm -f "$created"' EXIT
  if [ -f "$D$manifest" ]; then
    sed -n 's/^dir //p' "$D$manifest" > "$created"
  else   # no manifest: only the directories no one else uses
    printf '%s\n' "$cmakedir" "$manifestdir" > "$created"
    echo "uninstall: no $D$manifest; removing the files and only $cmakedir and $manifestdir if empty" >&2
  fi
  files | while read -r f; do
    if [ -e "$D$f" ] || [ -L "$D$f" ]; then rm -f "$D$f" && echo "removed $D$f"; fi
  done
  candidate_dirs | while read -r d; do
    grep -qxF "$d" "$created" || continue
    [ -d "$D$d" ] && [ -z "$(ls -A "$D$d")" ] && rmdir "$D$d" && echo "removed $D$d/"
    true
  done
}

case "$what" in
  install) do_install;;
  uninstall) do_uninstall;;
  files) files;;
  *) echo "usage: install.sh install|uninstall|files (through make install / make uninstall)" >&2; exit 2;;
esac
