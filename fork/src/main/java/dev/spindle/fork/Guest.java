package dev.spindle.fork;

import dev.spindle.memory.PageCounts;
import dev.spindle.memory.PagedMemory;
import dev.spindle.sandbox.Reactor;
import dev.spindle.sandbox.Sandbox;
import dev.spindle.store.Tag;
import java.util.Objects;
import java.util.Optional;

/**
 * A running reactor sandbox that can be snapshotted and branched: started by {@link Forks#start} or
 * made by {@link Forks#branch}. Its memory is a {@link PagedMemory}, whose page table is what a
 * snapshot copies.
 */
public final class Guest implements AutoCloseable {
  private final Reactor reactor;
  private final Sandbox sandbox;
  private final PagedMemory memory;
  private final String moduleSha256;
  private final Tag parent;
  private final String imageRoot;

  /**
   * The persisted snapshot this guest's memory derives from: the one it was branched from, then its
   * own last snapshot. Its next snapshot is written as the pages that differ from it. Only the
   * thread that holds the guest between calls (the one that snapshots it) sets it.
   */
  private volatile SnapshotBase base;

  /** Where its private directories live (deleted when it closes); null: it owns none. */
  private final SandboxFiles files;

  /** Its private directories by guest path, known from its start (a guest may close their fds). */
  private final java.util.Map<String, java.nio.file.Path> privateDirs =
      new java.util.LinkedHashMap<>();

  Guest(
      Reactor reactor,
      Sandbox sandbox,
      String moduleSha256,
      Tag parent,
      String imageRoot,
      SandboxFiles files) {
    this.files = files;
    this.reactor = Objects.requireNonNull(reactor);
    this.sandbox = sandbox;
    this.moduleSha256 = moduleSha256;
    this.parent = parent;
    this.imageRoot = imageRoot;
    ownDirs();
    if (reactor.memory() == null) {
      // A module that declares no memory has no page to keep: an empty paged memory stands in,
      // so it snapshots, branches and counts like any other (it used to be refused with a 500).
      this.memory = new PagedMemory(new com.dylibso.chicory.wasm.types.MemoryLimits(0, 0));
      return;
    }
    if (!(reactor.memory() instanceof PagedMemory paged)) {
      reactor.close();
      throw new IllegalArgumentException(
          "a snapshot needs Spindle's paged memory, the sandbox has "
              + reactor.memory().getClass().getName()
              + ": build it with memoryFactory(PagedMemory::new)");
    }
    this.memory = paged;
  }

  private void ownDirs() {
    if (files != null) {
      for (var p : reactor.wasiState().preopens()) {
        if (files.isPrivate(p.hostPath())) {
          privateDirs.put(p.guestPath(), p.hostPath());
        }
      }
    }
  }

  /** Calls an export (see {@link Reactor#call}). */
  public long[] call(String export, long... args) {
    return reactor.call(export, args);
  }

  /** The reactor itself: output, WASI state. */
  public Reactor reactor() {
    return reactor;
  }

  /** This sandbox's pages by state: what it holds alone is {@code privateBytes()}. */
  public PageCounts counts() {
    return memory.counts();
  }

  /**
   * Bytes of page table this guest holds alone (not shared with its snapshot or siblings): two
   * small directories, plus a leaf per 256 pages it wrote or loaded ({@link
   * PagedMemory#tableBytes}).
   */
  public long tableBytes() {
    return memory.tableBytes();
  }

  /** The snapshot this guest was branched from, if it was. */
  public Optional<Tag> parent() {
    return Optional.ofNullable(parent);
  }

  PagedMemory memory() {
    return memory;
  }

  Sandbox sandbox() {
    return sandbox;
  }

  /** The SHA-256 (hex) of the module it runs: what tells a CPython guest from others. */
  public String moduleSha256() {
    return moduleSha256;
  }

  String imageRoot() {
    return imageRoot;
  }

  SnapshotBase base() {
    return base;
  }

  void base(SnapshotBase base) {
    this.base = base;
  }

  /**
   * The host directories private to this sandbox, by guest path (see {@link Forks#privateRoot}):
   * the host may read and write them while the guest is between calls.
   */
  public java.util.Map<String, java.nio.file.Path> privateDirs() {
    return java.util.Collections.unmodifiableMap(privateDirs);
  }

  /**
   * Bytes of the files this sandbox wrote in its private directories (their upper directories):
   * what it holds alone, as {@link #counts()} tells its private pages. O(what it wrote).
   */
  public long privateFileBytes() {
    long total = 0;
    for (java.nio.file.Path p : privateDirs.values()) {
      total += SandboxFiles.bytesBelow(files.hostDirOf(p));
    }
    return total;
  }

  /**
   * Bytes of the read-only trees below its private directories (a snapshot's files it was branched
   * from, an image), which it shares with every sandbox over the same tree: counted once per tree
   * and remembered, so this is O(1) after the first call.
   */
  public long sharedFileBytes() {
    long total = 0;
    for (java.nio.file.Path p : privateDirs.values()) {
      total += files.sharedBytes(p);
    }
    return total;
  }

  @Override
  public void close() {
    try {
      reactor.close();
    } finally {
      if (files != null) {
        files.releaseDirs(privateDirs.values());
      }
    }
  }
}
