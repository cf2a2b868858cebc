// Reactor guest for the daemon tests (-mexec-model=reactor): state across calls, output, a
// call that never returns on its own (for the concurrency cap), a trap, and unbounded recursion.
#include <stdint.h>
#include <stdio.h>

static int32_t counter;

__attribute__((constructor)) static void init(void) { counter = 100; }

__attribute__((export_name("add"))) int32_t add(int32_t a, int32_t b) { return a + b; }

__attribute__((export_name("next"))) int32_t next(void) { return ++counter; }

__attribute__((export_name("shout"))) void shout(void) {
    printf("counter is %d\n", counter);
    fflush(stdout);
}

__attribute__((export_name("spin"))) void spin(void) {
    volatile unsigned n = 0;
    for (;;) {
        n++;
    }
}

__attribute__((export_name("crash"))) void crash(void) { __builtin_trap(); }

// Unbounded recursion with nothing in linear memory: only the JVM stack of the thread running the
// call runs out. The call goes through a volatile pointer so it cannot be turned into a loop.
int32_t recurse(int32_t n);
static int32_t (*volatile self)(int32_t) = recurse;

__attribute__((export_name("recurse"))) int32_t recurse(int32_t n) { return self(n + 1) + 1; }
