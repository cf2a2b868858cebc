package dev.spindle.fork;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.spindle.memory.PageTable;
import dev.spindle.store.AtomicFiles;
import dev.spindle.store.BackgroundThreads;
import dev.spindle.store.SpindleHome;
import dev.spindle.store.Tag;
import dev.spindle.store.Trees;
import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.function.Supplier;

/**
 * Snapshots by tag under {@code $SPINDLE_HOME/snapshots/<tag>/}. A snapshot is written into a
 * hidden {@code .writing-<tag>-*} directory and renamed into place only when all its files are
 * fsynced, so a tag names a whole snapshot or nothing; a crash leaves only a hidden directory,
 * which {@link #recover()} removes and reports as failed. It also holds the copies of the
 * sandboxes' private directories that snapshots record ({@link SandboxFiles}).
 *
 * <p>A snapshot written with a {@link SnapshotBase} is incremental (format version 2): it holds the
 * pages that differ from its base and reads the others through it. Deleting a snapshot that another
 * reads through is refused ({@link SnapshotInUseException}) until those are compacted ({@link
 * #compact}) or deleted; compacting rewrites a snapshot whole and swaps it in.
 */
public final class SnapshotStore {
  private static final String WRITING_PREFIX = ".writing-";

  /** The old files of a snapshot being compacted, between the two renames of the swap. */
  private static final String COMPACTING_PREFIX = ".compacting-";

  private static final com.fasterxml.jackson.databind.ObjectMapper JSON =
      new com.fasterxml.jackson.databind.ObjectMapper();

  private final Path root;
  private final SandboxFiles files;
  private final Map<Tag, SnapshotStatus> inFlight = new ConcurrentHashMap<>();
  private final Map<Tag, String> failures = new ConcurrentHashMap<>();

  /** Bases that writes in flight read through, with how many: deleting one is refused. */
  private final Map<Tag, Integer> basesInUse = new java.util.HashMap<>();

  /**
   * Guards {@link #basesInUse} and the renames of delete and compact: its own lock, not the one
   * {@link #claim} takes, so that a live snapshot's caller never waits for a delete's scan of the
   * other snapshots' states.
   */
  private final Object bases = new Object();

  /**
   * Writes live snapshots at background priority, so that the sandbox it snapshots, and every
   * other, keeps its core (see {@link BackgroundThreads}); the hashing workers it starts inherit
   * that priority. A full snapshot's caller waits for its write and writes at its own priority.
   */
  private final ExecutorService background =
      Executors.newSingleThreadExecutor(BackgroundThreads.factory("spindle-snapshot-writer"));

  public SnapshotStore(SpindleHome home) {
    this.root = home.snapshots();
    this.files = new SandboxFiles(home);
  }

  /** The sandboxes' private directories and the snapshots' copies of them. */
  SandboxFiles files() {
    return files;
  }

  public Path directory(Tag tag) {
    return root.resolve(tag.value());
  }

  public boolean exists(Tag tag) {
    return Files.isDirectory(directory(tag));
  }

  /** The tag's status, if this store knows the tag. */
  public Optional<SnapshotStatus> status(Tag tag) {
    SnapshotStatus s = inFlight.get(tag);
    if (s != null) {
      return Optional.of(s);
    }
    if (exists(tag)) {
      return Optional.of(SnapshotStatus.READY);
    }
    return failures.containsKey(tag) ? Optional.of(SnapshotStatus.FAILED) : Optional.empty();
  }

  /** Why the tag's write failed, if it did. */
  public Optional<String> failure(Tag tag) {
    return Optional.ofNullable(failures.get(tag));
  }

  /** Persists a snapshot and returns when it is ready (a full snapshot's path). */
  public SnapshotWriter.Written persist(Tag tag, PageTable table, ObjectNode state)
      throws IOException {
    return persist(tag, table, state, null);
  }

  /**
   * Persists a snapshot whose memory derives from {@code base} (null for none): written as the
   * pages that differ from it when the base is written and its chain is short enough, else whole.
   */
  SnapshotWriter.Written persist(Tag tag, PageTable table, ObjectNode state, SnapshotBase base)
      throws IOException {
    claim(tag);
    return writeClaimed(tag, table, state, Runtime.getRuntime().availableProcessors(), base);
  }

  /**
   * Starts persisting in the background and returns at once with the tag claimed as {@code writing}
   * (a live snapshot's path: the table is immutable, so the sandbox keeps running).
   */
  public CompletableFuture<SnapshotWriter.Written> persistAsync(
      Tag tag, PageTable table, ObjectNode state) throws IOException {
    return persistAsync(tag, table, () -> state, null);
  }

  /**
   * As {@link #persistAsync(Tag, PageTable, ObjectNode)}, with the state built on the writer
   * thread, off the caller's path. The writer hashes with one core fewer than the machine has (at
   * least one): the sandbox it snapshots keeps running and needs a core.
   */
  public CompletableFuture<SnapshotWriter.Written> persistAsync(
      Tag tag, PageTable table, Supplier<ObjectNode> state) throws IOException {
    return persistAsync(tag, table, state, null);
  }

  /**
   * As {@link #persistAsync(Tag, PageTable, Supplier)}, incremental over {@code base} when it can
   * be.
   */
  CompletableFuture<SnapshotWriter.Written> persistAsync(
      Tag tag, PageTable table, Supplier<ObjectNode> state, SnapshotBase base) throws IOException {
    claim(tag);
    CompletableFuture<SnapshotWriter.Written> f = new CompletableFuture<>();
    int cores = Math.max(1, Runtime.getRuntime().availableProcessors() - 1);
    background.execute(
        () -> {
          try {
            f.complete(writeClaimed(tag, table, state.get(), cores, base));
          } catch (IOException | RuntimeException e) {
            failures.put(tag, e.getMessage() == null ? e.toString() : e.getMessage());
            inFlight.remove(tag);
            f.completeExceptionally(e);
          }
        });
    return f;
  }

  private synchronized void claim(Tag tag) throws IOException {
    if (inFlight.containsKey(tag)) {
      throw new FileAlreadyExistsException(
          tag.value(), null, "a snapshot with this tag is being written");
    }
    if (exists(tag)) {
      throw new FileAlreadyExistsException(tag.value(), null, "a snapshot with this tag exists");
    }
    failures.remove(tag);
    inFlight.put(tag, SnapshotStatus.WRITING);
  }

  private SnapshotWriter.Written writeClaimed(
      Tag tag, PageTable table, ObjectNode state, int cores, SnapshotBase base) throws IOException {
    Path tmp = null;
    SnapshotWriter.Base b = null;
    try {
      b = useBase(base);
      Files.createDirectories(root);
      tmp = Files.createTempDirectory(root, WRITING_PREFIX + tag.value() + "-");
      ObjectNode s = state.deepCopy();
      s.put("tag", tag.value());
      s.put("kind", "snapshot");
      SnapshotWriter.Written w = SnapshotWriter.write(tmp, table, s, cores, b);
      AtomicFiles.fsyncDirectory(tmp);
      Files.move(tmp, directory(tag), StandardCopyOption.ATOMIC_MOVE);
      AtomicFiles.fsyncDirectory(root);
      tmp = null;
      return w;
    } catch (IOException | RuntimeException e) {
      failures.put(tag, e.getMessage() == null ? e.toString() : e.getMessage());
      throw e;
    } finally {
      inFlight.remove(tag);
      if (b != null) {
        releaseBase(Tag.of(b.tag()));
      }
      if (tmp != null) {
        Trees.delete(tmp);
      }
    }
  }

  /**
   * The base to write onto, marked in use so it cannot be deleted meanwhile; null (write whole)
   * when there is none, it is not written yet or failed, its tag now holds other memory, it cannot
   * be read, or its chain is already {@link SnapshotFormat#MAX_CHAIN} links deep.
   */
  private SnapshotWriter.Base useBase(SnapshotBase base) {
    if (base == null) {
      return null;
    }
    String root = base.readyRoot();
    if (root == null) {
      return null;
    }
    synchronized (bases) {
      if (!exists(base.tag())) {
        return null;
      }
      basesInUse.merge(base.tag(), 1, Integer::sum);
    }
    SnapshotWriter.Base b = null;
    try {
      b = readBase(base.tag(), root);
      return b;
    } finally {
      if (b == null) {
        releaseBase(base.tag());
      }
    }
  }

  private void releaseBase(Tag tag) {
    synchronized (bases) {
      basesInUse.computeIfPresent(tag, (t, n) -> n == 1 ? null : n - 1);
    }
  }

  private SnapshotWriter.Base readBase(Tag tag, String root) {
    Path dir = directory(tag);
    try {
      com.fasterxml.jackson.databind.JsonNode st =
          JSON.readTree(dir.resolve(SnapshotFormat.STATE).toFile());
      int depth = st.path("chain_depth").asInt(0);
      int pages = st.path("pages").asInt(-1);
      if (!root.equals(st.path("page_hashes_sha256").asText())
          || depth >= SnapshotFormat.MAX_CHAIN
          || pages < 0
          || pages > 65536) {
        return null;
      }
      Path hp = dir.resolve(SnapshotFormat.HASHES);
      if (Files.size(hp) != (long) pages * SnapshotFormat.HASH_BYTES) {
        return null;
      }
      byte[] hashes = Files.readAllBytes(hp);
      if (!dev.spindle.store.Hashes.sha256Hex(hashes).equals(root)) {
        return null;
      }
      return new SnapshotWriter.Base(tag.value(), root, pages, hashes, depth);
    } catch (IOException | RuntimeException e) {
      return null; // an unreadable base: this snapshot is written whole
    }
  }

  /** The tag's base if it is incremental (format version 2), read from its state; else empty. */
  public Optional<Tag> baseOf(Tag tag) {
    try {
      com.fasterxml.jackson.databind.JsonNode b =
          JSON.readTree(directory(tag).resolve(SnapshotFormat.STATE).toFile()).get("base");
      return b != null && b.isTextual() && Tag.isValid(b.asText())
          ? Optional.of(Tag.of(b.asText()))
          : Optional.empty();
    } catch (IOException | RuntimeException e) {
      return Optional.empty();
    }
  }

  /** The snapshots that read through {@code tag} (their base is it), sorted. */
  public List<Tag> dependents(Tag tag) throws IOException {
    List<Tag> out = new ArrayList<>();
    for (Tag t : list()) {
      if (!t.equals(tag) && baseOf(t).filter(tag::equals).isPresent()) {
        out.add(t);
      }
    }
    return out;
  }

  /**
   * Rewrites snapshot {@code tag} whole (format version 1) and swaps it in, so that its base can be
   * deleted; its page hashes and root hash do not change, so snapshots reading through it stay
   * valid. Returns false when it was whole already. The swap is two renames: a crash between them
   * leaves the old files under {@code .compacting-<tag>-*}, which {@link #recover()} puts back.
   */
  public boolean compact(Tag tag) throws IOException {
    Path tmp = null;
    try (Snapshot src = open(tag)) {
      if (src.chainDepth() == 0) {
        return false;
      }
      tmp = Files.createTempDirectory(root, ".flattening-" + tag.value() + "-");
      SnapshotWriter.flatten(tmp, src, src.state());
      AtomicFiles.fsyncDirectory(tmp);
      Path old = root.resolve(COMPACTING_PREFIX + tag.value() + "-" + System.nanoTime());
      synchronized (bases) {
        Files.move(directory(tag), old, StandardCopyOption.ATOMIC_MOVE);
        Files.move(tmp, directory(tag), StandardCopyOption.ATOMIC_MOVE);
        AtomicFiles.fsyncDirectory(root);
        tmp = null;
      }
      Trees.delete(old);
      return true;
    } finally {
      if (tmp != null) {
        Trees.delete(tmp);
      }
    }
  }

  public Snapshot open(Tag tag) throws IOException {
    return Snapshot.open(directory(tag));
  }

  public List<Tag> list() throws IOException {
    List<Tag> tags = new ArrayList<>();
    if (!Files.isDirectory(root)) {
      return tags;
    }
    try (DirectoryStream<Path> ds = Files.newDirectoryStream(root)) {
      for (Path p : ds) {
        String n = p.getFileName().toString();
        if (Tag.isValid(n) && Files.isDirectory(p)) {
          tags.add(Tag.of(n));
        }
      }
    }
    tags.sort(Comparator.comparing(Tag::value));
    return tags;
  }

  /**
   * Deletes snapshot {@code tag}. Refused with {@link SnapshotInUseException} when another snapshot
   * reads through it (compact or delete those first) or a write in flight is using it as its base:
   * a chain is never left with a missing link by this store.
   */
  public boolean delete(Tag tag) throws IOException {
    return delete(tag, false);
  }

  /**
   * Deletes snapshot {@code tag}; with {@code evenIfReadThrough}, also when other snapshots read
   * through it (they then fail to open, naming the missing link): only for a base that is damaged
   * already, whose dependents could not be compacted. A write in flight still blocks it.
   */
  public boolean delete(Tag tag, boolean evenIfReadThrough) throws IOException {
    Path gone;
    synchronized (bases) {
      Path d = directory(tag);
      if (!Files.isDirectory(d)) {
        return false;
      }
      if (basesInUse.containsKey(tag)) {
        throw new SnapshotInUseException(
            tag, List.of(), "a snapshot being written reads through it");
      }
      List<Tag> dependents = evenIfReadThrough ? List.of() : dependents(tag);
      if (!dependents.isEmpty()) {
        throw new SnapshotInUseException(tag, dependents, null);
      }
      files.delete(tag); // its copies of private directories (SandboxFiles), after the checks
      // Rename first so the tag disappears at once, whole, then remove the files.
      gone = Files.createTempDirectory(root, ".deleting-");
      Files.move(d, gone.resolve("x"), StandardCopyOption.ATOMIC_MOVE);
    }
    Trees.delete(gone);
    return true;
  }

  /**
   * Removes what interrupted writes left (after a crash or kill -9) and returns their tags: their
   * status is {@code failed}, and nothing of them is left.
   */
  public List<String> recover() throws IOException {
    List<String> failed = new ArrayList<>();
    // Private directories were of sandboxes that ended with the previous process; copies of
    // sandbox files whose snapshot never finished (or was deleted midway) go too.
    files.recover();
    files.deleteOrphans(this::exists);
    if (!Files.isDirectory(root)) {
      return failed;
    }
    try (DirectoryStream<Path> ds = Files.newDirectoryStream(root, ".*")) {
      for (Path p : ds) {
        String n = p.getFileName().toString();
        if (n.startsWith(COMPACTING_PREFIX)) {
          // A compaction stopped between its renames: the old files are whole, put them back.
          String tag = n.substring(COMPACTING_PREFIX.length(), n.lastIndexOf('-'));
          if (Tag.isValid(tag) && !exists(Tag.of(tag))) {
            Files.move(p, directory(Tag.of(tag)), StandardCopyOption.ATOMIC_MOVE);
            AtomicFiles.fsyncDirectory(root);
            continue;
          }
        }
        if (n.startsWith(WRITING_PREFIX)) {
          String tag = n.substring(WRITING_PREFIX.length(), n.lastIndexOf('-'));
          failed.add(tag);
          if (Tag.isValid(tag)) {
            failures.put(Tag.of(tag), "interrupted: the process stopped while writing");
          }
        }
        Trees.delete(p);
      }
    }
    return failed;
  }
}
