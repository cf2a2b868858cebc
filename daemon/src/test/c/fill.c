// Reactor guest for the remote-fork tests: fills N MiB with a pattern derived from a seed, then
// checks all of it or a part; a child on another node checks what its parent wrote.
#include <stdint.h>
#include <stdlib.h>

static uint32_t *words;
static uint32_t count;

static uint32_t pattern(uint32_t i, uint32_t seed) { return (i * 2654435761u) ^ (seed * 40503u + 1u); }

// Allocates (once) and fills `mib` MiB; returns 0, or -1 if the memory cannot grow.
__attribute__((export_name("fill"))) int32_t fill(int32_t mib, int32_t seed) {
    if (words == 0) {
        count = (uint32_t)mib * (1u << 20) / 4u;
        words = malloc((size_t)count * 4u);
        if (words == 0) {
            return -1;
        }
    }
    for (uint32_t i = 0; i < count; i++) {
        words[i] = pattern(i, (uint32_t)seed);
    }
    return 0;
}

// Words in [from_kib, from_kib + kib) KiB that do not hold seed's pattern (-1: nothing filled).
__attribute__((export_name("check_range"))) int32_t check_range(int32_t from_kib, int32_t kib, int32_t seed) {
    if (words == 0) {
        return -1;
    }
    uint32_t from = (uint32_t)from_kib * 256u;
    uint32_t to = from + (uint32_t)kib * 256u;
    if (to > count) {
        to = count;
    }
    int32_t bad = 0;
    for (uint32_t i = from; i < to; i++) {
        bad += words[i] != pattern(i, (uint32_t)seed);
    }
    return bad;
}

__attribute__((export_name("check"))) int32_t check(int32_t seed) {
    return check_range(0, (int32_t)(count / 256u), seed);
}

__attribute__((export_name("mib"))) int32_t mib(void) { return (int32_t)(count / (1u << 18)); }
