// Reactor guest for snapshot and branch tests: builds warm state in an init call (a hash map in
// linear memory, function pointers called through the Wasm table), then answers from it. Also
// holds a Wasm global outside linear memory (spindle_ticks) so tests see globals restored.
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

// A mutable Wasm global of the module's own (not C's shadow stack): clang 14 has no C syntax for
// one, so it is declared and used in WebAssembly assembly.
__asm__(".globaltype spindle_ticks, i64\nspindle_ticks:\n");

__attribute__((export_name("tick"))) int64_t tick(void) {
    int64_t r;
    __asm__ volatile(
        "global.get spindle_ticks\n i64.const 1\n i64.add\n global.set spindle_ticks\n"
        "global.get spindle_ticks\n local.set %0"
        : "=r"(r));
    return r;
}

// Counts runs of the constructors (_initialize): a branched or resumed reactor must not run them
// again. Volatile, so the compiler cannot fold the constructor into the data segment.
static volatile int32_t initialised;
__attribute__((constructor)) static void count_init(void) { initialised++; }
__attribute__((export_name("inits"))) int32_t inits(void) { return initialised; }

static uint64_t mix(uint64_t x) {
    x ^= x >> 33;
    x *= 0xff51afd7ed558ccdULL;
    x ^= x >> 33;
    x *= 0xc4ceb9fe1a85ec53ULL;
    return x ^ (x >> 33);
}

// Open addressing, linear probing; keys are never 0.
static uint64_t *keys;
static uint64_t *vals;
static uint32_t cap;
static uint32_t count;

static uint64_t key_of(uint32_t i) { return (uint64_t) i * 0x9E3779B97F4A7C15ULL | 1; }

// Builds the map with n entries (value of entry i = mix(key)); returns the sum of the values.
__attribute__((export_name("warm"))) int64_t warm(int32_t n) {
    cap = 16;
    while (cap < 2u * (uint32_t) n) cap <<= 1;
    keys = calloc(cap, sizeof *keys);
    vals = calloc(cap, sizeof *vals);
    uint64_t sum = 0;
    for (uint32_t i = 0; i < (uint32_t) n; i++) {
        uint64_t k = key_of(i);
        uint32_t h = (uint32_t) mix(k) & (cap - 1);
        while (keys[h]) h = (h + 1) & (cap - 1);
        keys[h] = k;
        vals[h] = mix(k);
        sum += vals[h];
    }
    count = (uint32_t) n;
    return (int64_t) sum;
}

// The value of entry i, or -1 if the map does not hold it.
__attribute__((export_name("lookup"))) int64_t lookup(int32_t i) {
    if (!cap) return -1;
    uint64_t k = key_of((uint32_t) i);
    for (uint32_t h = (uint32_t) mix(k) & (cap - 1); keys[h]; h = (h + 1) & (cap - 1)) {
        if (keys[h] == k) return (int64_t) vals[h];
    }
    return -1;
}

__attribute__((export_name("size"))) int32_t size(void) { return (int32_t) count; }

// Sum of all values: walks every slot of the warm map.
__attribute__((export_name("checksum"))) int64_t checksum(void) {
    uint64_t sum = 0;
    for (uint32_t h = 0; h < cap; h++) sum += keys[h] ? vals[h] : 0;
    return (int64_t) sum;
}

// Indirect calls: the operations are reached through a function-pointer array, i.e. the Wasm
// table; op_remember writes linear memory, so a call that ran in another instance would show.
static int64_t last;
static int64_t op_double(int64_t x) { return 2 * x; }
static int64_t op_square(int64_t x) { return x * x; }
static int64_t op_remember(int64_t x) { last = x; return x + 1; }
static int64_t (*volatile ops[3])(int64_t) = {op_double, op_square, op_remember};

__attribute__((export_name("apply"))) int64_t apply(int32_t op, int64_t x) { return ops[op % 3](x); }

__attribute__((export_name("last"))) int64_t last_value(void) { return last; }

// A region of touched memory: `touch(mib)` allocates it and writes one byte per 4 KiB, so every
// page of it is private to this sandbox; `poke`/`peek` read and write its 64-bit cells.
static uint64_t *cells;
static uint32_t ncells;

__attribute__((export_name("touch"))) int32_t touch(int32_t mib) {
    size_t bytes = (size_t) mib << 20;
    unsigned char *p = malloc(bytes);
    if (!p) return -1;
    for (size_t i = 0; i < bytes; i += 4096) p[i] = (unsigned char) (i >> 12) | 1;
    cells = (uint64_t *) p;
    ncells = (uint32_t) (bytes / sizeof *cells);
    return (int32_t) ncells;
}

__attribute__((export_name("poke"))) void poke(int32_t i, int64_t v) { cells[(uint32_t) i % ncells] = (uint64_t) v; }

__attribute__((export_name("peek"))) int64_t peek(int32_t i) { return (int64_t) cells[(uint32_t) i % ncells]; }

// Rewrites every cell (a parent that keeps writing while a live snapshot is persisted).
__attribute__((export_name("fill_cells"))) void fill_cells(int64_t v) {
    for (uint32_t i = 0; i < ncells; i++) cells[i] = (uint64_t) v + i;
}

// Where the cells live in linear memory, for tests that compare memories byte by byte.
__attribute__((export_name("cells_base"))) int32_t cells_base(void) { return (int32_t) (uintptr_t) cells; }

// Draws 8 bytes from WASI random_get.
__attribute__((export_name("rand64"))) int64_t rand64(void) {
    uint64_t r;
    if (getentropy(&r, sizeof r) != 0) return 0;
    return (int64_t) r;
}

__attribute__((export_name("monotonic"))) int64_t monotonic(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t) ts.tv_sec * 1000000000 + ts.tv_nsec;
}

// Prints entry i as text (for the CLI's per-child output).
__attribute__((export_name("show"))) void show(int32_t i) {
    printf("entry %d = %lld of %u\n", i, (long long) lookup(i), count);
    fflush(stdout);
}
