// Hash-table workload: open addressing with linear probing, KEYS inserts then 2*KEYS lookups
// (half hits). Usage: hashtable KEYS. Prints "ms=<kernel time> sum=<checksum>".
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static double now_ms(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec * 1e3 + t.tv_nsec / 1e6;
}

static uint64_t mix(uint64_t k) {
    k ^= k >> 33;
    k *= 0xff51afd7ed558ccdull;
    k ^= k >> 33;
    return k;
}

int main(int argc, char **argv) {
    long keys = atol(argc > 1 ? argv[1] : "1000000");
    size_t slots = 1;
    while (slots < (size_t) keys * 2) slots <<= 1;
    uint64_t *k = calloc(slots, 8), *v = calloc(slots, 8);
    if (!k || !v) {
        printf("calloc failed\n");
        return 1;
    }
    double t0 = now_ms();
    for (long i = 1; i <= keys; i++) {
        uint64_t key = mix(i), at = key & (slots - 1);
        while (k[at] && k[at] != key) at = (at + 1) & (slots - 1);
        k[at] = key;
        v[at] = i;
    }
    uint64_t sum = 0;
    for (long i = 1; i <= 2 * keys; i++) {
        uint64_t key = mix(i), at = key & (slots - 1);
        while (k[at] && k[at] != key) at = (at + 1) & (slots - 1);
        if (k[at] == key) sum += v[at];
    }
    double t1 = now_ms();
    printf("ms=%.3f sum=%llu\n", t1 - t0, (unsigned long long) sum);
    return 0;
}
