// Command guest: greets its arguments, echoes GREETING from the environment and stdin,
// then exits with the code given as the last argument (if numeric).
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int main(int argc, char **argv) {
    const char *greeting = getenv("GREETING");
    printf("%s", greeting ? greeting : "hello");
    for (int i = 1; i < argc; i++) {
        printf(" %s", argv[i]);
    }
    printf("\n");
    char buf[256];
    size_t n = fread(buf, 1, sizeof buf, stdin);
    if (n > 0) {
        printf("stdin: %.*s\n", (int) n, buf);
    }
    fprintf(stderr, "argc=%d\n", argc);
    return argc > 1 ? atoi(argv[argc - 1]) : 0;
}
