#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
# Every public header (include/lfpat/, its locked/ twins and internal/ layer)
# compiles, warning-free (-Wcast-qual included), as C11/C17/C2x (gcc, clang) and
# as C++17/20/23 (g++, clang++), alone and with the language's own atomics and
# threads headers included before and after it; and the inline fast paths
# compile to the same atomic instructions in C and in C++ (x86-64). A
# compiler or standard that is not installed is skipped with a message.
#   check.sh SOURCE_DIR
set -euo pipefail
root=$1
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
# -Wcast-qual: a const getter reads its object without casting const away
# (atomic loads take a pointer to const: C17 DR 459, C++ std::atomic).
warn=(-Wall -Wextra -Wpedantic -Wcast-qual -Werror)

# One translation unit including every public header.
{ echo '#include <lfpat.h>'
  for h in "$root"/include/lfpat/*.h "$root"/include/lfpat/*/*.h; do
    echo "#include <${h#"$root"/include/}>"
  done
} >"$tmp/all.h"
# C: <stdatomic.h>/<threads.h> are C's <atomic>/<thread>.
printf '#include "all.h"\n' >"$tmp/c_alone.c"
printf '#include <stdatomic.h>\n#include <threads.h>\n#include "all.h"\n' >"$tmp/c_before.c"
printf '#include "all.h"\n#include <stdatomic.h>\n#include <threads.h>\n' >"$tmp/c_after.c"
printf '#include "all.h"\n' >"$tmp/cxx_alone.cpp"
printf '#include <atomic>\n#include <thread>\n#include "all.h"\n' >"$tmp/cxx_before.cpp"
printf '#include "all.h"\n#include <atomic>\n#include <thread>\n' >"$tmp/cxx_after.cpp"

n=0 skipped=0
# compile COMPILER STD FILE...: each file, syntax only, warnings as errors.
compile() {
  local cc=$1 std=$2; shift 2
  for f in "$@"; do
    "$cc" "-std=$std" "${warn[@]}" -I"$root/include" -I"$tmp" -fsyntax-only "$f"
    n=$((n + 1))
  done
}
# first_std COMPILER LANG STD...: the first spelling of a standard it accepts.
first_std() {
  local cc=$1 lang=$2; shift 2
  for s in "$@"; do
    if echo 'int x;' | "$cc" "-std=$s" -x "$lang" -fsyntax-only - 2>/dev/null; then
      echo "$s"; return
    fi
  done
}
for cc in gcc clang; do
  command -v "$cc" >/dev/null || { echo "cxx_headers: $cc not installed, skipped"; skipped=$((skipped + 1)); continue; }
  for want in "c11" "c17" "c2x c23"; do
    std=$(first_std "$cc" c $want)
    [ -n "$std" ] || { echo "cxx_headers: $cc has no -std=${want%% *}, skipped"; skipped=$((skipped + 1)); continue; }
    compile "$cc" "$std" "$tmp"/c_*.c
  done
done
for cxx in g++ clang++; do
  command -v "$cxx" >/dev/null || { echo "cxx_headers: $cxx not installed, skipped"; skipped=$((skipped + 1)); continue; }
  for want in "c++17" "c++20" "c++23 c++2b"; do
    std=$(first_std "$cxx" c++ $want)
    [ -n "$std" ] || { echo "cxx_headers: $cxx has no -std=${want%% *}, skipped"; skipped=$((skipped + 1)); continue; }
    compile "$cxx" "$std" "$tmp"/cxx_*.cpp
  done
done

# Each header alone (its own includes suffice), as C11 and as C++17.
for h in "$root"/include/lfpat/*.h "$root"/include/lfpat/*/*.h; do
  r=${h#"$root"/include/}
  printf '#include <%s>\n' "$r" >"$tmp/alone.c"
  cp "$tmp/alone.c" "$tmp/alone.cpp"
  for pair in "gcc c11 alone.c" "g++ c++17 alone.cpp"; do
    set -- $pair
    command -v "$1" >/dev/null || continue
    "$1" "-std=$2" "${warn[@]}" -I"$root/include" -fsyntax-only "$tmp/$3" ||
      { echo "cxx_headers: <$r> does not compile alone ($1 -std=$2)"; exit 1; }
    n=$((n + 1))
  done
done

# The fast paths: per function, the sequence of atomic instructions (locked
# RMWs, xchg, fences) must be the same in C and in C++ for each compiler.
atomics() {  # atomics COMPILER LANG STD: "function: atomic instructions" lines
  "$1" -x "$2" "-std=$3" -O2 -S -fno-asynchronous-unwind-tables -I"$root/include" \
       -o - "$root/tests/cxx/fastpath.c" |
    awk '/^fp_[a-z_]*:/ { if (f) print f ":" a; f = $1; a = "" }
         /^[a-zA-Z_.][a-zA-Z0-9_.]*:/ && !/^fp_/ && !/^\.L/ { if (f) print f ":" a; f = "" }
         f && /^\t(lock|xchg|mfence|lfence|sfence)/ { a = a " " $1 ($1 == "lock" ? "_" $2 : "") }
         END { if (f) print f ":" a }'
}
if [ "$(uname -m)" = x86_64 ]; then
  for pair in "gcc g++" "clang clang++"; do
    set -- $pair
    command -v "$1" >/dev/null && command -v "$2" >/dev/null || continue
    atomics "$1" c c11 >"$tmp/fp_c"
    atomics "$2" c++ c++17 >"$tmp/fp_cxx"
    [ -s "$tmp/fp_c" ] || { echo "cxx_headers: no fast-path functions found in $1 output"; exit 1; }
    if ! diff "$tmp/fp_c" "$tmp/fp_cxx"; then
      echo "cxx_headers: the fast paths' atomic instructions differ between $1 and $2"; exit 1
    fi
    n=$((n + 1))
  done
else
  echo "cxx_headers: fast-path comparison needs x86-64, skipped"
fi
echo "cxx_headers: $n checks, 0 failures ($skipped compilers/standards skipped)"
