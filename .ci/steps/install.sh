#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# CI step: the library as the README installs it. `meson install` into a
# scratch root, then two programs built from nothing but the installed
# headers, libraries and pkg-config files:
#   install/async        an example on virtual time: pkg-config async
#   install/async-posix  the to_thread example: pkg-config async-posix,
#                        with <async/posix.h>
# Each passes iff it builds and its output equals the example's .expected.
# One line per program goes to .ci/out/install.json (meson's testlog format).
set -uo pipefail
cd "$(dirname "$0")/../.." || exit 1
top=$PWD
out=.ci/out
log=$out/install.json
mkdir -p "$out"
: >"$log"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# shellcheck source=../testlog.sh
. .ci/testlog.sh

if ! meson setup "$work/build" --prefix=/usr --buildtype=release \
     >"$work/setup.log" 2>&1 ||
   ! DESTDIR="$work/root" meson install -C "$work/build" \
     >"$work/install.log" 2>&1; then
  cat "$work/setup.log" "$work/install.log" >"$work/fail.log" 2>/dev/null
  record install/meson FAIL "$work/fail.log"
  exit 1
fi

export PKG_CONFIG_SYSROOT_DIR="$work/root"
PKG_CONFIG_PATH=$(dirname "$(find "$work/root" -name async.pc | head -1)")
export PKG_CONFIG_PATH

# try NAME PKG EXAMPLE: build examples/EXAMPLE.c the way an installed
# user would (angle-bracket includes) and compare its output.
try() {
  local name=$1 pkg=$2 example=$3
  local res=$work/$name.res
  sed -e 's|#include "async.h"|#include <async.h>|' \
      -e 's|#include "posix.h"|#include <async/posix.h>|' \
      "examples/$example.c" >"$work/$example.c"
  # shellcheck disable=SC2046 # pkg-config's output is a word list
  if ! gcc -std=c99 -Wall -Wextra -Werror -I"$top/examples" \
       "$work/$example.c" $(pkg-config --cflags --libs "$pkg") \
       -o "$work/$example" >"$res" 2>&1; then
    record "install/$name" FAIL "$res"
    return
  fi
  if timeout -k 5 60 "$work/$example" >"$work/$example.out" 2>&1 &&
     cmp -s "$work/$example.out" "examples/$example.expected"; then
    record "install/$name" OK "$work/$example.out"
  else
    diff "examples/$example.expected" "$work/$example.out" >>"$res"
    record "install/$name" FAIL "$res"
  fi
}

try async async hello
try async-posix async-posix to_thread
[ "$failed" -eq 0 ]
