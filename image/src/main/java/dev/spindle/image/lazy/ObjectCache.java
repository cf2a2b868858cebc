package dev.spindle.image.lazy;

import dev.spindle.store.AtomicFiles;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.FileTime;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import org.eclipse.jgit.lib.Constants;
import org.eclipse.jgit.lib.ObjectId;
import org.eclipse.jgit.lib.ObjectInserter;

/**
 * Blobs by Git object id, shared by every lazily pulled image of a home ({@code objects/ab/cdef…}):
 * a blob is stored once whatever images hold it. Every blob is checked against its id when it
 * arrives and again when it is read back (a torn or damaged file is dropped and fetched again,
 * which is why writes need no fsync). Size-capped, evicted least recently used first; the access
 * time is the file's mtime, so the order survives a restart. One instance per directory per JVM, so
 * pins (blobs being read, never evicted) and counters are shared by all images of the process.
 */
final class ObjectCache {
  static final long DEFAULT_CAP = 1L << 30;
  private static final String CAP_FILE = "cache-size";
  private static final Map<Path, ObjectCache> OPEN = new ConcurrentHashMap<>();

  /**
   * Where a missing blob comes from: at most {@code size} bytes of it (negative: unknown), failing
   * rather than reading on, since what a node or bucket sends is untrusted until it is checked.
   */
  @FunctionalInterface
  interface Source {
    byte[] fetch(ObjectId id, long size) throws IOException;
  }

  private static final class Entry {
    final long size;
    long access;

    Entry(long size, long access) {
      this.size = size;
      this.access = access;
    }
  }

  private final Path dir;
  private final Map<ObjectId, Entry> entries = new HashMap<>();
  private final Map<ObjectId, Integer> pins = new HashMap<>();
  private long cap;
  private long bytes;
  private long clock;
  private final AtomicLong hits = new AtomicLong();
  private final AtomicLong misses = new AtomicLong();
  private final AtomicLong fetched = new AtomicLong();
  private final AtomicLong evictions = new AtomicLong();

  private ObjectCache(Path dir) {
    this.dir = dir;
  }

  /**
   * A view of {@code dir} of its own, as another process (or this one after a restart) has: tests
   * use it; code shares {@link #of}.
   */
  static ObjectCache unshared(Path dir) throws IOException {
    return new ObjectCache(dir.toAbsolutePath().normalize()).load();
  }

  static ObjectCache of(Path dir) throws IOException {
    try {
      return OPEN.computeIfAbsent(
          dir.toAbsolutePath().normalize(),
          d -> {
            try {
              return new ObjectCache(d).load();
            } catch (IOException e) {
              throw new UncheckedIOException(e);
            }
          });
    } catch (UncheckedIOException e) {
      throw e.getCause();
    }
  }

  private ObjectCache load() throws IOException {
    Files.createDirectories(dir);
    Path capFile = dir.resolve(CAP_FILE);
    cap = Files.exists(capFile) ? parseCap(capFile) : DEFAULT_CAP;
    try (DirectoryStream<Path> fanout = Files.newDirectoryStream(dir, "[0-9a-f][0-9a-f]")) {
      for (Path sub : fanout) {
        try (DirectoryStream<Path> files = Files.newDirectoryStream(sub)) {
          for (Path f : files) {
            String name = sub.getFileName().toString() + f.getFileName();
            if (name.length() != Constants.OBJECT_ID_STRING_LENGTH || !ObjectId.isId(name)) {
              Files.deleteIfExists(f); // an interrupted write
              continue;
            }
            long size = Files.size(f);
            long access = Files.getLastModifiedTime(f).toMillis();
            entries.put(ObjectId.fromString(name), new Entry(size, access));
            clock = Math.max(clock, access);
            bytes += size;
          }
        }
      }
    }
    return this;
  }

  private static long parseCap(Path capFile) throws IOException {
    String s = Files.readString(capFile, StandardCharsets.UTF_8).strip();
    try {
      return Long.parseLong(s);
    } catch (NumberFormatException e) {
      throw new IOException(capFile + ": not a size in bytes: '" + s + "'", e);
    }
  }

  /**
   * The blob {@code id} from the cache, else from {@code source}; either way checked against its id
   * (and {@code size}, when not negative). Pinned while read, so no eviction removes it meanwhile.
   */
  byte[] blob(ObjectId id, long size, Source source) throws IOException {
    try (Pin _ = pin(id)) {
      byte[] b = cached(id);
      if (b != null) {
        hits.incrementAndGet();
        return b;
      }
      misses.incrementAndGet();
      return fetchOnce(id, size, source);
    } finally {
      evict();
    }
  }

  /** Fetches in progress, by blob: a second reader of the same blob waits for the first's fetch. */
  private final Map<ObjectId, java.util.concurrent.CompletableFuture<byte[]>> inFlight =
      new ConcurrentHashMap<>();

  /**
   * Fetches {@code id} once however many threads miss it at the same time: a background prefetch
   * and the run it serves often reach the same blob together.
   */
  private byte[] fetchOnce(ObjectId id, long size, Source source) throws IOException {
    java.util.concurrent.CompletableFuture<byte[]> mine =
        new java.util.concurrent.CompletableFuture<>();
    java.util.concurrent.CompletableFuture<byte[]> theirs = inFlight.putIfAbsent(id, mine);
    if (theirs != null) {
      try {
        return theirs.join();
      } catch (java.util.concurrent.CompletionException e) {
        throw e.getCause() instanceof IOException io ? io : new IOException(e.getCause());
      }
    }
    try {
      byte[] b = source.fetch(id, size);
      fetched.addAndGet(b.length);
      check(id, size, b);
      store(id, b);
      mine.complete(b);
      return b;
    } catch (IOException | RuntimeException e) {
      mine.completeExceptionally(e);
      throw e;
    } finally {
      inFlight.remove(id, mine);
    }
  }

  private byte[] cached(ObjectId id) throws IOException {
    synchronized (this) {
      if (!entries.containsKey(id)) {
        return null;
      }
    }
    Path f = file(id);
    byte[] b;
    try {
      b = Files.readAllBytes(f);
    } catch (NoSuchFileException e) {
      forget(id); // evicted by another process sharing the home
      return null;
    }
    if (!idOf(b).equals(id)) {
      Files.deleteIfExists(f);
      forget(id);
      return null;
    }
    long now = tick();
    synchronized (this) {
      Entry e = entries.get(id);
      if (e != null) {
        e.access = now;
      }
    }
    Files.setLastModifiedTime(f, FileTime.fromMillis(now));
    return b;
  }

  private void store(ObjectId id, byte[] b) throws IOException {
    Path f = file(id);
    Files.createDirectories(f.getParent());
    Path tmp = Files.createTempFile(f.getParent(), "." + id.name(), ".tmp");
    try {
      Files.write(tmp, b);
      Files.move(tmp, f, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    } catch (AtomicMoveNotSupportedException e) {
      throw new IOException("cannot rename atomically onto " + f + ": " + e.getMessage(), e);
    } finally {
      Files.deleteIfExists(tmp);
    }
    long now = tick();
    Files.setLastModifiedTime(f, FileTime.fromMillis(now));
    synchronized (this) {
      if (!entries.containsKey(id)) {
        entries.put(id, new Entry(b.length, now));
        bytes += b.length;
      }
    }
  }

  private synchronized void forget(ObjectId id) {
    Entry e = entries.remove(id);
    if (e != null) {
      bytes -= e.size;
    }
  }

  /** A blob being read: no eviction removes it until closed. */
  interface Pin extends AutoCloseable {
    @Override
    void close();
  }

  synchronized Pin pin(ObjectId id) {
    pins.merge(id, 1, Integer::sum);
    return () -> {
      synchronized (this) {
        pins.computeIfPresent(id, (k, n) -> n == 1 ? null : n - 1);
      }
    };
  }

  /**
   * Access times strictly increase, so the LRU order is total even within one millisecond, and it
   * survives a restart as the files' mtimes.
   */
  private synchronized long tick() {
    clock = Math.max(clock + 1, System.currentTimeMillis());
    return clock;
  }

  /** Least recently used first, skipping pinned blobs, until the cache fits its cap. */
  private synchronized void evict() throws IOException {
    if (bytes <= cap) {
      return;
    }
    List<Map.Entry<ObjectId, Entry>> lru = new ArrayList<>(entries.entrySet());
    lru.sort(Comparator.comparingLong(e -> e.getValue().access));
    for (Map.Entry<ObjectId, Entry> e : lru) {
      if (bytes <= cap) {
        break;
      }
      if (pins.containsKey(e.getKey())) {
        continue;
      }
      Files.deleteIfExists(file(e.getKey()));
      entries.remove(e.getKey());
      bytes -= e.getValue().size;
      evictions.incrementAndGet();
    }
  }

  /** Sets the cap (kept in the cache directory) and evicts down to it. */
  void cap(long newCap) throws IOException {
    if (newCap < 0) {
      throw new IllegalArgumentException("cache size must not be negative: " + newCap);
    }
    // Atomically: written in place, a crash mid-write left an empty or torn file that every later
    // open of the home refused as "not a size in bytes".
    AtomicFiles.write(
        dir.resolve(CAP_FILE), Long.toString(newCap).getBytes(StandardCharsets.UTF_8));
    synchronized (this) {
      cap = newCap;
    }
    evict();
  }

  synchronized LazyImages.CacheStats stats() {
    return new LazyImages.CacheStats(
        hits.get(), misses.get(), fetched.get(), evictions.get(), entries.size(), bytes, cap);
  }

  private Path file(ObjectId id) {
    String n = id.name();
    return dir.resolve(n.substring(0, 2)).resolve(n.substring(2));
  }

  static ObjectId idOf(byte[] blob) {
    return new ObjectInserter.Formatter().idFor(Constants.OBJ_BLOB, blob);
  }

  /** A blob from elsewhere must be what its id names; else nothing is stored. */
  private static void check(ObjectId id, long size, byte[] b) throws IOException {
    ObjectId actual = idOf(b);
    if (!actual.equals(id)) {
      throw new IOException(
          "object "
              + id.name()
              + " refused: its content hashes to "
              + actual.name()
              + " (damaged or tampered on the way; nothing stored)");
    }
    if (size >= 0 && b.length != size) {
      throw new IOException(
          "object "
              + id.name()
              + " refused: "
              + b.length
              + " bytes where the image's path index says "
              + size);
    }
  }
}
