package dev.spindle.container;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.spindle.image.ImageStore;
import dev.spindle.image.MakeOptions;
import dev.spindle.image.Progress;
import dev.spindle.store.SpindleHome;
import dev.spindle.store.Tag;
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
 * today, in the same run. The layout skopeo wrote, imported directly, must give the same root.
 * Prints the times (the first half of issue 18's bench/registry).
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
      RegistryOptions o = new RegistryOptions(TestRegistry.USER + ":" + TestRegistry.PASSWORD, null, null, true,
          RegistryOptions.stagingIn(tmp.resolve("home")));
      t0 = System.nanoTime();
      OciImporter.Result pulled = new OciImporter(store, Progress.NONE).importImage(
          registry.ref("test/debian:bookworm"), Tag.of("debian"), MakeOptions.defaults(), o);
      long spindle = System.nanoTime() - t0;

      Path layout = tmp.resolve("skopeo-layout");
      t0 = System.nanoTime();
      TestRegistry.run(List.of("skopeo", "--insecure-policy", "copy", "--quiet", "--src-tls-verify=false",
          "--src-creds", TestRegistry.USER + ":" + TestRegistry.PASSWORD, registry.ref("test/debian:bookworm"),
          "oci:" + layout));
      long skopeo = System.nanoTime() - t0;

      t0 = System.nanoTime();
      OciImporter.Result direct = new OciImporter(store, Progress.NONE).importImage(
          "oci-layout:" + layout, Tag.of("direct"), MakeOptions.defaults());
      long local = System.nanoTime() - t0;
      assertThat(pulled.header().root()).isEqualTo(direct.header().root());

      // The fetch alone (warm JVM, fresh staging): what pulling adds to an import.
      RegistryOptions fresh = new RegistryOptions(o.creds(), null, null, true, tmp.resolve("staging2"));
      t0 = System.nanoTime();
      RegistryPull.pull(RegistryRef.parse(registry.ref("test/debian:bookworm")), fresh, Progress.NONE).discard();
      long fetch = System.nanoTime() - t0;

      long blob = 0;
      try (var s = Files.walk(layout.resolve("blobs"))) {
        for (Path p : s.filter(Files::isRegularFile).toList()) {
          blob += Files.size(p);
        }
      }
      String table = String.join("\n",
          "| step (Debian bookworm + python3, " + (blob >> 20) + " MiB of blobs, 127.0.0.1 registry) | seconds |",
          "|---|---|",
          String.format("| skopeo copy docker-archive -> registry (push, gzip) | %.1f |", push / 1e9),
          String.format("| spindle import docker:// -> image (fetch, verify, apply, make) | %.1f |", spindle / 1e9),
          String.format("| skopeo copy docker:// -> oci: layout (fetch, verify, write blobs) | %.1f |", skopeo / 1e9),
          String.format("| spindle import oci-layout: of that layout (verify, apply, make; no fetch) | %.1f |", local / 1e9),
          String.format("| spindle fetch only (RegistryPull: fetch, verify, stage; warm JVM) | %.1f |", fetch / 1e9),
          "");
      System.out.println(table);
      Files.writeString(Path.of("target", "registry-timing.md"), table, StandardCharsets.UTF_8);
    }
  }

  /** The cached docker-save archive of scripts/debian-rootfs; skips when it cannot be made here. */
  private Path debianArchive() throws Exception {
    Path s = Path.of("..", "scripts", "debian-rootfs").toAbsolutePath().normalize();
    Process p = new ProcessBuilder(s.toString(), "--docker-archive")
        .redirectError(tmp.resolve("debian-rootfs.log").toFile()).start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).strip();
    boolean done = p.waitFor(15, TimeUnit.MINUTES);
    assumeTrue(done && p.exitValue() == 0, "skipped: scripts/debian-rootfs could not make a Debian root file system: "
        + Files.readString(tmp.resolve("debian-rootfs.log")));
    return Path.of(out);
  }
}
