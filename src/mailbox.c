/* SPDX-License-Identifier: BSD-2-Clause */
#include "lfpat/mailbox.h"

int lfp_mailbox_init(lfp_mailbox *m, size_t capacity)
{
    if (!m || capacity == 0)
        return EINVAL;
    int rc = lfp_mpsc_init(&m->q);
    if (rc)
        return rc;
    atomic_init(&m->count, 0);
    m->capacity = capacity;
    return 0;
}

void lfp_mailbox_destroy(lfp_mailbox *m)
{
    if (m)
        lfp_mpsc_destroy(&m->q);
}

int lfp_mailbox_recv(lfp_mailbox *m, lfp_mpsc_node **out, int64_t deadline, lfp_cancel *cancel)
{
    if (!m)
        return EINVAL;
    int rc = lfp_mpsc_pop(&m->q, out, deadline, cancel);
    if (rc == 0)
        lfp_mailbox_received_(m);
    return rc;
}

void lfp_mailbox_close(lfp_mailbox *m)
{
    if (m)
        lfp_mpsc_close(&m->q);
}
