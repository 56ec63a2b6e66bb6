#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
# The library and every public header compile for aarch64 (clang, Debian's
# arm64 cross headers from libc6-dev-arm64-cross), and the spin hint there is
# the ARM one. A syntax check: nothing is run.
set -euo pipefail
root=$1 clang=${2:-clang}
sysinc=/usr/aarch64-linux-gnu/include
[ -d "$sysinc" ] || { echo "arm64_syntax: $sysinc missing (scripts/deps installs libc6-dev-arm64-cross)"; exit 1; }
flags=(--target=aarch64-linux-gnu -isystem "$sysinc" -std=c11 -D_GNU_SOURCE -DLFP_BUILDING
       -I"$root/include" -I"$root/src" -Wall -Wextra -Wpedantic -Werror)
n=0
for f in "$root"/src/*.c "$root"/src/locked/*.c; do
  "$clang" "${flags[@]}" -fsyntax-only "$f"; n=$((n + 1))
done
echo '#include <lfpat.h>' | "$clang" "${flags[@]}" -fsyntax-only -x c -
# The spin hint compiled for arm64 is ISB, not nothing.
# (The assembly is read whole first: grep -q closing the pipe early would
# kill clang with SIGPIPE and fail the pipeline.)
asm=$("$clang" "${flags[@]}" -S -O2 -o - "$root/src/park.c")
grep -qw isb <<<"$asm" || { echo "arm64_syntax: lfp_spin_pause has no ISB on aarch64"; exit 1; }
echo "arm64_syntax: $n sources and lfpat.h compile for aarch64; spin hint is ISB"
