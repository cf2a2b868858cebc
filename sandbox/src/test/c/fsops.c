// File-operations guest: runs each argument as one operation, in order, printing one line per
// result, and stops with exit code 2 at the first failure ("FAIL op path: strerror").
//   cat:P  write:P=TEXT  append:P=TEXT  rm:P  rmdir:P  mkdir:P  mv:A=B  ls:DIR  stat:P
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static int fail(const char *op, const char *path) {
    printf("FAIL %s %s: %s\n", op, path, strerror(errno));
    return 2;
}

static int cmp(const void *a, const void *b) { return strcmp(*(char *const *) a, *(char *const *) b); }

static int run(char *op, char *arg) {
    char *eq = strchr(arg, '=');
    char *value = NULL;
    if (eq) {
        *eq = 0;
        value = eq + 1;
    }
    if (!strcmp(op, "cat")) {
        FILE *f = fopen(arg, "r");
        if (!f) return fail(op, arg);
        char buf[4096];
        size_t n;
        printf("%s:", arg);
        while ((n = fread(buf, 1, sizeof buf, f)) > 0) fwrite(buf, 1, n, stdout);
        fclose(f);
        printf("\n");
    } else if (!strcmp(op, "write") || !strcmp(op, "append")) {
        FILE *f = fopen(arg, op[0] == 'w' ? "w" : "a");
        if (!f) return fail(op, arg);
        fputs(value ? value : "", f);
        if (fclose(f)) return fail(op, arg);
        printf("%s %s\n", op, arg);
    } else if (!strcmp(op, "rm")) {
        if (unlink(arg)) return fail(op, arg);
        printf("rm %s\n", arg);
    } else if (!strcmp(op, "rmdir")) {
        if (rmdir(arg)) return fail(op, arg);
        printf("rmdir %s\n", arg);
    } else if (!strcmp(op, "mkdir")) {
        if (mkdir(arg, 0755)) return fail(op, arg);
        printf("mkdir %s\n", arg);
    } else if (!strcmp(op, "mv")) {
        if (rename(arg, value)) return fail(op, arg);
        printf("mv %s %s\n", arg, value);
    } else if (!strcmp(op, "stat")) {
        struct stat st;
        if (stat(arg, &st)) return fail(op, arg);
        printf("%s: %s %lld\n", arg, S_ISDIR(st.st_mode) ? "dir" : "file", (long long) st.st_size);
    } else if (!strcmp(op, "ls")) {
        DIR *d = opendir(arg);
        if (!d) return fail(op, arg);
        char *names[256];
        int count = 0;
        struct dirent *e;
        while ((e = readdir(d)) != NULL && count < 256) {
            if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..")) names[count++] = strdup(e->d_name);
        }
        closedir(d);
        qsort(names, count, sizeof names[0], cmp);
        printf("%s:", arg);
        for (int i = 0; i < count; i++) printf(" %s", names[i]);
        printf("\n");
    } else {
        printf("unknown op %s\n", op);
        return 3;
    }
    return 0;
}

int main(int argc, char **argv) {
    for (int i = 1; i < argc; i++) {
        char *colon = strchr(argv[i], ':');
        if (!colon) {
            printf("bad op %s\n", argv[i]);
            return 3;
        }
        *colon = 0;
        int rc = run(argv[i], colon + 1);
        if (rc) return rc;
    }
    return 0;
}
