package dev.spindle.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.spindle.daemon.AccessOptions;
import dev.spindle.daemon.Daemon;
import dev.spindle.daemon.DaemonConfig;
import dev.spindle.daemon.SampleGuest;
import dev.spindle.store.SpindleHome;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The daemon-facing commands: --node against a node listening on loopback, doctor, quickstart. */
class NodeCliTest {
  @TempDir Path tmp;

  @Test
  void imageAndSandboxCommandsTalkToANodeWithTheHomesToken() throws Exception {
    Path home = tmp.resolve("home");
    CliRunner cli = new CliRunner(home);
    Path src = Files.createDirectories(tmp.resolve("src"));
    Files.writeString(src.resolve("f.txt"), "x\n");
    Path wasm = tmp.resolve("guest.wasm");
    Files.write(wasm, SampleGuest.wasm());
    // The node reads the sources 'image make --node' names only under its --allow-path.
    try (Daemon node =
        Daemon.start(
            DaemonConfig.defaults(new SpindleHome(home)).listen("127.0.0.1:0"),
            new AccessOptions(java.util.List.of(), java.util.List.of(src)))) {
      String url = node.url();
      CliRunner.Result made =
          cli.run("image", "make", src.toString(), "-t", "remote", "--node", url);
      assertThat(made.code()).as(made.err()).isZero();
      assertThat(made.out()).contains("status  ready").contains("root    ");
      assertThat(cli.run("image", "list", "--node", url).out())
          .contains("remote")
          .contains("image");

      CliRunner.Result later =
          cli.run("image", "make", src.toString(), "-t", "later", "--node", url, "--no-wait");
      assertThat(later.out()).contains("status  writing");

      // Limits as in 'run': durations and sizes, checked here before anything is sent.
      CliRunner.Result limited =
          cli.run(
              "sandbox",
              "create",
              wasm.toString(),
              "--timeout",
              "5s",
              "--max-memory",
              "1MiB",
              "--max-output",
              "4k",
              "--node",
              url);
      assertThat(limited.code()).as(limited.err()).isZero();
      assertThat(
              cli.run("sandbox", "create", wasm.toString(), "--max-output", "lots", "--node", url)
                  .err())
          .contains("--max-output: not a size");
      cli.run("sandbox", "rm", limited.out().split(" ")[0], "--node", url);
      CliRunner.Result created =
          cli.run("sandbox", "create", wasm.toString(), "-n", "2", "--node", url);
      assertThat(created.code()).as(created.err()).isZero();
      String[] lines = created.out().strip().split("\n");
      assertThat(lines).hasSize(2);
      String id = lines[0].split(" ")[0];
      assertThat(cli.run("sandbox", "call", id, "add", "40", "2", "--node", url).out().strip())
          .isEqualTo("42");
      assertThat(cli.run("sandbox", "ls", "--node", url).out()).contains(id).contains("reactor");
      assertThat(cli.run("sandbox", "rm", id, "--node", url).out()).contains("removed " + id);

      CliRunner.Result wrong = cli.run("image", "list", "--node", url, "--token", "bad");
      assertThat(wrong.code()).isEqualTo(1);
      assertThat(wrong.err()).contains("wrong token");
    }
    CliRunner.Result down =
        cli.run("image", "list", "--node", "http://127.0.0.1:9", "--token", "t");
    assertThat(down.code()).isEqualTo(1);
    assertThat(down.err()).contains("cannot reach the Spindle node at http://127.0.0.1:9");
  }

  @Test
  void pythonSandboxesAreCreatedAndEvaluatedFromTheCommandLine() throws Exception {
    Path home = tmp.resolve("home");
    CliRunner cli = new CliRunner(home);
    try (Daemon node =
        Daemon.start(DaemonConfig.defaults(new SpindleHome(home)).listen("127.0.0.1:0"))) {
      String url = node.url();
      CliRunner.Result created = cli.run("sandbox", "create", "--runtime", "python", "--node", url);
      assertThat(created.code()).as(created.err()).isZero();
      assertThat(created.out()).contains(" python ready");
      String id = created.out().strip().split(" ")[0];
      assertThat(cli.run("sandbox", "eval", id, "x = 20\nprint('set')", "--node", url).out())
          .isEqualTo("set\n");
      assertThat(cli.run("sandbox", "eval", id, "x * 2 + 2", "--node", url).out())
          .isEqualTo("42\n");
      CliRunner.Result raised = cli.run("sandbox", "eval", id, "{}['k']", "--node", url);
      assertThat(raised.code()).isEqualTo(1);
      assertThat(raised.err()).contains("Traceback").contains("KeyError: 'k'");
    }
  }

  @Test
  void sandboxCreateGivesAVolumeByName() throws Exception {
    Path home = tmp.resolve("home");
    CliRunner cli = new CliRunner(home);
    Path vol = Files.createDirectories(tmp.resolve("vol"));
    Path wasm = tmp.resolve("guest.wasm");
    Files.write(wasm, SampleGuest.wasm());
    try (Daemon node =
        Daemon.start(
            DaemonConfig.defaults(new SpindleHome(home)).listen("127.0.0.1:0"),
            new AccessOptions(java.util.List.of(), java.util.List.of())
                .withVolumes(java.util.List.of("shared=" + vol)))) {
      String url = node.url();
      CliRunner.Result made =
          cli.run("sandbox", "create", wasm.toString(), "--dir", "/s=volume:shared", "--node", url);
      assertThat(made.code()).as(made.err()).isZero();
      String id = made.out().split(" ")[0];
      var info =
          dev.spindle.client.SpindleClient.connect(
                  url, dev.spindle.client.SpindleClient.defaultToken(home))
              .sandbox(id);
      assertThat(info.volumes())
          .containsExactly(new dev.spindle.client.Api.Volume("/s", "shared", "shared", "refused"));

      CliRunner.Result unknown =
          cli.run("sandbox", "create", wasm.toString(), "--dir", "/s=volume:nope", "--node", url);
      assertThat(unknown.code()).isNotZero();
      assertThat(unknown.err()).contains("dirs[0].volume");
      CliRunner.Result path =
          cli.run("sandbox", "create", wasm.toString(), "--dir", "/s=" + vol, "--node", url);
      assertThat(path.code()).isNotZero();
      assertThat(path.err()).contains("volume:NAME").contains("no host paths");
    }
  }

  @Test
  void doctorPrintsEachCheckAndFailsOnADamagedImage() throws Exception {
    Path home = tmp.resolve("home");
    CliRunner cli = new CliRunner(home);
    Path src = Files.createDirectories(tmp.resolve("src"));
    Files.writeString(src.resolve("f.txt"), "some content that will be damaged\n");
    assertThat(cli.run("image", "make", src.toString(), "-t", "good").code()).isZero();

    CliRunner.Result ok = cli.run("doctor", "--node", "http://127.0.0.1:9");
    assertThat(ok.out())
        .containsPattern("jdk +ok")
        .containsPattern("disk +ok")
        .containsPattern("store +ok +1 image\\(s\\) verified")
        .contains("fuse")
        .contains("runc")
        .contains("userfaultfd")
        .containsPattern("daemon 127.0.0.1:9 +ok +port free");
    assertThat(ok.code()).isZero();

    Path img = home.resolve("images/good.img");
    byte[] b = Files.readAllBytes(img);
    b[200] ^= 1;
    Files.write(img, b);
    CliRunner.Result bad = cli.run("doctor", "--node", "http://127.0.0.1:9");
    assertThat(bad.code()).isEqualTo(1);
    assertThat(bad.out())
        .containsPattern("store +FAIL +damaged: good")
        .contains("spindle image rm");
  }

  @Test
  void doctorSeesANodeAnswering() throws Exception {
    Path home = tmp.resolve("home");
    try (Daemon node =
        Daemon.start(DaemonConfig.defaults(new SpindleHome(home)).listen("127.0.0.1:0"))) {
      CliRunner.Result r = new CliRunner(home).run("doctor", "--node", node.url());
      assertThat(r.out()).contains("a Spindle node answers");
    }
  }

  @Test
  void quickstartRunsAGuestSnapshotsItLiveAndBranches100ChildrenOnAnEmbeddedNode() {
    CliRunner.Result q = new CliRunner(tmp.resolve("home")).run("quickstart", "-q");
    assertThat(q.code()).as(q.err()).isZero();
    assertThat(q.out())
        .contains("add(40, 2) = 42")
        .contains("next() x100 = 100")
        .contains("sandbox start from the image (API)")
        .contains("100 of 100 continued the parent's counter from 101 to 102")
        .contains("branch 100 children (API)");
  }
}
