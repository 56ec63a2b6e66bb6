#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
# stress/models/run.sh — model-check lfpat's core handshakes with spin.
#
# For each model: spin -a generates the verifier, gcc compiles pan, pan
# searches the whole state space. "safety" checks assertions and invalid end
# states (a process blocked forever = a lost wake-up or a parked waiter);
# "progress" searches for non-progress cycles under weak fairness.
# Negative controls (expect "error") are the same models with a known bug
# switched on: the run fails if spin does NOT find it.
#
# Usage: stress/models/run.sh            exit status 0 iff every line is as expected
# Needs: spin, a C compiler (cc or $CC). Takes well under a minute here.
set -u
here=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d "${TMPDIR:-/tmp}/lfp-models.XXXXXX")
trap 'rm -rf "$work"' EXIT INT TERM
cc=${CC:-cc}
status=0

command -v spin >/dev/null 2>&1 || { echo "models: spin not installed (apt-get install spin)"; exit 1; }

# check MODEL MODE EXPECT [-DDEFINE...]
check() {
    model=$1 mode=$2 expect=$3
    shift 3
    dir="$work/$model$(echo "$*" | tr -c 'A-Za-z0-9\n' '_')-$mode"
    mkdir -p "$dir"
    start=$(date +%s)
    if ! (cd "$dir" && spin -a "$@" "$here/$model.pml" >spin.log 2>&1); then
        printf '%-12s %-10s %-14s %-6s %s\n' "$model" "$mode" "${*:-(as built)}" FAIL "spin -a failed:"
        cat "$dir/spin.log"; status=1; return
    fi
    case $mode in
        safety)   cflags=-DSAFETY run="./pan -m1000000" ;;
        progress) cflags=-DNP     run="./pan -m1000000 -l -f" ;;
    esac
    if ! (cd "$dir" && $cc -O2 $cflags -o pan pan.c >cc.log 2>&1); then
        printf '%-12s %-10s %-14s %-6s %s\n' "$model" "$mode" "${*:-(as built)}" FAIL "pan did not compile"
        cat "$dir/cc.log"; status=1; return
    fi
    (cd "$dir" && $run >pan.log 2>&1)
    errors=$(sed -n 's/.*errors: \([0-9]*\).*/\1/p' "$dir/pan.log" | head -1)
    states=$(sed -n 's/^ *\([0-9.e+]*\) states, stored.*/\1/p' "$dir/pan.log" | head -1)
    what=$(grep -m1 -E 'assertion violated|invalid end state|non-progress cycle|acceptance cycle' "$dir/pan.log" | sed 's/^pan:[0-9]*: *//; s/ (at depth.*//')
    truncated=$(grep -c 'max search depth too small' "$dir/pan.log")
    secs=$(( $(date +%s) - start ))
    if [ -z "$errors" ]; then
        verdict=FAIL note="pan gave no verdict"
    elif [ "$truncated" -ne 0 ]; then
        verdict=FAIL note="search depth too small"
    elif [ "$expect" = ok ] && [ "$errors" -eq 0 ]; then
        verdict=ok note="no error in $states states"
    elif [ "$expect" = error ] && [ "$errors" -gt 0 ]; then
        verdict=ok note="control fired: $what"
    elif [ "$expect" = ok ]; then
        verdict=FAIL note="ERROR: $what (trail in $dir)"
    else
        verdict=FAIL note="control did NOT fire ($states states)"
    fi
    [ "$verdict" = ok ] || status=1
    printf '%-12s %-10s %-14s %-6s %3ss  %s\n' "$model" "$mode" "${*:-(as built)}" "$verdict" "$secs" "$note"
    if [ "$verdict" = FAIL ] && [ "$expect" = ok ]; then
        (cd "$dir" && spin -t -p "$@" "$here/$model.pml" 2>&1 | tail -40)
    fi
}

printf '%-12s %-10s %-14s %-6s %4s  %s\n' model check variant result time detail
check eventcount safety   ok
check eventcount safety   error -DNOFENCE
check once       safety   ok
check once       safety   error -DSTOREDONE
check once       safety   error -DRETRYRUNNING
check sem_cancel safety   ok
check sem_cancel safety   error -DLEAK
check sem_cancel safety   error -DNOHEADGRANT
check sem_signal safety   ok
check sem_signal safety   ok    -DGMAX=2
check sem_signal safety   error -DNOCHAIN
check sem_signal safety   error -DLEAKSIGNAL -DGMAX=2
check sem_signal safety   ok    -DLIFETIME
check sem_signal safety   ok    -DLIFETIME -DGMAX=2
check sem_signal safety   error -DLIFETIME -DUNCOUNTED
check sem_signal safety   error -DLIFETIME -DSTATSAFTER
check mpmc_cell  safety   ok
check seqlock    safety   ok
check seqlock    safety   error -DOFFBYONE
check seqlock    safety   error -DONECOPY
check seqlock    safety   error -DNOMARK
check seqlock    safety   error -DABORTUP
check mpmc_cell  progress ok
check mpmc_cell  safety   error -DNOSEQ
check mpmc_wake  safety   ok
check mpmc_wake  safety   error -DPREFIX
check mpmc_wake  safety   ok    -DCLOSE
check mpmc_wake  safety   error -DCLOSE -DNOEPIPEPASS
check ppq_claim  safety   ok
check ppq_claim  safety   error -DRELAXEDHEAD
check ppq_wake   safety   ok
check ppq_wake   safety   ok    -DCLOSE
check ppq_wake   safety   error -DCURSORONLY
check ppq_wake   safety   error -DCLOSE -DNOPENDING
check ppq_wake   safety   error -DCLOSE -DNOWITHDRAWNOTIFY
check ppq_wake   safety   error -DCLOSE -DNOPASS
check spsc_close safety   ok
check spsc_close safety   ok    -DBATCH
check spsc_close safety   error -DLATEANNOUNCE
check spsc_close safety   error -DPUBLISHONE
check spsc_close safety   error -DNOWITHDRAWNOTIFY
check spsc_close safety   ok    -DPHANTOM
check spsc_close safety   ok    -DPHANTOM -DBATCH
check spsc_close safety   error -DPHANTOM -DOVERDISCOUNT
check rwlock     safety   ok
check rwlock     safety   error -DNORECHECK
check rwlock     safety   error -DNODRAINNOTIFY
check rwlock     safety   error -DNOLEAVENOTIFY
check rwlock     safety   error -DCLEARONGIVEUP
check rwlock     safety   error -DNOUNDONOTIFY
check rwlock     safety   ok    -DSPLITNOTIFY
check rwlock     safety   ok    -DDOWNGRADE -DSPLITNOTIFY
check rwlock     safety   error -DDOWNGRADE -DNODOWNNOTIFY
check rwlock     safety   ok    -DTWOPATIENT -DSPLITNOTIFY
check snap       safety   ok
check snap       safety   ok    -DTIMEOUT
check snap       safety   error -DNOBARRIER
check snap       safety   error -DWEAKENTRY
check snap       safety   error -DTIMEOUT -DNORECLAIM
check snap       safety   ok    -DQSBR
check snap       safety   ok    -DQSBR -DTIMEOUT
check snap       safety   error -DQSBR -DNOBARRIER
check snap       safety   error -DQSBR -DQEARLY
check snap       safety   error -DQSBR -DQAHEAD

if [ $status -eq 0 ]; then echo "models: all as expected"; else echo "models: FAILED"; fi
exit $status
