package dev.spindle.sandbox.wasi;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.dylibso.chicory.runtime.ByteArrayMemory;
import com.dylibso.chicory.runtime.Memory;
import com.dylibso.chicory.wasm.types.MemoryLimits;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.nio.file.FileSystem;
import java.nio.file.FileSystems;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * WASI calls exercised directly with a {@link Memory} and ints, no guest: the state capture and
 * restore contract, sandboxing of paths, read-only file systems.
 */
class WasiCallsTest {
  private static final int PATH = 1024;
  private static final int OUT = 2048;
  private static final int IOV = 3072;
  private static final int BUF = 4096;
  private static final int PREOPEN_FD = 3;
  private static final long READ_RIGHTS = Abi.RIGHT_FD_READ | Abi.RIGHT_FD_SEEK | Abi.RIGHT_FD_TELL;

  @TempDir Path dir;
  private final Memory m = new ByteArrayMemory(new MemoryLimits(1));

  private Wasi wasi(Path root, long seed) {
    return Wasi.builder()
        .args(List.of("prog", "arg"))
        .env("K", "V")
        .preopen("/", root)
        .randomSeed(seed)
        .build();
  }

  /** path_open relative to the preopen; returns the errno, the fd is at {@link #OUT}. */
  private int open(Wasi w, String path, int oflags, long rights, int lookup) throws IOException {
    byte[] p = path.getBytes(UTF_8);
    m.write(PATH, p, 0, p.length);
    return call(
        () ->
            w.pathCalls.pathOpen(
                m, PREOPEN_FD, lookup, PATH, p.length, oflags, rights, rights, 0, OUT));
  }

  private int openedFd() {
    return m.readInt(OUT);
  }

  private String read(Wasi w, int fd, int n) throws IOException {
    m.writeI32(IOV, BUF);
    m.writeI32(IOV + 4, n);
    assertThat(w.fdCalls.fdRead(m, fd, IOV, 1, OUT)).isZero();
    return new String(m.readBytes(BUF, m.readInt(OUT)), UTF_8);
  }

  private byte[] random(Wasi w, int n) {
    w.clockRandomCalls.randomGet(m, BUF, n);
    return m.readBytes(BUF, n);
  }

  @FunctionalInterface
  private interface Thunk {
    int get() throws IOException;
  }

  /** Runs a call the way the host-function boundary does: failures become errnos. */
  private static int call(Thunk c) {
    return HostModule.invoke((mem, a) -> c.get(), null, null);
  }

  @Test
  void stateCapturedMidReadRestoresIntoAFreshInstanceAtTheSameOffset() throws IOException {
    Files.writeString(dir.resolve("data.txt"), "0123456789");
    Wasi original = wasi(dir, 42);
    assertThat(open(original, "data.txt", 0, READ_RIGHTS, 0)).isZero();
    int fd = openedFd();
    assertThat(read(original, fd, 4)).isEqualTo("0123");

    WasiState state = original.capture();
    assertThat(state.fds())
        .contains(
            new WasiState.Fd(
                fd, WasiState.Kind.FILE, 0, "data.txt", false, READ_RIGHTS, READ_RIGHTS, 0, 4));

    try (Wasi restored =
        Wasi.restore(
            state,
            InputStream.nullInputStream(),
            new ByteArrayOutputStream(),
            new ByteArrayOutputStream())) {
      assertThat(read(restored, fd, 3)).isEqualTo("456");
      assertThat(read(original, fd, 3)).as("the parent goes on independently").isEqualTo("456");
      assertThat(random(restored, 16)).as("same random stream").isEqualTo(random(original, 16));
      assertThat(restored.capture().fds()).isEqualTo(original.capture().fds());
      assertThat(restored.capture().args()).containsExactly("prog", "arg");
      assertThat(restored.capture().env()).containsExactly("K=V");
      restored.clockRandomCalls.clockTimeGet(m, Abi.CLOCK_MONOTONIC, 0, OUT);
      assertThat(m.readLong(OUT))
          .as("monotonic clock continues")
          .isGreaterThanOrEqualTo(state.monotonicNanos());
    }
    original.close();
  }

  @Test
  void openDirectoriesAndPreopensSurviveRestore() throws IOException {
    Files.createDirectories(dir.resolve("a/b"));
    Files.writeString(dir.resolve("a/b/f"), "deep");
    Wasi w = wasi(dir, 1);
    byte[] a = "a".getBytes(UTF_8);
    m.write(PATH, a, 0, a.length);
    assertThat(
            w.pathCalls.pathOpen(
                m,
                PREOPEN_FD,
                0,
                PATH,
                1,
                Abi.OFLAGS_DIRECTORY,
                Abi.RIGHTS_ALL & ~Abi.RIGHTS_FILE_ONLY,
                Abi.RIGHTS_ALL,
                0,
                OUT))
        .isZero();
    int sub = openedFd();
    Wasi restored = Wasi.restore(w.capture(), null, null, null);

    assertThat(restored.fdCalls.fdPrestatGet(m, PREOPEN_FD, OUT)).isZero();
    assertThat(call(() -> restored.fdCalls.fdPrestatGet(m, sub, OUT))).isEqualTo(Errno.BADF);
    byte[] p = "b/f".getBytes(UTF_8);
    m.write(PATH, p, 0, p.length);
    assertThat(restored.pathCalls.pathOpen(m, sub, 0, PATH, p.length, 0, READ_RIGHTS, 0, 0, OUT))
        .isZero();
    assertThat(read(restored, openedFd(), 10)).isEqualTo("deep");
  }

  @Test
  void aPreopenClosedWithEverythingBelowItIsLeftOutOfTheState() throws IOException {
    Path other = Files.createDirectory(dir.resolve("other"));
    Files.writeString(other.resolve("g"), "kept");
    Wasi w =
        Wasi.builder()
            .preopen("/gone", Files.createDirectory(dir.resolve("gone")))
            .preopen("/other", other)
            .build();
    int otherFd = PREOPEN_FD + 1;
    byte[] g = "g".getBytes(UTF_8);
    m.write(PATH, g, 0, g.length);
    assertThat(
            w.pathCalls.pathOpen(
                m, otherFd, 0, PATH, g.length, 0, READ_RIGHTS, READ_RIGHTS, 0, OUT))
        .isZero();
    int file = openedFd();
    assertThat(w.capture().preopens()).hasSize(2);

    assertThat(w.fdCalls.fdClose(PREOPEN_FD)).isZero();
    WasiState state = w.capture();
    assertThat(state.preopens()).extracting(WasiState.Preopen::guestPath).containsExactly("/other");
    assertThat(state.fds()).allSatisfy(f -> assertThat(f.preopen()).isIn(-1, 0));
    try (Wasi restored = Wasi.restore(state, null, null, null)) {
      assertThat(read(restored, file, 4))
          .as("a file below the kept preopen, renumbered")
          .isEqualTo("kept");
      assertThat(call(() -> restored.fdCalls.fdPrestatGet(m, PREOPEN_FD, OUT)))
          .isEqualTo(Errno.BADF);
      assertThat(restored.fdCalls.fdPrestatGet(m, otherFd, OUT)).isZero();
    }
    w.close();
  }

  @Test
  void restoreNeverFollowsALinkSwappedInForAnOpenFileOrDirectory() throws IOException {
    Path root = Files.createDirectory(dir.resolve("root"));
    Path outside = Files.createDirectory(dir.resolve("outside"));
    Files.writeString(outside.resolve("f"), "SECRET");
    Files.createDirectory(root.resolve("sub"));
    Files.writeString(root.resolve("f"), "inside");
    Wasi w = wasi(root, 1);
    assertThat(open(w, "f", 0, READ_RIGHTS, 0)).isZero();
    byte[] sub = "sub".getBytes(UTF_8);
    m.write(PATH, sub, 0, sub.length);
    assertThat(
            w.pathCalls.pathOpen(
                m,
                PREOPEN_FD,
                0,
                PATH,
                sub.length,
                Abi.OFLAGS_DIRECTORY,
                Abi.RIGHTS_ALL & ~Abi.RIGHTS_FILE_ONLY,
                Abi.RIGHTS_ALL,
                0,
                OUT))
        .isZero();
    WasiState state = w.capture();
    w.close();

    // The guest (or anyone) swaps the open file for a link out before the snapshot is restored.
    Files.delete(root.resolve("f"));
    Files.createSymbolicLink(root.resolve("f"), Path.of("../outside/f"));
    assertThatThrownBy(() -> Wasi.restore(state, null, null, null))
        .isInstanceOf(IOException.class)
        .hasMessageContaining("'f'");

    Files.delete(root.resolve("f"));
    Files.writeString(root.resolve("f"), "inside");
    Files.delete(root.resolve("sub"));
    Files.createSymbolicLink(root.resolve("sub"), Path.of("../outside"));
    assertThatThrownBy(() -> Wasi.restore(state, null, null, null))
        .isInstanceOf(IOException.class)
        .hasMessageContaining("'sub'");
  }

  @Test
  void restoreRefusesAStateWhosePathsClimb() throws IOException {
    Path root = Files.createDirectory(dir.resolve("root"));
    Files.writeString(dir.resolve("secret"), "SECRET");
    WasiState fresh = Wasi.builder().preopen("/", root).randomSeed(1).state();
    List<WasiState.Fd> fds = new java.util.ArrayList<>(fresh.fds());
    fds.add(new WasiState.Fd(4, WasiState.Kind.FILE, 0, "../secret", false, READ_RIGHTS, 0, 0, 0));
    WasiState tampered =
        new WasiState(
            fresh.args(),
            fresh.env(),
            fresh.preopens(),
            fds,
            fresh.realtimeOffsetNanos(),
            fresh.monotonicNanos(),
            fresh.randomState());

    assertThatThrownBy(() -> Wasi.restore(tampered, null, null, null))
        .isInstanceOf(IOException.class)
        .hasMessageContaining("leaves its preopen");
  }

  @Test
  void seededRandomIsReproducibleAndSeedsDiffer() {
    assertThat(random(wasi(dir, 7), 32)).isEqualTo(random(wasi(dir, 7), 32));
    assertThat(random(wasi(dir, 7), 32)).isNotEqualTo(random(wasi(dir, 8), 32));
  }

  @Test
  void pathsCannotLeaveTheirDirectory() throws IOException {
    Path root = Files.createDirectory(dir.resolve("root"));
    Files.writeString(dir.resolve("outside"), "secret");
    Files.createSymbolicLink(root.resolve("abs"), dir.resolve("outside").toAbsolutePath());
    Files.createSymbolicLink(root.resolve("up"), Path.of("../outside"));
    Files.createSymbolicLink(root.resolve("loop"), Path.of("loop"));
    Wasi w = wasi(root, 1);

    assertThat(open(w, "../outside", 0, READ_RIGHTS, Abi.LOOKUP_SYMLINK_FOLLOW))
        .isEqualTo(Errno.NOTCAPABLE);
    assertThat(open(w, "/outside", 0, READ_RIGHTS, Abi.LOOKUP_SYMLINK_FOLLOW))
        .isEqualTo(Errno.NOTCAPABLE);
    assertThat(open(w, "abs", 0, READ_RIGHTS, Abi.LOOKUP_SYMLINK_FOLLOW))
        .isEqualTo(Errno.NOTCAPABLE);
    assertThat(open(w, "up", 0, READ_RIGHTS, Abi.LOOKUP_SYMLINK_FOLLOW))
        .isEqualTo(Errno.NOTCAPABLE);
    assertThat(open(w, "loop", 0, READ_RIGHTS, Abi.LOOKUP_SYMLINK_FOLLOW)).isEqualTo(Errno.LOOP);
    assertThat(open(w, "abs", 0, READ_RIGHTS, 0))
        .as("not following: the link itself")
        .isEqualTo(Errno.LOOP);
  }

  @Test
  void readOnlyFileSystemAnswersErofsAndStillServesReads() throws IOException {
    Path zip = dir.resolve("image.zip");
    try (FileSystem fs = FileSystems.newFileSystem(zip, Map.of("create", "true"))) {
      Files.writeString(fs.getPath("/present"), "here");
    }
    try (FileSystem fs =
        FileSystems.newFileSystem(
            URI.create("jar:" + zip.toUri()), Map.of("accessMode", "readOnly"))) {
      Wasi w = wasi(fs.getPath("/"), 1);

      assertThat(open(w, "new", Abi.OFLAGS_CREAT, Abi.RIGHTS_ALL, 0)).isEqualTo(Errno.ROFS);
      assertThat(open(w, "present", Abi.OFLAGS_TRUNC, Abi.RIGHTS_ALL, 0)).isEqualTo(Errno.ROFS);
      byte[] p = "newdir".getBytes(UTF_8);
      m.write(PATH, p, 0, p.length);
      assertThat(call(() -> w.pathCalls.pathCreateDirectory(m, PREOPEN_FD, PATH, p.length)))
          .isEqualTo(Errno.ROFS);
      assertThat(open(w, "present", 0, READ_RIGHTS, 0)).isZero();
      assertThat(read(w, openedFd(), 10)).isEqualTo("here");
    }
  }

  @Test
  void rightsOnlyShrink() throws IOException {
    Files.writeString(dir.resolve("f"), "x");
    Wasi w = wasi(dir, 1);
    assertThat(open(w, "f", 0, READ_RIGHTS, 0)).isZero();
    int fd = openedFd();

    assertThat(call(() -> w.fdCalls.fdFdstatSetRights(fd, READ_RIGHTS | Abi.RIGHT_FD_WRITE, 0)))
        .isEqualTo(Errno.NOTCAPABLE);
    assertThat(w.fdCalls.fdFdstatSetRights(fd, Abi.RIGHT_FD_SEEK, 0)).isZero();
    m.writeI32(IOV, BUF);
    m.writeI32(IOV + 4, 1);
    assertThat(call(() -> w.fdCalls.fdRead(m, fd, IOV, 1, OUT))).isEqualTo(Errno.NOTCAPABLE);
  }

  @Test
  void iovecOutsideGuestMemoryIsEfaultBeforeAnyHostAllocation() {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    Wasi w = Wasi.builder().stdout(out).build();
    m.writeI32(IOV, BUF);
    m.writeI32(IOV + 4, Integer.MAX_VALUE); // 2 GiB from a 64 KiB memory

    assertThat(call(() -> w.fdCalls.fdWrite(m, 1, IOV, 1, OUT))).isEqualTo(Errno.FAULT);
    m.writeI32(IOV + 4, 5);
    m.write(BUF, "hello".getBytes(UTF_8), 0, 5);
    assertThat(call(() -> w.fdCalls.fdWrite(m, 1, IOV, 1, OUT))).isZero();
    assertThat(out.toString(UTF_8)).isEqualTo("hello");
  }

  @Test
  void readdirCookieResumesTheListing() throws IOException {
    Files.writeString(dir.resolve("b"), "");
    Files.writeString(dir.resolve("a"), "");
    Wasi w = wasi(dir, 1);

    assertThat(names(w, 0)).containsExactly(".", "..", "a", "b");
    assertThat(names(w, 3)).containsExactly("b");
  }

  private List<String> names(Wasi w, long cookie) throws IOException {
    assertThat(w.fdCalls.fdReaddir(m, PREOPEN_FD, BUF, 1024, cookie, OUT)).isZero();
    int used = m.readInt(OUT);
    List<String> names = new java.util.ArrayList<>();
    for (int at = BUF; at < BUF + used; ) {
      int len = m.readInt(at + 16);
      names.add(new String(m.readBytes(at + Abi.DIRENT_HEADER, len), UTF_8));
      at += Abi.DIRENT_HEADER + len;
    }
    return names;
  }
}
