// Command guest for the daemon tests: prints its argument and an env var, exits 3.
#include <stdio.h>
#include <stdlib.h>

int main(int argc, char **argv) {
    printf("hello %s %s\n", argc > 1 ? argv[1] : "-", getenv("WHO") ? getenv("WHO") : "-");
    return 3;
}
