package dev.spindle.memory;

import java.lang.ref.Reference;
import java.lang.ref.ReferenceQueue;
import java.lang.ref.WeakReference;
import java.util.concurrent.ConcurrentHashMap;

/**
 * SHA-256 of frames, by frame identity, forgetting frames nothing else holds. A frame in a table is
 * never written again, so its hash never changes: computing it once per frame makes a second
 * snapshot or fork of a sandbox that wrote a few pages cost a lookup per page instead of hashing
 * all of memory (SHA-256 runs at ~1.3 GB/s per core here: 0.8 s for 1 GiB).
 *
 * <p>Why not a synchronized {@code WeakHashMap}: every call there first expunges the frames the
 * last GC freed, so whichever fork came first after a GC paid for all of them (6 ms for 20,000 dead
 * frames at a 1 GiB prepare, against 0.4 ms for the walk itself). Here lookups take no lock and a
 * daemon thread removes dead frames as the GC reports them. (Caffeine's weak keys were measured
 * too: 0.7-1.2 ms per 16,384 lookups, for bookkeeping this map does not need.)
 */
final class FrameHashes {
  private static final ReferenceQueue<Object> DEAD = new ReferenceQueue<>();
  private static final ConcurrentHashMap<Object, byte[]> HASHES = new ConcurrentHashMap<>();

  static {
    Thread.ofPlatform().daemon().name("spindle-frame-hashes").start(FrameHashes::removeDead);
  }

  private FrameHashes() {}

  /** The frame's hash if it was computed before, else null. */
  static byte[] get(byte[] frame) {
    return HASHES.get(new Probe(frame));
  }

  static void put(byte[] frame, byte[] sha256) {
    HASHES.putIfAbsent(new Key(frame), sha256);
  }

  /**
   * The hashes of a leaf's frames as one block ({@link Pages#LEAF} x 32 bytes, zero for zero
   * pages), if every frame of it was hashed before, else null. A leaf in a table is never written
   * again (a memory copies it first), so its block never changes: with it a prepare copies 8 KiB
   * per 256 pages instead of looking up 256 frames, each lookup a cache miss on a 64 KiB frame.
   */
  static byte[] leaf(byte[][] leaf) {
    return HASHES.get(new Probe(leaf));
  }

  static void putLeaf(byte[][] leaf, byte[] block) {
    HASHES.putIfAbsent(new Key(leaf), block);
  }

  private static void removeDead() {
    while (true) {
      try {
        Reference<?> dead = DEAD.remove();
        HASHES.remove(dead); // found by identity: the referent is gone
      } catch (InterruptedException e) {
        // a daemon thread: keep going until the JVM exits
      }
    }
  }

  /** A stored key (a frame or a leaf): weak, so the map never keeps one alive. */
  private static final class Key extends WeakReference<Object> {
    private final int hash;

    Key(Object frame) {
      super(frame, DEAD);
      this.hash = System.identityHashCode(frame);
    }

    @Override
    public int hashCode() {
      return hash;
    }

    @Override
    public boolean equals(Object o) {
      if (o == this) {
        return true;
      }
      Object frame = get();
      return frame != null
          && (o instanceof Probe p ? p.frame == frame : o instanceof Key k && k.get() == frame);
    }
  }

  /** A lookup key: strong and short-lived, equal to the stored key of the same frame. */
  private record Probe(Object frame) {
    @Override
    public int hashCode() {
      return System.identityHashCode(frame);
    }

    @Override
    public boolean equals(Object o) {
      return o instanceof Key k ? k.get() == frame : o instanceof Probe p && p.frame == frame;
    }
  }
}
