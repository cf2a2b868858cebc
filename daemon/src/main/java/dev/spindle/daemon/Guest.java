package dev.spindle.daemon;

import dev.spindle.client.Api.SandboxInfo;
import dev.spindle.sandbox.Reactor;
import dev.spindle.sandbox.RunResult;
import dev.spindle.sandbox.SandboxException;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.Set;

/**
 * One sandbox the node holds: a started reactor whose exports are called, or a command whose
 * {@code _start} runs once on a worker. Calls into one reactor are serialised (a Chicory
 * instance is single-threaded); different sandboxes run in parallel.
 */
final class Guest {
  final String id;
  final String image;
  private final Set<String> exports;
  private final Instant created = Instant.now();
  private final Reactor reactor;
  /** The snapshot-capable guest behind a reactor (null for a command). */
  private final dev.spindle.fork.Guest forked;
  private volatile String status;
  private volatile RunResult result;
  private volatile String error;

  private Guest(String id, String image, Set<String> exports, dev.spindle.fork.Guest forked, String status) {
    this.id = id;
    this.image = image;
    this.exports = exports;
    this.forked = forked;
    this.reactor = forked == null ? null : forked.reactor();
    this.status = status;
  }

  /** A reactor; {@code exports} null when unknown (a branch of a snapshot). */
  static Guest reactor(String id, String image, Set<String> exports, dev.spindle.fork.Guest g) {
    return new Guest(id, image, exports, g, "ready");
  }

  static Guest command(String id, String image) {
    return new Guest(id, image, Set.of(), null, "running");
  }

  /** The guest a snapshot captures; callers hold this guest's lock while they use it. */
  dev.spindle.fork.Guest forked() {
    return forked;
  }

  boolean isReactor() {
    return reactor != null;
  }

  /** The reactor, for a snapshot; callers hold this guest's lock while they use it. */
  Reactor reactor() {
    return reactor;
  }

  synchronized long[] call(String export, long[] args) {
    if (reactor == null) {
      throw ApiError.conflict("not_a_reactor", "sandbox " + id + " is a command module; only reactors take calls");
    }
    if (exports != null && !exports.contains(export)) {
      throw ApiError.badRequest("unknown_export", "sandbox " + id + " exports no function '" + export + "'; it exports "
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

  SandboxInfo info() {
    return new SandboxInfo(id, reactor != null ? "reactor" : "command", status,
        result != null ? result.exitCode() : null, created.toString(), error);
  }

  private volatile Runnable onClose = () -> {};
  /** Guards {@link #memory} and {@link #ended}: not {@code this}, which a call holds while it runs. */
  private final Object budget = new Object();
  /** Bytes of the node's memory budget this sandbox holds (its memory maximum). */
  private long memory;
  private boolean ended;

  /** Holds {@code bytes} of the budget for this sandbox; false if it has already given its share back. */
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
