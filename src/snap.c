/* SPDX-License-Identifier: BSD-2-Clause */
/* lfp_snap: grace periods over per-thread reader cells (include/lfpat/snap.h
 * has the protocol and its argument). */
#include "lfpat/snap.h"

#include "fork.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

struct lfp_snap_retired_ {
    lfp_snap_retired_ *next;
    void *version;
    uint64_t t;           /* the grace-period number of the publish that retired it */
    bool waited;          /* a publish/update is waiting to free it itself (lock) */
};

lfp_snap_domain_ lfp_snap_dom_ = { .gp = 1 };
LFP_THREAD_LOCAL lfp_snap_cell_ *lfp_snap_self_;

/* A thread without a cell (slot beyond NCELLS, or no memory for its chunk)
 * counts itself in dom.shared_readers instead; its nesting depth is here. */
static LFP_THREAD_LOCAL uint32_t shared_nest;
static LFP_THREAD_LOCAL bool shared_mode;

/* The cells: chunks of CHUNK cells allocated on first use, never freed (a
 * later thread with the same slot reuses the cell). hwm bounds the scan. */
#define CHUNK 64u
#define NCHUNKS 1024u
#define NCELLS (CHUNK * NCHUNKS)   /* = lfp_thread_slot's dense slots */
static _Atomic(lfp_snap_cell_ *) chunks[NCHUNKS];
static _Atomic(unsigned) hwm;      /* 1 + the highest slot that has a cell */
static pthread_mutex_t reg_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_once_t dom_once = PTHREAD_ONCE_INIT;

/* fork: the registry lock is never held across fork (src/fork.c). */
void lfp_snap_fork_lock(void) { pthread_mutex_lock(&reg_lock); }
void lfp_snap_fork_unlock(void) { pthread_mutex_unlock(&reg_lock); }

static void dom_init(void)
{
    lfp_snap_dom_.asym = lfp_ec_init_asym(&lfp_snap_dom_.left);
}

/* ------------------------------------------------------------ readers */

static lfp_snap_cell_ *chunk_for(unsigned slot)
{
    /* acquire: pairs with the release store below; the chunk's zeroed cells
     * are visible. */
    lfp_snap_cell_ *chunk = atomic_load_explicit(&chunks[slot / CHUNK], memory_order_acquire);
    if (chunk)
        return chunk;
    pthread_mutex_lock(&reg_lock);
    /* relaxed: reg_lock orders it against the other allocator. */
    chunk = atomic_load_explicit(&chunks[slot / CHUNK], memory_order_relaxed);
    if (!chunk) {
        chunk = aligned_alloc(LFP_CACHELINE, CHUNK * sizeof *chunk);
        if (chunk) {
            memset(chunk, 0, CHUNK * sizeof *chunk);
            /* release: pairs with the acquire loads above and in cell_at. */
            atomic_store_explicit(&chunks[slot / CHUNK], chunk, memory_order_release);
        }
    }
    pthread_mutex_unlock(&reg_lock);
    return chunk;
}

/* The thread's first section: take the cell of its thread slot. Without
 * membarrier the cells' fence-free entry would be unsound: shared mode. */
static void take_cell(void)
{
    unsigned slot = lfp_thread_slot();
    lfp_snap_cell_ *chunk = slot < NCELLS && lfp_snap_dom_.asym ? chunk_for(slot) : NULL;
    if (!chunk) {
        shared_mode = true;
        return;
    }
    /* seq_cst: the raise is sequenced before this thread's first cell store,
     * so a writer whose barrier follows that store reads a bound covering it
     * (the snap.h argument, case b, applies to this store too). */
    unsigned h = atomic_load_explicit(&hwm, memory_order_seq_cst);
    while (h < slot + 1 &&
           !atomic_compare_exchange_weak_explicit(&hwm, &h, slot + 1, memory_order_seq_cst,
                                                  memory_order_seq_cst))
        ;
    lfp_snap_self_ = &chunk[slot % CHUNK];
}

/* The first section of a thread without a cell yet: take one (or fall
 * back to the shared count for good). */
static lfp_snap_cell_ *own_cell(void)
{
    if (!lfp_snap_self_ && !shared_mode)
        take_cell();
    return lfp_snap_self_;
}

/* Open a section on the shared count; false if too deep (not entered). */
static bool shared_open(void)
{
    if (shared_nest == UINT32_MAX)
        return false;
    /* seq_cst RMW: the reader's half of the SB shape against the writer's
     * seq_cst exchange of cur and its seq_cst load of shared_readers (after
     * its membarrier when there is one). */
    if (shared_nest++ == 0)
        atomic_fetch_add_explicit(&lfp_snap_dom_.shared_readers, 1, memory_order_seq_cst);
    return true;
}

static void shared_close(void)
{
    if (--shared_nest == 0) {
        /* release: pairs with the acquire load in gp_try (a release sequence
         * of RMWs): the section's reads happen-before the free. */
        atomic_fetch_sub_explicit(&lfp_snap_dom_.shared_readers, 1, memory_order_release);
        lfp_ec_notify_asym_(&lfp_snap_dom_.left, 0x7fffffff);
    }
}

void *lfp_snap_enter_slow_(lfp_snap *s)
{
    if (!s)
        return NULL;
    lfp_snap_cell_ *c = own_cell();
    if (c) {
        /* relaxed: the own cell. Too deep: not entered (lfp_snap_enter
         * sends this case here, so it must not go back). */
        uint64_t w = atomic_load_explicit(&c->word, memory_order_relaxed);
        return (w & LFP_SNAP_NEST_MAX_) == LFP_SNAP_NEST_MAX_ ? NULL : lfp_snap_enter(s);
    }
    if (!shared_open())
        return NULL;   /* too deep */
    /* seq_cst: the load half of that SB shape (it also acquires). */
    return atomic_load_explicit(&s->cur, memory_order_seq_cst);
}

int lfp_snap_offline_slow_(void)
{
    if (shared_nest == 0)
        return EPERM;
    shared_close();
    return 0;
}

int lfp_snap_leave_slow_(lfp_snap *s)
{
    if (!s)
        return EINVAL;
    return lfp_snap_self_ ? lfp_snap_close_(lfp_snap_self_) : lfp_snap_offline_slow_();
}

/* Online on the shared count: no cur load follows the RMW here, and the
 * lfp_snap_get loads after it are acquire, not seq_cst. */
static int shared_online(void)
{
    if (!shared_open())
        return EOVERFLOW;
#if !LFP_TSAN
    /* seq_cst fence: takes the place of enter's seq_cst cur load in the SB
     * shape. If the writer's exchange precedes it in the single total order,
     * every later get reads that version or a newer one; if it precedes the
     * writer's load of shared_readers, that load sees this thread counted.
     * (TSan checks the happens-before edges — the acquire get, the release
     * fetch_sub — not this order, and rejects the fence.) */
    atomic_thread_fence(memory_order_seq_cst);
#endif
    return 0;
}

int lfp_snap_online_slow_(void)
{
    lfp_snap_cell_ *c = own_cell();
    return c ? lfp_snap_open_(c) : shared_online();
}

/* The quiescent step on the shared count: a leave, then an online. A
 * writer sees the count drop only in that window, so while shared-mode
 * threads stay online their writers may wait until their deadlines (the
 * price of the fallback, documented in lfpat/snap.h). */
int lfp_snap_quiescent_slow_(void)
{
    if (shared_nest != 1)
        return shared_nest == 0 ? EPERM : EBUSY;
    shared_close();
    return shared_online();
}

static bool in_section(void)
{
    lfp_snap_cell_ *c = lfp_snap_self_;
    /* relaxed: the own cell. */
    return (c && atomic_load_explicit(&c->word, memory_order_relaxed)) || shared_nest;
}

/* ------------------------------------------------------------ grace periods */

/* W3: the writer's store-load barrier between its bump and its scan. Without
 * membarrier there are no cells and the shared count's accesses are all
 * seq_cst (lfpat/snap.h): nothing to add. */
static void writer_barrier(void)
{
    if (lfp_snap_dom_.asym)
        lfp_heavy_barrier_();
}

static lfp_snap_cell_ *cell_at(unsigned i)
{
    /* acquire: pairs with the release store in chunk_for. */
    lfp_snap_cell_ *chunk = atomic_load_explicit(&chunks[i / CHUNK], memory_order_acquire);
    return chunk ? &chunk[i % CHUNK] : NULL;
}

/* acquire: pairs with the release stores of the cell in lfp_snap_mark_ and
 * lfp_snap_leave: the reader's section before that store happens-before
 * whatever the writer frees next. */
static uint64_t cell_gp(unsigned i)
{
    lfp_snap_cell_ *c = cell_at(i);
    uint64_t w = c ? atomic_load_explicit(&c->word, memory_order_acquire) : 0;
    return w >> LFP_SNAP_NEST_BITS_;   /* 0: outside */
}

struct gp_wait {
    uint64_t t;          /* wait until no cell holds a value in (0, t) */
    unsigned next, end;  /* scan cursor: cells before next have passed */
};

/* Cells that passed stay passed: after the barrier a new entry reads gp >= t
 * (case a of the argument), so the cursor never goes back. */
static int gp_try(void *arg)
{
    struct gp_wait *w = arg;
    for (; w->next < w->end; w->next++) {
        uint64_t v = cell_gp(w->next);
        if (v != 0 && v < w->t)
            return EAGAIN;
    }
    /* seq_cst: the writer's load of the SB shape with shared-mode readers
     * (lfp_snap_enter_slow_); acquire pairs with their release fetch_sub. */
    return atomic_load_explicit(&lfp_snap_dom_.shared_readers, memory_order_seq_cst) ? EAGAIN : 0;
}

static int wait_gp(uint64_t t, int64_t deadline, lfp_cancel *cancel)
{
    writer_barrier();
    LFP_TEST_HOOK("snap.scan");
    /* seq_cst: read after the barrier; covers every thread whose entry the
     * barrier ordered (see take_cell). */
    struct gp_wait w = { t, 0, atomic_load_explicit(&hwm, memory_order_seq_cst) };
    if (gp_try(&w) == 0)
        return 0;
    return lfp_ec_await(&lfp_snap_dom_.left, gp_try, &w, deadline, cancel, false);
}

/* The smallest gp of any open section (UINT64_MAX if none, 0 if a thread
 * without a cell is inside): a version retired at t is safe iff t <= it. */
static uint64_t oldest_reader(void)
{
    unsigned end = atomic_load_explicit(&hwm, memory_order_seq_cst);  /* seq_cst: as in wait_gp */
    uint64_t min = UINT64_MAX;
    for (unsigned i = 0; i < end; i++) {
        uint64_t v = cell_gp(i);
        if (v != 0 && v < min)
            min = v;
    }
    /* seq_cst: as in gp_try. */
    if (atomic_load_explicit(&lfp_snap_dom_.shared_readers, memory_order_seq_cst))
        min = 0;
    return min;
}

/* ------------------------------------------------------------ retire list */

/* Free the pending versions retired at t <= safe (free_fn outside the lock),
 * except those a waiting publish frees itself: own is the caller's (NULL
 * for none). A publish that returns 0 has then run free_fn on its old
 * version, as its contract says; had another caller taken it, free_fn could
 * still be running when the publish returned. */
static void free_upto(lfp_snap *s, uint64_t safe, const lfp_snap_retired_ *own)
{
    lfp_snap_retired_ *done = NULL;
    pthread_mutex_lock(&s->lock);
    for (lfp_snap_retired_ **pp = &s->retired; *pp;) {
        lfp_snap_retired_ *r = *pp;
        if (r->t <= safe && (!r->waited || r == own)) {
            *pp = r->next;
            r->next = done;
            done = r;
        } else {
            pp = &r->next;
        }
    }
    pthread_mutex_unlock(&s->lock);
    while (done) {
        lfp_snap_retired_ *r = done;
        done = r->next;
        /* relaxed: statistics. */
        atomic_fetch_sub_explicit(&s->pending, 1, memory_order_relaxed);
        if (r->version) {
            s->free_fn(r->version, s->free_arg);
            atomic_fetch_add_explicit(&s->freed, 1, memory_order_relaxed);  /* relaxed: statistics */
        }
        free(r);
    }
}

/* W2 and the queueing of old: returns this publish's grace-period number.
 * waited: the caller waits for the grace period and frees old itself. */
static uint64_t retire(lfp_snap *s, lfp_snap_retired_ *node, void *old, bool waited)
{
    /* seq_cst RMW: W2; its value orders every earlier publish's bump before
     * it (one RMW chain), which free_upto's t <= safe rule relies on. */
    uint64_t t = atomic_fetch_add_explicit(&lfp_snap_dom_.gp, 1, memory_order_seq_cst) + 1;
    node->version = old;
    node->t = t;
    node->waited = waited;
    pthread_mutex_lock(&s->lock);
    node->next = s->retired;
    s->retired = node;
    pthread_mutex_unlock(&s->lock);
    /* relaxed: statistics. */
    atomic_fetch_add_explicit(&s->published, 1, memory_order_relaxed);
    atomic_fetch_add_explicit(&s->pending, 1, memory_order_relaxed);
    return t;
}

static int retire_and_wait(lfp_snap *s, lfp_snap_retired_ *node, void *old, int64_t deadline,
                           lfp_cancel *cancel)
{
    uint64_t t = retire(s, node, old, true);
    int rc = wait_gp(t, deadline, cancel);
    if (rc == 0) {
        free_upto(s, t, node);   /* every version retired at t' <= t is covered */
        return 0;
    }
    /* Given up: old becomes an ordinary pending version. */
    pthread_mutex_lock(&s->lock);
    node->waited = false;
    pthread_mutex_unlock(&s->lock);
    atomic_fetch_add_explicit(&s->timeouts, 1, memory_order_relaxed);  /* relaxed: statistics */
    return rc;
}

/* ------------------------------------------------------------ API */

int lfp_snap_init(lfp_snap *s, void *initial, lfp_snap_free_fn free_fn, void *arg)
{
    if (!s || !free_fn)
        return EINVAL;
    pthread_once(&dom_once, dom_init);
    int rc = pthread_mutex_init(&s->lock, NULL);
    if (rc)
        return rc;
    atomic_init(&s->cur, initial);
    s->free_fn = free_fn;
    s->free_arg = arg;
    s->retired = NULL;
    atomic_init(&s->published, 0);
    atomic_init(&s->freed, 0);
    atomic_init(&s->pending, 0);
    atomic_init(&s->timeouts, 0);
    return 0;
}

void lfp_snap_destroy(lfp_snap *s)
{
    if (!s)
        return;
    free_upto(s, UINT64_MAX, NULL);   /* quiescent by contract: nobody waits */
    /* relaxed: quiescent by contract. */
    void *cur = atomic_load_explicit(&s->cur, memory_order_relaxed);
    if (cur) {
        s->free_fn(cur, s->free_arg);
        atomic_fetch_add_explicit(&s->freed, 1, memory_order_relaxed);  /* relaxed: statistics */
    }
    pthread_mutex_destroy(&s->lock);
}

/* The prologue of the waiting writers: refuse inside a read section (the
 * grace period would wait for the caller), then allocate the retire node
 * before anything is published (nothing is lost on ENOMEM). */
static int begin_wait_write(lfp_snap_retired_ **node)
{
    if (in_section())
        return EDEADLK;
    *node = malloc(sizeof **node);
    return *node ? 0 : ENOMEM;
}

int lfp_snap_publish(lfp_snap *s, void *next, int64_t deadline, lfp_cancel *cancel)
{
    if (!s)
        return EINVAL;
    lfp_snap_retired_ *node;
    int rc = begin_wait_write(&node);
    if (rc)
        return rc;
    /* seq_cst: W1; the release half publishes next's contents to the
     * acquire loads in lfp_snap_enter/get. */
    void *old = atomic_exchange_explicit(&s->cur, next, memory_order_seq_cst);
    LFP_TEST_HOOK("snap.publish");
    return retire_and_wait(s, node, old, deadline, cancel);
}

int lfp_snap_publish_async(lfp_snap *s, void *next)
{
    if (!s)
        return EINVAL;
    lfp_snap_retired_ *node = malloc(sizeof *node);
    if (!node)
        return ENOMEM;
    /* seq_cst: W1, as in lfp_snap_publish; the barrier and scan come later
     * (a later publish's wait or lfp_snap_reclaim). */
    void *old = atomic_exchange_explicit(&s->cur, next, memory_order_seq_cst);
    retire(s, node, old, false);
    return 0;
}

int lfp_snap_update(lfp_snap *s, lfp_snap_copy_fn fn, void *arg, int64_t deadline,
                    lfp_cancel *cancel)
{
    if (!s || !fn)
        return EINVAL;
    lfp_snap_retired_ *node;
    int rc = begin_wait_write(&node);
    if (rc)
        return rc;
    void *cur;
    for (;;) {
        cur = lfp_snap_enter(s);
        void *next = NULL;
        rc = fn(cur, &next, arg);
        if (rc) {
            lfp_snap_leave(s);
            free(node);
            return rc;
        }
        void *expect = cur;
        /* seq_cst: W1 as in lfp_snap_publish. Inside the section, so cur
         * cannot have been freed and its address reused (no ABA).
         * Failure relaxed: the next round re-reads cur in a new section. */
        bool ok = atomic_compare_exchange_strong_explicit(&s->cur, &expect, next,
                                                          memory_order_seq_cst,
                                                          memory_order_relaxed);
        lfp_snap_leave(s);
        if (ok)
            break;
        if (next)
            s->free_fn(next, s->free_arg);   /* never published */
    }
    return retire_and_wait(s, node, cur, deadline, cancel);
}

int lfp_snap_reclaim(lfp_snap *s)
{
    if (!s)
        return EINVAL;
    /* Only versions already retired before the barrier are judged by it:
     * limit is the newest of them (every version retired at t <= limit was
     * bumped before it in gp's RMW chain, so before the barrier too). */
    uint64_t limit = 0;
    pthread_mutex_lock(&s->lock);
    for (lfp_snap_retired_ *r = s->retired; r; r = r->next)
        if (r->t > limit)
            limit = r->t;
    pthread_mutex_unlock(&s->lock);
    if (limit == 0)
        return 0;
    writer_barrier();
    uint64_t safe = oldest_reader();
    free_upto(s, safe < limit ? safe : limit, NULL);
    pthread_mutex_lock(&s->lock);
    int rc = s->retired ? EAGAIN : 0;
    pthread_mutex_unlock(&s->lock);
    return rc;
}

void lfp_snap_stats(const lfp_snap *s, struct lfp_snap_stats *st)
{
    if (!s || !st)
        return;
    /* relaxed: statistics, each counter exact on its own. */
    st->published = atomic_load_explicit(&s->published, memory_order_relaxed);
    st->freed = atomic_load_explicit(&s->freed, memory_order_relaxed);
    st->pending = atomic_load_explicit(&s->pending, memory_order_relaxed);
    st->timeouts = atomic_load_explicit(&s->timeouts, memory_order_relaxed);
}
