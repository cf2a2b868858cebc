// Files reactor (-mexec-model=reactor): the host calls exports that write, read, delete and count
// small files in the directories the sandbox was given. Directory index d: 0 /data, 1 /app,
// 2 /home. File n of directory d is "<dir>/f<n>", holding a decimal number.
// Errors come back as -errno, so a test can tell ENOENT (44) from EROFS (69) and others.
#include <dirent.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char *dirs[] = {"/data", "/app", "/home"};

static int path(char *buf, size_t len, int32_t d, int32_t n) {
    if (d < 0 || d > 2) return -1;
    snprintf(buf, len, "%s/f%d", dirs[d], n);
    return 0;
}

__attribute__((export_name("write_file"))) int32_t write_file(int32_t d, int32_t n, int64_t v) {
    char p[64];
    if (path(p, sizeof p, d, n)) return -EINVAL;
    FILE *f = fopen(p, "w");
    if (!f) return -errno;
    fprintf(f, "%lld", (long long) v);
    if (fclose(f)) return -errno;
    return 0;
}

__attribute__((export_name("read_file"))) int64_t read_file(int32_t d, int32_t n) {
    char p[64];
    if (path(p, sizeof p, d, n)) return -EINVAL;
    FILE *f = fopen(p, "r");
    if (!f) return -errno;
    long long v = 0;
    if (fscanf(f, "%lld", &v) != 1) v = -EIO;
    fclose(f);
    return v;
}

__attribute__((export_name("remove_file"))) int32_t remove_file(int32_t d, int32_t n) {
    char p[64];
    if (path(p, sizeof p, d, n)) return -EINVAL;
    return unlink(p) ? -errno : 0;
}

// Entries of directory d (without . and ..), or -errno.
__attribute__((export_name("count"))) int32_t count(int32_t d) {
    if (d < 0 || d > 2) return -EINVAL;
    DIR *dir = opendir(dirs[d]);
    if (!dir) return -errno;
    int32_t c = 0;
    struct dirent *e;
    while ((e = readdir(dir)) != NULL) {
        if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..")) c++;
    }
    closedir(dir);
    return c;
}

// File n of directory d filled with len bytes of seed's pattern (byte i is (seed + i*7) & 0xff).
__attribute__((export_name("write_big"))) int32_t write_big(int32_t d, int32_t n, int32_t len, int32_t seed) {
    char p[64];
    if (path(p, sizeof p, d, n)) return -EINVAL;
    FILE *f = fopen(p, "w");
    if (!f) return -errno;
    for (int32_t i = 0; i < len; i++) {
        if (fputc((seed + i * 7) & 0xff, f) == EOF) { fclose(f); return -EIO; }
    }
    if (fclose(f)) return -errno;
    return 0;
}

// Reads file n of directory d whole: its length if it is seed's pattern, -1 if not, or -errno.
__attribute__((export_name("check_big"))) int64_t check_big(int32_t d, int32_t n, int32_t seed) {
    char p[64];
    if (path(p, sizeof p, d, n)) return -EINVAL;
    FILE *f = fopen(p, "r");
    if (!f) return -errno;
    int64_t i = 0;
    int c;
    while ((c = fgetc(f)) != EOF) {
        if (c != ((seed + i * 7) & 0xff)) { fclose(f); return -1; }
        i++;
    }
    fclose(f);
    return i;
}
