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

/**
 * {@code spindle fork} and {@code spindle resume} between two nodes (each its own home and token).
 */
class RemoteForkCliTest {
  @TempDir Path tmp;

  @Test
  void forkToANodeOrThroughADescriptorFileAndTheChildKeepsTheParentsState() throws Exception {
    Path homeA = tmp.resolve("a");
    CliRunner cli = new CliRunner(homeA);
    Path wasm = tmp.resolve("guest.wasm");
    Files.write(wasm, SampleGuest.wasm());
    // Two nodes that list each other with --peer: ports chosen first so each can name the other.
    int portA = freePort();
    int portB = freePort();
    try (Daemon a =
            Daemon.start(
                DaemonConfig.defaults(new SpindleHome(homeA)).listen("127.0.0.1:" + portA),
                new AccessOptions(
                    java.util.List.of("http://127.0.0.1:" + portB), java.util.List.of()));
        Daemon b =
            Daemon.start(
                DaemonConfig.defaults(new SpindleHome(tmp.resolve("b")))
                    .listen("127.0.0.1:" + portB),
                new AccessOptions(
                    java.util.List.of("http://127.0.0.1:" + portA), java.util.List.of()))) {
      String id =
          cli.run("sandbox", "create", wasm.toString(), "--node", a.url()).out().split(" ")[0];
      for (int i = 0; i < 3; i++) {
        cli.run("sandbox", "call", id, "next", "--node", a.url());
      }

      CliRunner.Result forked =
          cli.run("fork", id, "--to", b.url(), "--to-token", b.token(), "--node", a.url());
      assertThat(forked.code()).as(forked.err()).isZero();
      assertThat(forked.out()).contains(" on " + b.url()).contains("descriptor fd-");
      String child = forked.out().split(" ")[0];
      assertThat(
              cli.run("sandbox", "call", child, "next", "--node", b.url(), "--token", b.token())
                  .out()
                  .strip())
          .isEqualTo("4");
      assertThat(cli.run("sandbox", "call", id, "next", "--node", a.url()).out().strip())
          .isEqualTo("4");

      Path file = tmp.resolve("sandbox.descriptor");
      CliRunner.Result written = cli.run("fork", id, "-o", file.toString(), "--node", a.url());
      assertThat(written.code()).as(written.err()).isZero();
      assertThat(Files.size(file)).isPositive();
      CliRunner.Result resumed =
          cli.run("resume", file.toString(), "--node", b.url(), "--token", b.token());
      assertThat(resumed.code()).as(resumed.err()).isZero();
      String second = resumed.out().split(" ")[0];
      assertThat(
              cli.run("sandbox", "call", second, "next", "--node", b.url(), "--token", b.token())
                  .out()
                  .strip())
          .isEqualTo("5");

      CliRunner.Result both =
          cli.run("fork", id, "--to", b.url(), "-o", file.toString(), "--node", a.url());
      assertThat(both.code()).isNotZero();
    }
  }

  private static int freePort() throws java.io.IOException {
    try (java.net.ServerSocket s = new java.net.ServerSocket(0)) {
      return s.getLocalPort();
    }
  }
}
