// Memory kernel: memset, memcpy and random 8-byte reads/writes over a buffer of MIB MiB.
// Usage: memkernel MIB RANDOM_OPS. Times itself with the monotonic clock (so runtime start and
// instantiation are excluded) and prints "ms=<kernel time> sum=<checksum>".
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double now_ms(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec * 1e3 + t.tv_nsec / 1e6;
}

int main(int argc, char **argv) {
    size_t bytes = (size_t) atoi(argc > 1 ? argv[1] : "64") << 20;
    long ops = atol(argc > 2 ? argv[2] : "10000000");
    uint8_t *buf = malloc(bytes);
    if (!buf) {
        printf("malloc failed\n");
        return 1;
    }
    double t0 = now_ms();
    for (int round = 0; round < 4; round++) {
        memset(buf, round + 1, bytes);
        memcpy(buf, buf + bytes / 2, bytes / 2);
    }
    uint64_t *words = (uint64_t *) buf;
    size_t n = bytes / 8;
    uint64_t x = 88172645463325252ull, sum = 0;
    for (long i = 0; i < ops; i++) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        size_t at = x % n;
        sum += words[at];
        words[(at * 7) % n] = sum;
    }
    double t1 = now_ms();
    printf("ms=%.3f sum=%llu\n", t1 - t0, (unsigned long long) sum);
    return 0;
}
