package dev.spindle.fuse;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.spindle.image.AccessMode;
import dev.spindle.image.Image;
import dev.spindle.image.Progress;
import dev.spindle.image.make.ImageMaker;
import dev.spindle.image.make.MakeOptions;
import dev.spindle.testing.Requires;
import dev.spindle.testing.Tool;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.MessageDigest;
import java.time.OffsetDateTime;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/** A real FUSE mount, read through the kernel by Java and by real processes. */
@Requires(Tool.FUSE)
class ImageMountTest {
  private static final OffsetDateTime DATE = OffsetDateTime.parse("2026-01-02T03:04:05Z");
  private static final int BIG = OpenBlob.IN_MEMORY_MAX + 1_500_000; // takes the spill-file path

  @TempDir static Path shared;
  static Path source;
  static Path imageFile;
  @TempDir Path tmp;
  Path mnt;
  Image image;
  ImageMount mount;

  @BeforeAll
  static void makeImage() throws IOException {
    source = Files.createDirectories(shared.resolve("src"));
    Files.writeString(source.resolve("hello.txt"), "hello, fuse\n");
    Files.write(source.resolve("empty"), new byte[0]);
    Files.writeString(source.resolve("name with spaces.txt"), "spaces\n");
    Path bin = Files.createDirectories(source.resolve("bin"));
    Files.writeString(bin.resolve("run.sh"), "#!/bin/sh\necho ran from the image\n");
    Files.setPosixFilePermissions(
        bin.resolve("run.sh"), PosixFilePermissions.fromString("rwxr-xr-x"));
    Path deep = Files.createDirectories(source.resolve("a/b/c"));
    Files.writeString(deep.resolve("deep.txt"), "deep\n");
    byte[] big = new byte[BIG];
    new Random(42).nextBytes(big);
    Files.write(source.resolve("a/big.bin"), big);
    Path many = Files.createDirectories(source.resolve("many"));
    for (int i = 0; i < 300; i++) {
      Files.writeString(many.resolve("f" + i), "file " + i + "\n");
    }
    Files.createSymbolicLink(source.resolve("link-to-hello"), Path.of("hello.txt"));
    Files.createSymbolicLink(source.resolve("link-to-dir"), Path.of("a/b"));
    Files.createSymbolicLink(source.resolve("dangling"), Path.of("nowhere/at/all"));
    imageFile = shared.resolve("test.img");
    new ImageMaker(MakeOptions.defaults().withDate(DATE), Progress.NONE)
        .make(source.toString(), imageFile);
  }

  @BeforeEach
  void prepare() throws IOException {
    mnt =
        Files.createDirectories(
            tmp.resolve("mount point")); // a space: /proc/self/mountinfo escapes it as \040
  }

  void mount(AccessMode mode, MountOptions options) throws IOException {
    image = Image.open(imageFile, mode);
    mount = ImageMount.mount(image, mnt, options);
  }

  @AfterEach
  void cleanUp() throws IOException {
    try {
      if (mount != null) {
        mount.close();
      }
    } finally {
      if (image != null) {
        image.close();
      }
    }
    assertThat(MountPoints.isMounted(mnt)).as("mount left behind").isFalse();
  }

  @ParameterizedTest
  @EnumSource(AccessMode.class)
  void walkingTheMountGivesTheSourceTree(AccessMode mode) throws IOException {
    mount(mode, MountOptions.defaults());
    Map<String, String> expected = describe(source);
    Map<String, String> actual = describe(mnt);
    assertThat(actual).isEqualTo(expected);
    assertThat(Files.getLastModifiedTime(mnt.resolve("hello.txt")))
        .isEqualTo(FileTime.from(DATE.toInstant()));
    assertThat(Files.getAttribute(mnt.resolve("hello.txt"), "unix:uid")).isEqualTo(0);
  }

  /** Path → type, permissions of the owner, content hash or link target: what an image keeps. */
  private static Map<String, String> describe(Path root) throws IOException {
    Map<String, String> out = new TreeMap<>();
    try (Stream<Path> s = Files.walk(root)) {
      for (Path p : (Iterable<Path>) s::iterator) {
        String rel = root.relativize(p).toString();
        if (Files.isSymbolicLink(p)) {
          out.put(rel, "link " + Files.readSymbolicLink(p));
        } else if (Files.isDirectory(p, LinkOption.NOFOLLOW_LINKS)) {
          out.put(rel, "dir");
        } else {
          boolean x = Files.getPosixFilePermissions(p).contains(PosixFilePermission.OWNER_EXECUTE);
          out.put(rel, (x ? "exec " : "file ") + sha256(Files.readAllBytes(p)));
        }
      }
    }
    return out;
  }

  @Test
  void realProcessesReadTheMount() throws Exception {
    mount(AccessMode.INDEXED, MountOptions.defaults());
    assertThat(run("cat", mnt.resolve("hello.txt").toString())).isEqualTo("hello, fuse\n");
    assertThat(run("cat", mnt.resolve("link-to-dir/c/deep.txt").toString())).isEqualTo("deep\n");
    assertThat(run("sha256sum", mnt.resolve("a/big.bin").toString()))
        .startsWith(sha256(Files.readAllBytes(source.resolve("a/big.bin"))));
    assertThat(run(mnt.resolve("bin/run.sh").toString())).isEqualTo("ran from the image\n");
    String ls = run("ls", "-l", mnt.toString());
    assertThat(ls).containsPattern("(?m)^lrwxrwxrwx .* root root .* link-to-hello -> hello.txt$");
    assertThat(ls).containsPattern("(?m)^-rw-r--r-- 1 root root +12 .* hello.txt$");
    assertThat(run("ls", "-l", mnt.resolve("bin").toString()))
        .containsPattern("(?m)^-rwxr-xr-x .* run.sh$");
    assertThat(run("ls", mnt.resolve("many").toString()).lines().count()).isEqualTo(300);
    assertThat(run("stat", "-f", "-c", "%T", mnt.toString())).startsWith("fuse");
  }

  @Test
  void anOwnerGivenInTheOptionsOwnsEveryFile() throws Exception {
    mount(AccessMode.INDEXED, MountOptions.defaults().withOwner(100000, 100001));
    for (Path p :
        List.of(mnt, mnt.resolve("hello.txt"), mnt.resolve("a/b"), mnt.resolve("bin/run.sh"))) {
      assertThat(Files.getAttribute(p, "unix:uid")).as(p.toString()).isEqualTo(100000);
      assertThat(Files.getAttribute(p, "unix:gid")).as(p.toString()).isEqualTo(100001);
    }
    assertThat(
            Files.getAttribute(mnt.resolve("link-to-hello"), "unix:uid", LinkOption.NOFOLLOW_LINKS))
        .isEqualTo(100000);
  }

  @Test
  void writesFailReadOnly() throws Exception {
    mount(AccessMode.INDEXED, MountOptions.defaults());
    assertThatThrownBy(() -> Files.writeString(mnt.resolve("new.txt"), "x"))
        .isInstanceOf(FileSystemException.class)
        .hasMessageContaining("Read-only file system");
    assertThatThrownBy(() -> Files.writeString(mnt.resolve("hello.txt"), "x"))
        .isInstanceOf(FileSystemException.class)
        .hasMessageContaining("Read-only file system");
    assertThatThrownBy(() -> Files.delete(mnt.resolve("hello.txt")))
        .isInstanceOf(FileSystemException.class)
        .hasMessageContaining("Read-only file system");
    assertThatThrownBy(() -> Files.createDirectory(mnt.resolve("d")))
        .isInstanceOf(FileSystemException.class)
        .hasMessageContaining("Read-only file system");
    Process p =
        new ProcessBuilder("touch", mnt.resolve("a/b/c/deep.txt").toString())
            .redirectErrorStream(true)
            .start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(p.waitFor()).isNotZero();
    assertThat(out).contains("Read-only file system");
    assertThat(Files.readString(mnt.resolve("hello.txt"))).isEqualTo("hello, fuse\n");
  }

  @Test
  void readsAtAnyOffsetOfALargeFileMatch() throws IOException {
    mount(AccessMode.LAZY, MountOptions.defaults());
    byte[] expected = Files.readAllBytes(source.resolve("a/big.bin"));
    Random r = new Random(7);
    // Backwards and forwards within one handle: the spill file serves what was inflated.
    try (RandomAccessFile f = new RandomAccessFile(mnt.resolve("a/big.bin").toFile(), "r")) {
      assertThat(f.length()).isEqualTo(BIG);
      for (long off : new long[] {BIG - 1000, 0, BIG / 2, 5, BIG - 1}) {
        byte[] got = new byte[(int) Math.min(1000, BIG - off)];
        f.seek(off);
        f.readFully(got);
        assertThat(got)
            .isEqualTo(java.util.Arrays.copyOfRange(expected, (int) off, (int) off + got.length));
      }
      for (int i = 0; i < 50; i++) {
        int off = r.nextInt(BIG);
        byte[] got = new byte[Math.min(70_000, BIG - off)];
        f.seek(off);
        f.readFully(got);
        assertThat(got).isEqualTo(java.util.Arrays.copyOfRange(expected, off, off + got.length));
      }
    }
  }

  @Test
  void concurrentReadersGetTheRightBytes() throws Exception {
    mount(AccessMode.LAZY, MountOptions.defaults());
    String big = sha256(Files.readAllBytes(source.resolve("a/big.bin")));
    List<Process> ps = new ArrayList<>();
    for (int i = 0; i < 4; i++) { // four processes, four handles on the same large blob at once
      ps.add(new ProcessBuilder("sha256sum", mnt.resolve("a/big.bin").toString()).start());
    }
    try (var pool = java.util.concurrent.Executors.newFixedThreadPool(4)) {
      List<java.util.concurrent.Future<Boolean>> same = new ArrayList<>();
      for (int i = 0; i < 300; i++) {
        String name = "many/f" + i;
        same.add(
            pool.submit(
                () ->
                    Files.readString(mnt.resolve(name))
                        .equals(Files.readString(source.resolve(name)))));
      }
      for (var f : same) {
        assertThat(f.get()).isTrue();
      }
    }
    for (Process p : ps) {
      assertThat(new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8))
          .startsWith(big);
      assertThat(p.waitFor()).isZero();
    }
  }

  @Test
  void aDamagedBlobReadsAsAnIoErrorAndTheRestStillWorks() throws Exception {
    Path damaged = tmp.resolve("damaged.img");
    byte[] b = Files.readAllBytes(imageFile);
    b[b.length / 2] ^= 0x55; // the middle of the file is the large incompressible blob
    Files.write(damaged, b);
    image = Image.open(damaged, AccessMode.INDEXED);
    mount = ImageMount.mount(image, mnt, MountOptions.defaults());
    assertThatThrownBy(() -> Files.readAllBytes(mnt.resolve("a/big.bin")))
        .isInstanceOf(IOException.class)
        .hasMessageContaining("Input/output error");
    assertThat(Files.readString(mnt.resolve("hello.txt"))).isEqualTo("hello, fuse\n");
  }

  @Test
  void traceListsEachFirstOpenOnceWithTheReadersPid() throws Exception {
    Path trace = tmp.resolve("trace.jsonl");
    mount(AccessMode.INDEXED, MountOptions.defaults().withTrace(trace));
    Process cat = new ProcessBuilder("cat", mnt.resolve("a/b/c/deep.txt").toString()).start();
    cat.getInputStream().readAllBytes();
    assertThat(cat.waitFor()).isZero();
    Files.readString(mnt.resolve("hello.txt"));
    Files.readString(mnt.resolve("hello.txt"));
    Files.readString(mnt.resolve("link-to-hello")); // the same file through a symlink
    Files.readAllBytes(mnt.resolve("a/big.bin"));
    mount.close();
    List<JsonNode> lines = new ArrayList<>();
    for (String l : Files.readAllLines(trace)) {
      lines.add(new ObjectMapper().readTree(l));
    }
    assertThat(lines)
        .extracting(n -> n.get("path").asText())
        .containsExactly("/a/b/c/deep.txt", "/hello.txt", "/a/big.bin");
    assertThat(lines.get(0).get("pid").asLong()).isEqualTo(cat.pid());
    assertThat(lines.get(1).get("pid").asLong()).isEqualTo(ProcessHandle.current().pid());
    assertThat(lines.get(2).get("size").asLong()).isEqualTo(BIG);
    assertThat(lines.get(1).get("id").asText()).isEqualTo(image.require("hello.txt").id().name());
    assertThat(lines.get(1).get("ms").asDouble())
        .isLessThanOrEqualTo(lines.get(2).get("ms").asDouble());
  }

  @Test
  void firstOpensOutsideTheHotSetAreServedAndCountedAsCold() throws Exception {
    Path trace = tmp.resolve("hot-trace.jsonl");
    mount(
        AccessMode.INDEXED, MountOptions.defaults().withTrace(trace).withHot(List.of("hello.txt")));
    assertThat(Files.readString(mnt.resolve("hello.txt"))).isEqualTo("hello, fuse\n");
    assertThat(Files.readAllBytes(mnt.resolve("a/big.bin"))).hasSize(BIG);
    Files.readAllBytes(mnt.resolve("a/big.bin"));
    assertThat(mount.firstOpens()).isEqualTo(2);
    assertThat(mount.coldOpens()).isEqualTo(1);
    mount.close();
    List<String> lines = Files.readAllLines(trace);
    assertThat(new ObjectMapper().readTree(lines.get(0)).has("cold")).isFalse();
    assertThat(new ObjectMapper().readTree(lines.get(1)).get("cold").asBoolean()).isTrue();
  }

  @Test
  void unmountByFusermountIsSeenAndCloseCleansUp() throws Exception {
    mount(AccessMode.INDEXED, MountOptions.defaults());
    assertThat(MountPoints.isMounted(mnt)).isTrue();
    assertThatThrownBy(() -> ImageMount.mount(image, mnt, MountOptions.defaults()))
        .hasMessageContaining("already a mount point");
    MountPoints.unmountFuse(mnt);
    mount.awaitUnmounted();
    mount.close();
    mount.close(); // idempotent
    try (Stream<Path> s = Files.list(mnt)) {
      assertThat(s).isEmpty();
    }
  }

  @Test
  void mountingOnAMissingDirectoryNamesIt() {
    Path missing = tmp.resolve("no-such-dir");
    assertThatThrownBy(
            () -> {
              try (Image img = Image.open(imageFile, AccessMode.INDEXED)) {
                ImageMount.mount(img, missing, MountOptions.defaults()).close();
              }
            })
        .hasMessageContaining("cannot mount at " + missing + ": not a directory");
  }

  private static String run(String... cmd) throws Exception {
    Process p = new ProcessBuilder(cmd).redirectError(ProcessBuilder.Redirect.INHERIT).start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(p.waitFor()).as(String.join(" ", cmd)).isZero();
    return out;
  }

  private static String sha256(byte[] b) {
    try {
      return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(b));
    } catch (java.security.NoSuchAlgorithmException e) {
      throw new AssertionError(e);
    }
  }
}
