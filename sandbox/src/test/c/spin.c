// Runaway guest: loops forever without calling the host, so only an interrupt check inside
// the engine (not a WASI call) can stop it.
#include <stdio.h>

int main(void) {
    printf("spinning\n");
    fflush(stdout);
    volatile unsigned long n = 0;
    for (;;) {
        n++;
    }
}
