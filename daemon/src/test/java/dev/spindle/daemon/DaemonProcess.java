package dev.spindle.daemon;

import dev.spindle.client.SpindleClient;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * A real node in its own JVM ({@link DaemonMain} on the module's runtime class path, which the
 * build writes to {@code target/daemon-classpath.txt}), listening on a free loopback port. Tests
 * end it by PID in {@code finally}/{@code @AfterEach}; {@link #kill9} is the crash.
 */
public final class DaemonProcess implements AutoCloseable {
  final Process process;
  public final String url;
  final Path home;
  final List<String> startupLines;

  private DaemonProcess(Process process, String url, Path home, List<String> lines) {
    this.process = process;
    this.url = url;
    this.home = home;
    this.startupLines = lines;
  }

  static DaemonProcess start(Path home, String... extra) throws IOException {
    return startOn(home, "127.0.0.1", "512m", extra);
  }

  /** A daemon on a loopback {@code host} (e.g. 127.0.0.2) with a JVM heap of {@code heap}. */
  public static DaemonProcess startOn(Path home, String host, String heap, String... extra)
      throws IOException {
    return startAt(home, host + ":0", heap, extra);
  }

  /**
   * A port free on every loopback address now, for nodes that must name each other before they
   * start.
   */
  static int freePort() throws IOException {
    try (java.net.ServerSocket s = new java.net.ServerSocket(0)) {
      return s.getLocalPort();
    }
  }

  /**
   * A daemon listening on {@code hostPort}. The test is the node's operator: the test's temporary
   * directory (the home's parent) is an --allow-path, so images can be made from its files.
   */
  static DaemonProcess startAt(Path home, String hostPort, String heap, String... extra)
      throws IOException {
    String cp =
        Path.of("target/classes").toAbsolutePath()
            + java.io.File.pathSeparator
            + Files.readString(Path.of("target/daemon-classpath.txt")).strip();
    List<String> cmd =
        new ArrayList<>(
            List.of(
                Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "--enable-native-access=ALL-UNNAMED",
                "-Xmx" + heap,
                "-XX:TieredStopAtLevel=1",
                "-cp",
                cp,
                DaemonMain.class.getName(),
                "--listen",
                hostPort,
                "--home",
                home.toString(),
                "--allow-path",
                home.toAbsolutePath().getParent().toString(),
                // Counted at their maximums (256 MiB by default), a few of the tests' guests pass
                // the
                // budget of a small heap; the budget's own test gives a small one after this (the
                // last wins).
                "--memory-budget",
                "1t"));
    cmd.addAll(List.of(extra));
    Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
    BufferedReader r =
        new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8));
    List<String> lines = new ArrayList<>();
    try {
      String line;
      while ((line = r.readLine()) != null) {
        lines.add(line);
        int at = line.indexOf("listening on ");
        if (at >= 0) {
          String url = line.substring(at + "listening on ".length()).split(" ")[0];
          // Keep draining the output so the daemon never blocks on a full pipe.
          Thread drain =
              new Thread(
                  () -> {
                    try {
                      while (r.readLine() != null) {
                        // discard
                      }
                    } catch (IOException e) {
                      // the process ended
                    }
                  },
                  "daemon-output");
          drain.setDaemon(true);
          drain.start();
          return new DaemonProcess(p, url, home, lines);
        }
      }
    } catch (IOException | RuntimeException e) {
      p.destroyForcibly();
      throw e;
    }
    p.destroyForcibly();
    throw new IOException("the daemon ended before listening:\n" + String.join("\n", lines));
  }

  public String token() throws IOException {
    return Files.readString(home.resolve("daemon.token")).strip();
  }

  public SpindleClient client() throws IOException {
    return SpindleClient.connect(url, token());
  }

  /** SIGKILL by PID: no shutdown hook runs, as in a crash. */
  void kill9() throws InterruptedException {
    ProcessHandle h = process.toHandle();
    h.destroyForcibly();
    process.waitFor(30, TimeUnit.SECONDS);
  }

  @Override
  public void close() throws InterruptedException {
    if (process.isAlive()) {
      kill9();
    }
  }
}
