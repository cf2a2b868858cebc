package dev.spindle.daemon;

import dev.spindle.fork.Forks;
import dev.spindle.fork.SnapshotMode;
import dev.spindle.store.Tag;
import java.io.IOException;
import java.util.concurrent.CompletableFuture;

/**
 * Snapshots a running sandbox into the snapshot store under a tag. The node claims the tag, calls
 * this with the guest's lock held, and settles the tag's row when the returned future completes; so
 * an implementation only captures (memory pages, globals, WASI state) and writes.
 */
public interface SnapshotService {
  enum Mode {
    FULL,
    LIVE
  }

  /**
   * Starts the snapshot. For {@code FULL} the guest is paused until the copy is written; for {@code
   * LIVE} it runs on as soon as the page table is taken. The future completes when the files are
   * ready.
   */
  CompletableFuture<Void> snapshot(NodeSandbox guest, Tag tag, Mode mode) throws IOException;

  /** Snapshots through the fork module: page table, globals, tables and WASI state. */
  final class ForkSnapshots implements SnapshotService {
    private final Forks forks;

    ForkSnapshots(Forks forks) {
      this.forks = forks;
    }

    @Override
    public CompletableFuture<Void> snapshot(NodeSandbox guest, Tag tag, Mode mode)
        throws IOException {
      SnapshotMode m = mode == Mode.LIVE ? SnapshotMode.LIVE : SnapshotMode.FULL;
      return forks.snapshot(guest.forked(), tag, m).persisted();
    }
  }
}
