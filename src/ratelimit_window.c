/* Fixed window and sliding-window counter: init, takes, give-backs. The
 * fixed window's take is inline in lfpat/ratelimit.h. */
#include "ratelimit_internal.h"

/* ------------------------------------------------------------ fixed window */

int lfp_fwindow_init(lfp_fwindow *w, uint64_t limit, int64_t window_ns)
{
    if (!w || limit == 0 || limit > LFP_FWINDOW_MAX_LIMIT || window_ns <= 0)
        return EINVAL;
    w->limit = (uint32_t)limit;
    w->window = window_ns;
    atomic_init(&w->state, LFP_FWINDOW_EMPTY_);   /* replaced by the first take */
    return 0;
}

int lfp_fwindow_take(lfp_fwindow *w, uint32_t n)
{
    return lfp_fwindow_take_at(w, n, lfp_now());
}

void lfp_fwindow_give_back_(lfp_fwindow *w, uint32_t n, uint32_t charged)
{
    /* relaxed: atomic on the one word; orders nothing. */
    uint64_t old = atomic_load_explicit(&w->state, memory_order_relaxed);
    for (;;) {
        uint32_t count = (uint32_t)old;
        if ((uint32_t)(old >> 32) != charged)
            return;                    /* a later window started: nothing to undo */
        count -= n < count ? n : count;
        /* relaxed: as above. */
        if (atomic_compare_exchange_weak_explicit(&w->state, &old,
                                                  (old & ~(uint64_t)UINT32_MAX) | count,
                                                  memory_order_relaxed, memory_order_relaxed))
            return;
    }
}

/* ------------------------------------------------------------ sliding window counter */

#define SW_ID_BITS 24
#define SW_ID_MASK ((1u << SW_ID_BITS) - 1)
#define SW_CNT_MASK ((1u << 20) - 1)

/* Never used: cur = 2^20 - 1 is above every limit, so no real state. */
#define SW_EMPTY UINT64_MAX

__extension__ typedef unsigned __int128 u128;

typedef struct sw_state {
    uint32_t id, prev, cur;
} sw_state;

static sw_state sw_unpack(uint64_t v)
{
    return (sw_state){ (uint32_t)(v >> 40), (uint32_t)(v >> 20) & SW_CNT_MASK,
                       (uint32_t)v & SW_CNT_MASK };
}

static uint64_t sw_pack(sw_state s)
{
    return (uint64_t)s.id << 40 | (uint64_t)s.prev << 20 | s.cur;
}

int lfp_swindow_init(lfp_swindow *w, uint64_t limit, int64_t window_ns)
{
    if (!w || limit == 0 || limit > LFP_SWINDOW_MAX_LIMIT || window_ns <= 0)
        return EINVAL;
    w->limit = (uint32_t)limit;
    w->window = window_ns;
    atomic_init(&w->state, SW_EMPTY);   /* replaced by the first take */
    return 0;
}

/* The state as seen at `now` (window k, offset e): rolled forward when k is
 * after the stored window; the stored window (offset 0: full weight of prev,
 * the conservative choice) when `now` is older. Stores the offset to use. */
static sw_state sw_at(const lfp_swindow *w, uint64_t word, int64_t now, int64_t *e)
{
    sw_state s = sw_unpack(word);
    int64_t k = lfp_rl_floor_div(now, w->window);
    uint32_t id = (uint32_t)k & SW_ID_MASK;
    *e = (int64_t)((uint64_t)now - (uint64_t)k * (uint64_t)w->window);  /* no overflow */
    if (word == SW_EMPTY || lfp_rl_id_after(id, s.id, SW_ID_BITS)) {
        s.prev = word != SW_EMPTY && ((id - s.id) & SW_ID_MASK) == 1 ? s.cur : 0;
        s.cur = 0;
        s.id = id;
    } else if (id != s.id) {
        *e = 0;
    }
    return s;
}

/* est + n <= limit, exactly: prev * (W - e) + (cur + n) * W <= limit * W. */
static bool sw_admits(const lfp_swindow *w, sw_state s, int64_t e, uint32_t n)
{
    u128 wnd = (u128)(uint64_t)w->window;
    return (u128)s.prev * (uint64_t)(w->window - e) + (u128)(s.cur + n) * wnd
           <= (u128)w->limit * wnd;
}

int lfp_swindow_take_charged_(lfp_swindow *w, uint32_t n, int64_t now, uint32_t *charged)
{
    if (!w || n == 0 || n > w->limit)
        return EINVAL;
    /* relaxed: the decision depends on this word alone; the CAS checks it. */
    uint64_t old = atomic_load_explicit(&w->state, memory_order_relaxed);
    for (;;) {
        int64_t e;
        sw_state s = sw_at(w, old, now, &e);
        if (!sw_admits(w, s, e, n))
            return EAGAIN;
        s.cur += n;   /* <= limit: est >= cur */
        /* relaxed: limiters publish nothing; atomicity on the word suffices. */
        if (atomic_compare_exchange_weak_explicit(&w->state, &old, sw_pack(s),
                                                  memory_order_relaxed, memory_order_relaxed)) {
            *charged = s.id;
            return 0;
        }
    }
}

int lfp_swindow_take_at(lfp_swindow *w, uint32_t n, int64_t now)
{
    uint32_t charged;
    return lfp_swindow_take_charged_(w, n, now, &charged);
}

int lfp_swindow_take(lfp_swindow *w, uint32_t n)
{
    return lfp_swindow_take_at(w, n, lfp_now());
}

double lfp_swindow_estimate_at(const lfp_swindow *w, int64_t now)
{
    int64_t e;
    /* relaxed: a snapshot of the one word; orders nothing. */
    sw_state s = sw_at(w, atomic_load_explicit(&((lfp_swindow *)w)->state,
                                               memory_order_relaxed), now, &e);
    return (double)s.prev * (double)(w->window - e) / (double)w->window + s.cur;
}

void lfp_swindow_give_back_(lfp_swindow *w, uint32_t n, uint32_t charged)
{
    /* relaxed: atomic on the one word; orders nothing. */
    uint64_t old = atomic_load_explicit(&w->state, memory_order_relaxed);
    for (;;) {
        sw_state s = sw_unpack(old);
        uint32_t *c = s.id == charged ? &s.cur
                    : s.id == ((charged + 1) & SW_ID_MASK) ? &s.prev : NULL;
        if (!c)
            return;                    /* the charged window no longer counts */
        *c -= n < *c ? n : *c;
        /* relaxed: as above. */
        if (atomic_compare_exchange_weak_explicit(&w->state, &old, sw_pack(s),
                                                  memory_order_relaxed, memory_order_relaxed))
            return;
    }
}
