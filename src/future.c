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

static int future_try(void *arg)
{
    return lfp_future_is_ready(arg) ? 0 : EAGAIN;
}

int lfp_future_get(lfp_future *f, void **value, int *error, int64_t deadline,
                   lfp_cancel *cancel)
{
    if (!f)
        return EINVAL;
    int rc = lfp_ec_await(&f->ready, future_try, f, deadline, cancel, false);
    if (rc == 0)
        rc = lfp_future_try_get(f, value, error);
    return rc;
}
