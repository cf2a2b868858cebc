package dev.spindle.fork;

import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.time.Instant;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.Map;
import org.eclipse.jgit.lib.ObjectId;

/**
 * The blob ids of upper-directory files hashed by earlier snapshots, by the file's stat, as Git's
 * index keeps them: a live snapshot of a sandbox that wrote 10,000 files and then changed one
 * re-reads one file, not 10,000 (its upper directory holds everything since its base, so without
 * this every snapshot re-hashed it all).
 *
 * <p>A file is taken as unchanged only when its inode, size, modification time and change time all
 * match. The change time is what a guest cannot forge (WASI lets it set the modification time, not
 * the change time; the kernel sets it on every write). Timestamps are coarse (a clock tick behind),
 * so a file whose change time is within {@link #RACY} of the pass that hashed it is not kept: a
 * write right after that pass could carry the same stamps ("racily clean", in Git's words). Entries
 * are published only once the snapshot's objects are flushed, so an id here is always in {@code
 * files.git}. Bounded: least recently used entries go first.
 */
final class UpperStats {
  static final java.time.Duration RACY = java.time.Duration.ofMillis(100);
  private static final int MAX_ENTRIES = 200_000;

  /** What identifies a file's content without reading it. */
  record Stat(Object inode, long size, FileTime modified, FileTime changed) {}

  private record Known(Stat stat, ObjectId blob) {}

  private final java.util.concurrent.atomic.AtomicLong reused =
      new java.util.concurrent.atomic.AtomicLong();

  private final Map<Path, Known> known =
      new LinkedHashMap<>(1024, 0.75f, true) {
        @Override
        protected boolean removeEldestEntry(Map.Entry<Path, Known> eldest) {
          return size() > MAX_ENTRIES;
        }
      };

  /** Upper directories some entry lies below: a sandbox that never snapshotted costs no scan. */
  private final java.util.Set<Path> roots = new java.util.HashSet<>();

  /** One snapshot's hashing: what it may reuse, and what it learnt (kept if it completes). */
  final class Pass {
    private final Instant started = Instant.now();
    private final Map<Path, Known> learnt = new HashMap<>();
    private final java.util.Set<Path> uppers = new java.util.HashSet<>();

    /** Names an upper directory this pass hashes files below (for {@link #forget}). */
    void upper(Path upper) {
      uppers.add(upper);
    }

    /** The blob of {@code file} if it is unchanged since a pass hashed it, else null. */
    ObjectId reuse(Path file, Stat stat) {
      synchronized (UpperStats.this) {
        Known k = known.get(file);
        if (k == null || !k.stat().equals(stat)) {
          return null;
        }
        reused.incrementAndGet();
        return k.blob();
      }
    }

    void learn(Path file, Stat stat, ObjectId blob) {
      if (stat.changed().toInstant().isBefore(started.minus(RACY))) {
        learnt.put(file, new Known(stat, blob));
      }
    }

    /** Called once the pass's objects are in the repository. */
    void publish() {
      synchronized (UpperStats.this) {
        known.putAll(learnt);
        if (!learnt.isEmpty()) {
          roots.addAll(uppers);
        }
      }
    }
  }

  /** Files whose blob id was reused instead of read, so far. */
  long reused() {
    return reused.get();
  }

  Pass pass() {
    return new Pass();
  }

  /** Forgets the files below {@code upper} (its sandbox ended: the directory is gone). */
  synchronized void forget(Path upper) {
    if (roots.remove(upper)) {
      known.keySet().removeIf(p -> p.startsWith(upper));
    }
  }
}
