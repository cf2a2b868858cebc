package dev.spindle.cli;

import dev.spindle.client.Api;
import dev.spindle.container.RegistryOptions;
import dev.spindle.container.RegistryProbe;
import dev.spindle.image.ImageStore;
import dev.spindle.image.ImageVerifier;
import dev.spindle.image.Progress;
import dev.spindle.image.VerifyReport;
import dev.spindle.store.SpindleHome;
import dev.spindle.store.Tag;
import java.io.File;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

@Command(
    name = "doctor",
    header = "Check what Spindle needs on this machine.",
    mixinStandardHelpOptions = true,
    description = {
      "Check what Spindle needs on this machine: the JDK, FUSE, runc, userfaultfd, free disk in",
      "the home, the daemon's port, and the store (every image verifies); and each registry named",
      "with --registry answers the OCI distribution API (GET /v2/, logging in as 'image import'",
      "would). Each check prints ok or what to do. Exit code 1 when a check Spindle cannot work",
      "without fails, or a registry named does not answer as one."
    })
final class DoctorCommand implements Callable<Integer> {
  /** One finding: FAIL stops Spindle, WARN disables a feature (FUSE mounts, containers, ...). */
  enum Level {
    OK,
    WARN,
    FAIL
  }

  record Check(String name, Level level, String detail) {}

  private static final long MIN_FREE = 1L << 30;

  @Mixin CommonOptions common;

  @Option(
      names = "--node",
      paramLabel = "URL",
      defaultValue = Api.DEFAULT_NODE,
      description = "The node address to check (default ${DEFAULT-VALUE}).")
  String node;

  @Option(
      names = "--registry",
      paramLabel = "docker://HOST[:PORT]",
      description = "A registry to check (repeatable); --creds and --insecure apply to each.")
  List<String> registries = new ArrayList<>();

  @Mixin RegistryFlags registryFlags;

  @Override
  public Integer call() {
    SpindleHome home = common.home();
    List<Check> checks = new ArrayList<>();
    checks.add(jdk());
    checks.add(fuse());
    checks.add(mounts());
    checks.add(runc());
    checks.add(userfaultfd());
    checks.add(disk(home));
    checks.add(port(URI.create(node)));
    checks.add(store(home));
    RegistryOptions options = registryFlags.options(home, null);
    for (String r : registries) {
      checks.add(registry(r, options));
    }
    int width = checks.stream().mapToInt(c -> c.name().length()).max().orElse(10);
    for (Check c : checks) {
      String mark =
          switch (c.level()) {
            case OK -> "ok  ";
            case WARN -> "warn";
            case FAIL -> "FAIL";
          };
      System.out.printf("%-" + width + "s  %s  %s%n", c.name(), mark, c.detail());
    }
    return checks.stream().anyMatch(c -> c.level() == Level.FAIL) ? 1 : 0;
  }

  static Check jdk() {
    Runtime.Version v = Runtime.version();
    return v.feature() >= 25
        ? new Check("jdk", Level.OK, "Java " + v + " (" + System.getProperty("java.home") + ")")
        : new Check(
            "jdk", Level.FAIL, "Java " + v + ": install JDK 25 (Temurin) and set JAVA_HOME");
  }

  static Check fuse() {
    boolean dev = Files.exists(Path.of("/dev/fuse"));
    Path fusermount = onPath("fusermount3");
    if (dev && fusermount != null) {
      return new Check("fuse", Level.OK, "/dev/fuse and " + fusermount);
    }
    return new Check(
        "fuse",
        Level.WARN,
        (dev ? "" : "no /dev/fuse (modprobe fuse); ")
            + (fusermount != null ? "" : "no fusermount3 (apt-get install fuse3); ")
            + "needed for FUSE mounts of images");
  }

  /** Spindle FUSE mounts whose process died: each named with the command that clears it. */
  static Check mounts() {
    List<java.nio.file.Path> all;
    try {
      all = dev.spindle.fuse.MountPoints.spindleMounts();
    } catch (java.io.IOException e) {
      return new Check("mounts", Level.WARN, "cannot read /proc/self/mountinfo: " + e.getMessage());
    }
    List<String> stale =
        all.stream()
            .filter(dev.spindle.fuse.MountPoints::isStale)
            .map(p -> p + " (clear it: spindle umount " + p + ")")
            .toList();
    if (!stale.isEmpty()) {
      return new Check(
          "mounts",
          Level.FAIL,
          "stale Spindle FUSE mount(s), their process died: " + String.join("; ", stale));
    }
    return new Check("mounts", Level.OK, all.size() + " Spindle FUSE mount(s), none stale");
  }

  static Check runc() {
    Path runc = onPath("runc");
    return runc != null
        ? new Check("runc", Level.OK, runc.toString())
        : new Check(
            "runc", Level.WARN, "not found: apt-get install runc (needed for OCI containers)");
  }

  static Check userfaultfd() {
    if (root()) {
      return new Check("userfaultfd", Level.OK, "running as root");
    }
    try {
      String v = Files.readString(Path.of("/proc/sys/vm/unprivileged_userfaultfd")).strip();
      if (v.equals("1")) {
        return new Check("userfaultfd", Level.OK, "vm.unprivileged_userfaultfd = 1");
      }
    } catch (IOException e) {
      // absent: an old kernel or no /proc; same advice
    }
    return new Check(
        "userfaultfd",
        Level.WARN,
        "not available to this user: sysctl -w vm.unprivileged_userfaultfd=1, or run as root (remote paging between processes)");
  }

  static Check disk(SpindleHome home) {
    try {
      Path p = home.root();
      while (p != null && !Files.exists(p)) {
        p = p.getParent();
      }
      long free = Files.getFileStore(p).getUsableSpace();
      String amount = String.format("%.1f GiB free at %s", free / (double) (1L << 30), home.root());
      return free >= MIN_FREE
          ? new Check("disk", Level.OK, amount)
          : new Check(
              "disk",
              Level.FAIL,
              amount + ": free at least 1 GiB, or point --home/SPINDLE_HOME elsewhere");
    } catch (IOException e) {
      return new Check(
          "disk", Level.FAIL, "cannot read free space of " + home.root() + ": " + e.getMessage());
    }
  }

  /**
   * The daemon's port: a node answering there is fine, and so is a free port; anything else is in
   * the way.
   */
  static Check port(URI node) {
    String name = "daemon " + node.getHost() + ":" + node.getPort();
    try (Socket s = new Socket()) {
      s.connect(new InetSocketAddress(node.getHost(), node.getPort()), 1000);
    } catch (IOException refused) {
      return new Check(name, Level.OK, "port free: 'spindle daemon' can listen there");
    }
    try {
      HttpResponse<String> r =
          HttpClient.newHttpClient()
              .send(
                  HttpRequest.newBuilder(node.resolve("/healthz"))
                      .timeout(Duration.ofSeconds(3))
                      .build(),
                  HttpResponse.BodyHandlers.ofString());
      if (r.statusCode() == 200 && r.body().strip().equals("ok")) {
        return new Check(name, Level.OK, "a Spindle node answers");
      }
      return new Check(
          name,
          Level.FAIL,
          "something else holds the port (GET /healthz answered "
              + r.statusCode()
              + "): stop it or use 'spindle daemon --listen HOST:PORT'");
    } catch (IOException e) {
      return new Check(
          name,
          Level.FAIL,
          "the port is taken by something that does not speak HTTP: stop it or use --listen");
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return new Check(name, Level.FAIL, "interrupted");
    }
  }

  static Check store(SpindleHome home) {
    ImageStore images = new ImageStore(home);
    try {
      List<Tag> tags = images.list();
      List<String> damaged = new ArrayList<>();
      for (Tag t : tags) {
        VerifyReport r = new ImageVerifier(Progress.NONE).verify(images.path(t));
        if (!r.ok()) {
          damaged.add(t + " (" + r.problems().getFirst() + ")");
        }
      }
      if (damaged.isEmpty()) {
        return new Check("store", Level.OK, tags.size() + " image(s) verified in " + home.images());
      }
      return new Check(
          "store",
          Level.FAIL,
          "damaged: "
              + String.join(", ", damaged)
              + ": remove with 'spindle image rm TAG' and make or import again");
    } catch (IOException e) {
      return new Check("store", Level.FAIL, "cannot read " + home.images() + ": " + e.getMessage());
    }
  }

  /** A registry's base endpoint: anything but a registry answering, logged in if it asks, fails. */
  static Check registry(String source, RegistryOptions options) {
    RegistryProbe p = RegistryProbe.check(source, options);
    return new Check(
        "registry " + p.address(),
        p.outcome() == RegistryProbe.Outcome.OK ? Level.OK : Level.FAIL,
        p.detail());
  }

  private static Path onPath(String program) {
    String path = System.getenv("PATH");
    if (path == null) {
      return null;
    }
    for (String dir : path.split(File.pathSeparator)) {
      Path p = Path.of(dir, program);
      if (Files.isExecutable(p)) {
        return p;
      }
    }
    return null;
  }

  private static boolean root() {
    try {
      for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
        if (line.startsWith("Uid:")) {
          return line.split("\\s+")[1].equals("0");
        }
      }
    } catch (IOException e) {
      // no /proc: not Linux as Spindle knows it
    }
    return false;
  }
}
