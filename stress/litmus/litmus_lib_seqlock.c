/* SPDX-License-Identifier: BSD-2-Clause */
/* Litmus: lfp_seqlock's retry, with the library's own code
 * (include/lfpat/seqlock.h, include/lfpat/internal/seqlock.h,
 * src/seqlock.c). A writer keeps writing a value of WORDS 64-bit words
 * whose every word is the write's number m (so version m carries words all
 * equal to m); a reader keeps reading and classifies each snapshot:
 *   consistent   every word equals the version the read returned
 *   mixed        words of different writes (or a version that does not
 *                match the words) — forbidden for the library's read
 * Not round-based: the two threads run their loops side by side, as in
 * litmus_torn.c; the value is large (WORDS words) so that one read spans
 * writes.
 *
 * Checked: lfp_seqlock_read_version against lfp_seqlock_write, and against
 * lfp_seqlock_write_begin + commit; and the reader's code (a copy of
 * lfp_seqlock_attempt_) held in the middle of its copy until one write
 * completed, so that the next write overwrites the copy it is reading —
 * the two-copy window itself — against lfp_seqlock_write.
 * Controls (copies of the library code with one thing removed; each must
 * show mixed snapshots):
 *   no retry      the reader accepts its first attempt (no validation);
 *   no acquire fence, made explicit: the reader's second load of seq done
 *                 before the data loads, the reordering the fence forbids
 *                 (x86 keeps loads in order in hardware, so merely deleting
 *                 the fence would not show it there);
 *   no release fence, made explicit: the writer's data stores done before
 *                 its start marker, the reordering the fence forbids (x86
 *                 keeps stores in order, as above);
 *   no start marker: the writer fills its copy without first moving seq to
 *                 odd; readers of the copy it overwrites cannot notice.
 */
#include <sched.h>
#include <stdatomic.h>
#include <string.h>

#include "litmus.h"
#include "lfpat/seqlock.h"

#define WORDS 128

enum { CHECKED_WRITE, CHECKED_BEGIN, CHECKED_SLOW, NO_RETRY, NO_ACQ_FENCE, NO_REL_FENCE, NO_MARKER, NCASES };

static const char *const names[NCASES] = {
    "seqlock read || write", "seqlock read || begin+commit",
    "seqlock read held for a write || write", "seqlock no retry",
    "seqlock second seq load first", "seqlock data stores first", "seqlock no start marker",
};

static lfp_seqlock sl;
static _Atomic bool writing;
static _Atomic bool enough;
static uint64_t mixed_seen[NCASES], reads[NCASES];   /* reader-owned */

static bool is_control(int which) { return which >= NO_RETRY; }

/* ---- the controls' copies of the library code, one thing changed (the
 * reader of the writer's controls is the library's reader, slowed down in
 * the middle of its copy) */

static uint64_t ctl_read(const lfp_seqlock *s, uint64_t *out, int which)
{
    bool hold = which == CHECKED_SLOW || which == NO_REL_FENCE || which == NO_MARKER;
    for (;; hold = false) {
        /* acquire: as lfp_seqlock_attempt_. */
        uint64_t s1 = atomic_load_explicit(&s->seq, memory_order_acquire);
        uint64_t n = s1 >> 1, s2 = s1;
        if (which == NO_ACQ_FENCE)   /* relaxed: deliberately before the data */
            s2 = atomic_load_explicit(&s->seq, memory_order_relaxed);
        if (hold) {   /* the first attempt only, so that reads still complete */
            /* CHECKED_SLOW and the writer's controls: a reader preempted in the middle of
             * its copy for as long as one write takes (a bounded spin until
             * seq moved on by one write), so that the next write overlaps
             * the rest of its copy */
            lfp_seqlock_load_words_(s->copy[n & 1], out, s->size / 2);
            for (int k = 0; k < 100000; k++) {   /* relaxed: a timing aid only */
                if (atomic_load_explicit(&s->seq, memory_order_relaxed) >= (s1 | 1) + 1)
                    break;
                if (k % 64 == 63)
                    sched_yield();   /* the writer may be waiting for this CPU */
            }
            lfp_seqlock_load_words_(s->copy[n & 1] + WORDS / 2, out + WORDS / 2, s->size / 2);
        } else {
            lfp_seqlock_load_words_(s->copy[n & 1], out, s->size);
        }
#if !LFP_TSAN   /* TSan: the data loads are acquire instead (internal/seqlock.h) */
        atomic_thread_fence(memory_order_acquire);
#endif
        if (which != NO_ACQ_FENCE)   /* relaxed: ordered by the fence */
            s2 = atomic_load_explicit(&s->seq, memory_order_relaxed);
        if (which == NO_RETRY || lfp_seqlock_valid_(s1, s2))
            return n;
    }
}

static void ctl_store(lfp_seqlock *s, size_t copy, uint64_t v)
{
    for (size_t i = 0; i < WORDS; i++)   /* relaxed: the data words, as store_words */
        atomic_store_explicit(&s->copy[copy][i], v, memory_order_relaxed);
}

/* lfp_seqlock_write minus the lock (one writer) and with the change. */
static void ctl_write(lfp_seqlock *s, int which)
{
    /* relaxed: the only writer. */
    uint64_t q = atomic_load_explicit(&s->seq, memory_order_relaxed);
    uint64_t m = (q >> 1) + 1;
    if (which == NO_REL_FENCE)
        ctl_store(s, m & 1, m);
    if (which != NO_MARKER) {
        /* release: as open_write. */
        atomic_store_explicit(&s->seq, q + 1, memory_order_release);
#if !LFP_TSAN   /* TSan: no fences; the control is about the order anyway */
        atomic_thread_fence(memory_order_release);
#endif
    }
    if (which != NO_REL_FENCE)
        ctl_store(s, m & 1, m);
    /* release: as close_write. */
    atomic_store_explicit(&s->seq, q + 2, memory_order_release);
}

/* ---- the two loops */

static void write_loop(int which)
{
    int64_t stretch = is_control(which) ? LITMUS_CONTROL_STRETCH : 1;
    int64_t end = lfp_now() + stretch * lfps_cfg.budget_ns;
    uint64_t max = (uint64_t)stretch * lfps_scale(UINT64_C(1) << 32), i = 0;   /* time-bound */
    uint64_t v[WORDS], b[WORDS];
    for (; i < max && !atomic_load(&enough) && ((i & 63) || lfp_now() < end); i++) {
        for (size_t k = 0; k < WORDS; k++)
            v[k] = i + 1;   /* write i + 1 produces version i + 1 */
        if (which == CHECKED_WRITE || which == CHECKED_SLOW) {
            LFPS_CHECK(lfp_seqlock_write(&sl, v, LFP_FOREVER, NULL) == 0, "write");
        } else if (which == CHECKED_BEGIN) {
            LFPS_CHECK(lfp_seqlock_write_begin(&sl, b, LFP_FOREVER, NULL) == 0, "begin");
            LFPS_CHECK(b[0] == i && b[WORDS - 1] == i, "begin copied %llu", (unsigned long long)b[0]);
            for (size_t k = 0; k < WORDS; k++)
                b[k] += 1;
            LFPS_CHECK(lfp_seqlock_write_commit(&sl, b) == 0, "commit");
        } else {
            ctl_write(&sl, which == NO_REL_FENCE || which == NO_MARKER ? which : CHECKED_WRITE);
        }
    }
    lfps_ops(i);
    atomic_store(&writing, false);
}

static void read_loop(int which)
{
    uint64_t v[WORDS];
    while (atomic_load(&writing)) {
        uint64_t version;
        if (is_control(which) || which == CHECKED_SLOW)
            version = ctl_read(&sl, v, which);
        else
            lfp_seqlock_read_version(&sl, v, &version);
        bool mixed = false;
        for (size_t k = 0; k < WORDS; k++)
            mixed |= v[k] != version;
        reads[which]++;
        mixed_seen[which] += mixed;
        if (is_control(which) && mixed_seen[which] >= LITMUS_CONTROL_ENOUGH)
            atomic_store(&enough, true);
    }
}

static void worker(lfps_thread *t)
{
    int which = *(int *)t->arg;
    if (t->id == 0)
        write_loop(which);
    else
        read_loop(which);
}

static void run(int which)
{
    LFPS_CHECK(lfp_seqlock_init(&sl, sizeof(uint64_t) * WORDS, NULL) == 0, "init");
    atomic_store(&writing, true);
    atomic_store(&enough, false);
    lfps_run(2, worker, &which);
    lfp_seqlock_destroy(&sl);
    printf("  %-34s [%llu reads]\n    consistent %21llu\n    mixed      %21llu%s\n",
           names[which], (unsigned long long)reads[which],
           (unsigned long long)(reads[which] - mixed_seen[which]),
           (unsigned long long)mixed_seen[which],
           is_control(which) ? "  <- control" : "  <- forbidden");
    if (is_control(which)) {
        printf("    control %s: %s (%llu of %llu reads)\n", names[which],
               mixed_seen[which] ? "fired" : "did NOT fire",
               (unsigned long long)mixed_seen[which], (unsigned long long)reads[which]);
    } else {
        LFPS_CHECK(mixed_seen[which] == 0 && reads[which] > 0, "%s: %llu mixed snapshots",
                   names[which], (unsigned long long)mixed_seen[which]);
        printf("    checked %s: %s\n", names[which], mixed_seen[which] ? "MIXED SEEN" : "ok");
    }
}

int main(void)
{
    lfps_init("litmus_lib_seqlock");
    for (int which = 0; which < NCASES; which++)
        run(which);
    return lfps_finish();
}
