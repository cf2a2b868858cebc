// File guest: prints each file named on the command line, or "cannot open PATH: ERR" and
// exit code 2 at the first one it cannot open. With -l DIR it lists DIR instead.
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

int main(int argc, char **argv) {
    if (argc == 3 && strcmp(argv[1], "-l") == 0) {
        DIR *d = opendir(argv[2]);
        if (!d) {
            printf("cannot list %s: %s\n", argv[2], strerror(errno));
            return 2;
        }
        struct dirent *e;
        while ((e = readdir(d)) != NULL) {
            if (e->d_name[0] != '.') {
                printf("%s\n", e->d_name);
            }
        }
        closedir(d);
        return 0;
    }
    for (int i = 1; i < argc; i++) {
        FILE *f = fopen(argv[i], "r");
        if (!f) {
            printf("cannot open %s: %s\n", argv[i], strerror(errno));
            return 2;
        }
        char buf[4096];
        size_t n;
        while ((n = fread(buf, 1, sizeof buf, f)) > 0) {
            fwrite(buf, 1, n, stdout);
        }
        fclose(f);
    }
    return 0;
}
