package dev.spindle.fork;

import dev.spindle.memory.PageTable;
import dev.spindle.sandbox.Sandbox;
import dev.spindle.store.Tag;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;

/**
 * A snapshot of a reactor sandbox, in memory: its page table (shared by every branch, so branching
 * from a snapshot just taken reads no disk), its globals, tables and WASI state, and the module,
 * parsed and compiled once for all branches. Made by {@link Forks#snapshot} or {@link Forks#open}.
 */
public final class SandboxSnapshot {
  private final Tag tag;
  private final SnapshotMode mode;
  private final PageTable table;
  private final SandboxState state;
  private final Tag parent;
  private final Sandbox sandbox;
  private final CompletableFuture<Void> persisted;

  /** The root hash of the files once written: what a branch's snapshot is written onto. */
  private final CompletableFuture<String> pageHashesSha256;

  SandboxSnapshot(
      Tag tag,
      SnapshotMode mode,
      PageTable table,
      SandboxState state,
      Tag parent,
      Sandbox sandbox,
      CompletableFuture<String> pageHashesSha256) {
    this.tag = tag;
    this.mode = mode;
    this.table = table;
    this.state = state;
    this.parent = parent;
    this.sandbox = sandbox;
    this.pageHashesSha256 = pageHashesSha256;
    this.persisted = pageHashesSha256.thenApply(root -> null);
  }

  /** This snapshot as the base of its branches' snapshots. */
  SnapshotBase asBase() {
    return new SnapshotBase(tag, pageHashesSha256);
  }

  public Tag tag() {
    return tag;
  }

  public SnapshotMode mode() {
    return mode;
  }

  /** The memory at the snapshot's instant. */
  public PageTable table() {
    return table;
  }

  /** The snapshot the snapshotted sandbox was branched from, if any (lineage). */
  public Optional<Tag> parent() {
    return Optional.ofNullable(parent);
  }

  public String moduleSha256() {
    return state.moduleSha256();
  }

  /** The root of the image the sandbox's files came from, if it was started with one. */
  public Optional<String> imageRoot() {
    return Optional.ofNullable(state.imageRoot());
  }

  /**
   * Completes when the snapshot's files are ready (at once for a full snapshot or one opened from
   * the store), exceptionally if writing them failed.
   */
  public CompletableFuture<Void> persisted() {
    return persisted.copy();
  }

  SandboxState state() {
    return state;
  }

  Sandbox sandbox() {
    return sandbox;
  }
}
