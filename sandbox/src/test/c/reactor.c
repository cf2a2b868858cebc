// Reactor guest (-mexec-model=reactor): no main; the host calls exports after _initialize.
#include <stdint.h>
#include <stdio.h>

static int32_t counter;

// Runs from _initialize: proves the host ran it before the first call.
__attribute__((constructor)) static void init(void) { counter = 100; }

__attribute__((export_name("add"))) int32_t add(int32_t a, int32_t b) { return a + b; }

__attribute__((export_name("fib"))) int64_t fib(int64_t n) {
    int64_t a = 0, b = 1;
    for (int64_t i = 0; i < n; i++) {
        int64_t t = a + b;
        a = b;
        b = t;
    }
    return a;
}

__attribute__((export_name("next"))) int32_t next(void) { return ++counter; }

__attribute__((export_name("shout"))) void shout(void) {
    printf("counter is %d\n", counter);
    fflush(stdout);
}

__attribute__((export_name("crash"))) void crash(void) { __builtin_trap(); }

// Never returns and never calls the host: only the engine's interrupt check can stop it.
__attribute__((export_name("spin"))) void spin(void) {
    volatile unsigned n = 0;
    for (;;) {
        n++;
    }
}

// Unbounded recursion with a local in linear memory: overflows the C (shadow) stack, which
// lives in linear memory, so the guest traps with an out-of-bounds access.
__attribute__((export_name("recurse_shadow"))) int32_t recurse_shadow(int32_t n) {
    volatile char pad[64];
    pad[0] = (char) n;
    return recurse_shadow(n + 1) + pad[0];
}

// Unbounded recursion with nothing in linear memory: only the engine's own (JVM) stack runs
// out. The call goes through a volatile pointer so it cannot be turned into a loop.
int32_t recurse(int32_t n);
static int32_t (*volatile self)(int32_t) = recurse;

__attribute__((export_name("recurse"))) int32_t recurse(int32_t n) { return self(n + 1) + 1; }

// Raw descriptor I/O for the WASI-state tests: no stdio buffering in guest memory, so the
// offset lives only in the host's descriptor table.
#include <fcntl.h>
#include <unistd.h>

__attribute__((export_name("open_file"))) int32_t open_file(void) { return open("/data/file.txt", O_RDONLY); }

__attribute__((export_name("read_byte"))) int32_t read_byte(int32_t fd) {
    unsigned char c;
    return read(fd, &c, 1) == 1 ? c : -1;
}
