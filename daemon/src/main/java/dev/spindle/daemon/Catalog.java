package dev.spindle.daemon;

import dev.spindle.client.Api.ImageInfo;
import dev.spindle.client.Api.MakeImage;
import dev.spindle.fork.SnapshotStatus;
import dev.spindle.fork.SnapshotStore;
import dev.spindle.image.ImageHeader;
import dev.spindle.image.ImageStore;
import dev.spindle.image.Progress;
import dev.spindle.image.make.MakeOptions;
import dev.spindle.store.SpindleHome;
import dev.spindle.store.Tag;
import java.io.IOException;
import java.nio.file.Files;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;

/**
 * Images and snapshots by tag, one namespace: the files in the image and snapshot stores, their
 * rows in {@link StateDb}, and the work that makes them (a tag's lifecycle: claim, make or settle,
 * fail, compact, delete). Recovery at start is {@link CatalogRecovery}; lineage is {@link Lineage}.
 * The row is claimed ({@code writing}) before any file is written and settled ({@code ready} or
 * {@code failed}) after, so the database always knows what is in flight.
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
  private final Lineage lineage;
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
    this.lineage = new Lineage(db);
  }

  SnapshotStore snapshots() {
    return snapshots;
  }

  ImageStore images() {
    return images;
  }

  /**
   * Reconciles rows and files at start ({@link CatalogRecovery}).
   *
   * @return a line per tag it changed
   */
  List<String> recover() throws IOException {
    return new CatalogRecovery(home, images, snapshots, db).run();
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
    claim(row(tag.value(), IMAGE, SnapshotStatus.WRITING, m.source(), m.ref(), null));
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
          ImageRow.of(tag.value(), IMAGE, SnapshotStatus.READY)
              .source(m.source())
              .ref(m.ref())
              .tree(h.root().name(), h.commit().name())
              .size(Files.size(images.path(tag)), h.objectCount())
              .createdAt(claimed.createdAt())
              .build();
      db.put(ready);
      recordWritten(ready);
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
      throw SnapshotStatus.WRITING.json().equals(other.status())
          ? ApiError.conflict(
              "tag_in_flight",
              "tag '" + row.tag() + "' is being written (" + article(other.kind()) + ")")
          : ApiError.conflict(
              "tag_exists", "tag '" + row.tag() + "' exists (" + article(other.kind()) + ")");
    }
  }

  ImageInfo settle(ImageInfo row) {
    db.put(row);
    recordWritten(row);
    return withLineage(db.get(row.tag()).orElseThrow());
  }

  /**
   * Records the fingerprint of a ready artifact's files as this node wrote them, so that the next
   * start does not read them all again to verify them ({@link FileFingerprint}).
   */
  private void recordWritten(ImageInfo row) {
    if (!SnapshotStatus.READY.json().equals(row.status())) {
      return;
    }
    try {
      db.verified(
          row.tag(), FileFingerprint.ofArtifact(images, snapshots, row.kind(), Tag.of(row.tag())));
    } catch (IOException | RuntimeException e) {
      // not recorded: the next start verifies the files in full
    }
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

  /** The row with its lineage ({@link Lineage}). */
  private ImageInfo withLineage(ImageInfo i) {
    return lineage.of(i);
  }

  /**
   * Flattens a snapshot's chain: an incremental snapshot (one that reads pages through its base) is
   * rewritten whole and swapped in ({@link SnapshotStore#compact}), then the lineage link is cut,
   * so the parent can be deleted without {@code cascade} and the snapshot's depth becomes 0.
   */
  ImageInfo compact(String tagText) throws IOException {
    ImageInfo i = get(tagText);
    if (!SNAPSHOT.equals(i.kind()) || !SnapshotStatus.READY.json().equals(i.status())) {
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
    if (SnapshotStatus.WRITING.json().equals(i.status())) {
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

  /** A row without the tree, size and lineage an image gets once made. */
  static ImageInfo row(
      String tag, String kind, SnapshotStatus status, String source, String parent, String error) {
    return ImageRow.of(tag, kind, status).source(source).parent(parent).error(error).build();
  }

  @Override
  public void close() {
    makers.shutdownNow();
  }
}
