/* SPDX-License-Identifier: BSD-2-Clause */
/* A user's program: links lfpat from an install prefix. */
#include <lfpat.h>
#include <stdio.h>

int main(void)
{
    lfp_striped s;
    if (lfp_striped_init(&s, 0) != 0)
        return 1;
    lfp_striped_add(&s, 41);
    lfp_striped_add(&s, 1);
    lfp_counter c;
    lfp_counter_init(&c, 0);
    lfp_counter_add(&c, lfp_striped_sum(&s));
    lfp_striped_destroy(&s);
    printf("lfpat consumer: %lld\n", (long long)lfp_counter_get(&c));
    return lfp_counter_get(&c) == 42 ? 0 : 1;
}
