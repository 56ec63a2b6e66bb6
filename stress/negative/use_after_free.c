/* SPDX-License-Identifier: BSD-2-Clause */
/* Negative control: a heap use-after-free that AddressSanitizer MUST report;
 * scripts/test fails if it does not. */
#include <stdio.h>
#include <stdlib.h>

int main(void)
{
    int *volatile p = malloc(sizeof *p);
    *p = 1;
    free(p);
    printf("read after free: %d (expected an ASan report)\n", *p);
    return 0;
}
