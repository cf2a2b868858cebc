package dev.spindle.daemon;

import dev.spindle.client.Api;
import dev.spindle.daemon.e2b.ContainerSandboxes;
import dev.spindle.daemon.e2b.E2bHandler;
import dev.spindle.daemon.e2b.E2bSandboxes;
import dev.spindle.fork.Forks;
import dev.spindle.fork.RemoteForks;
import dev.spindle.fork.SnapshotStore;
import dev.spindle.image.ImageStore;
import dev.spindle.memory.FrameBudget;
import dev.spindle.sandbox.GuestThreads;
import dev.spindle.store.SpindleHome;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.FutureTask;
import java.util.concurrent.LinkedBlockingQueue;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;
import org.eclipse.jetty.util.thread.QueuedThreadPool;

/**
 * A running node: the HTTP server (Jetty 12), its state and its sandboxes. {@link #start} recovers
 * the state first (what a crash interrupted becomes {@code failed}, ready tags are verified), then
 * listens. {@link #close} stops listening and ends the sandboxes.
 */
public final class Daemon implements AutoCloseable {
  private final Server server;
  private final StateDb db;
  private final Catalog catalog;
  private final Sandboxes sandboxes;
  private final E2bSandboxes e2b;
  private final RemoteNode remote;
  private final String token;
  private final Path tokenFile;
  private final List<String> recovered;

  private Daemon(
      Server server,
      StateDb db,
      Catalog catalog,
      Sandboxes sandboxes,
      E2bSandboxes e2b,
      RemoteNode remote,
      String token,
      Path tokenFile,
      List<String> recovered) {
    this.server = server;
    this.db = db;
    this.catalog = catalog;
    this.sandboxes = sandboxes;
    this.e2b = e2b;
    this.remote = remote;
    this.token = token;
    this.tokenFile = tokenFile;
    this.recovered = recovered;
  }

  public static Daemon start(DaemonConfig config) throws IOException {
    return start(config, AccessOptions.none());
  }

  static Daemon start(DaemonConfig config, SnapshotService snapshotService) throws IOException {
    return start(config, RemoteOptions.defaults(config), AccessOptions.none(), snapshotService);
  }

  /** Starts a node that may reach the peers and read the directories {@code access} names. */
  public static Daemon start(DaemonConfig config, AccessOptions access) throws IOException {
    return start(config, RemoteOptions.defaults(config), access, null);
  }

  /** Starts a node; {@code snapshotService} null for the real one (tests pass a stand-in). */
  static Daemon start(
      DaemonConfig config,
      RemoteOptions remoteOptions,
      AccessOptions access,
      SnapshotService snapshotService)
      throws IOException {
    config.home().create();
    SpindleHome home = config.home();
    String token = TokenFile.loadOrCreate(home);
    // The node key on its own thread while this one opens the state database and recovers the
    // catalog: its first use of the JCA's EdDSA was a fifth of a node's start (0.5-0.7 s of 2.6 s
    // on a loaded 2-CPU machine, with the AOT cache), and nothing before the policy needs it.
    FutureTask<NodeKey> keyTask = new FutureTask<>(() -> NodeKey.loadOrCreate(home));
    Thread.ofPlatform().daemon().name("spindle-node-key").start(keyTask);
    FutureTask<Server> serverTask = new FutureTask<>(() -> httpServer(config));
    Thread.ofPlatform().daemon().name("spindle-http-build").start(serverTask);
    StateDb db;
    try {
      db = new StateDb(home.stateDb());
    } catch (IOException | RuntimeException e) {
      awaitQuietly(keyTask);
      throw e;
    }
    Catalog catalog =
        new Catalog(
            config.home(), new ImageStore(config.home()), new SnapshotStore(config.home()), db);
    List<String> recovered;
    try {
      recovered = catalog.recover();
    } catch (IOException | RuntimeException e) {
      awaitQuietly(keyTask);
      db.close();
      throw e;
    }
    NodeKey key;
    NodePolicy policy;
    Volumes volumes;
    try {
      key = await(keyTask, "the node key");
      policy = new NodePolicy(access.peers(), access.allowPaths(), key.publicKey());
      volumes = Volumes.of(access.volumes(), config.home().root());
    } catch (IOException | RuntimeException e) {
      db.close();
      throw e;
    }
    Sandboxes.Applied node = Sandboxes.limits(null, config.limits());
    // A branch of a snapshot read back from disk and a resumed child have no request limits: they
    // run with the node's defaults, except memory, which was their parent's and may be up to the
    // ceiling; without this they ran with the sandbox builder's own (4 GiB, 5 min), whatever the
    // ceilings.
    // NodeSandbox pages count against the budget from now on (one node per process).
    FrameBudget.global().limitBytes(config.limits().memoryBudget());
    Forks forks =
        new Forks(
            config.home(),
            b ->
                b.timeout(java.time.Duration.ofMillis(node.timeoutMs()))
                    .maxMemoryPages(config.limits().maxMemoryPages())
                    .outputCap(node.outputCap()));
    ImageDirOpener imageDirs = new ImageDirOpener(catalog);
    forks.imageDirs(imageDirs);
    forks.volumes(volumes);
    Sandboxes sandboxes =
        new Sandboxes(
            config.maxSandboxes(),
            config.limits(),
            new WasmSource(catalog, policy),
            forks,
            catalog,
            new WarmPython(forks, catalog),
            imageDirs,
            volumes);
    if (snapshotService == null) {
      snapshotService = new SnapshotService.ForkSnapshots(forks);
    }

    RemoteNode remote;
    try {
      remote = RemoteNode.start(remoteOptions, home, new RemoteForks(forks), key, policy);
    } catch (IOException e) {
      db.close();
      throw new IOException(
          "cannot start the page service on "
              + remoteOptions.pageHost()
              + ":"
              + remoteOptions.pagePort()
              + ": "
              + e.getMessage(),
          e);
    }

    Metrics metrics = new Metrics();
    remote.metrics(metrics, sandboxes::holds);
    metrics.gauge("spindle_sandboxes", sandboxes::count);
    metrics.gauge("spindle_sandbox_memory_used_bytes", () -> FrameBudget.global().usedBytes());
    metrics.gauge("spindle_sandbox_memory_budget_bytes", () -> config.limits().memoryBudget());
    metrics.gauge("spindle_pages_shared", () -> sandboxes.pages()[0]);
    metrics.gauge("spindle_pages_private", () -> sandboxes.pages()[1]);
    // Files (docs/FILES.md): private directories of running sandboxes, and snapshots' copies.
    metrics.gauge("spindle_files_private_bytes", () -> forks.fileBytes()[0]);
    metrics.gauge("spindle_files_snapshot_bytes", () -> forks.fileBytes()[1]);
    metrics.gauge("spindle_files_shared_bytes", () -> forks.fileBytes()[2]);
    metrics.gauge("spindle_images_ready", () -> catalog.count(Catalog.IMAGE, "ready"));
    metrics.gauge("spindle_images_writing", () -> catalog.count(Catalog.IMAGE, "writing"));
    metrics.gauge("spindle_images_failed", () -> catalog.count(Catalog.IMAGE, "failed"));
    metrics.gauge("spindle_snapshots_ready", () -> catalog.count(Catalog.SNAPSHOT, "ready"));
    metrics.gauge("spindle_snapshots_writing", () -> catalog.count(Catalog.SNAPSHOT, "writing"));
    metrics.gauge("spindle_snapshots_failed", () -> catalog.count(Catalog.SNAPSHOT, "failed"));
    CacheGauges.register(metrics, config.home());

    Router router = routes(catalog, sandboxes, snapshotService, remote, policy, metrics);
    Server server;
    try {
      server = await(serverTask, "the HTTP server");
    } catch (IOException | RuntimeException e) {
      remote.close();
      db.close();
      throw e;
    }
    ApiHandler api = new ApiHandler(router, token, config.maxConcurrent(), metrics, Api.mapper());
    // Container sandboxes only where the operator allowed them; their state beside the CLI's
    // containers, so `spindle container reap` clears what a killed node left.
    ContainerSandboxes containers = null;
    if (access.containers()) {
      try {
        containers =
            ContainerSandboxes.open(
                catalog.images(),
                home.containers(),
                (long) config.limits().maxMemoryPages() * 65536);
      } catch (IOException e) {
        remote.close();
        db.close();
        throw new IOException("--containers: " + e.getMessage(), e);
      }
    }
    E2bSandboxes e2b =
        new E2bSandboxes(
            sandboxes, catalog, new GuestSnapshots(catalog, snapshotService), containers);
    // E2B's API (/e2b) is served before the node's own routes, outside their table (see
    // E2bHandler).
    server.setHandler(new E2bHandler(api, e2b, token, metrics));
    server.setErrorHandler(new JsonErrorHandler(Api.mapper()));
    server.setStopTimeout(2000);
    Daemon d =
        new Daemon(
            server, db, catalog, sandboxes, e2b, remote, token, TokenFile.path(home), recovered);
    try {
      server.start();
    } catch (Exception e) {
      d.close();
      throw new IOException(
          "cannot listen on " + config.host() + ":" + config.port() + ": " + e.getMessage(), e);
    }
    config.warm().forEach(sandboxes::warm);
    return d;
  }

  /**
   * The HTTP server, not started and without handlers: built on its own thread while the caller
   * opens the state database and recovers the catalog, since neither needs the other (Jetty's
   * classes were 50-130 ms of a 250-400 ms start, recovery 90-130 ms, on 2 CPUs).
   */
  private static Server httpServer(DaemonConfig config) {
    // Request threads beyond the cap only answer 503, so the pool stays a little above it. They
    // have a guest-sized stack, so a call route runs the guest right on the request's thread
    // instead of handing it to another and waiting (bench/api: REST p50 ~600 -> ~100 µs); the
    // stack is reserved, not committed, until a guest recurses deeply.
    // The job queue is the JDK's: Jetty's default (BlockingArrayQueue) asks the platform MBean
    // server for the cache-line size in its static initialiser, which loads JMX and JFR's MXBeans
    // (~300 classes, a tenth of the node's start) to learn a padding width.
    QueuedThreadPool pool =
        new QueuedThreadPool(
            Math.max(16, config.maxConcurrent() + 8),
            4,
            60_000,
            -1,
            new LinkedBlockingQueue<>(),
            null,
            GuestThreads.factory("spindle-http"));
    pool.setName("spindle-http");
    Server server = new Server(pool);
    ServerConnector c = new ServerConnector(server, 1, 1);
    // A request thread blocked reading a body that stopped arriving is released after this long
    // without a byte: Jetty 12 fails the pending read (Exchange answers 408) and closes the
    // connection. Set here rather than left to Jetty's default, which no reader of this file sees.
    c.setIdleTimeout(config.limits().idleTimeout().toMillis());
    c.setHost(config.host());
    c.setPort(config.port());
    server.addConnector(c);
    return server;
  }

  /** What a start task made ({@code what}: for the message), or what it threw. */
  private static <T> T await(FutureTask<T> task, String what) throws IOException {
    try {
      return task.get();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new java.io.InterruptedIOException("interrupted while waiting for " + what);
    } catch (ExecutionException e) {
      if (e.getCause() instanceof IOException io) {
        throw io;
      }
      if (e.getCause() instanceof RuntimeException r) {
        throw r;
      }
      throw new IOException(e.getCause());
    }
  }

  /** Waits for the key's thread before a failed start returns: it may be writing a new key. */
  private static void awaitQuietly(FutureTask<NodeKey> task) {
    try {
      await(task, "the node key");
    } catch (IOException | RuntimeException ignored) {
      // the start failed already; this is only the wait
    }
  }

  /** The route table, built the same way for the server and for the OpenAPI test. */
  static Router routes(
      Catalog catalog, Sandboxes sandboxes, SnapshotService snapshotService, Metrics metrics) {
    return routes(
        catalog, sandboxes, snapshotService, null, NodePolicy.closed(new byte[0]), metrics);
  }

  static Router routes(
      Catalog catalog,
      Sandboxes sandboxes,
      SnapshotService snapshotService,
      RemoteNode remote,
      NodePolicy policy,
      Metrics metrics) {
    Router router = new Router();
    new SystemRoutes(metrics).register(router);
    new ImageRoutes(catalog, policy).register(router);
    ImageFileRoutes files = new ImageFileRoutes(catalog);
    files.register(router);
    metrics.gauge("spindle_image_bytes_served", files::bytesServed);
    new SandboxRoutes(sandboxes, catalog, new GuestSnapshots(catalog, snapshotService))
        .register(router);
    new RemoteRoutes(sandboxes, remote).register(router);
    return router;
  }

  /** {@code http://host:port} as bound (the real port when 0 was asked). */
  public String url() {
    ServerConnector c = (ServerConnector) server.getConnectors()[0];
    String host = c.getHost().contains(":") ? "[" + c.getHost() + "]" : c.getHost();
    return "http://" + host + ":" + c.getLocalPort();
  }

  /** Where this node's page service listens (what its descriptors advertise). */
  public String pageService() {
    return remote.address();
  }

  public String token() {
    return token;
  }

  public Path tokenFile() {
    return tokenFile;
  }

  /** What start-up recovery changed (one line per tag), for the log. */
  public List<String> recovered() {
    return recovered;
  }

  public void join() throws InterruptedException {
    server.join();
  }

  @Override
  public void close() {
    try {
      server.stop();
    } catch (Exception e) {
      // Stopping: the sockets close with the process anyway.
    }
    e2b.close();
    sandboxes.close();
    remote.close();
    catalog.close();
    db.close();
  }
}
