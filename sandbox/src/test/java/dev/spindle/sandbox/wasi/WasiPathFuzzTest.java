package dev.spindle.sandbox.wasi;

import static java.nio.charset.StandardCharsets.UTF_8;

import com.code_intelligence.jazzer.api.FuzzedDataProvider;
import com.code_intelligence.jazzer.junit.FuzzTest;
import com.dylibso.chicory.runtime.ByteArrayMemory;
import com.dylibso.chicory.runtime.Memory;
import com.dylibso.chicory.wasm.types.MemoryLimits;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Stream;

/**
 * The guest's paths are outside input. Whatever sequence of path and fd calls a guest makes, with
 * whatever mix of {@code ..}, absolute paths, trailing slashes and symlinks (its own and ones the
 * host left in the preopen), nothing outside the preopen is created, changed or removed, no byte
 * the guest reads is the secret beside the preopen, and every call ends in an errno. Each input
 * gets a fresh layout {@code level/root} (the preopen) beside {@code level/outside/secret}, both
 * below a temporary directory, so {@code ../..} leads somewhere watched too. Paths and link targets
 * come from a small alphabet of components rather than raw bytes: the interesting inputs are
 * sequences of calls, and an alphabet lets the fuzzer spend its time on those. What the guest
 * writes is drawn from fixed strings, so it can never write the secret itself. CI replays the seeds
 * beside this class (the first ones encode known escape attempts: climbing paths, links out, a
 * directory fd whose directory is swapped for a link); {@code JAZZER_FUZZ=1 mvn -pl sandbox test
 * -Dtest=WasiPathFuzzTest} or {@code bench/fuzz} fuzzes.
 */
class WasiPathFuzzTest {
  private static final int MAX_OPS = 40;
  private static final int PATH = 1024;
  private static final int PATH2 = 1536;
  private static final int OUT = 2048;
  private static final int IOV = 3072;
  private static final int BUF = 4096;
  private static final int MAX_BUF = 4096;
  private static final int PREOPEN_FD = 3;
  private static final byte[] SECRET =
      "SECRET-7f3a9c0e5b1d2468ace0-beside-the-preopen".getBytes(UTF_8);
  private static final LinkOption[] NOFOLLOW = {LinkOption.NOFOLLOW_LINKS};

  private static final String[] COMPONENTS = {
    "a", "b", "f", "..", ".", "", "outside", "secret", "up", "abs", "deep", "loop", "l", "level",
    "root",
  };
  private static final String[] TARGETS = {
    "../outside",
    "../outside/secret",
    "../../",
    "..",
    "../..",
    ".",
    "a",
    "f",
    "l",
    "up",
    "loop",
    "../root/f",
    "../../level/outside/secret",
    "a/../../outside",
    "/tmp",
    "/",
  };
  private static final String[] DATA = {"x", "inside", "0123456789abcdef"};
  private static final long DIR_RIGHTS = Abi.RIGHTS_ALL & ~Abi.RIGHTS_FILE_ONLY;
  private static final long[] RIGHTS = {
    0,
    Abi.RIGHT_FD_READ | Abi.RIGHT_FD_SEEK | Abi.RIGHT_FD_TELL,
    Abi.RIGHT_FD_READ | Abi.RIGHT_FD_WRITE | Abi.RIGHT_FD_SEEK,
    DIR_RIGHTS,
    Abi.RIGHTS_ALL,
  };

  private enum Op {
    OPEN,
    MKDIR,
    SYMLINK,
    RENAME,
    LINK,
    UNLINK,
    RMDIR,
    READDIR,
    READ,
    PREAD,
    WRITE,
    PWRITE,
    SEEK,
    FILESTAT,
    SET_TIMES,
    SET_SIZE,
    READLINK,
    CLOSE,
    RENUMBER,
  }

  @FuzzTest(maxDuration = "60s")
  void pathCallsNeverLeaveThePreopen(FuzzedDataProvider data) throws IOException {
    Path base = Files.createTempDirectory("wasi-fuzz-");
    try {
      Path level = Files.createDirectory(base.resolve("level"));
      Path root = Files.createDirectory(level.resolve("root"));
      Path outside = Files.createDirectory(level.resolve("outside"));
      Files.write(outside.resolve("secret"), SECRET);
      Files.createDirectory(root.resolve("a"));
      Files.writeString(root.resolve("f"), "inside");
      Files.writeString(root.resolve("a/f"), "inside a");
      // Links the host left in the preopen: the guest's own path_symlink refuses absolute targets.
      Files.createSymbolicLink(root.resolve("up"), Path.of("../outside"));
      Files.createSymbolicLink(root.resolve("abs"), outside.resolve("secret").toAbsolutePath());
      Files.createSymbolicLink(root.resolve("deep"), Path.of("../../level/outside"));
      Files.createSymbolicLink(root.resolve("loop"), Path.of("loop"));
      Files.createSymbolicLink(root.resolve("a/up"), Path.of("../../outside"));
      Map<String, String> before = outsideOf(base, root);
      try (Wasi w = Wasi.builder().preopen("/", root).randomSeed(1).build()) {
        run(data, w, base, root, before);
      }
    } finally {
      deleteTree(base);
    }
  }

  private static void run(
      FuzzedDataProvider data, Wasi w, Path base, Path root, Map<String, String> before)
      throws IOException {
    Memory m = new ByteArrayMemory(new MemoryLimits(1));
    List<Integer> fds = new ArrayList<>(List.of(PREOPEN_FD));
    List<String> trace = new ArrayList<>();
    for (int i = 0; i < MAX_OPS && data.remainingBytes() > 0; i++) {
      Op op = data.pickValue(Op.values());
      int fd = fd(data, fds);
      String step = op + " fd " + fd;
      int errno;
      switch (op) {
        case OPEN -> {
          int lookup = data.consumeInt(0, 1);
          String p = path(data, m, PATH);
          int oflags = data.consumeInt(0, 15);
          long base0 = data.pickValue(RIGHTS);
          long inheriting = data.pickValue(RIGHTS);
          int fdFlags = data.consumeBoolean() ? Abi.FDFLAGS_APPEND : 0;
          step += " '" + p + "' lookup " + lookup + " oflags " + oflags;
          errno =
              call(
                  trace,
                  step,
                  () ->
                      w.pathCalls.pathOpen(
                          m, fd, lookup, PATH, len(p), oflags, base0, inheriting, fdFlags, OUT));
          if (errno == Errno.SUCCESS) {
            fds.add(m.readInt(OUT));
          }
        }
        case MKDIR -> {
          String p = path(data, m, PATH);
          step += " '" + p + "'";
          errno = call(trace, step, () -> w.pathCalls.pathCreateDirectory(m, fd, PATH, len(p)));
        }
        case SYMLINK -> {
          String target = data.pickValue(TARGETS);
          write(m, PATH2, target);
          String p = path(data, m, PATH);
          step += " '" + p + "' -> '" + target + "'";
          errno =
              call(
                  trace,
                  step,
                  () -> w.pathCalls.pathSymlink(m, PATH2, len(target), fd, PATH, len(p)));
        }
        case RENAME, LINK -> {
          String from = path(data, m, PATH);
          int toFd = fd(data, fds);
          String to = path(data, m, PATH2);
          int follow = data.consumeInt(0, 1);
          step += " '" + from + "' to fd " + toFd + " '" + to + "'";
          errno =
              op == Op.RENAME
                  ? call(
                      trace,
                      step,
                      () -> w.pathCalls.pathRename(m, fd, PATH, len(from), toFd, PATH2, len(to)))
                  : call(
                      trace,
                      step,
                      () ->
                          w.pathCalls.pathLink(
                              m, fd, follow, PATH, len(from), toFd, PATH2, len(to)));
        }
        case UNLINK, RMDIR -> {
          String p = path(data, m, PATH);
          step += " '" + p + "'";
          errno =
              op == Op.UNLINK
                  ? call(trace, step, () -> w.pathCalls.pathUnlinkFile(m, fd, PATH, len(p)))
                  : call(trace, step, () -> w.pathCalls.pathRemoveDirectory(m, fd, PATH, len(p)));
        }
        case READDIR -> {
          long cookie = data.consumeLong(0, 20);
          int n = data.consumeInt(0, MAX_BUF);
          errno = call(trace, step, () -> w.fdCalls.fdReaddir(m, fd, BUF, n, cookie, OUT));
        }
        case READ, PREAD -> {
          int n = data.consumeInt(0, MAX_BUF);
          long offset = data.consumeLong(-1, 64);
          m.writeI32(IOV, BUF);
          m.writeI32(IOV + 4, n);
          m.write(BUF, new byte[MAX_BUF], 0, MAX_BUF);
          errno =
              op == Op.READ
                  ? call(trace, step, () -> w.fdCalls.fdRead(m, fd, IOV, 1, OUT))
                  : call(trace, step, () -> w.fdCalls.fdPread(m, fd, IOV, 1, offset, OUT));
          if (errno == Errno.SUCCESS) {
            // The whole buffer, not just what the call says it read.
            check(
                indexOf(m.readBytes(BUF, MAX_BUF), SECRET) < 0, "the guest read the secret", trace);
          }
        }
        case WRITE, PWRITE -> {
          String s = data.pickValue(DATA);
          long offset = data.consumeLong(-1, 64);
          write(m, BUF, s);
          m.writeI32(IOV, BUF);
          m.writeI32(IOV + 4, len(s));
          errno =
              op == Op.WRITE
                  ? call(trace, step, () -> w.fdCalls.fdWrite(m, fd, IOV, 1, OUT))
                  : call(trace, step, () -> w.fdCalls.fdPwrite(m, fd, IOV, 1, offset, OUT));
        }
        case SEEK -> {
          long offset = data.consumeLong(-8, 64);
          int whence = data.consumeInt(0, 3);
          errno = call(trace, step, () -> w.fdCalls.fdSeek(m, fd, offset, whence, OUT));
        }
        case FILESTAT, SET_TIMES -> {
          int follow = data.consumeInt(0, 1);
          String p = path(data, m, PATH);
          step += " '" + p + "' follow " + follow;
          errno =
              op == Op.FILESTAT
                  ? call(
                      trace,
                      step,
                      () -> w.pathCalls.pathFilestatGet(m, fd, follow, PATH, len(p), OUT))
                  : call(
                      trace,
                      step,
                      () ->
                          w.pathCalls.pathFilestatSetTimes(
                              m,
                              fd,
                              follow,
                              PATH,
                              len(p),
                              1_000_000_000L,
                              1_000_000_000L,
                              Abi.FST_ATIM | Abi.FST_MTIM));
        }
        case SET_SIZE -> {
          long size = data.consumeLong(0, 64);
          errno = call(trace, step, () -> w.fdCalls.fdFilestatSetSize(fd, size));
        }
        case READLINK -> {
          String p = path(data, m, PATH);
          step += " '" + p + "'";
          errno =
              call(
                  trace,
                  step,
                  () -> w.pathCalls.pathReadlink(m, fd, PATH, len(p), BUF, MAX_BUF, OUT));
        }
        case CLOSE -> {
          errno = call(trace, step, () -> w.fdCalls.fdClose(fd));
          if (errno == Errno.SUCCESS) {
            fds.remove(Integer.valueOf(fd));
          }
        }
        case RENUMBER -> {
          int to = fd(data, fds);
          step += " to " + to;
          errno = call(trace, step, () -> w.fdCalls.fdRenumber(fd, to));
          if (errno == Errno.SUCCESS && fd != to) {
            fds.remove(Integer.valueOf(fd));
          }
        }
        default -> throw new AssertionError(op);
      }
      check(errno >= 0 && errno <= Errno.NOTCAPABLE, "errno " + errno + " is no WASI errno", trace);
      check(
          outsideOf(base, root).equals(before),
          "the file system outside the preopen changed",
          trace);
    }
  }

  @FunctionalInterface
  private interface Thunk {
    int get() throws IOException;
  }

  /**
   * Runs a call the way the host-function boundary does. Anything but an errno escaping it would
   * end the guest with a host failure, so it is a finding; the trace says how it came about.
   */
  private static int call(List<String> trace, String step, Thunk c) {
    trace.add(step);
    try {
      int errno = HostModule.invoke((mem, a) -> c.get(), null, null);
      trace.set(trace.size() - 1, step + " = " + errno);
      return errno;
    } catch (RuntimeException | Error e) {
      throw new AssertionError(
          "a call did not end in an errno:\n  " + String.join("\n  ", trace), e);
    }
  }

  private static void check(boolean ok, String what, List<String> trace) {
    if (!ok) {
      throw new AssertionError(what + ":\n  " + String.join("\n  ", trace));
    }
  }

  /** Mostly an fd the guest holds; sometimes any small number, closed, stdio or never opened. */
  private static int fd(FuzzedDataProvider data, List<Integer> fds) {
    int i = data.consumeInt(0, fds.size());
    return i < fds.size() ? fds.get(i) : data.consumeInt(-1, 12);
  }

  /**
   * A path of one to six components, maybe absolute, maybe with a trailing slash, put at {@code
   * ptr}.
   */
  private static String path(FuzzedDataProvider data, Memory m, int ptr) {
    StringBuilder p = new StringBuilder();
    int shape = data.consumeInt(0, 7);
    if (shape == 0) {
      p.append('/');
    }
    int n = data.consumeInt(1, 6);
    for (int i = 0; i < n; i++) {
      if (i > 0) {
        p.append('/');
      }
      p.append(data.pickValue(COMPONENTS));
    }
    if (shape == 1) {
      p.append('/');
    }
    write(m, ptr, p.toString());
    return p.toString();
  }

  private static void write(Memory m, int ptr, String s) {
    byte[] b = s.getBytes(UTF_8);
    m.write(ptr, b, 0, b.length);
  }

  private static int len(String s) {
    return s.getBytes(UTF_8).length;
  }

  private static int indexOf(byte[] haystack, byte[] needle) {
    outer:
    for (int i = 0; i + needle.length <= haystack.length; i++) {
      for (int j = 0; j < needle.length; j++) {
        if (haystack[i + j] != needle[j]) {
          continue outer;
        }
      }
      return i;
    }
    return -1;
  }

  /**
   * Everything below {@code base} but the preopen, links not followed: each path with its type, and
   * for files their size, modification time and bytes; for links their target.
   */
  private static Map<String, String> outsideOf(Path base, Path root) throws IOException {
    Map<String, String> out = new TreeMap<>();
    try (Stream<Path> s = Files.walk(base)) {
      for (Path p : (Iterable<Path>) s::iterator) {
        if (p.startsWith(root)) {
          continue;
        }
        String what;
        if (Files.isSymbolicLink(p)) {
          what = "link " + Files.readSymbolicLink(p);
        } else if (Files.isDirectory(p, NOFOLLOW)) {
          what = "dir " + Files.getLastModifiedTime(p, NOFOLLOW);
        } else {
          what =
              "file "
                  + Files.getLastModifiedTime(p, NOFOLLOW)
                  + " "
                  + HexFormat.of().formatHex(Files.readAllBytes(p));
        }
        out.put(base.relativize(p).toString(), what);
      }
    }
    return out;
  }

  private static void deleteTree(Path base) throws IOException {
    try (Stream<Path> s = Files.walk(base)) {
      for (Path p : s.sorted(Comparator.reverseOrder()).toList()) {
        Files.delete(p);
      }
    }
  }
}
