// A freestanding Wasm guest for PagedMemory's tests (no WASI, no libc).
// Build: see build-guest.sh next to this file; the .wasm is checked in under
// src/test/resources/guest/ so the tests need no clang.
//
// work() touches the memory paths Chicory generates code for: memory.grow, byte/short/int/
// long/float/double loads and stores (aligned and unaligned, across 64 KiB page boundaries),
// memory.fill and memory.copy (bulk memory), and returns an FNV-1a hash of what it wrote.
// bump() increments a counter that lives in a data segment, to tell a branch that
// re-applied the data segments from one that kept its parent's memory.

#include <stddef.h>
#include <stdint.h>

#define EXPORT(name) __attribute__((export_name(name)))
#define PAGE 65536u

static volatile uint32_t counter = 7;

EXPORT("bump") uint32_t bump(void) { return ++counter; }

static uint64_t fnv(const uint8_t *p, size_t n, uint64_t h) {
    for (size_t i = 0; i < n; i++) {
        h = (h ^ p[i]) * 0x100000001b3ull;
    }
    return h;
}

static uint32_t lcg(uint32_t *s) {
    *s = *s * 1664525u + 1013904223u;
    return *s;
}

EXPORT("work") uint64_t work(uint32_t pages, uint32_t seed) {
    uint32_t old = (uint32_t)__builtin_wasm_memory_grow(0, pages);
    if (old == (uint32_t)-1) {
        return 0;
    }
    uint8_t *base = (uint8_t *)(uintptr_t)(old * PAGE);
    size_t n = (size_t)pages * PAGE;
    uint32_t s = seed;

    __builtin_memset(base, 0x5a, n);                  // memory.fill over whole pages
    for (size_t i = 0; i < n; i += 4) {               // aligned i32 stores
        *(volatile uint32_t *)(base + i) ^= lcg(&s);
    }
    for (size_t i = PAGE - 3; i + 8 < n; i += PAGE) { // unaligned i64/f64 across page edges
        volatile uint64_t *q = (volatile uint64_t *)(base + i);
        *q += (uint64_t)lcg(&s) << 17;
        volatile double *d = (volatile double *)(base + i + 1);
        *d = *d * 0.5 + 1.25;
        volatile uint16_t *h = (volatile uint16_t *)(base + i + 2);
        *h = (uint16_t)(*h * 3);
        volatile float *f = (volatile float *)(base + i - 2);
        *f = *f + 2.0f;
    }
    __builtin_memmove(base + 100, base, n / 2);       // overlapping memory.copy, forward
    __builtin_memmove(base, base + 1000, n / 3);      // and backward
    uint64_t h = 0xcbf29ce484222325ull;
    for (size_t i = 0; i < n; i += 97) {              // byte loads, signed and unsigned
        h = (h ^ (uint64_t)(int64_t)(int8_t)base[i]) * 0x100000001b3ull;
    }
    return fnv(base, n, h) ^ counter;
}
