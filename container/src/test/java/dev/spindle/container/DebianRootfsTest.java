package dev.spindle.container;

import static org.assertj.core.api.Assertions.assertThat;

import dev.spindle.fuse.MountOptions;
import dev.spindle.fuse.MountPoints;
import dev.spindle.image.AccessMode;
import dev.spindle.image.Image;
import dev.spindle.image.ImageStore;
import dev.spindle.image.Progress;
import dev.spindle.image.make.MakeOptions;
import dev.spindle.store.SpindleHome;
import dev.spindle.store.Tag;
import dev.spindle.testing.Requirements;
import dev.spindle.testing.Requires;
import dev.spindle.testing.Tool;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A real Debian root file system (debootstrap bookworm minbase + python3, made and cached by
 * scripts/debian-rootfs) imported from a docker-save archive, run under runc over the FUSE mount of
 * the image. The oracle is the same command in a chroot of the unpacked root file system.
 */
@Requires({Tool.FUSE, Tool.RUNC, Tool.DEBIAN_ROOTFS})
class DebianRootfsTest {
  private static final String PYTHON =
      "import json, sqlite3, email, sys;"
          + " print(json.dumps({'sqlite': sqlite3.sqlite_version, 'email': email.__name__, 'py': sys.version.split()[0]}))";

  @TempDir static Path tmp;
  static Path rootfs;
  static Image image;
  static ImageStore store;

  @BeforeAll
  static void importDebian() throws Exception {
    Path archive = Path.of(script("--docker-archive"));
    rootfs = Path.of(script());
    store = new ImageStore(new SpindleHome(tmp.resolve("home")));
    OciImporter.Result r =
        new OciImporter(store, Progress.NONE)
            .importImage("docker-archive:" + archive, Tag.of("debian"), MakeOptions.defaults());
    assertThat(r.layers()).isEqualTo(1);
    assertThat(r.config().imageId()).startsWith("sha256:");
    image = Image.open(store.path(Tag.of("debian")), AccessMode.INDEXED);
  }

  @AfterAll
  static void close() throws IOException {
    if (image != null) {
      image.close();
    }
  }

  /**
   * Runs scripts/debian-rootfs; skips the tests when it cannot make the file system here (not root,
   * no network on first use; no debootstrap and nothing cached is seen by @Requires), or fails them
   * where the build requires it.
   */
  private static String script(String... args) throws Exception {
    Path s = Path.of("..", "scripts", "debian-rootfs").toAbsolutePath().normalize();
    List<String> cmd = new java.util.ArrayList<>(List.of(s.toString()));
    cmd.addAll(List.of(args));
    Process p =
        new ProcessBuilder(cmd).redirectError(tmp.resolve("debian-rootfs.log").toFile()).start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).strip();
    boolean done = p.waitFor(15, TimeUnit.MINUTES);
    Requirements.require(
        Tool.DEBIAN_ROOTFS,
        done && p.exitValue() == 0,
        "scripts/debian-rootfs could not make it: "
            + Files.readString(tmp.resolve("debian-rootfs.log")));
    return out;
  }

  private static String inContainer(String... cmd) throws Exception {
    ContainerRuntime runtime = new ContainerRuntime(tmp.resolve("state"));
    try (Container c = runtime.start(image, ContainerSpec.of(cmd), MountOptions.defaults())) {
      String out = new String(c.stdout().readAllBytes(), StandardCharsets.UTF_8);
      String err = new String(c.stderr().readAllBytes(), StandardCharsets.UTF_8);
      assertThat(c.waitFor()).as(err).isZero();
      return out;
    } finally {
      Path root = tmp.toRealPath();
      assertThat(MountPoints.list()).as("mounts left").noneMatch(m -> m.startsWith(root));
    }
  }

  private static String inChroot(String... cmd) throws Exception {
    List<String> all = new java.util.ArrayList<>(List.of("chroot", rootfs.toString()));
    all.addAll(List.of(cmd));
    Process p = new ProcessBuilder(all).redirectErrorStream(true).start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(p.waitFor()).as(out).isZero();
    return out;
  }

  @Test
  void pythonImportsTheStandardLibraryAsInAChroot() throws Exception {
    String out = inContainer("python3", "-c", PYTHON);
    assertThat(out).contains("\"email\": \"email\"").contains("\"sqlite\": \"3.");
    assertThat(out).isEqualTo(inChroot("python3", "-c", PYTHON));
  }

  @Test
  void theShellSeesTheSameUsrBinAsAChroot() throws Exception {
    // (Not ls -l: an image keeps modes and links, not mtimes; every file has the commit's date.)
    String out =
        inContainer(
            "sh",
            "-c",
            "ls /usr/bin | wc -l; readlink /usr/bin/python3; ls /usr/lib/python3.11 | wc -l");
    assertThat(Integer.parseInt(out.lines().findFirst().orElseThrow().strip())).isGreaterThan(50);
    assertThat(out)
        .isEqualTo(
            inChroot(
                "sh",
                "-c",
                "ls /usr/bin | wc -l; readlink /usr/bin/python3; ls /usr/lib/python3.11 | wc -l"));
  }

  /**
   * Every entry's mode (setuid, sticky /tmp...), owner, link count and size, as GNU find prints
   * them, is the same in the container as in a chroot of the original tree. Left out: /proc, /sys
   * and /dev (the container mounts its own there) and a directory's size and link count (the file
   * system's own; overlay counts a merged directory as 1).
   */
  @Test
  void findSeesTheSameModesOwnersAndLinksAsAChroot() throws Exception {
    String find =
        "find / -xdev \\( -path /proc -o -path /sys -o -path /dev \\) -prune"
            + " -o -type d -printf '%m %U %G - - %y %P\\n' -o -printf '%m %U %G %n %s %y %P\\n' | LC_ALL=C sort";
    String out = inContainer("sh", "-c", find);
    assertThat(out.lines().count()).isGreaterThan(1000);
    assertThat(out)
        .contains("1777 0 0 - - d tmp")
        .contains(" f usr/bin/su")
        .isEqualTo(inChroot("sh", "-c", find));
    assertThat(out).containsPattern("4755 0 0 1 \\d+ f usr/bin/su\\n");
  }
}
