package dev.spindle.daemon;

import dev.spindle.client.Api.ImageInfo;
import dev.spindle.client.Api.MakeImage;
import dev.spindle.fork.SnapshotStore;
import dev.spindle.image.ImageHeader;
import dev.spindle.image.ImageStore;
import dev.spindle.image.ImageVerifier;
import dev.spindle.image.Progress;
import dev.spindle.image.VerifyReport;
import dev.spindle.image.make.MakeOptions;
import dev.spindle.store.SpindleHome;
import dev.spindle.store.Tag;
import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;

/**
 * Images and snapshots by tag, one namespace: the files in the image and snapshot stores, their
 * rows in {@link StateDb}, and the work that makes them. The row is claimed ({@code writing})
 * before any file is written and settled ({@code ready} or {@code failed}) after, so the database
 * always knows what is in flight.
 */
public final class Catalog implements AutoCloseable {
  public static final String IMAGE = "image";
  public static final String SNAPSHOT = "snapshot";

  /**
   * Tags the node makes for itself (a warm interpreter's snapshot, {@link WarmPython}): listed and
   * deletable like any snapshot, but no client can claim one, so none can stand in for the node's.
   */
  public static final String RUNTIME_PREFIX = "runtime-";

  private final SpindleHome home;
  private final ImageStore images;
  private final SnapshotStore snapshots;
  private final StateDb db;
  private final ExecutorService makers =
      Executors.newFixedThreadPool(
          2,
          r -> {
            Thread t = new Thread(r, "spindle-image-make");
            t.setDaemon(true);
            return t;
          });

  Catalog(SpindleHome home, ImageStore images, SnapshotStore snapshots, StateDb db) {
    this.home = home;
    this.images = images;
    this.snapshots = snapshots;
    this.db = db;
  }

  SnapshotStore snapshots() {
    return snapshots;
  }

  ImageStore images() {
    return images;
  }

  /**
   * Reconciles rows and files at start: work that was in flight when the process died is marked
   * {@code failed} and its partial files removed; every {@code ready} tag is verified (a damaged or
   * missing one becomes {@code failed} with the reason); tags found on disk without a row (made by
   * the embedded CLI) are verified and adopted.
   */
  List<String> recover() throws IOException {
    List<String> log = new ArrayList<>();
    for (ImageInfo i : db.withStatus("writing")) {
      db.fail(i.tag(), "interrupted: the node stopped while this was being written");
      log.add(i.tag() + ": was writing, now failed");
    }
    removeImageTempFiles();
    for (String tag : snapshots.recover()) {
      if (Tag.isValid(tag)) {
        if (db.get(tag).isEmpty()) {
          db.put(row(tag, SNAPSHOT, "failed", null, null, null));
        }
        db.fail(tag, "interrupted: the node stopped while this snapshot was being written");
      }
    }
    for (ImageInfo i : db.withStatus("ready")) {
      String damage = check(i);
      if (damage != null) {
        db.fail(i.tag(), damage);
        log.add(i.tag() + ": " + damage);
      }
    }
    Set<String> known = new HashSet<>();
    db.all().forEach(i -> known.add(i.tag()));
    for (Tag t : images.list()) {
      if (!known.contains(t.value())) {
        adoptImage(t);
      }
    }
    for (Tag t : snapshots.list()) {
      if (!known.contains(t.value())) {
        String damage = checkSnapshot(t);
        db.put(
            damage == null
                ? row(t.value(), SNAPSHOT, "ready", null, null, null)
                : row(t.value(), SNAPSHOT, "failed", null, null, damage));
      }
    }
    return log;
  }

  private void adoptImage(Tag t) throws IOException {
    VerifyReport r = new ImageVerifier(Progress.NONE).verify(images.path(t));
    if (r.ok()) {
      db.put(
          readyImage(
              t,
              null,
              null,
              r.commit().root().name(),
              r.commit().commit().name(),
              Files.size(images.path(t)),
              (int) r.objects(),
              null));
    } else {
      db.put(row(t.value(), IMAGE, "failed", null, null, damage(r)));
    }
  }

  /** Why a ready tag is not usable, or null when it verifies. */
  private String check(ImageInfo i) throws IOException {
    Tag t = Tag.of(i.tag());
    if (SNAPSHOT.equals(i.kind())) {
      return checkSnapshot(t);
    }
    Path p = images.path(t);
    if (!Files.isRegularFile(p)) {
      return "missing: " + p + " is gone";
    }
    VerifyReport r = new ImageVerifier(Progress.NONE).verify(p);
    return r.ok() ? null : damage(r);
  }

  private String checkSnapshot(Tag t) {
    if (!snapshots.exists(t)) {
      return "missing: " + snapshots.directory(t) + " is gone";
    }
    try (var s = snapshots.open(t)) {
      String damage = s.verify();
      return damage == null ? null : "damaged: " + damage;
    } catch (IOException | RuntimeException e) {
      return "damaged: " + e.getMessage();
    }
  }

  /** The verifier's findings in one line: the first few, each naming its offset or object. */
  private static String damage(VerifyReport r) {
    return "damaged: "
        + String.join("; ", r.problems().stream().limit(3).map(Object::toString).toList());
  }

  /** Leftovers of image writes a crash interrupted ({@code images/.<tag>.img.*.tmp}). */
  private void removeImageTempFiles() throws IOException {
    if (!Files.isDirectory(home.images())) {
      return;
    }
    try (DirectoryStream<Path> ds = Files.newDirectoryStream(home.images(), ".*.tmp")) {
      for (Path p : ds) {
        Files.deleteIfExists(p);
      }
    }
  }

  // --- requests ---------------------------------------------------------------------------

  /**
   * Claims the tag and makes the image on a worker. Returns the settled row when {@code wait}, else
   * at once with the {@code writing} row.
   */
  ImageInfo make(MakeImage m) throws IOException, InterruptedException {
    if (m.source() == null || m.source().isBlank()) {
      throw ApiError.badRequest(
          "bad_field", "field 'source' is required: a directory, a local repository or a Git URL");
    }
    Tag tag = tag(m.tag(), "tag");
    claim(row(tag.value(), IMAGE, "writing", m.source(), m.ref(), null));
    CompletableFuture<ImageInfo> done = CompletableFuture.supplyAsync(() -> build(tag, m), makers);
    if (Boolean.FALSE.equals(m.awaitReady())) {
      return withLineage(db.get(tag.value()).orElseThrow());
    }
    try {
      return done.get();
    } catch (ExecutionException e) {
      throw new IllegalStateException(e.getCause());
    }
  }

  private ImageInfo build(Tag tag, MakeImage m) {
    try {
      MakeOptions o = MakeOptions.defaults().withRef(m.ref());
      ImageHeader h = images.make(m.source(), tag, o, Progress.NONE);
      ImageInfo claimed = db.get(tag.value()).orElseThrow();
      ImageInfo ready =
          readyImage(
              tag,
              m.source(),
              m.ref(),
              h.root().name(),
              h.commit().name(),
              Files.size(images.path(tag)),
              h.objectCount(),
              claimed.createdAt());
      db.put(ready);
      return withLineage(db.get(tag.value()).orElseThrow());
    } catch (IOException | RuntimeException e) {
      db.fail(
          tag.value(), "make failed: " + (e.getMessage() == null ? e.toString() : e.getMessage()));
      return withLineage(db.get(tag.value()).orElseThrow());
    }
  }

  /** Claims a tag for new work: 409 when it names something ready or in flight. */
  void claim(ImageInfo row) throws IOException {
    if (row.tag().startsWith(RUNTIME_PREFIX)) {
      throw ApiError.badRequest(
          "bad_tag",
          "tags starting '"
              + RUNTIME_PREFIX
              + "' are the node's own (its warm "
              + "interpreters); choose another tag");
    }
    claimAny(row);
  }

  /**
   * Claims one of the node's own tags ({@link #RUNTIME_PREFIX}), as {@link #claim} does a client's.
   */
  void claimRuntime(ImageInfo row) throws IOException {
    if (!row.tag().startsWith(RUNTIME_PREFIX)) {
      throw new IllegalArgumentException("not a runtime tag: " + row.tag());
    }
    claimAny(row);
  }

  private void claimAny(ImageInfo row) throws IOException {
    Tag t = Tag.of(row.tag());
    // One namespace: a file of either kind holds the tag, even one no row knows yet.
    if ((images.exists(t) || snapshots.exists(t)) && db.get(row.tag()).isEmpty()) {
      throw ApiError.conflict(
          "tag_exists",
          "tag '"
              + row.tag()
              + "' exists ("
              + (images.exists(t) ? "an image" : "a snapshot")
              + " file in the store)");
    }
    if (!db.claim(row)) {
      ImageInfo other = db.get(row.tag()).orElseThrow();
      throw "writing".equals(other.status())
          ? ApiError.conflict(
              "tag_in_flight",
              "tag '" + row.tag() + "' is being written (" + article(other.kind()) + ")")
          : ApiError.conflict(
              "tag_exists", "tag '" + row.tag() + "' exists (" + article(other.kind()) + ")");
    }
  }

  ImageInfo settle(ImageInfo row) {
    db.put(row);
    return withLineage(db.get(row.tag()).orElseThrow());
  }

  void fail(String tag, String why) {
    db.fail(tag, why);
  }

  /** Removes a claim whose work never started (e.g. the operation is not available). */
  void release(String tag) {
    db.delete(tag);
  }

  /** The row of {@code tag}, if any (no lineage). */
  public java.util.Optional<ImageInfo> find(String tag) {
    return db.get(tag);
  }

  public List<ImageInfo> list() {
    return db.all().stream().map(this::withLineage).toList();
  }

  ImageInfo get(String tagText) {
    Tag tag = tag(tagText, "tag");
    return withLineage(
        db.get(tag.value())
            .orElseThrow(() -> ApiError.notFound("no image or snapshot tagged '" + tag + "'")));
  }

  /**
   * The row with its lineage: ancestors (parent first, up to the image a chain starts from), the
   * chain depth (how many snapshots stand between it and that image), and its direct dependents.
   */
  private ImageInfo withLineage(ImageInfo i) {
    List<String> ancestors = new java.util.ArrayList<>();
    java.util.Set<String> seen = new java.util.HashSet<>(List.of(i.tag()));
    for (String p = i.parent(); p != null && seen.add(p); ) {
      ancestors.add(p);
      p = db.get(p).map(ImageInfo::parent).orElse(null);
    }
    List<String> dependents = db.children(i.tag()).stream().map(ImageInfo::tag).toList();
    int depth = SNAPSHOT.equals(i.kind()) ? ancestors.size() : 0;
    return new ImageInfo(
        i.tag(),
        i.kind(),
        i.status(),
        i.source(),
        i.ref(),
        i.root(),
        i.commit(),
        i.sizeBytes(),
        i.objects(),
        i.parent(),
        i.createdAt(),
        i.updatedAt(),
        i.error(),
        i.pauseMs(),
        depth,
        ancestors,
        dependents);
  }

  /**
   * Flattens a snapshot's chain: an incremental snapshot (one that reads pages through its base) is
   * rewritten whole and swapped in ({@link SnapshotStore#compact}), then the lineage link is cut,
   * so the parent can be deleted without {@code cascade} and the snapshot's depth becomes 0.
   */
  ImageInfo compact(String tagText) throws IOException {
    ImageInfo i = get(tagText);
    if (!SNAPSHOT.equals(i.kind()) || !"ready".equals(i.status())) {
      throw ApiError.conflict(
          "not_a_ready_snapshot",
          "tag '"
              + i.tag()
              + "' is "
              + article(i.kind())
              + " ("
              + i.status()
              + "); only a ready snapshot can be compacted");
    }
    snapshots.compact(Tag.of(i.tag()));
    db.clearParent(i.tag());
    return get(i.tag());
  }

  /**
   * Deletes a tag. Its dependents are the snapshots whose parent it is: with any, 409 unless {@code
   * cascade}, which deletes them first (depth first). Work in flight cannot be deleted.
   */
  public List<String> delete(String tagText, boolean cascade) throws IOException {
    ImageInfo i = get(tagText);
    if ("writing".equals(i.status())) {
      throw ApiError.conflict(
          "tag_in_flight", "tag '" + i.tag() + "' is being written; delete it once it settles");
    }
    List<ImageInfo> children = db.children(i.tag());
    if (!children.isEmpty() && !cascade) {
      throw ApiError.conflict(
          "has_dependents",
          "tag '"
              + i.tag()
              + "' has dependents: "
              + String.join(", ", children.stream().map(ImageInfo::tag).toList())
              + " (use ?cascade=true)");
    }
    List<String> deleted = new ArrayList<>();
    for (ImageInfo c : children) {
      deleted.addAll(delete(c.tag(), true));
    }
    Tag t = Tag.of(i.tag());
    if (SNAPSHOT.equals(i.kind())) {
      try {
        snapshots.delete(t);
      } catch (dev.spindle.fork.SnapshotInUseException e) {
        // Read through by a snapshot that is not its child in the lineage (a later snapshot of
        // the same sandbox): never leave that one with a missing link.
        throw ApiError.conflict("has_dependents", e.getMessage());
      }
    } else {
      images.delete(t);
    }
    db.delete(i.tag());
    deleted.add(i.tag());
    return deleted;
  }

  int count(String kind, String status) {
    return db.count(kind, status);
  }

  private static String article(String kind) {
    return IMAGE.equals(kind) ? "an image" : "a snapshot";
  }

  public static Tag tag(String value, String field) {
    if (value == null) {
      throw ApiError.badRequest(
          "bad_tag", "field '" + field + "' is required: 1 to 64 of A-Z a-z 0-9 _ -");
    }
    if (!Tag.isValid(value)) {
      throw ApiError.badRequest(
          "bad_tag",
          "invalid tag '" + value + "' in '" + field + "': use 1 to 64 of A-Z a-z 0-9 _ -");
    }
    return Tag.of(value);
  }

  static ImageInfo row(
      String tag, String kind, String status, String source, String parent, String error) {
    return new ImageInfo(
        tag, kind, status, source, null, null, null, null, null, parent, null, null, error);
  }

  private static ImageInfo readyImage(
      Tag t,
      String source,
      String ref,
      String root,
      String commit,
      long size,
      int objects,
      String createdAt) {
    return new ImageInfo(
        t.value(), IMAGE, "ready", source, ref, root, commit, size, objects, null, createdAt, null,
        null);
  }

  @Override
  public void close() {
    makers.shutdownNow();
  }
}
