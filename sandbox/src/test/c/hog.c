// Memory hog: allocates and touches 1 MiB blocks until malloc fails, then aborts (a trap).
// The blocks are chained from a volatile global so the compiler cannot elide the allocations.
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void *volatile head;

int main(void) {
    for (int mib = 0;; mib++) {
        char *p = malloc(1 << 20);
        if (!p) {
            fprintf(stderr, "malloc failed after %d MiB\n", mib);
            abort();
        }
        memset(p, 1, 1 << 20);
        *(void **) p = head;
        head = p;
    }
}
