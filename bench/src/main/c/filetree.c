// File-tree reactor for bench/files (-mexec-model=reactor): writes a tree of N files of SIZE bytes
// under /data (100 files per directory: /data/dNNN/fNNNNN), reads every STEP-th file back, and
// holds the same bytes in memory instead (the baseline: a sandbox whose data is in memory only).
// File i holds bytes of a xorshift stream seeded with i, so no two files are alike and none is
// sparse. Errors come back as -errno.
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static uint8_t *held;
static uint8_t buf[1 << 20];

static void fill(uint8_t *out, int32_t size, uint64_t seed) {
    uint64_t x = seed * 0x9E3779B97F4A7C15ULL + 1;
    for (int32_t i = 0; i < size; i++) {
        x ^= x << 13; x ^= x >> 7; x ^= x << 17;
        out[i] = (uint8_t) x;
    }
}

static void name(char *p, size_t len, int32_t i) {
    snprintf(p, len, "/data/d%03d/f%05d", i / 100, i);
}

static int32_t write_one(int32_t i, int32_t size, uint64_t seed) {
    char p[64];
    name(p, sizeof p, i);
    fill(buf, size, seed);
    int fd = open(p, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd < 0) return -errno;
    int32_t done = 0;
    while (done < size) {
        ssize_t w = write(fd, buf + done, (size_t) (size - done));
        if (w < 0) { int e = errno; close(fd); return -e; }
        done += (int32_t) w;
    }
    return close(fd) ? -errno : 0;
}

// Writes files 0..n-1 of `size` bytes (at most 1 MiB each); returns the bytes written or -errno.
__attribute__((export_name("write_tree"))) int64_t write_tree(int32_t n, int32_t size) {
    if (size < 0 || size > (int32_t) sizeof buf) return -EINVAL;
    if (mkdir("/data", 0755) && errno != EEXIST) return -errno;
    for (int32_t i = 0; i < n; i++) {
        if (i % 100 == 0) {
            char d[32];
            snprintf(d, sizeof d, "/data/d%03d", i / 100);
            if (mkdir(d, 0755) && errno != EEXIST) return -errno;
        }
        int32_t r = write_one(i, size, (uint64_t) i);
        if (r) return r;
    }
    return (int64_t) n * size;
}

// Rewrites file i with other bytes (a sandbox that changed one file since its last snapshot).
__attribute__((export_name("rewrite"))) int32_t rewrite(int32_t i, int32_t size, int64_t seed) {
    if (size < 0 || size > (int32_t) sizeof buf) return -EINVAL;
    return write_one(i, size, (uint64_t) seed);
}

// Reads files 0, step, 2*step, ... below n; returns the sum of their bytes or -errno.
__attribute__((export_name("read_tree"))) int64_t read_tree(int32_t n, int32_t step) {
    if (step < 1) return -EINVAL;
    int64_t sum = 0;
    for (int32_t i = 0; i < n; i += step) {
        char p[64];
        name(p, sizeof p, i);
        int fd = open(p, O_RDONLY);
        if (fd < 0) return -errno;
        ssize_t r;
        while ((r = read(fd, buf, sizeof buf)) > 0) {
            for (ssize_t k = 0; k < r; k++) sum += buf[k];
        }
        int e = r < 0 ? errno : 0;
        close(fd);
        if (e) return -e;
    }
    return sum;
}

// The same n files' bytes held in memory only; returns the bytes held or -ENOMEM.
__attribute__((export_name("hold_in_memory"))) int64_t hold_in_memory(int32_t n, int32_t size) {
    if (size < 0 || size > (int32_t) sizeof buf) return -EINVAL;
    free(held);
    held = malloc((size_t) n * (size_t) size);
    if (!held) return -ENOMEM;
    for (int32_t i = 0; i < n; i++) fill(held + (size_t) i * size, size, (uint64_t) i);
    return (int64_t) n * size;
}

// Rewrites entry i of the held bytes (the in-memory twin of rewrite).
__attribute__((export_name("rewrite_held"))) int32_t rewrite_held(int32_t i, int32_t size, int64_t seed) {
    if (!held) return -EINVAL;
    fill(held + (size_t) i * size, size, (uint64_t) seed);
    return 0;
}
