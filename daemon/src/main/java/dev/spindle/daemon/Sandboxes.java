package dev.spindle.daemon;

import com.dylibso.chicory.wasm.ChicoryException;
import com.dylibso.chicory.wasm.Parser;
import com.dylibso.chicory.wasm.WasmModule;
import com.dylibso.chicory.wasm.types.ExternalType;
import dev.spindle.client.Api.CreateSandboxes;
import dev.spindle.client.Api.Limits;
import dev.spindle.client.Api.SandboxInfo;
import dev.spindle.fork.Forks;
import dev.spindle.fork.SandboxSnapshot;
import dev.spindle.memory.FrameBudget;
import dev.spindle.sandbox.Sandbox;
import dev.spindle.sandbox.SandboxBuilder;
import dev.spindle.store.Tag;
import java.io.IOException;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * The sandboxes this node runs, by id. They live in this process only: a restart ends them (their
 * memory was the process's), unlike images and snapshots, which are files with rows.
 */
public final class Sandboxes implements AutoCloseable {
  static final int MAX_PER_REQUEST = 1000;

  /** Node defaults, so a request that names no limits cannot take the host. */
  public static final Limits DEFAULT_LIMITS = new Limits(60_000L, 4096, 1 << 20);

  private final Map<String, NodeSandbox> guests = new ConcurrentHashMap<>();

  /** Sandboxes held or being started; guarded by {@code this}, with {@link #memoryHeld}. */
  private int reserved;

  /**
   * Bytes of the memory budget held: each sandbox's memory maximum, from before it starts until it
   * ends (a command's run, else its delete). Guarded by {@code this}.
   */
  private long memoryHeld;

  private final int max;
  private final NodeLimits ceilings;
  private final WasmSource wasm;
  private final SecureRandom random = new SecureRandom();
  private final ExecutorService commands =
      Executors.newCachedThreadPool(
          r -> {
            Thread t = new Thread(r, "spindle-command");
            t.setDaemon(true);
            return t;
          });

  private final Forks forks;
  private final Catalog catalog;
  private final WarmPython python;
  private final ImageDirOpener imageDirs;
  private final Volumes volumes;

  Sandboxes(
      int max,
      NodeLimits ceilings,
      WasmSource wasm,
      Forks forks,
      Catalog catalog,
      WarmPython python,
      ImageDirOpener imageDirs,
      Volumes volumes) {
    this.imageDirs = imageDirs;
    this.volumes = volumes;
    this.max = max;
    this.ceilings = ceilings;
    this.wasm = wasm;
    this.forks = forks;
    this.catalog = catalog;
    this.python = python;
  }

  /** The most sandboxes the node holds at once ({@code --max-sandboxes}). */
  public int max() {
    return max;
  }

  public int count() {
    return guests.size();
  }

  /**
   * Makes (or opens) {@code runtime}'s warm snapshot on a background thread ({@code --warm}), so
   * the first request for it does not wait for the boot; one that comes meanwhile waits for this
   * boot rather than starting another. A failure is recorded on the snapshot's row (status {@code
   * failed}), and the next request boots again.
   */
  void warm(String runtime) {
    if (!"python".equals(runtime)) {
      throw new IllegalArgumentException("no warm snapshot for runtime '" + runtime + "'");
    }
    Thread t =
        new Thread(
            () -> {
              try {
                python.snapshot();
              } catch (IOException | RuntimeException e) {
                System.err.println("spindle daemon: --warm python failed: " + e.getMessage());
              }
            },
            "spindle-warm-python");
    t.setDaemon(true);
    t.start();
  }

  /** Bytes of the memory budget the node's sandboxes hold (the sum of their memory maximums). */
  synchronized long memoryHeld() {
    return memoryHeld;
  }

  /**
   * Pages over all sandboxes by state: {@code [shared, private]}. Shared pages are held once
   * however many sandboxes share them (a branch's unwritten pages); private ones are each sandbox's
   * own copies.
   */
  long[] pages() {
    long shared = 0;
    long own = 0;
    for (NodeSandbox g : guests.values()) {
      if (g.forked() != null) {
        var c = g.forked().counts();
        shared += c.sharedPages();
        own += c.privatePages();
      }
    }
    return new long[] {shared, own};
  }

  /**
   * Starts {@code n} sandboxes of one module, compiled once and shared (Sandbox keeps its compiled
   * module for every reactor it starts). All or nothing: if one fails, those started are closed.
   */
  public List<SandboxInfo> create(CreateSandboxes req) throws IOException {
    int n = req.n() == null ? 1 : req.n();
    if (n < 1 || n > MAX_PER_REQUEST) {
      throw ApiError.badRequest(
          "bad_field", "field 'n' must be 1.." + MAX_PER_REQUEST + ", got " + n);
    }
    Applied limits = limits(req.limits(), ceilings);
    String runtime = req.runtime() == null ? "wasm" : req.runtime();
    switch (runtime) {
      case "wasm" -> {}
      case "python" -> {
        return python(req, n, limits);
      }
      // RubyVm evaluates code but is not yet a reactor the fork module can snapshot and branch.
      case "ruby" ->
          throw ApiError.badRequest(
              "unsupported_runtime",
              "runtime 'ruby' is not served by this node yet; "
                  + "runtimes: wasm (the default), python");
      default ->
          throw ApiError.badRequest(
              "bad_field",
              "field 'runtime' must be wasm (the default) or python, got '" + runtime + "'");
    }
    if (req.snapshot() != null) {
      if (req.dirs() != null) {
        throw ApiError.badRequest(
            "bad_field", "field 'dirs' goes with 'wasm': a branch has the snapshot's directories");
      }
      if (req.wasm() != null) {
        throw ApiError.badRequest("bad_field", "give either 'wasm' or 'snapshot', not both");
      }
      return branch(req, n, limits);
    }
    if (req.wasm() == null) {
      throw ApiError.badRequest(
          "bad_field", "field 'wasm' (a module) or 'snapshot' (a tag to branch) is required");
    }
    WasmSource.Loaded module = wasm.load(req.wasm());
    WasmModule parsed = parse(module.bytes());
    Set<String> exports = exports(parsed);
    long memory = initialMemory(parsed, limits.maxMemoryPages());
    Sandbox sandbox = build(req, limits, module.bytes());
    boolean reactor = !exports.contains("_start");
    List<SandboxDirs.Spec> dirs = SandboxDirs.parse(req.dirs(), volumes);
    if (!dirs.isEmpty() && !reactor) {
      throw ApiError.badRequest(
          "bad_field",
          "field 'dirs' is for reactors (modules without _start), which can be "
              + "snapshotted with their files; this module is a command");
    }
    Map<String, String> roots = SandboxDirs.roots(dirs, imageDirs);
    return admit(
        n,
        memory,
        i -> {
          String id = newId();
          if (reactor) {
            return NodeSandbox.reactor(
                id,
                module.image(),
                exports,
                SandboxDirs.start(forks, sandbox, dirs, roots),
                limits.outputCap());
          }
          NodeSandbox g = NodeSandbox.command(id, module.image());
          commands.execute(
              () -> {
                try {
                  g.finished(sandbox.run());
                } catch (RuntimeException e) {
                  g.died(e);
                } finally {
                  // The run's memory is garbage now; the sandbox stays listed for its output.
                  release(g);
                }
              });
          return g;
        });
  }

  /** Starts one sandbox of a request. */
  private interface Starter {
    NodeSandbox start(int index) throws IOException;
  }

  /**
   * Reserves room for {@code n} whose memory may reach {@code memory} bytes each, then starts them:
   * all or nothing (those started are closed, the room given back).
   */
  private List<SandboxInfo> admit(int n, long memory, Starter starter) throws IOException {
    reserve(n, memory);
    long pending = n * memory;
    List<NodeSandbox> started = new ArrayList<>();
    try {
      for (int i = 0; i < n; i++) {
        NodeSandbox g = starter.start(i);
        started.add(g);
        pending -= memory;
        if (!g.holdMemory(memory)) {
          unreserve(0, memory); // a command that has already finished
        }
      }
    } catch (IOException | RuntimeException e) {
      started.forEach(NodeSandbox::close);
      long back = pending;
      for (NodeSandbox g : started) {
        back += g.releaseMemory();
      }
      unreserve(n, back);
      throw e;
    }
    for (NodeSandbox g : started) {
      g.volumes(volumes);
      guests.put(g.id, g);
    }
    return started.stream().map(NodeSandbox::info).toList();
  }

  /**
   * {@code n} CPython sandboxes: branches of the node's warm interpreter (booted on first need),
   * each held to the request's limits. The first eval of each reseeds its {@code random}.
   */
  private List<SandboxInfo> python(CreateSandboxes req, int n, Applied limits) throws IOException {
    if (req.wasm() != null
        || req.snapshot() != null
        || req.args() != null
        || req.env() != null
        || req.dirs() != null) {
      throw ApiError.badRequest(
          "bad_field",
          "runtime 'python' takes only 'n' and 'limits' (the interpreter is the "
              + "node's; to continue a Python sandbox's state, branch a snapshot of it with {\"snapshot\": TAG})");
    }
    SandboxSnapshot snap = python.snapshot();
    return branchAdmitted(snap, n, limits, python.tag().value());
  }

  /**
   * {@code n} children of {@code snap} under the request's limits, admitted all or nothing. Their
   * "image" is the snapshot: a snapshot of a child names it as parent.
   */
  private List<SandboxInfo> branchAdmitted(
      SandboxSnapshot snap, int n, Applied limits, String image) throws IOException {
    return admit(
        n,
        0,
        i ->
            NodeSandbox.reactor(
                newId(),
                image,
                null,
                forks
                    .branch(
                        snap,
                        1,
                        Duration.ofMillis(limits.timeoutMs()),
                        limits.maxMemoryPages(),
                        limits.outputCap())
                    .getFirst(),
                limits.outputCap()));
  }

  /** {@code n} branches of a snapshot: one page table shared by all, no _initialize. */
  private List<SandboxInfo> branch(CreateSandboxes req, int n, Applied limits) throws IOException {
    Tag tag = Catalog.tag(req.snapshot(), "snapshot");
    // The catalog is the truth: a deleted snapshot is gone even if this process still holds it.
    var row = catalog.get(tag.value());
    if (!Catalog.SNAPSHOT.equals(row.kind()) || !"ready".equals(row.status())) {
      forks.release(tag);
      throw ApiError.conflict(
          "not_a_ready_snapshot",
          "tag '"
              + tag
              + "' is "
              + row.kind()
              + " "
              + row.status()
              + "; only a ready snapshot can be branched");
    }
    SandboxSnapshot snap = forks.open(tag);
    // A snapshot names its volumes; this node must lend each under that name now.
    forks
        .volumes(snap)
        .forEach(
            (guest, name) -> {
              if (volumes.path(name) == null) {
                throw ApiError.conflict(
                    "volume_missing",
                    "snapshot '"
                        + tag
                        + "' has volume '"
                        + name
                        + "' at "
                        + guest
                        + ", which this node does not lend (spindle daemon --volume "
                        + name
                        + "=DIR)");
              }
            });
    if (WarmPython.isPython(snap.moduleSha256())) {
      // Python children take evals under the request's limits; a runaway eval must stop at the
      // timeout the client asked for, not the node's default.
      return branchAdmitted(snap, n, limits, tag.value());
    }
    // Branches start with no page of their own (their pages are the snapshot's until they write
    // them); one is made first, and closed if the n do not fit.
    dev.spindle.fork.Guest first = forks.branch(snap, 1).getFirst();
    AtomicBoolean handed = new AtomicBoolean();
    try {
      // A branch's "image" is its snapshot: a snapshot of the branch names it as parent.
      return admit(
          n,
          0,
          i -> {
            if (i == 0) {
              handed.set(true);
              return NodeSandbox.reactor(newId(), tag.value(), null, first, limits.outputCap());
            }
            return NodeSandbox.reactor(
                newId(), tag.value(), null, forks.branch(snap, 1).getFirst(), limits.outputCap());
          });
    } catch (IOException | RuntimeException e) {
      if (!handed.get()) {
        first.close();
      }
      throw e;
    }
  }

  /**
   * Holds a guest made elsewhere (a resumed remote fork); it is closed if the node is full. {@code
   * onClose} runs when it ends, whichever way.
   */
  SandboxInfo adopt(dev.spindle.fork.Guest child, String image, Runnable onClose) {
    // Its pages arrive from the parent's node as they are touched, each counted as it arrives.
    long memory = 0;
    try {
      reserve(1, memory);
    } catch (ApiError e) {
      child.close();
      onClose.run();
      throw e;
    }
    // A resumed CPython takes evals; its output cap is the node's default (no request named one).
    NodeSandbox g =
        NodeSandbox.reactor(newId(), image, null, child, limits(null, ceilings).outputCap());
    g.holdMemory(memory);
    g.onClose(onClose);
    guests.put(g.id, g);
    return g.info();
  }

  /**
   * Takes room for {@code n} sandboxes that start with {@code memory} bytes each, or answers 503
   * {@code capacity}. The memory budget is of pages actually held ({@link FrameBudget}, set at
   * start): a guest's write past it traps that guest, and while it is used up nothing new starts.
   * Counting each sandbox at its maximum instead would refuse 100 branches of a 256 MiB sandbox
   * that share all but a few pages.
   */
  private synchronized void reserve(int n, long memory) {
    if (reserved + n > max) {
      throw new ApiError(
          503,
          "capacity",
          "the node holds "
              + guests.size()
              + " of at most "
              + max
              + " sandboxes; "
              + n
              + " more do not fit (delete some, or start the daemon with a larger --max-sandboxes)");
    }
    FrameBudget frames = FrameBudget.global();
    if (!frames.tryReserve(n * memory + NodeLimits.PAGE)) {
      throw new ApiError(
          503,
          "capacity",
          "the node's guests hold "
              + mib(frames.usedBytes())
              + " of its "
              + mib(ceilings.memoryBudget())
              + " memory budget; "
              + n
              + " more starting with "
              + mib(memory)
              + " each do not fit (delete some, or start the daemon with a larger --memory-budget)");
    }
    reserved += n;
    memoryHeld += n * memory;
  }

  private synchronized void unreserve(int n, long memory) {
    reserved -= n;
    memoryHeld -= memory;
  }

  /** Gives back what {@code g} holds of the budget; once, however many ways it ends. */
  private void release(NodeSandbox g) {
    unreserve(0, g.releaseMemory());
  }

  /** MiB where whole, else KiB (memory comes in 64 KiB pages, so a small budget is no "0 MiB"). */
  private static String mib(long bytes) {
    return bytes % (1 << 20) == 0 ? (bytes >> 20) + " MiB" : (bytes >> 10) + " KiB";
  }

  /**
   * The memory a new sandbox of {@code module} starts with (what instantiation may write, its data
   * segments): its declared initial size, within the cap. What it writes later is counted page by
   * page as it writes ({@link FrameBudget}).
   */
  private static long initialMemory(WasmModule module, int cap) {
    if (module.memorySection().isEmpty() || module.memorySection().get().memoryCount() == 0) {
      return 0;
    }
    return Math.min(module.memorySection().get().getMemory(0).limits().initialPages(), cap)
        * NodeLimits.PAGE;
  }

  private static WasmModule parse(byte[] bytes) {
    try {
      return Parser.parse(bytes);
    } catch (ChicoryException | IllegalArgumentException e) {
      throw ApiError.badRequest(
          "bad_wasm", "field 'wasm' is not a WebAssembly module: " + e.getMessage());
    }
  }

  private static Set<String> exports(WasmModule m) {
    Set<String> names = new HashSet<>();
    for (int i = 0; i < m.exportSection().exportCount(); i++) {
      var x = m.exportSection().getExport(i);
      if (x.exportType() == ExternalType.FUNCTION) {
        names.add(x.name());
      }
    }
    return names;
  }

  /**
   * A request's limits as they will run: each checked against the node's ceiling, defaults for
   * those not named.
   */
  record Applied(long timeoutMs, int maxMemoryPages, int outputCap) {}

  /**
   * Every limit a request names must be between 1 and the node's ceiling, else a 400 naming it (an
   * unchecked timeout_ms of Long.MAX_VALUE overflowed the watchdog into a 500). The defaults are
   * lowered to the ceilings when an operator set those lower.
   */
  static Applied limits(Limits l, NodeLimits ceilings) {
    Limits given = l == null ? new Limits(null, null, null) : l;
    long timeout =
        check(
            "limits.timeout_ms",
            given.timeoutMs(),
            ceilings.maxTimeout().toMillis(),
            DEFAULT_LIMITS.timeoutMs());
    long pages =
        check(
            "limits.max_memory_pages",
            given.maxMemoryPages(),
            ceilings.maxMemoryPages(),
            DEFAULT_LIMITS.maxMemoryPages());
    long output =
        check(
            "limits.output_cap",
            given.outputCap(),
            ceilings.maxOutput(),
            DEFAULT_LIMITS.outputCap());
    return new Applied(timeout, (int) pages, (int) output);
  }

  private static long check(String field, Number given, long ceiling, long fallback) {
    if (given == null) {
      return Math.min(fallback, ceiling);
    }
    long v = given.longValue();
    if (v < 1 || v > ceiling) {
      throw ApiError.badRequest(
          "bad_field", "field '" + field + "' must be between 1 and " + ceiling + ", got " + v);
    }
    return v;
  }

  private static Sandbox build(CreateSandboxes req, Applied l, byte[] bytes) {
    SandboxBuilder b = Sandbox.builder(bytes);
    if (req.args() != null) {
      b.args(req.args().toArray(String[]::new));
    }
    if (req.env() != null) {
      req.env().forEach(b::env);
    }
    b.timeout(Duration.ofMillis(l.timeoutMs()));
    b.maxMemoryPages(l.maxMemoryPages());
    b.outputCap(l.outputCap());
    return b.build();
  }

  private String newId() {
    byte[] b = new byte[6];
    random.nextBytes(b);
    return "sb-" + HexFormat.of().formatHex(b);
  }

  /**
   * {@code n} branches, under the node's default limits, of a Python snapshot this process has just
   * taken: from its page table in memory, without waiting for its files (a fork: the tag is the
   * caller's and is dropped once written).
   */
  public List<SandboxInfo> branchTaken(Tag tag, int n) throws IOException {
    if (n < 1 || n > MAX_PER_REQUEST) {
      throw ApiError.badRequest("bad_field", "n must be 1.." + MAX_PER_REQUEST + ", got " + n);
    }
    SandboxSnapshot snap = forks.open(tag);
    if (!WarmPython.isPython(snap.moduleSha256())) {
      throw ApiError.conflict("not_python", "snapshot '" + tag + "' is not of a Python sandbox");
    }
    return branchAdmitted(snap, n, limits(null, ceilings), tag.value());
  }

  /**
   * Forgets this process's copy of a deleted snapshot; branches already made keep what they share.
   */
  public void forget(Tag tag) {
    forks.release(tag);
  }

  public boolean holds(String id) {
    return guests.containsKey(id);
  }

  public NodeSandbox get(String id) {
    NodeSandbox g = guests.get(id);
    if (g == null) {
      throw ApiError.notFound("no sandbox '" + id + "' on this node");
    }
    return g;
  }

  List<SandboxInfo> list() {
    return guests.values().stream()
        .map(NodeSandbox::info)
        .sorted((a, b) -> a.createdAt().compareTo(b.createdAt()))
        .toList();
  }

  public void delete(String id) {
    NodeSandbox g = guests.remove(id);
    if (g == null) {
      throw ApiError.notFound("no sandbox '" + id + "' on this node");
    }
    try {
      synchronized (g) {
        g.close();
      }
    } finally {
      unreserve(1, g.releaseMemory());
    }
  }

  @Override
  public void close() {
    guests.values().forEach(NodeSandbox::close);
    guests.clear();
    commands.shutdownNow();
    try {
      forks.close();
    } catch (IOException e) {
      // Closing: the snapshot files' channels close with the process anyway.
    }
  }
}
