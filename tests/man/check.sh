#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
# The generated man pages: one for every public LFP_API call of every header,
# and `man lfp_mpmc_pop` gives the contract (codes, progress, ordering).
set -euo pipefail
man3=$1 inc=$2
missing=0
for name in $(grep -ho 'LFP_API[^;(]*(' "$inc"/*.h "$inc"/locked/*.h |
              sed -nE 's/.*\b(lfp_[a-z0-9_]+) *\($/\1/p' | grep -v '_$' | sort -u); do
  [ -f "$man3/$name.3" ] || { echo "no man page for $name"; missing=$((missing + 1)); }
done
page=$(MANWIDTH=200 man -l "$man3/lfp_mpmc_pop.3" 2>/dev/null)
for word in ETIMEDOUT ECANCELED Progress happens-before '#include <lfpat/mpmc.h>'; do
  grep -qF -- "$word" <<<"$page" || { echo "lfp_mpmc_pop(3) lacks '$word'"; missing=$((missing + 1)); }
done
# The license line is no page's text (every header starts with it).
for page in $(grep -l 'SPDX-License-Identifier' "$man3"/*.3); do
  echo "${page##*/} shows the SPDX line as documentation"; missing=$((missing + 1))
done
[ $missing -eq 0 ] || exit 1
echo "man_pages: $(ls "$man3" | wc -l) pages, every LFP_API call has one"
