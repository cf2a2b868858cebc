package dev.spindle.daemon;

import dev.spindle.store.SpindleHome;
import java.nio.file.Path;

/**
 * {@code java -cp ... dev.spindle.daemon.DaemonMain [--listen HOST:PORT] [--home DIR]
 * [--max-concurrent N] [--max-sandboxes N] [--max-timeout DURATION] [--max-memory SIZE]
 * [--max-output SIZE] [--memory-budget SIZE] [--idle-timeout DURATION] [--page-listen HOST:PORT]
 * [--page-store DIR|s3://...] [--page-advertise HOST] [--peer URL]... [--allow-path DIR]...
 * [--volume NAME=DIR]... [--warm python]... [--containers]}: a node in its own process (what the
 * tests and the benchmark start; users run {@code spindle daemon}). Prints one line with the URL
 * once it listens, then serves until killed.
 */
public final class DaemonMain {
  private DaemonMain() {}

  public static void main(String[] args) throws Exception {
    DaemonConfig c = DaemonConfig.defaults(SpindleHome.fromEnvironment());
    String listen = null;
    String pageListen = null;
    String pageStore = null;
    String pageAdvertise = null;
    int concurrent = c.maxConcurrent();
    int sandboxes = c.maxSandboxes();
    java.util.List<String> peers = new java.util.ArrayList<>();
    java.util.List<Path> allowPaths = new java.util.ArrayList<>();
    java.util.List<String> warm = new java.util.ArrayList<>();
    java.util.List<String> volumes = new java.util.ArrayList<>();
    NodeLimits limits = c.limits();
    boolean containers = false;
    for (int i = 0; i < args.length; i++) {
      if (args[i].equals("--containers")) {
        containers = true;
        continue;
      }
      String v = i + 1 < args.length ? args[i + 1] : null;
      switch (args[i]) {
        case "--listen" -> listen = v;
        case "--home" ->
            c =
                new DaemonConfig(
                    new SpindleHome(Path.of(v)),
                    c.host(),
                    c.port(),
                    c.maxConcurrent(),
                    c.maxSandboxes(),
                    c.limits(),
                    c.warm());
        case "--max-concurrent" -> concurrent = Integer.parseInt(v);
        case "--max-sandboxes" -> sandboxes = Integer.parseInt(v);
        case "--max-timeout", "--max-memory", "--max-output", "--memory-budget", "--idle-timeout" ->
            limits = limits.withOption(args[i], v);
        case "--page-listen" -> pageListen = v;
        case "--page-store" -> pageStore = v;
        case "--page-advertise" -> pageAdvertise = v;
        case "--peer" -> peers.add(v);
        case "--allow-path" -> allowPaths.add(Path.of(v));
        case "--warm" -> warm.add(v);
        case "--volume" -> volumes.add(v);
        default -> {
          System.err.println("spindle daemon: unknown argument " + args[i]);
          System.exit(2);
        }
      }
      i++;
    }
    if (listen != null) {
      c = c.listen(listen);
    }
    run(
        c.withCaps(concurrent, sandboxes).withLimits(limits).withWarm(warm),
        pageListen,
        pageStore,
        pageAdvertise,
        new AccessOptions(peers, allowPaths).withContainers(containers).withVolumes(volumes));
  }

  /**
   * Starts a node whose page service listens on {@code pageListen} ({@code HOST:PORT}; null: the
   * API's host, a free port) with its fallback page store {@code pageStore}: a directory or {@code
   * s3://BUCKET[/PREFIX]?endpoint=URL[&region=R]}, keys from the AWS_* environment (null: {@code
   * HOME/pages}), advertised to children as {@code pageAdvertise} (null: the host it listens on).
   */
  public static void run(
      DaemonConfig c,
      String pageListen,
      String pageStore,
      String pageAdvertise,
      AccessOptions access)
      throws Exception {
    RemoteOptions remote = RemoteOptions.defaults(c).store(pageStore).advertise(pageAdvertise);
    run(c, pageListen == null ? remote : remote.listen(pageListen), access);
  }

  /** Starts a node, says where, and serves until the process ends. */
  public static void run(DaemonConfig c) throws Exception {
    run(c, RemoteOptions.defaults(c), AccessOptions.none());
  }

  private static void run(DaemonConfig c, RemoteOptions remote, AccessOptions access)
      throws Exception {
    Daemon d = Daemon.start(c, remote, access, null);
    Runtime.getRuntime().addShutdownHook(new Thread(d::close, "spindle-daemon-stop"));
    d.recovered().forEach(line -> System.out.println("recovered: " + line));
    System.out.println(
        "spindle daemon listening on "
            + d.url()
            + " (home "
            + c.home().root()
            + ", token in "
            + d.tokenFile()
            + ", pages on "
            + d.pageService()
            + ")");
    System.out.flush();
    d.join();
  }
}
