package dev.spindle.memory;

import com.dylibso.chicory.wasm.ChicoryException;
import java.lang.ref.Cleaner;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The process's budget of page frames: every frame a {@link PagedMemory} allocates (a page made
 * private by a write) is counted here until the collector frees it. A node sets a limit so that its
 * guests together cannot run the JVM out of heap: a write that needs a frame past the limit traps
 * that guest ("memory budget used up") instead. Counting frames, not each sandbox's maximum, keeps
 * branching O(1): a child's unwritten pages are its snapshot's frames, counted once.
 *
 * <p>Frames are counted down by a {@link Cleaner} when they become unreachable, so the count is of
 * live frames whoever holds them (memories, snapshots, branches). Unreachable frames the collector
 * has not yet freed still count; {@link #tryReserve} asks for one collection before refusing.
 */
public final class FrameBudget {
  private static final Cleaner CLEANER = Cleaner.create();
  private static final FrameBudget GLOBAL = new FrameBudget();

  /**
   * At most one forced collection per this many nanoseconds: callers refused meanwhile wait for the
   * next one and share it, so a full budget costs at most four collections a second.
   */
  private static final long GC_INTERVAL_NANOS = 250_000_000L;

  private final AtomicLong frames = new AtomicLong();
  private volatile long limitFrames = Long.MAX_VALUE;
  private long lastGc = System.nanoTime() - GC_INTERVAL_NANOS;

  /** A budget of its own, unlimited until {@link #limitBytes} (the process has {@link #global}). */
  FrameBudget() {}

  /** The process's budget (unlimited until a node sets it). */
  public static FrameBudget global() {
    return GLOBAL;
  }

  /**
   * Limits live frames to {@code bytes} (rounded down to whole pages, at least one). Frames are
   * counted from then on: a node sets it before it starts any guest.
   */
  public void limitBytes(long bytes) {
    limitFrames = Math.max(1, bytes / Pages.SIZE);
  }

  public long limitBytes() {
    return limitFrames == Long.MAX_VALUE ? Long.MAX_VALUE : limitFrames * Pages.SIZE;
  }

  /** Bytes of live frames. */
  public long usedBytes() {
    return frames.get() * Pages.SIZE;
  }

  /**
   * Whether {@code bytes} more would fit now, after one collection if they would not at first: what
   * an admission check asks before starting more guests.
   */
  public boolean tryReserve(long bytes) {
    long want = bytes / Pages.SIZE;
    if (frames.get() + want <= limitFrames) {
      return true;
    }
    collect(System.nanoTime());
    return frames.get() + want <= limitFrames;
  }

  /** A new zeroed frame, counted; traps when the budget is used up. */
  byte[] allocate() {
    return count(new byte[Pages.SIZE]);
  }

  /** Counts {@code frame} (just made) until it is collected; traps when the budget is used up. */
  byte[] count(byte[] frame) {
    if (limitFrames == Long.MAX_VALUE) {
      return frame; // no node set a budget (the library, benchmarks): nothing to count against
    }
    if (frames.incrementAndGet() > limitFrames) {
      frames.decrementAndGet();
      collect(System.nanoTime());
      if (frames.incrementAndGet() > limitFrames) {
        frames.decrementAndGet();
        throw new ChicoryException(
            "the node's memory budget is used up ("
                + ((limitFrames * Pages.SIZE) >> 20)
                + " MiB of guest pages): this sandbox cannot write "
                + "another page");
      }
    }
    CLEANER.register(frame, frames::decrementAndGet);
    return frame;
  }

  /**
   * Makes sure a collection has run since {@code refusedAt}, so a refusal is always of live frames
   * (a deleted sandbox's pages are freed before the next create is judged).
   */
  private synchronized void collect(long refusedAt) {
    if (lastGc - refusedAt > 0) {
      return; // one ran after the caller was refused: its count is fresh
    }
    long wait = lastGc + GC_INTERVAL_NANOS - System.nanoTime();
    if (wait > 0) {
      try {
        Thread.sleep(wait / 1_000_000, (int) (wait % 1_000_000));
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return;
      }
    }
    System.gc(); // frees frames nobody holds any more, so the count is of live ones
    awaitCleaner();
    lastGc = System.nanoTime();
  }

  /** The cleaner counts frames down on its own thread after the collection: give it a moment. */
  private static void awaitCleaner() {
    try {
      Thread.sleep(20);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
