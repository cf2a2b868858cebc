package dev.spindle.daemon;

import dev.spindle.client.Api.SandboxInfo;
import dev.spindle.sandbox.Reactor;
import dev.spindle.sandbox.RunResult;
import dev.spindle.sandbox.SandboxException;
import dev.spindle.sandbox.SandboxLimitException;
import dev.spindle.sandbox.python.EvalResult;
import dev.spindle.sandbox.python.PythonRuntime;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.Locale;
import java.util.Set;

/**
 * One sandbox the node holds: a started reactor whose exports are called, or a command whose {@code
 * _start} runs once on a worker. Calls into one reactor are serialised (a Chicory instance is
 * single-threaded); different sandboxes run in parallel.
 */
public final class NodeSandbox {
  public final String id;
  final String image;
  private final Set<String> exports;
  private final Instant created = Instant.now();
  private final Reactor reactor;

  /** The snapshot-capable guest behind a reactor (null for a command). */
  private final dev.spindle.fork.Guest forked;

  private volatile String status;

  /** The node's volumes this sandbox holds (null: none); set once, before it is listed. */
  private volatile java.util.List<dev.spindle.client.Api.Volume> volumes;

  private volatile RunResult result;
  private volatile String error;

  /** The interpreter of a Python sandbox (null for others); guarded by {@code this}. */
  private final PythonRuntime python;

  /**
   * Whether Python's {@code random} was reseeded in this sandbox: done before its first eval, not
   * at branch time, where an eval per child would cost more than the branch.
   */
  private boolean reseeded;

  private NodeSandbox(
      String id,
      String image,
      Set<String> exports,
      dev.spindle.fork.Guest forked,
      String status,
      int outputCap) {
    this.id = id;
    this.image = image;
    this.exports = exports;
    this.forked = forked;
    this.reactor = forked == null ? null : forked.reactor();
    this.status = status;
    this.python =
        forked != null && WarmPython.isPython(forked.moduleSha256())
            ? PythonRuntime.attach(reactor).outputCap(outputCap)
            : null;
  }

  /**
   * A reactor; {@code exports} null when unknown (a branch of a snapshot). One running CPython (a
   * branch of the warm interpreter or of a snapshot of one, or such a child resumed here) is a
   * Python sandbox: it takes {@link #eval}, each stream of an eval kept up to {@code outputCap}
   * bytes.
   */
  static NodeSandbox reactor(
      String id, String image, Set<String> exports, dev.spindle.fork.Guest g, int outputCap) {
    return new NodeSandbox(id, image, exports, g, "ready", outputCap);
  }

  static NodeSandbox command(String id, String image) {
    return new NodeSandbox(id, image, Set.of(), null, "running", 0);
  }

  public boolean isPython() {
    return python != null;
  }

  /** The guest a snapshot captures; callers hold this guest's lock while they use it. */
  dev.spindle.fork.Guest forked() {
    return forked;
  }

  /**
   * The host directory that is this sandbox's file tree at {@code /} (a Python sandbox's: {@code
   * /home/user}, {@code /tmp}, whatever the guest wrote), private to it and deleted with it; empty
   * if it has none. The host may read and write it between calls (hold this guest's lock to be
   * between calls); it is a plain directory, and the guest sees every change at its next call.
   */
  public java.util.Optional<java.nio.file.Path> filesRoot() {
    return forked == null
        ? java.util.Optional.empty()
        : java.util.Optional.ofNullable(forked.privateDirs().get("/"));
  }

  boolean isReactor() {
    return reactor != null;
  }

  /** The reactor, for a snapshot; callers hold this guest's lock while they use it. */
  public Reactor reactor() {
    return reactor;
  }

  synchronized long[] call(String export, long[] args) {
    if (reactor == null) {
      throw ApiError.conflict(
          "not_a_reactor", "sandbox " + id + " is a command module; only reactors take calls");
    }
    if (python != null) {
      // Its exports are the interpreter's internal interface (guest.py's ABI), not an API: a call
      // with the wrong arguments could leave the interpreter mid-update.
      throw ApiError.conflict(
          "not_a_wasm_sandbox",
          "sandbox "
              + id
              + " is a Python sandbox; its exports are the "
              + "interpreter's internal interface: evaluate code with POST /v1/sandboxes/"
              + id
              + "/eval instead");
    }
    if (exports != null && !exports.contains(export)) {
      throw ApiError.badRequest(
          "unknown_export",
          "sandbox "
              + id
              + " exports no function '"
              + export
              + "'; it exports "
              + String.join(", ", exports.stream().sorted().toList()));
    }
    if ("dead".equals(status)) {
      throw ApiError.conflict("sandbox_dead", "sandbox " + id + " is dead: " + error);
    }
    try {
      return reactor.call(export, args);
    } catch (SandboxException e) {
      status = "dead";
      error = e.getMessage();
      throw e;
    }
  }

  /**
   * Evaluates Python code in this sandbox's namespace. A Python exception is in the result. A limit
   * (the timeout, the memory cap) or a failure of the interpreter itself ends the sandbox: its
   * memory may be mid-update, so it is dead, and the error says so.
   */
  public synchronized EvalResult eval(String code) {
    return eval(code, 0, false);
  }

  /**
   * As {@link #eval(String)}, in namespace {@code namespace} (0 is {@link #eval(String)}'s) and,
   * with {@code stream}, with the code's stdout and stderr written through to the reactor's
   * captured streams as it writes them, for another thread to take meanwhile ({@link
   * Reactor#takeStdout()}); the result's streams are empty then.
   */
  public synchronized EvalResult eval(String code, int namespace, boolean stream) {
    if (python == null) {
      throw ApiError.conflict(
          "not_an_interpreter",
          "sandbox "
              + id
              + " runs a WebAssembly module, not an interpreter; "
              + "call its exports instead (create one with runtime 'python' to evaluate code)");
    }
    if ("dead".equals(status)) {
      throw ApiError.conflict("sandbox_dead", "sandbox " + id + " is dead: " + error);
    }
    try {
      if (!reseeded) {
        // A branch holds its parent's generator state if random was imported before the
        // snapshot; without this every sibling would repeat the same draws.
        python.reseed();
        reseeded = true;
      }
      return python.eval(code, "<cell " + (python.evals() + 1) + ">", namespace, stream);
    } catch (SandboxLimitException e) {
      status = "dead";
      error = e.getMessage();
      throw new ApiError(
          422,
          "limit_" + e.limit().name().toLowerCase(Locale.ROOT),
          e.getMessage()
              + "; the sandbox is dead now (the interpreter was stopped mid-eval, so its memory may be mid-update): "
              + "delete it, or branch a snapshot taken before");
    } catch (SandboxException e) {
      status = "dead";
      error = e.getMessage();
      throw new ApiError(422, "guest_failed", e.getMessage() + "; the sandbox is dead now");
    }
  }

  void finished(RunResult r) {
    result = r;
    status = "exited";
  }

  void died(Throwable e) {
    error = e.getMessage() == null ? e.toString() : e.getMessage();
    status = "dead";
  }

  byte[] stdout() {
    return reactor != null ? reactor.stdout() : result != null ? result.stdout() : new byte[0];
  }

  byte[] stderr() {
    return reactor != null ? reactor.stderr() : result != null ? result.stderr() : new byte[0];
  }

  /** Records the node's volumes among this sandbox's directories, for {@link #info}. */
  void volumes(Volumes node) {
    if (forked == null) {
      return;
    }
    java.util.List<dev.spindle.client.Api.Volume> v = new java.util.ArrayList<>();
    for (var p : forked.reactor().wasiState().preopens()) {
      String name = node.nameOf(p.hostPath());
      if (name != null) {
        v.add(new dev.spindle.client.Api.Volume(p.guestPath(), name, "shared", "refused"));
      }
    }
    volumes = v.isEmpty() ? null : java.util.List.copyOf(v);
  }

  /** The names of the node's volumes this sandbox holds (empty: none). */
  java.util.List<String> volumeNames() {
    var v = volumes;
    return v == null ? java.util.List.of() : v.stream().map(x -> x.volume()).toList();
  }

  SandboxInfo info() {
    boolean dirs = forked != null && !forked.privateDirs().isEmpty();
    Long files = dirs ? forked.privateFileBytes() : null;
    Long shared = dirs ? forked.sharedFileBytes() : null;
    return new SandboxInfo(
        id,
        reactor != null ? "reactor" : "command",
        status,
        result != null ? result.exitCode() : null,
        created.toString(),
        error,
        python != null ? "python" : "wasm",
        files,
        shared,
        volumes);
  }

  private volatile Runnable onClose = () -> {};

  /**
   * Guards {@link #memory} and {@link #ended}: not {@code this}, which a call holds while it runs.
   */
  private final Object budget = new Object();

  /** Bytes of the node's memory budget this sandbox holds (its memory maximum). */
  private long memory;

  private boolean ended;

  /**
   * Holds {@code bytes} of the budget for this sandbox; false if it has already given its share
   * back.
   */
  boolean holdMemory(long bytes) {
    synchronized (budget) {
      if (ended) {
        return false;
      }
      memory = bytes;
      return true;
    }
  }

  /** What this sandbox held of the budget, given back: the first call tells, later ones say 0. */
  long releaseMemory() {
    synchronized (budget) {
      ended = true;
      long m = memory;
      memory = 0;
      return m;
    }
  }

  /** Runs {@code r} when this sandbox ends (a resumed child tells its parent's node). */
  void onClose(Runnable r) {
    onClose = r;
  }

  void close() {
    try {
      if (forked != null) {
        forked.close();
      }
    } finally {
      onClose.run();
    }
  }

  static String text(byte[] b) {
    return new String(b, StandardCharsets.UTF_8);
  }
}
