package dev.spindle.daemon.e2b;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.spindle.client.Api.CreateSandboxes;
import dev.spindle.client.Api.ImageInfo;
import dev.spindle.client.Api.SandboxInfo;
import dev.spindle.daemon.ApiError;
import dev.spindle.daemon.Catalog;
import dev.spindle.daemon.GuestSnapshots;
import dev.spindle.daemon.NodeSandbox;
import dev.spindle.daemon.Sandboxes;
import dev.spindle.daemon.SnapshotService;
import dev.spindle.store.Tag;
import java.io.IOException;
import java.security.SecureRandom;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.ReentrantLock;

/**
 * The node's sandboxes as E2B sees them: each names the Spindle sandbox that runs it now, its
 * access token, timeout and metadata. Everything is done through Spindle's own pieces: a sandbox is
 * a branch of the warm interpreter ({@link Sandboxes}), pause is a snapshot (kept under a tag)
 * after which the sandbox is deleted, resume is a branch of that snapshot under the same E2B id,
 * fork is a live snapshot branched {@code count} times, and an E2B snapshot is a snapshot tag.
 * Entries live in this process only, as Spindle sandboxes do: a restart ends them, paused ones
 * included (their snapshot tags stay, and can be branched with {@code Sandbox.create(tag)}).
 */
public final class E2bSandboxes implements AutoCloseable {
  /** What the SDK is told envd is: it gates features by it (octet-stream uploads from 0.5.7). */
  static final String ENVD_VERSION = "0.5.7";

  /** E2B's default when a create names no timeout. */
  static final Duration DEFAULT_TIMEOUT = Duration.ofMinutes(5);

  /** The longest timeout accepted (E2B's Pro limit). */
  static final Duration MAX_TIMEOUT = Duration.ofHours(24);

  /** Templates that mean "a Python code interpreter" (the SDKs' defaults among them). */
  static final Set<String> PYTHON_TEMPLATES =
      Set.of("code-interpreter-v1", "code-interpreter", "base", "python");

  /** Tag prefixes of the snapshots this layer keeps for itself (pauses and forks in flight). */
  static final String PAUSE_PREFIX = "e2b-pause-";

  static final String FORK_PREFIX = "e2b-fork-";
  static final int MAX_FORKS = 100;
  static final int MAX_METADATA = 64;

  /** One E2B sandbox. Its fields change under {@link #lock}, which every operation on it holds. */
  static final class Entry {
    final String id;
    final String template;
    final Map<String, String> metadata;
    final Instant startedAt = Instant.now();
    final String accessToken;
    final boolean autoPause;

    /** Held by each operation on this sandbox: a pause waits for a running execution, and so on. */
    final ReentrantLock lock = new ReentrantLock();

    volatile Instant endAt;

    /** The Spindle sandbox running it; null while paused. */
    volatile String guestId;

    /**
     * A container sandbox's container (then {@link #guestId} is null); null for a Python sandbox.
     */
    volatile ContainerSandboxes.Box container;

    /** The snapshot tag it is paused under; null while running. */
    volatile String pausedTag;

    /** Code-interpreter contexts: id → namespace number (0 is the default context's). */
    final Map<String, Integer> contexts = new LinkedHashMap<>();

    /** Executions so far per namespace (E2B's execution_count). */
    final Map<Integer, Integer> executions = new ConcurrentHashMap<>();

    int nextNamespace = 1;

    Entry(
        String id,
        String template,
        Map<String, String> metadata,
        String accessToken,
        boolean autoPause,
        Instant endAt,
        String guestId) {
      this.id = id;
      this.template = template;
      this.metadata = metadata;
      this.accessToken = accessToken;
      this.autoPause = autoPause;
      this.endAt = endAt;
      this.guestId = guestId;
    }

    String state() {
      return guestId != null || container != null ? "running" : "paused";
    }
  }

  private final Map<String, Entry> entries = new ConcurrentHashMap<>();
  private final Sandboxes sandboxes;
  private final Catalog catalog;
  private final GuestSnapshots snapshots;
  private final ObjectMapper json = new ObjectMapper();
  private final SecureRandom random = new SecureRandom();
  private final ScheduledExecutorService reaper =
      Executors.newSingleThreadScheduledExecutor(
          r -> {
            Thread t = new Thread(r, "spindle-e2b-expiry");
            t.setDaemon(true);
            return t;
          });

  /** Null when the node runs no containers (started without {@code --containers}). */
  private final ContainerSandboxes containers;

  E2bSandboxes(Sandboxes sandboxes, Catalog catalog, GuestSnapshots snapshots) {
    this(sandboxes, catalog, snapshots, null);
  }

  public E2bSandboxes(
      Sandboxes sandboxes,
      Catalog catalog,
      GuestSnapshots snapshots,
      ContainerSandboxes containers) {
    this.containers = containers;
    this.sandboxes = sandboxes;
    this.catalog = catalog;
    this.snapshots = snapshots;
    // Expiry is checked a few times a second: a sandbox ends within that of its end time.
    var _ = reaper.scheduleWithFixedDelay(this::expire, 200, 200, TimeUnit.MILLISECONDS);
  }

  /** What a create asks for, checked by the caller. */
  record Create(
      String template,
      Duration timeout,
      Map<String, String> metadata,
      Map<String, String> envs,
      boolean autoPause) {}

  Entry create(Create c) throws IOException {
    String snapshot = resolve(c.template());
    if (snapshot != null && isImage(snapshot)) {
      return createContainer(c);
    }
    SandboxInfo info = start(snapshot, 1).getFirst();
    Entry e =
        new Entry(
            info.id(),
            c.template(),
            Map.copyOf(c.metadata()),
            token(),
            c.autoPause(),
            Instant.now().plus(c.timeout()),
            info.id());
    e.contexts.put("default", 0);
    try {
      if (!sandboxes.get(info.id()).isPython()) {
        throw new ApiError(
            400,
            "unsupported_template",
            "snapshot '"
                + c.template()
                + "' is of a WebAssembly "
                + "sandbox, not a Python one; the E2B API runs Python sandboxes only");
      }
      if (!c.envs().isEmpty()) {
        setEnvs(sandboxes.get(info.id()), c.envs());
      }
    } catch (RuntimeException ex) {
      sandboxes.delete(info.id());
      throw ex;
    }
    entries.put(e.id, e);
    return e;
  }

  /**
   * {@code n} Python sandboxes: branches of the warm interpreter ({@code snapshot} null) or of a
   * snapshot tag.
   */
  private List<SandboxInfo> start(String snapshot, int n) throws IOException {
    return sandboxes.create(
        new CreateSandboxes(
            null, null, null, n, null, snapshot, snapshot == null ? "python" : null));
  }

  /**
   * The snapshot a template names: null for the warm interpreter, else a ready snapshot tag of a
   * Python sandbox (what {@code createSnapshot} made). Anything else is refused, saying why.
   */
  private String resolve(String template) {
    if (PYTHON_TEMPLATES.contains(template)) {
      return null;
    }
    if (!Tag.isValid(template) || template.startsWith(Catalog.RUNTIME_PREFIX)) {
      throw new ApiError(
          404,
          "not_found",
          "template '"
              + clip(template)
              + "' not found: this node serves the "
              + "templates "
              + String.join(", ", PYTHON_TEMPLATES.stream().sorted().toList())
              + ", snapshots made with createSnapshot and images (container sandboxes)");
    }
    ImageInfo row =
        catalog
            .find(template)
            .orElseThrow(
                () ->
                    new ApiError(
                        404,
                        "not_found",
                        "template '"
                            + template
                            + "' not found: this node serves the templates "
                            + String.join(", ", PYTHON_TEMPLATES.stream().sorted().toList())
                            + ", snapshots made with createSnapshot and images (container sandboxes)"));
    if (!"ready".equals(row.status())) {
      throw new ApiError(
          409,
          "not_ready",
          (Catalog.IMAGE.equals(row.kind()) ? "image '" : "snapshot '")
              + template
              + "' is "
              + row.status());
    }
    return template;
  }

  private boolean isImage(String tag) {
    return catalog.find(tag).map(r -> Catalog.IMAGE.equals(r.kind())).orElse(false);
  }

  /**
   * A container sandbox over the image the template names: only on a node that runs containers. Its
   * E2B id is its own ({@code ct-…}); envs given at create apply to each command.
   */
  private Entry createContainer(Create c) throws IOException {
    if (containers == null) {
      throw new ApiError(
          403,
          "containers_disabled",
          "template '"
              + c.template()
              + "' is a Spindle image, and this "
              + "node runs no containers (its operator starts it with --containers to allow them)");
    }
    if (!c.envs().isEmpty()) {
      throw new ApiError(
          400,
          "unsupported_envs",
          "envs at create are not supported for a container sandbox; give "
              + "them to each command (commands.run(cmd, {envs}))");
    }
    if (sandboxes.count() + containerCount() >= maxSandboxes()) {
      throw new ApiError(429, "too_many_sandboxes", "the node holds as many sandboxes as it may");
    }
    String id = "ct-" + suffix().substring(0, 12);
    ContainerSandboxes.Box box;
    try {
      box = containers.start(id, c.template());
    } catch (IOException e) {
      throw new ApiError(
          500,
          "container_failed",
          "cannot start a container from image '" + c.template() + "': " + e.getMessage());
    }
    Entry e =
        new Entry(
            id,
            c.template(),
            Map.copyOf(c.metadata()),
            token(),
            false,
            Instant.now().plus(c.timeout()),
            null);
    e.container = box;
    entries.put(e.id, e);
    return e;
  }

  private long containerCount() {
    return entries.values().stream().filter(e -> e.container != null).count();
  }

  private int maxSandboxes() {
    return sandboxes.max();
  }

  /** Refuses what a container sandbox cannot do, in E2B's shape (the SDK's SandboxError). */
  private static void notForContainers(Entry e, String what) {
    if (e.container != null) {
      throw new ApiError(
          501,
          "not_supported",
          what
              + " is not supported for container sandbox '"
              + e.id
              + "': its state is processes and a writable layer, which Spindle does not snapshot; only Python "
              + "sandboxes can be paused, forked or snapshotted");
    }
  }

  /** The container of a running container sandbox, or null when {@code e} is a Python sandbox. */
  ContainerSandboxes.Box containerOf(Entry e) {
    return e.container;
  }

  Entry get(String id) {
    Entry e = id == null ? null : entries.get(id);
    if (e == null) {
      throw new ApiError(404, "not_found", "sandbox '" + clip(id) + "' not found");
    }
    return e;
  }

  /** The Spindle sandbox running {@code e}: 502 when paused or gone (as E2B's proxy answers). */
  NodeSandbox running(Entry e) {
    String g = e.guestId;
    if (g == null || !sandboxes.holds(g)) {
      throw new ApiError(
          502, "sandbox_not_running", "sandbox '" + e.id + "' is not running (" + e.state() + ")");
    }
    return sandboxes.get(g);
  }

  List<Entry> list() {
    return entries.values().stream().sorted((a, b) -> a.startedAt.compareTo(b.startedAt)).toList();
  }

  void setTimeout(Entry e, Duration timeout) {
    e.endAt = Instant.now().plus(timeout);
  }

  void kill(Entry e) throws IOException {
    e.lock.lock();
    try {
      if (entries.remove(e.id) == null) {
        throw new ApiError(404, "not_found", "sandbox '" + e.id + "' not found");
      }
      if (e.guestId != null && sandboxes.holds(e.guestId)) {
        sandboxes.delete(e.guestId);
      }
      e.guestId = null;
      ContainerSandboxes.Box box = e.container;
      e.container = null;
      if (box != null) {
        box.close();
      }
      dropTag(e.pausedTag);
      e.pausedTag = null;
    } finally {
      e.lock.unlock();
    }
  }

  /**
   * Snapshots the sandbox (full: memory and all) under a tag of its own, then ends the Spindle
   * sandbox. 409 when already paused.
   */
  void pause(Entry e) throws Exception {
    e.lock.lock();
    try {
      notForContainers(e, "pause");
      if (e.guestId == null) {
        throw new ApiError(409, "already_paused", "sandbox '" + e.id + "' is already paused");
      }
      NodeSandbox g = running(e);
      Tag tag = Tag.of(PAUSE_PREFIX + suffix());
      ImageInfo row = snapshots.take(g, tag, SnapshotService.Mode.FULL).settled().get();
      if (!"ready".equals(row.status())) {
        dropTag(tag.value());
        throw new ApiError(
            500, "pause_failed", "pausing sandbox '" + e.id + "' failed: " + row.error());
      }
      sandboxes.delete(g.id);
      e.guestId = null;
      e.pausedTag = tag.value();
    } finally {
      e.lock.unlock();
    }
  }

  /**
   * Connects: a running sandbox's timeout is extended to {@code timeout} if that is later; a paused
   * one resumes as a branch of its pause snapshot, under the same id. True when it resumed.
   */
  boolean connect(Entry e, Duration timeout) throws IOException {
    e.lock.lock();
    try {
      Instant end = Instant.now().plus(timeout);
      if (e.guestId != null || e.container != null) {
        if (end.isAfter(e.endAt)) {
          e.endAt = end;
        }
        return false;
      }
      String tag = e.pausedTag;
      SandboxInfo info = start(tag, 1).getFirst();
      e.guestId = info.id();
      e.pausedTag = null;
      e.endAt = end;
      dropTag(tag);
      return true;
    } finally {
      e.lock.unlock();
    }
  }

  /**
   * {@code count} children of a running sandbox: a live snapshot of it (the parent pauses only
   * while its page table is taken), branched {@code count} times from memory; its tag is dropped
   * once its files are written. Each child has its own id and token and continues the parent's
   * state (its contexts included); Python's {@code random} is reseeded in each before its first
   * execution.
   */
  List<Entry> fork(Entry parent, int count, Duration timeout) throws Exception {
    List<SandboxInfo> children;
    Map<String, Integer> contexts;
    notForContainers(parent, "fork");
    parent.lock.lock();
    try {
      NodeSandbox g = running(parent);
      Tag tag = Tag.of(FORK_PREFIX + suffix());
      GuestSnapshots.Taken taken = snapshots.take(g, tag, SnapshotService.Mode.LIVE);
      try {
        // The children branch the page table in memory at once.
        children = sandboxes.branchTaken(tag, count);
      } finally {
        // The files, which nobody needs, are deleted once written (not before the branches are
        // made: dropping the tag also drops the in-memory copy they branch).
        var _ = taken.settled().whenComplete((row, err) -> dropTag(tag.value()));
      }
      contexts = new LinkedHashMap<>(parent.contexts);
    } finally {
      parent.lock.unlock();
    }
    List<Entry> out = new ArrayList<>();
    for (SandboxInfo c : children) {
      Entry e =
          new Entry(
              c.id(),
              parent.template,
              parent.metadata,
              token(),
              parent.autoPause,
              Instant.now().plus(timeout),
              c.id());
      e.contexts.putAll(contexts);
      e.nextNamespace = parent.nextNamespace;
      e.executions.putAll(parent.executions);
      entries.put(e.id, e);
      out.add(e);
    }
    return out;
  }

  /** A named snapshot of a running sandbox (E2B pauses it meanwhile; here a full snapshot does). */
  ImageInfo snapshot(Entry e, String name) throws Exception {
    notForContainers(e, "createSnapshot");
    e.lock.lock();
    try {
      NodeSandbox g = running(e);
      Tag tag = name == null ? Tag.of("e2b-snapshot-" + suffix()) : Catalog.tag(name, "name");
      if (tag.value().startsWith(PAUSE_PREFIX) || tag.value().startsWith(FORK_PREFIX)) {
        throw new ApiError(
            400,
            "bad_name",
            "snapshot names starting "
                + PAUSE_PREFIX
                + " or "
                + FORK_PREFIX
                + " are this node's own");
      }
      ImageInfo row = snapshots.take(g, tag, SnapshotService.Mode.FULL).settled().get();
      if (!"ready".equals(row.status())) {
        throw new ApiError(
            500, "snapshot_failed", "snapshot of sandbox '" + e.id + "' failed: " + row.error());
      }
      snapshotsOf.put(tag.value(), e.id);
      return row;
    } finally {
      e.lock.unlock();
    }
  }

  /**
   * Which E2B sandbox each snapshot made here came from (for {@code listSnapshots({sandboxId})}).
   */
  private final Map<String, String> snapshotsOf = new ConcurrentHashMap<>();

  /** Ready snapshot tags a client may branch (not the node's own), optionally of one sandbox. */
  List<ImageInfo> snapshots(String sandboxId) {
    return catalog.list().stream()
        .filter(i -> Catalog.SNAPSHOT.equals(i.kind()) && "ready".equals(i.status()))
        .filter(
            i ->
                !i.tag().startsWith(Catalog.RUNTIME_PREFIX)
                    && !i.tag().startsWith(PAUSE_PREFIX)
                    && !i.tag().startsWith(FORK_PREFIX))
        .filter(i -> sandboxId == null || sandboxId.equals(snapshotsOf.get(i.tag())))
        .toList();
  }

  /**
   * Deletes a snapshot tag; false when there is none. Images and the node's own tags are refused.
   */
  boolean deleteSnapshot(String name) throws IOException {
    if (!Tag.isValid(name)) {
      return false;
    }
    ImageInfo row = catalog.find(name).orElse(null);
    if (row == null) {
      return false;
    }
    if (!Catalog.SNAPSHOT.equals(row.kind())
        || name.startsWith(Catalog.RUNTIME_PREFIX)
        || name.startsWith(PAUSE_PREFIX)
        || name.startsWith(FORK_PREFIX)) {
      throw new ApiError(
          409,
          "not_deletable",
          "'"
              + name
              + "' is not a snapshot made through this API; delete it "
              + "with DELETE /v1/images/"
              + name);
    }
    catalog.delete(name, false);
    sandboxes.forget(Tag.of(name));
    snapshotsOf.remove(name);
    return true;
  }

  /**
   * Sets environment variables in a sandbox's interpreter (os.environ), for every later execution.
   */
  void setEnvs(NodeSandbox g, Map<String, String> envs) {
    try {
      var r =
          g.eval(
              "__import__('os').environ.update(" + json.writeValueAsString(envs) + ")\nNone",
              0,
              false);
      if (r.error() != null) {
        throw new ApiError(400, "bad_envs", "cannot set the environment: " + r.error().message());
      }
    } catch (com.fasterxml.jackson.core.JsonProcessingException ex) {
      throw new IllegalStateException(ex);
    }
  }

  private void dropTag(String tag) {
    if (tag == null) {
      return;
    }
    try {
      if (catalog.find(tag).isPresent()) {
        catalog.delete(tag, false);
      }
    } catch (IOException | RuntimeException ex) {
      System.err.println(
          "spindle daemon: e2b: cannot delete snapshot " + tag + ": " + ex.getMessage());
    }
    sandboxes.forget(Tag.of(tag));
  }

  /** Ends (or pauses, when asked at create) every running sandbox past its end time. */
  private void expire() {
    Instant now = Instant.now();
    for (Entry e : entries.values()) {
      if ((e.guestId == null && e.container == null) || e.endAt.isAfter(now)) {
        continue;
      }
      try {
        if (e.autoPause && e.container == null) {
          pause(e);
        } else {
          kill(e);
        }
      } catch (ApiError ex) {
        // Killed or paused meanwhile by a client.
      } catch (Exception ex) {
        System.err.println(
            "spindle daemon: e2b: expiring sandbox " + e.id + " failed: " + ex.getMessage());
      }
    }
  }

  private String token() {
    byte[] b = new byte[24];
    random.nextBytes(b);
    return HexFormat.of().formatHex(b);
  }

  private String suffix() {
    byte[] b = new byte[8];
    random.nextBytes(b);
    return HexFormat.of().formatHex(b);
  }

  /** A client's text in a message, bounded (never echoed whole). */
  static String clip(String s) {
    if (s == null) {
      return "";
    }
    String t = s.replaceAll("[^A-Za-z0-9_.:-]", "?");
    return t.length() > 64 ? t.substring(0, 64) + "…" : t;
  }

  @Override
  public void close() {
    reaper.shutdownNow();
    // Containers are processes and mounts of this node: none outlives it.
    for (Entry e : entries.values()) {
      ContainerSandboxes.Box box = e.container;
      e.container = null;
      if (box != null) {
        try {
          box.close();
        } catch (IOException | RuntimeException ex) {
          System.err.println(
              "spindle daemon: e2b: cannot remove container sandbox "
                  + e.id
                  + ": "
                  + ex.getMessage());
        }
      }
    }
  }
}
