package dev.spindle.fork;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.spindle.memory.PageTable;
import dev.spindle.store.AtomicFiles;
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
 */
public final class SnapshotStore {
  private static final String WRITING_PREFIX = ".writing-";

  private final Path root;
  private final SandboxFiles files;
  private final Map<Tag, SnapshotStatus> inFlight = new ConcurrentHashMap<>();
  private final Map<Tag, String> failures = new ConcurrentHashMap<>();
  private final ExecutorService background =
      Executors.newSingleThreadExecutor(r -> {
        Thread t = new Thread(r, "spindle-snapshot-writer");
        t.setDaemon(true);
        return t;
      });

  public SnapshotStore(SpindleHome home) {
    this.root = home.root().resolve("snapshots");
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
  public SnapshotWriter.Written persist(Tag tag, PageTable table, ObjectNode state) throws IOException {
    claim(tag);
    return writeClaimed(tag, table, state, Runtime.getRuntime().availableProcessors());
  }

  /**
   * Starts persisting in the background and returns at once with the tag claimed as {@code
   * writing} (a live snapshot's path: the table is immutable, so the sandbox keeps running).
   */
  public CompletableFuture<SnapshotWriter.Written> persistAsync(Tag tag, PageTable table, ObjectNode state)
      throws IOException {
    return persistAsync(tag, table, () -> state);
  }

  /**
   * As {@link #persistAsync(Tag, PageTable, ObjectNode)}, with the state built on the writer
   * thread, off the caller's path. The writer hashes with one core fewer than the machine has
   * (at least one): the sandbox it snapshots keeps running and needs a core.
   */
  public CompletableFuture<SnapshotWriter.Written> persistAsync(Tag tag, PageTable table,
      Supplier<ObjectNode> state) throws IOException {
    claim(tag);
    CompletableFuture<SnapshotWriter.Written> f = new CompletableFuture<>();
    int cores = Math.max(1, Runtime.getRuntime().availableProcessors() - 1);
    background.execute(() -> {
      try {
        f.complete(writeClaimed(tag, table, state.get(), cores));
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
      throw new FileAlreadyExistsException(tag.value(), null, "a snapshot with this tag is being written");
    }
    if (exists(tag)) {
      throw new FileAlreadyExistsException(tag.value(), null, "a snapshot with this tag exists");
    }
    failures.remove(tag);
    inFlight.put(tag, SnapshotStatus.WRITING);
  }

  private SnapshotWriter.Written writeClaimed(Tag tag, PageTable table, ObjectNode state, int cores)
      throws IOException {
    Path tmp = null;
    try {
      Files.createDirectories(root);
      tmp = Files.createTempDirectory(root, WRITING_PREFIX + tag.value() + "-");
      ObjectNode s = state.deepCopy();
      s.put("tag", tag.value());
      s.put("kind", "snapshot");
      SnapshotWriter.Written w = SnapshotWriter.write(tmp, table, s, cores);
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

  public boolean delete(Tag tag) throws IOException {
    Path d = directory(tag);
    files.delete(tag);
    if (!Files.isDirectory(d)) {
      return false;
    }
    // Rename first so the tag disappears at once, whole, then remove the files.
    Path gone = Files.createTempDirectory(root, ".deleting-");
    Files.move(d, gone.resolve("x"), StandardCopyOption.ATOMIC_MOVE);
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
