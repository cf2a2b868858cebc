package dev.spindle.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The CLI in-process, against a temporary home: what a user types and sees. */
class CliTest {
  @TempDir Path tmp;

  private CliRunner.Result run(String... args) {
    return new CliRunner(tmp.resolve("home")).run(args);
  }

  @Test
  void makeVerifyReadExportImport() throws Exception {
    Path src = Files.createDirectories(tmp.resolve("src/dir"));
    Files.writeString(src.resolve("f.txt"), "content\n");
    Files.createSymbolicLink(tmp.resolve("src/link"), Path.of("dir/f.txt"));

    CliRunner.Result made =
        run(
            "image",
            "make",
            tmp.resolve("src").toString(),
            "-t",
            "t1",
            "-d",
            "2026-01-01T00:00:00Z",
            "--author",
            "Ada <ada@example.org>");
    assertThat(made.code()).as(made.err()).isZero();
    assertThat(made.out()).contains("root    ");

    CliRunner.Result v = run("image", "verify", "t1");
    assertThat(v.code()).isZero();
    assertThat(v.out()).contains("author: Ada <ada@example.org>").contains("ok");

    assertThat(run("image", "ls", "t1", "-R").out())
        .contains("dir/f.txt")
        .contains("link -> dir/f.txt");
    assertThat(run("image", "cat", "t1", "/link").out()).isEqualTo("content\n");
    assertThat(run("image", "cat", "t1", "dir/f.txt", "--mode", "lazy").out())
        .isEqualTo("content\n");
    assertThat(run("image", "stat", "t1", "link").out())
        .contains("type: symlink")
        .contains("link: dir/f.txt");

    Path exported = tmp.resolve("t1.img");
    assertThat(run("image", "export", "t1", exported.toString()).code()).isZero();
    CliRunner.Result imp = run("image", "import", exported.toString(), "-t", "t2");
    assertThat(imp.code()).as(imp.err()).isZero();
    String images = run("image", "ls").out();
    assertThat(images).contains("t1").contains("t2");
    assertThat(run("image", "list").out()).as("'list' is an alias of 'ls'").isEqualTo(images);

    Path out = tmp.resolve("extracted");
    assertThat(run("image", "extract", "t2", out.toString()).code()).isZero();
    assertThat(Files.readString(out.resolve("dir/f.txt"))).isEqualTo("content\n");
    assertThat(Files.readSymbolicLink(out.resolve("link"))).isEqualTo(Path.of("dir/f.txt"));
  }

  @Test
  void damagedImageFailsVerifyAndImportNamingTheOffset() throws Exception {
    Path src = Files.createDirectories(tmp.resolve("src"));
    Files.writeString(src.resolve("f.txt"), "some content that will be damaged\n");
    assertThat(run("image", "make", src.toString(), "-t", "good").code()).isZero();
    Path exported = tmp.resolve("x.img");
    run("image", "export", "good", exported.toString());
    byte[] b = Files.readAllBytes(exported);
    b[200] ^= 1;
    Files.write(exported, b);
    CliRunner.Result v = run("image", "verify", exported.toString());
    assertThat(v.code()).isEqualTo(1);
    assertThat(v.err()).contains("at byte").contains("damaged");
    CliRunner.Result imp = run("image", "import", exported.toString(), "-t", "bad");
    assertThat(imp.code()).isEqualTo(1);
    assertThat(run("image", "list").out()).doesNotContain("bad");
  }

  @Test
  void errorsAreOneLineNamingWhatWasWrong() {
    CliRunner.Result badTag = run("image", "make", tmp.toString(), "-t", "no/slash");
    assertThat(badTag.code()).isEqualTo(1);
    assertThat(badTag.err()).startsWith("spindle: error: invalid tag 'no/slash'");
    CliRunner.Result missing = run("image", "verify", "nothing-here");
    assertThat(missing.code()).isEqualTo(1);
    assertThat(missing.err()).contains("nothing-here");
    CliRunner.Result date = run("image", "make", tmp.toString(), "-t", "x", "-d", "yesterday");
    assertThat(date.err()).contains("--date must be RFC 3339");
    CliRunner.Result usage = run("image", "make");
    assertThat(usage.code()).isEqualTo(2);
    CliRunner.Result noHost = run("image", "import", "docker://debian:12", "-t", "d");
    assertThat(noHost.code()).isEqualTo(1);
    assertThat(noHost.err()).contains("name the registry, docker://HOST[:PORT]/REPO:TAG");
    CliRunner.Result platform =
        run("image", "import", "docker://127.0.0.1:9/x:1", "-t", "d", "--platform", "amd64");
    assertThat(platform.err()).contains("a platform is OS/ARCH[/VARIANT]");
    // Port 9 (discard) on loopback: nothing answers, and the error says which registry failed.
    CliRunner.Result down =
        run("container", "import", "docker://127.0.0.1:9/x:1", "-t", "d", "--insecure");
    assertThat(down.code()).isEqualTo(1);
    assertThat(down.err()).startsWith("spindle: ").contains("registry 127.0.0.1:9: ");
    CliRunner.Result lazy =
        run("image", "pull", "d", "--from", "docker://127.0.0.1:9/x:1", "--lazy", "--insecure");
    assertThat(lazy.code()).isEqualTo(1);
    assertThat(lazy.err()).startsWith("spindle: ").contains("registry 127.0.0.1:9: ");
    CliRunner.Result toDigest =
        run(
            "image",
            "push",
            tmp.resolve("none.img").toString(),
            "--to",
            "docker://127.0.0.1:9/x@sha256:" + "0".repeat(64));
    assertThat(toDigest.code()).isEqualTo(1);
    assertThat(run("image", "list").out()).doesNotContain("d ");
  }

  @Test
  void helpExplains() {
    CliRunner.Result h = run("image", "make", "--help");
    assertThat(h.code()).isZero();
    assertThat(h.out()).contains("git write-tree").contains("Examples:");
  }

  /** Enum options are typed: --help lists their values, and another value is refused. */
  @Test
  void modeOptionsListTheirValuesAndRefuseOthers() {
    assertThat(run("image", "cat", "--help").out()).contains("INDEXED, LAZY");
    assertThat(run("mount", "--help").out()).contains("INDEXED, LAZY");
    assertThat(run("run", "--help").out()).contains("FULL, LIVE");
    assertThat(run("snapshot", "create", "--help").out()).contains("FULL, LIVE");
    CliRunner.Result bad = run("image", "cat", "t1", "/x", "--mode", "walk");
    assertThat(bad.code()).isEqualTo(2);
    assertThat(bad.err()).contains("--mode").contains("INDEXED, LAZY").contains("'walk'");
  }

  /**
   * The launcher's AOT training run starts a node, calls a guest over the API and cleans up after
   * itself; it is hidden from the help a user reads.
   */
  @Test
  void aotTrainingRunsANodeAndLeavesNoHomeBehind() throws Exception {
    Path tmpRoot = Path.of(System.getProperty("java.io.tmpdir"));
    java.util.Set<Path> before = trainingHomes(tmpRoot);
    assertThat(Main.run("aot-training")).isZero();
    assertThat(trainingHomes(tmpRoot)).isSubsetOf(before);
    assertThat(run("--help").out()).contains("daemon").doesNotContain("aot-training");
  }

  private static java.util.Set<Path> trainingHomes(Path tmpRoot) throws java.io.IOException {
    try (var s = Files.newDirectoryStream(tmpRoot, "spindle-aot-training-*")) {
      java.util.Set<Path> all = new java.util.HashSet<>();
      s.forEach(all::add);
      return all;
    }
  }

  @Test
  void quickstartRunsOnEmbeddedDefaults() {
    CliRunner.Result q = run("quickstart");
    assertThat(q.code()).as(q.err()).isZero();
    assertThat(q.out()).contains("verified").contains("Guide, version 1");
  }

  @Test
  void snapshotCreateThenBranchPrintsEachChildsOutputAndASummary() throws Exception {
    String wasm = dev.spindle.testing.Guests.reactor("warm").toString();
    CliRunner.Result made =
        run(
            "snapshot",
            "create",
            "--wasm",
            wasm,
            "--call",
            "warm",
            "500",
            "--call",
            "tick",
            "-t",
            "w1",
            "--mode",
            "live");
    assertThat(made.code()).as(made.err()).isZero();
    assertThat(made.out())
        .contains("warm(500) = ")
        .contains("tick() = 1\n")
        .contains("snapshot w1 (live): ");

    CliRunner.Result b =
        run(
            "branch", "w1", "-n", "3", "--call", "tick", "--call", "show", "7", "--call", "apply",
            "2", "-9");
    assertThat(b.code()).as(b.err()).isZero();
    for (int i = 0; i < 3; i++) {
      assertThat(b.out())
          .contains("[" + i + "] tick() = 2\n")
          .contains("[" + i + "] apply(2, -9) = -8\n")
          .containsPattern("\\[" + i + "\\] entry 7 = \\d+ of 500\\n");
    }
    assertThat(b.out())
        .containsPattern(
            "3 children started in [0-9.]+ ms .*; shared [0-9.]+ (KiB|MiB) \\(once\\), "
                + "private [0-9.]+ KiB in all \\([0-9.]+ KiB per child\\)");

    CliRunner.Result bad = run("branch", "w1", "--call", "tick", "x");
    assertThat(bad.code()).as("a usage error").isEqualTo(2);
    assertThat(bad.err()).contains("--call tick: argument 'x' is not an integer");
    CliRunner.Result missing = run("branch", "nope");
    assertThat(missing.code()).isEqualTo(1);
    assertThat(missing.err()).contains("spindle: error: ").contains("nope");
  }
}
