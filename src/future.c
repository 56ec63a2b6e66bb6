#include "lfpat/future.h"

int lfp_future_init(lfp_future *f)
{
    if (!f)
        return EINVAL;
    atomic_init(&f->state, LFP_FUTURE_EMPTY_);
    f->error = 0;
    f->value = NULL;
    lfp_ec_init(&f->ready);
    return 0;
}

void lfp_future_destroy(lfp_future *f) { (void)f; }

/* 0 once READY; else make sure WAITING is set (so the setter notifies)
 * and return EAGAIN. */
static int future_try(void *arg)
{
    lfp_future *f = arg;
    /* acquire: pairs with the release READY exchange in lfp_future_set. */
    uint32_t s = atomic_load_explicit(&f->state, memory_order_acquire);
    while (!(s & LFP_FUTURE_READY_)) {
        if (s & LFP_FUTURE_WAITING_)
            return EAGAIN;
        /* acquire on both outcomes: as the load above. The wake-up argument
         * needs only that this RMW and the setter's exchange are on one word. */
        if (atomic_compare_exchange_weak_explicit(&f->state, &s, s | LFP_FUTURE_WAITING_,
                                                  memory_order_acquire, memory_order_acquire))
            return EAGAIN;
    }
    return 0;
}

int lfp_future_get_slow_(lfp_future *f, void **value, int *error, int64_t deadline,
                         lfp_cancel *cancel)
{
    int rc = lfp_ec_await(&f->ready, future_try, f, deadline, cancel, false);
    if (rc == 0)
        rc = lfp_future_try_get(f, value, error);
    return rc;
}
