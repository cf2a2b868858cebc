package dev.spindle.daemon;

import dev.spindle.sandbox.Reactor;
import dev.spindle.store.Tag;
import java.io.IOException;
import java.util.concurrent.CompletableFuture;

/**
 * Snapshots a running sandbox into the snapshot store under a tag. The node claims the tag, calls
 * this with the guest's lock held, and settles the tag's row when the returned future completes;
 * so an implementation only captures (memory pages, globals, WASI state) and writes.
 *
 * <p>The implementation wired by default ({@link Unavailable}) answers 501: {@code Sandbox}
 * exposes no memory to capture yet. Wire the real one in {@link Daemon#start} once the fork
 * module's snapshot of a {@code Reactor} lands (it will call {@code SnapshotStore.persist} for
 * {@code full} and {@code persistAsync} for {@code live}).
 */
interface SnapshotService {
  enum Mode { FULL, LIVE }

  /**
   * Starts the snapshot. For {@code FULL} the guest is paused until the copy is taken; for {@code
   * LIVE} it may run on while pages are written. The future completes when the files are ready.
   *
   * @throws UnsupportedOperationException when this node cannot snapshot (answered 501)
   */
  CompletableFuture<Void> snapshot(Reactor reactor, Tag tag, Mode mode) throws IOException;

  /** What a node answers until snapshotting a live sandbox is implemented. */
  final class Unavailable implements SnapshotService {
    @Override
    public CompletableFuture<Void> snapshot(Reactor reactor, Tag tag, Mode mode) {
      throw new UnsupportedOperationException(
          "snapshots of running sandboxes are not available on this node yet: the sandbox exposes no memory to capture"
              + " (the fork module's Sandbox snapshot is not wired in)");
    }
  }
}
