// Tries to leave its preopen /data the ways an attacker would. Each argument names a scenario;
// each step prints "SCENARIO STEP: ok CONTENT" or "SCENARIO STEP: ERROR". The host side of the
// test puts "SECRET" in ../outside/secret.txt (beside the preopen's directory) and checks that
// no step reads it and nothing is written there.
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static void report(const char *scenario, const char *step, int rc) {
    if (rc < 0) printf("%s %s: %s\n", scenario, step, strerror(errno));
    else printf("%s %s: ok\n", scenario, step);
}

// Reads a file opened at dir/path; prints its first line.
static void read_at(const char *scenario, const char *step, int dir, const char *path) {
    int fd = openat(dir, path, O_RDONLY);
    if (fd < 0) { report(scenario, step, -1); return; }
    char buf[64] = {0};
    ssize_t n = read(fd, buf, sizeof buf - 1);
    close(fd);
    if (n < 0) { report(scenario, step, -1); return; }
    buf[strcspn(buf, "\n")] = 0;
    printf("%s %s: ok %s\n", scenario, step, buf);
}

static void write_at(const char *scenario, const char *step, int dir, const char *path) {
    int fd = openat(dir, path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd < 0) { report(scenario, step, -1); return; }
    ssize_t n = write(fd, "PWNED\n", 6);
    close(fd);
    report(scenario, step, n == 6 ? 0 : -1);
}

static void list_at(const char *scenario, const char *step, int dir) {
    int fd = openat(dir, ".", O_RDONLY | O_DIRECTORY);
    DIR *d = fd < 0 ? NULL : fdopendir(fd);
    if (!d) { report(scenario, step, -1); return; }
    printf("%s %s: ok", scenario, step);
    char *names[64];
    int count = 0;
    struct dirent *e;
    while ((e = readdir(d)) && count < 64)
        if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..")) names[count++] = strdup(e->d_name);
    closedir(d);
    for (int i = 0; i < count; i++) {  // sorted by the host already; print as listed
        printf(" %s", names[i]);
        free(names[i]);
    }
    printf("\n");
}

int main(int argc, char **argv) {
    for (int i = 1; i < argc; i++) {
        const char *s = argv[i];
        if (!strcmp(s, "swap")) {
            // Open a directory, rename it away, put a link that climbs out in its place, then use
            // the old fd: lookups must not follow the link.
            report(s, "mkdir", mkdir("/data/d", 0755));
            int d = open("/data/d", O_RDONLY | O_DIRECTORY);
            report(s, "open", d);
            report(s, "rename", rename("/data/d", "/data/moved"));
            report(s, "symlink", symlink("../outside", "/data/d"));
            read_at(s, "read", d, "secret.txt");
            write_at(s, "write", d, "pwned.txt");
            report(s, "mkdirat", mkdirat(d, "pwned-dir", 0755));
            report(s, "symlinkat", symlinkat("x", d, "pwned-link"));
            list_at(s, "list", d);
            struct stat st;
            report(s, "stat", fstatat(d, "secret.txt", &st, 0));
            report(s, "unlink", unlinkat(d, "secret.txt", 0));
        } else if (!strcmp(s, "dotdot")) {
            report(s, "mkdir", mkdir("/data/sub", 0755));
            int d = open("/data/sub", O_RDONLY | O_DIRECTORY);
            read_at(s, "up2", d, "../../outside/secret.txt");
            read_at(s, "up1", d, "../outside/secret.txt");
            write_at(s, "write", d, "../../outside/pwned.txt");
            read_at(s, "preopen", AT_FDCWD, "/data/../outside/secret.txt");
        } else if (!strcmp(s, "links")) {
            // Links the guest makes: relative ones that climb, absolute ones, and hard links to them.
            report(s, "climb", symlink("../outside/secret.txt", "/data/climb"));
            read_at(s, "read-climb", AT_FDCWD, "/data/climb");
            report(s, "absolute", symlink("/outside/secret.txt", "/data/abs"));
            report(s, "hardlink-follow", linkat(AT_FDCWD, "/data/climb", AT_FDCWD, "/data/hl", AT_SYMLINK_FOLLOW));
            report(s, "hardlink", link("/data/climb", "/data/hl2"));
            read_at(s, "read-hardlink", AT_FDCWD, "/data/hl2");
            read_at(s, "read-host-abs", AT_FDCWD, "/data/host-abs");
            read_at(s, "read-host-climb", AT_FDCWD, "/data/host-climb");
            write_at(s, "write-host-climb", AT_FDCWD, "/data/host-climb-new");
            report(s, "rename-out", rename("/data/climb", "/data/../outside/moved"));
        } else if (!strcmp(s, "across")) {
            // Rename and link between two preopens stay inside the sandbox.
            int fd = open("/data/a.txt", O_WRONLY | O_CREAT | O_TRUNC, 0644);
            report(s, "create", fd);
            if (fd >= 0) { write(fd, "across\n", 7); close(fd); }
            report(s, "rename", rename("/data/a.txt", "/other/a.txt"));
            read_at(s, "read", AT_FDCWD, "/other/a.txt");
            report(s, "link", link("/other/a.txt", "/data/b.txt"));
            read_at(s, "read-link", AT_FDCWD, "/data/b.txt");
        } else if (!strcmp(s, "race")) {
            // The host swaps /data/race between a directory and a link out while we look.
            int leaked = 0, inside = 0, failed = 0;
            for (int n = 0; n < 3000; n++) {
                int fd = open("/data/race/secret.txt", O_RDONLY);
                if (fd < 0) { failed++; continue; }
                char buf[16] = {0};
                read(fd, buf, sizeof buf - 1);
                close(fd);
                if (!strncmp(buf, "SECRET", 6)) leaked++;
                else inside++;
            }
            printf("%s: leaked %d inside %s failed %s\n", s, leaked, inside > 0 ? "some" : "none",
                   failed > 0 ? "some" : "none");
        } else if (!strcmp(s, "readonly")) {
            // On a read-only image the flags that write fail cleanly.
            int fd = open("/data/etc/motd", O_WRONLY);
            report(s, "write", fd);
            fd = open("/data/etc/motd", O_RDONLY | O_TRUNC);
            report(s, "trunc", fd);
            fd = open("/data/etc/new", O_WRONLY | O_CREAT, 0644);
            report(s, "create", fd);
            read_at(s, "read", AT_FDCWD, "/data/etc/motd");
        } else {
            printf("unknown scenario %s\n", s);
            return 2;
        }
        fflush(stdout);
    }
    return 0;
}
