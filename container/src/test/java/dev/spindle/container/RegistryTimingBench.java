package dev.spindle.container;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.spindle.image.ImageStore;
import dev.spindle.image.Progress;
import dev.spindle.image.make.MakeOptions;
import dev.spindle.store.SpindleHome;
import dev.spindle.store.Tag;
import dev.spindle.testing.TestRegistry;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The Debian root file system (scripts/debian-rootfs) pushed by skopeo to a local registry, then
 * imported by Spindle and copied by {@code skopeo copy} to an OCI layout, the tool users have
 * today, in the same run. The layout skopeo wrote, imported directly, must give the same root. Then
 * the image, pushed back as a Spindle artifact, pulled whole and lazily, each followed by a first
 * run of python3 in a container: time and bytes moved as a share of the image. Prints the table.
 */
// A benchmark, not a test (it takes minutes, and tests assert no timings): its name is outside
// surefire's default includes, so only bench/registry runs it (-Dtest=RegistryTimingBench).
class RegistryTimingBench {
  @TempDir Path tmp;

  @Test
  void debianFromTheRegistryAgainstSkopeoCopy() throws Exception {
    TestRegistry.assumeInstalled();
    Path archive = debianArchive();
    try (TestRegistry registry = TestRegistry.start(tmp.resolve("registry"))) {
      long t0 = System.nanoTime();
      registry.push("docker-archive:" + archive, "test/debian:bookworm");
      long push = System.nanoTime() - t0;

      ImageStore store = new ImageStore(new SpindleHome(tmp.resolve("home")));
      RegistryOptions o =
          new RegistryOptions(
              TestRegistry.USER + ":" + TestRegistry.PASSWORD,
              null,
              null,
              true,
              new SpindleHome(tmp.resolve("home")).registryStaging());
      t0 = System.nanoTime();
      OciImporter.Result pulled =
          new OciImporter(store, Progress.NONE)
              .importImage(
                  registry.ref("test/debian:bookworm"),
                  Tag.of("debian"),
                  MakeOptions.defaults(),
                  o);
      long spindle = System.nanoTime() - t0;

      Path layout = tmp.resolve("skopeo-layout");
      t0 = System.nanoTime();
      TestRegistry.run(
          List.of(
              "skopeo",
              "--insecure-policy",
              "copy",
              "--quiet",
              "--src-tls-verify=false",
              "--src-creds",
              TestRegistry.USER + ":" + TestRegistry.PASSWORD,
              registry.ref("test/debian:bookworm"),
              "oci:" + layout));
      long skopeo = System.nanoTime() - t0;

      t0 = System.nanoTime();
      OciImporter.Result direct =
          new OciImporter(store, Progress.NONE)
              .importImage("oci-layout:" + layout, Tag.of("direct"), MakeOptions.defaults());
      long local = System.nanoTime() - t0;
      assertThat(pulled.header().root()).isEqualTo(direct.header().root());

      // The fetch alone (warm JVM, fresh staging): what pulling adds to an import.
      RegistryOptions fresh =
          new RegistryOptions(o.creds(), null, null, true, tmp.resolve("staging2"));
      t0 = System.nanoTime();
      RegistryPull.pull(
              RegistryRef.parse(registry.ref("test/debian:bookworm")), fresh, Progress.NONE)
          .discard();
      long fetch = System.nanoTime() - t0;

      long blob = 0;
      try (var s = Files.walk(layout.resolve("blobs"))) {
        for (Path p : s.filter(Files::isRegularFile).toList()) {
          blob += Files.size(p);
        }
      }
      String[] runs = firstRuns(registry, store, o);

      String table =
          String.join(
              "\n",
              "| step (Debian bookworm + python3, "
                  + (blob >> 20)
                  + " MiB of blobs, 127.0.0.1 registry) | seconds |",
              "|---|---|",
              String.format(
                  "| skopeo copy docker-archive -> registry (push, gzip) | %.1f |", push / 1e9),
              String.format(
                  "| spindle import docker:// -> image (fetch, verify, apply, make) | %.1f |",
                  spindle / 1e9),
              String.format(
                  "| skopeo copy docker:// -> oci: layout (fetch, verify, write blobs) | %.1f |",
                  skopeo / 1e9),
              String.format(
                  "| spindle import oci-layout: of that layout (verify, apply, make; no fetch) | %.1f |",
                  local / 1e9),
              String.format(
                  "| spindle fetch only (RegistryPull: fetch, verify, stage; warm JVM) | %.1f |",
                  fetch / 1e9),
              "",
              "| the Spindle image pushed as an artifact, pulled into a fresh home, then `"
                  + String.join(" ", RUN)
                  + "` in a container | seconds | bytes moved | of the image |",
              "|---|---|---|---|",
              runs[0],
              runs[1],
              "");
      System.out.println(table);
      Files.writeString(Path.of("target", "registry-timing.md"), table, StandardCharsets.UTF_8);
    }
  }

  private static final List<String> RUN =
      List.of("/usr/bin/python3", "-c", "import json, sqlite3, email; print('ok')");

  /**
   * Pushes the imported image to the registry as an artifact, then per mode (whole, lazy) pulls it
   * through a counting proxy into a fresh home and runs {@link #RUN} over it: time from the pull's
   * start to the container's end, bytes the registry sent (headers included).
   */
  private String[] firstRuns(TestRegistry registry, ImageStore store, RegistryOptions o)
      throws Exception {
    Path image = store.path(Tag.of("debian"));
    RegistryImages.push(image, registry.ref("spindle/debian:v1"), o, Progress.NONE);
    long size = Files.size(image);
    String[] rows = new String[2];
    for (int lazy = 0; lazy < 2; lazy++) {
      try (CuttingProxy counting = new CuttingProxy(registry.port, Long.MAX_VALUE)) {
        Path home = tmp.resolve("run-" + lazy);
        SpindleHome h = new SpindleHome(home);
        String via = "docker://127.0.0.1:" + counting.port() + "/spindle/debian:v1";
        RegistryOptions ro =
            new RegistryOptions(
                o.creds(), null, null, true, new SpindleHome(home).registryStaging());
        long t0 = System.nanoTime();
        var r =
            lazy == 1
                ? RegistryImages.pullLazy(h, Tag.of("debian"), via, ro, Progress.NONE)
                : RegistryImages.pull(new ImageStore(h), Tag.of("debian"), via, ro, Progress.NONE);
        assertThat(r.ok()).as(r.problems().toString()).isTrue();
        long pulled = counting.toClient.get();
        String out;
        try (dev.spindle.image.Image img =
                dev.spindle.image.Image.open(
                    new ImageStore(h).path(Tag.of("debian")),
                    dev.spindle.image.AccessMode.INDEXED);
            Container c =
                new ContainerRuntime(home.resolve("state"))
                    .start(
                        img,
                        ContainerSpec.of(RUN.toArray(String[]::new)),
                        dev.spindle.fuse.MountOptions.defaults())) {
          out = new String(c.stdout().readAllBytes(), StandardCharsets.UTF_8).strip();
          String err = new String(c.stderr().readAllBytes(), StandardCharsets.UTF_8);
          assertThat(c.waitFor()).as(err).isZero();
        }
        assertThat(out).isEqualTo("ok");
        long seconds = System.nanoTime() - t0;
        long moved = counting.toClient.get();
        rows[lazy] =
            String.format(
                "| %s pull (%d KiB moved) + first run | %.1f | %d KiB | %.1f%% |",
                lazy == 1 ? "lazy" : "whole",
                pulled >> 10,
                seconds / 1e9,
                moved >> 10,
                100.0 * moved / size);
      }
    }
    return rows;
  }

  /** The cached docker-save archive of scripts/debian-rootfs; skips when it cannot be made here. */
  private Path debianArchive() throws Exception {
    Path s = Path.of("..", "scripts", "debian-rootfs").toAbsolutePath().normalize();
    Process p =
        new ProcessBuilder(s.toString(), "--docker-archive")
            .redirectError(tmp.resolve("debian-rootfs.log").toFile())
            .start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).strip();
    boolean done = p.waitFor(15, TimeUnit.MINUTES);
    assumeTrue(
        done && p.exitValue() == 0,
        "skipped: scripts/debian-rootfs could not make a Debian root file system: "
            + Files.readString(tmp.resolve("debian-rootfs.log")));
    return Path.of(out);
  }
}
