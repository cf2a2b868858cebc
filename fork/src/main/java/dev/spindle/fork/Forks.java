package dev.spindle.fork;

import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.spindle.memory.PageTable;
import dev.spindle.memory.PagedMemory;
import dev.spindle.sandbox.Reactor;
import dev.spindle.sandbox.Sandbox;
import dev.spindle.sandbox.SandboxBuilder;
import dev.spindle.sandbox.wasi.WasiState;
import dev.spindle.store.SpindleHome;
import dev.spindle.store.Tag;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Consumer;
import java.util.function.Supplier;

/**
 * Snapshots and branches of reactor sandboxes, over a Spindle home: {@link #start} a sandbox,
 * {@link #snapshot} it between calls (full or live), {@link #branch} N children from a snapshot
 * (each sharing every page it has not written), {@link #open} a persisted snapshot after a restart.
 * Snapshots taken here stay in memory too, so branching from them reads no disk.
 */
public final class Forks implements AutoCloseable {
  private final SnapshotStore store;
  private final ModuleStore modules;
  private final SandboxFiles files;
  private final Map<Tag, SandboxSnapshot> taken = new ConcurrentHashMap<>();
  private final Map<String, Sandbox> sandboxes = new ConcurrentHashMap<>();
  private final List<Snapshot> opened = new ArrayList<>();

  /** Where a snapshot's state names a volume: {@code HOME/files/volumes/NAME}, never opened. */
  private final Path volumeMarkers;

  private volatile VolumeDirs volumes;

  /** Applied to the sandbox of a persisted snapshot or a resumed child; null for the defaults. */
  private final Consumer<SandboxBuilder> defaults;

  public Forks(SpindleHome home) {
    this(home, null);
  }

  /**
   * Forks whose snapshots read back from disk and resumed children run with {@code defaults}
   * applied to their builder (timeout, memory cap, output cap): what a node allows when no request
   * named limits for them. Null for the builder's own defaults.
   */
  public Forks(SpindleHome home, Consumer<SandboxBuilder> defaults) {
    this.store = new SnapshotStore(home);
    this.modules = new ModuleStore(home);
    this.files = store.files();
    this.defaults = defaults;
    this.volumeMarkers = home.root().resolve("files").resolve("volumes");
  }

  /** The snapshot files (status of live snapshots, recovery, listing). */
  public SnapshotStore store() {
    return store;
  }

  /**
   * A new directory private to the sandbox that preopens it (with the empty directories {@code
   * dirs}, relative): an overlay whose writes land in a host directory deleted when that sandbox
   * closes; a snapshot records its files as a Git tree, and every branch of the snapshot reads that
   * tree under an empty writable layer of its own (nothing copied).
   */
  public Path privateRoot(List<String> dirs) throws IOException {
    return files.newPrivateRoot(dirs);
  }

  /** How this node opens images for sandboxes' image directories (none: they are refused). */
  public void imageDirs(ImageDirs opener) {
    files.imageDirs(opener);
  }

  /** The volumes this node lends (none by default: a snapshot naming one cannot be branched). */
  public void volumes(VolumeDirs volumes) {
    this.volumes = volumes;
  }

  /**
   * The names of the volumes {@code snapshot} records, by guest path: its branches open the
   * directories this node names so when they start.
   */
  public Map<String, String> volumes(SandboxSnapshot snapshot) {
    Map<String, String> out = new java.util.LinkedHashMap<>();
    for (WasiState.Preopen p : snapshot.state().wasi().preopens()) {
      String name = volumeName(p.hostPath());
      if (name != null) {
        out.put(p.guestPath(), name);
      }
    }
    return out;
  }

  /** The volume a snapshot's marker path names, or null if {@code p} is no marker. */
  private String volumeName(Path p) {
    if (p.getFileSystem() != java.nio.file.FileSystems.getDefault()) {
      return null;
    }
    Path n = p.toAbsolutePath().normalize();
    return n.getParent() != null && n.getParent().equals(volumeMarkers.toAbsolutePath().normalize())
        ? n.getFileName().toString()
        : null;
  }

  /** A snapshot records volumes by name: their host directories become marker paths. */
  private List<WasiState.Preopen> nameVolumes(List<WasiState.Preopen> preopens) {
    VolumeDirs v = volumes;
    if (v == null) {
      return preopens;
    }
    List<WasiState.Preopen> out = new ArrayList<>(preopens.size());
    for (WasiState.Preopen p : preopens) {
      String name = v.nameOf(p.hostPath());
      out.add(name == null ? p : new WasiState.Preopen(p.guestPath(), volumeMarkers.resolve(name)));
    }
    return out;
  }

  /** A branch opens each volume its snapshot names where this node has it now. */
  private List<WasiState.Preopen> openVolumes(List<WasiState.Preopen> preopens) {
    List<WasiState.Preopen> out = new ArrayList<>(preopens.size());
    for (WasiState.Preopen p : preopens) {
      String name = volumeName(p.hostPath());
      if (name == null) {
        out.add(p);
        continue;
      }
      VolumeDirs v = volumes;
      Path dir = v == null ? null : v.path(name);
      if (dir == null) {
        throw new java.io.UncheckedIOException(
            new java.nio.file.NoSuchFileException(
                "volume '" + name + "' (at " + p.guestPath() + ")",
                null,
                "the snapshot names a volume this node does not have"));
      }
      out.add(new WasiState.Preopen(p.guestPath(), dir));
    }
    return out;
  }

  /**
   * Image {@code tag}'s root, read-only, as a directory to preopen: shared by every sandbox that
   * names it; a snapshot records it by tag and root tree id and its branches open it again.
   */
  public Path imageDir(String tag, String root) throws IOException {
    return files.imageDir(tag, root);
  }

  /**
   * Image {@code tag}'s root under a new private writable layer, as a directory to preopen: the
   * sandbox's writes land in its own layer (deleted when it closes); a snapshot records the layer
   * as a Git tree (whiteouts kept) and the image beneath, and every branch reads the image under
   * that layer, under an empty writable layer of its own.
   */
  public Path writableImageDir(String tag, String root) throws IOException {
    return files.writableImageDir(tag, root);
  }

  /**
   * Starts {@code sandbox}, whose preopens include {@code dirs} (made by {@link #privateRoot},
   * {@link #imageDir}, {@link #writableImageDir}): if it fails to start, its private ones are
   * deleted.
   */
  public Guest startWithDirs(Sandbox sandbox, Map<String, Path> dirs) throws IOException {
    try {
      return start(sandbox);
    } catch (IOException | RuntimeException e) {
      files.releaseDirs(dirs.values());
      throw e;
    }
  }

  /**
   * Bytes of files on this home: {@code [private, snapshots, shared]}, what the running sandboxes
   * wrote (their upper directories), the snapshots' files ({@code files.git} on disk, each object
   * held once), and the read-only trees below the running sandboxes' directories (each counted
   * once, and computed once per tree). O(written files + packs).
   */
  public long[] fileBytes() {
    return files.bytes();
  }

  /** Deletes the private ones among {@code dirs}, made for a sandbox that did not start. */
  public void releaseDirs(java.util.Collection<Path> dirs) {
    files.releaseDirs(dirs);
  }

  /**
   * Starts {@code sandbox} as a reactor (running {@code _initialize}); its memory must be paged.
   */
  public Guest start(Sandbox sandbox) throws IOException {
    return start(sandbox, null);
  }

  /**
   * Starts {@code sandbox} as a reactor whose files come from the image with root {@code imageRoot}
   * (recorded in its snapshots). The module is stored by hash now, so that snapshots never write it
   * on their caller's path.
   */
  public Guest start(Sandbox sandbox, String imageRoot) throws IOException {
    byte[] wasm = sandbox.wasm();
    String sha = ModuleStore.sha256(wasm);
    modules.put(sha, wasm);
    return new Guest(sandbox.startReactor(), sandbox, sha, null, imageRoot, files);
  }

  /**
   * Snapshots {@code guest} between calls. Both modes take the page table in O(pages) without
   * copying a byte, then capture globals, tables and WASI state; {@link SnapshotMode#FULL} returns
   * when the files are written, {@link SnapshotMode#LIVE} at once (see {@link
   * SandboxSnapshot#persisted()}), while the guest may keep running: its next write to any page
   * copies the page first, so the snapshot keeps this instant's bytes.
   *
   * @throws java.nio.file.FileAlreadyExistsException if the tag is taken
   */
  public SandboxSnapshot snapshot(Guest guest, Tag tag, SnapshotMode mode) throws IOException {
    Objects.requireNonNull(mode, "mode");
    PageTable table = guest.memory().snapshot();
    Reactor r = guest.reactor();
    WasiState wasi = r.wasiState();
    if (store.status(tag).filter(st -> st != SnapshotStatus.FAILED).isPresent()) {
      // Checked before the files are copied: a copy under this tag would replace the snapshot's.
      throw new java.nio.file.FileAlreadyExistsException(
          tag.value(), null, "a snapshot with this tag exists");
    }
    Tag parent = guest.parent().orElse(null);
    // The private directories are copied now, on the caller's path: the files of this instant.
    SandboxFiles.Frozen frozen = files.freeze(tag, parent, nameVolumes(wasi.preopens()));
    wasi = wasi.withPreopens(frozen.preopens());
    SandboxState state =
        new SandboxState(guest.moduleSha256(), guest.imageRoot(), r.instanceState(), wasi);
    Instant now = Instant.now();
    // Values only on the caller's path; a live snapshot's JSON is built by the writer thread.
    Supplier<ObjectNode> json =
        () -> {
          ObjectNode j = stateJson(mode, parent, now, state);
          if (frozen.commit() != null) {
            j.put("files_commit", frozen.commit());
          }
          return j;
        };
    // Written as the pages that differ from the snapshot the guest's memory derives from, when
    // that one is on disk by then (else whole).
    SnapshotBase base = guest.base();
    CompletableFuture<String> root;
    if (mode == SnapshotMode.FULL) {
      root =
          CompletableFuture.completedFuture(
              store.persist(tag, table, json.get(), base).pageHashesSha256());
    } else {
      root =
          store
              .persistAsync(tag, table, json, base)
              .thenApply(SnapshotWriter.Written::pageHashesSha256);
    }
    SandboxSnapshot s = new SandboxSnapshot(tag, mode, table, state, parent, guest.sandbox(), root);
    guest.base(s.asBase());
    taken.put(tag, s);
    return s;
  }

  private static ObjectNode stateJson(
      SnapshotMode mode, Tag parent, Instant created, SandboxState state) {
    ObjectNode json = JsonNodeFactory.instance.objectNode();
    json.put("mode", mode.json());
    json.put("parent", parent == null ? null : parent.value());
    json.put("created_at", created.toString());
    json.set("sandbox", state.toJson());
    return json;
  }

  /**
   * Forgets the in-memory copy of snapshot {@code tag} (its page table keeps every page of its
   * instant alive); branches already made keep what they share. The files are not touched.
   */
  public void release(Tag tag) {
    taken.remove(tag);
  }

  /** The snapshot {@code tag}: the one taken in this process, else the persisted one. */
  public SandboxSnapshot open(Tag tag) throws IOException {
    SandboxSnapshot s = taken.get(tag);
    return s != null ? s : open(tag, null);
  }

  /**
   * The persisted snapshot {@code tag}, its module run with {@code settings} applied to a fresh
   * builder (engine, timeout, memory cap; null for the defaults). Pages load from the file on first
   * touch, each checked against its SHA-256. The snapshot's files stay open until {@link #close()}.
   */
  public SandboxSnapshot open(Tag tag, Consumer<SandboxBuilder> settings) throws IOException {
    Snapshot files = store.open(tag);
    try {
      ObjectNode json = files.state();
      java.nio.file.Path file = files.directory().resolve(SnapshotFormat.STATE);
      SandboxState state = SandboxState.fromJson(file, json);
      JsonFields top = new JsonFields(file, "", json);
      SnapshotMode mode;
      try {
        mode = SnapshotMode.parse(top.text("mode"));
      } catch (IllegalArgumentException e) {
        throw top.damaged("mode", e.getMessage());
      }
      String parent = top.optionalText("parent");
      Sandbox sandbox =
          settings == null
              ? sandboxes.computeIfAbsent(state.moduleSha256(), sha -> build(sha, null))
              : build(state.moduleSha256(), settings);
      synchronized (opened) {
        opened.add(files);
      }
      return new SandboxSnapshot(
          tag,
          mode,
          files.table(),
          state,
          parent == null ? null : Tag.of(parent),
          sandbox,
          CompletableFuture.completedFuture(files.pageHashesSha256()));
    } catch (RuntimeException e) {
      files.close();
      throw e;
    }
  }

  private Sandbox build(String sha, Consumer<SandboxBuilder> settings) {
    byte[] wasm;
    try {
      wasm = modules.get(sha);
    } catch (IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
    SandboxBuilder b = Sandbox.builder(wasm).memoryFactory(PagedMemory::new);
    if (settings != null) {
      settings.accept(b);
    } else if (defaults != null) {
      defaults.accept(b);
    }
    return b.build();
  }

  /**
   * Starts {@code n} children of {@code snapshot}. Each shares every page of the snapshot (and so
   * with its siblings) until it writes it; none runs {@code _initialize} again. Each gets its own
   * WASI layer from the snapshot's state with its own random stream ({@link ChildSeeds}: no two
   * children and no child and its parent repeat each other's random bytes) and its own clocks, the
   * monotonic one continuing from the snapshot's reading.
   */
  public List<Guest> branch(SandboxSnapshot snapshot, int n) {
    return branch(snapshot.sandbox(), snapshot, n);
  }

  /**
   * As {@link #branch(SandboxSnapshot, int)}, the children held to other limits than the snapshot's
   * sandbox (a request's: a per-call timeout, a memory cap, an output cap). The module stays parsed
   * and compiled once ({@link Sandbox#withLimits}).
   */
  public List<Guest> branch(
      SandboxSnapshot snapshot, int n, Duration timeout, int maxMemoryPages, int outputCap) {
    return branch(snapshot.sandbox().withLimits(timeout, maxMemoryPages, outputCap), snapshot, n);
  }

  private List<Guest> branch(Sandbox sandbox, SandboxSnapshot snapshot, int n) {
    if (n < 0) {
      throw new IllegalArgumentException("n must be >= 0");
    }
    SandboxState s = snapshot.state();
    PageTable table = snapshot.table();
    List<Guest> children = new ArrayList<>(n);
    try {
      for (int i = 0; i < n; i++) {
        WasiState w = reseeded(s.wasi());
        List<WasiState.Preopen> own = thaw(openVolumes(w.preopens()));
        Reactor r;
        try {
          r =
              sandbox.resumeReactor(
                  s.instance(), w.withPreopens(own), limits -> PagedMemory.branch(limits, table));
        } catch (RuntimeException e) {
          files.release(own);
          throw e;
        }
        Guest child = new Guest(r, sandbox, s.moduleSha256(), snapshot.tag(), s.imageRoot(), files);
        child.base(snapshot.asBase());
        children.add(child);
      }
    } catch (RuntimeException e) {
      children.forEach(Guest::close);
      throw e;
    }
    return children;
  }

  private List<WasiState.Preopen> thaw(List<WasiState.Preopen> preopens) {
    try {
      return files.thaw(preopens);
    } catch (IOException e) {
      throw new java.io.UncheckedIOException(
          "cannot open the snapshot's files for a branch: " + e.getMessage(), e);
    }
  }

  SandboxFiles files() {
    return files;
  }

  /** The module store (remote fork carries modules between nodes). */
  ModuleStore modules() {
    return modules;
  }

  /** The one {@link Sandbox} (module compiled once) per stored module, default settings. */
  Sandbox sandboxFor(String sha256) {
    return sandboxes.computeIfAbsent(sha256, sha -> build(sha, null));
  }

  static WasiState reseeded(WasiState w) {
    return w.withRandomState(ChildSeeds.next());
  }

  /** Closes the files of snapshots opened from the store (their branches must be done). */
  @Override
  public void close() throws IOException {
    files.repo().close();
    synchronized (opened) {
      for (Snapshot s : opened) {
        s.close();
      }
      opened.clear();
    }
  }
}
