package dev.spindle.daemon;

import static dev.spindle.daemon.Catalog.IMAGE;
import static dev.spindle.daemon.Catalog.SNAPSHOT;

import dev.spindle.client.Api.ImageInfo;
import dev.spindle.fork.SnapshotStatus;
import dev.spindle.fork.SnapshotStore;
import dev.spindle.image.ImageStore;
import dev.spindle.image.ImageVerifier;
import dev.spindle.image.Progress;
import dev.spindle.image.VerifyReport;
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

/**
 * The catalog's reconciliation of rows and files when the node starts, run once by {@link
 * Catalog#recover}.
 */
final class CatalogRecovery {
  private final SpindleHome home;
  private final ImageStore images;
  private final SnapshotStore snapshots;
  private final StateDb db;

  CatalogRecovery(SpindleHome home, ImageStore images, SnapshotStore snapshots, StateDb db) {
    this.home = home;
    this.images = images;
    this.snapshots = snapshots;
    this.db = db;
  }

  /**
   * Reconciles rows and files at start: work that was in flight when the process died is marked
   * {@code failed} and its partial files removed; every {@code ready} tag is verified (a damaged or
   * missing one becomes {@code failed} with the reason); tags found on disk without a row (made by
   * the embedded CLI) are verified and adopted.
   */
  List<String> run() throws IOException {
    List<String> log = new ArrayList<>();
    for (ImageInfo i : db.withStatus(SnapshotStatus.WRITING.json())) {
      db.fail(i.tag(), "interrupted: the node stopped while this was being written");
      log.add(i.tag() + ": was writing, now failed");
    }
    removeImageTempFiles();
    for (String tag : snapshots.recover()) {
      if (Tag.isValid(tag)) {
        if (db.get(tag).isEmpty()) {
          db.put(Catalog.row(tag, SNAPSHOT, SnapshotStatus.FAILED, null, null, null));
        }
        db.fail(tag, "interrupted: the node stopped while this snapshot was being written");
      }
    }
    for (ImageInfo i : db.withStatus(SnapshotStatus.READY.json())) {
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
        String seen = fingerprint(SNAPSHOT, t);
        String damage = checkSnapshot(t);
        if (damage == null && seen != null) {
          db.verified(t.value(), seen);
        }
        db.put(
            damage == null
                ? Catalog.row(t.value(), SNAPSHOT, SnapshotStatus.READY, null, null, null)
                : Catalog.row(t.value(), SNAPSHOT, SnapshotStatus.FAILED, null, null, damage));
      }
    }
    return log;
  }

  private void adoptImage(Tag t) throws IOException {
    String seen = fingerprint(IMAGE, t);
    VerifyReport r = new ImageVerifier(Progress.NONE).verify(images.path(t));
    if (r.ok()) {
      if (seen != null) {
        db.verified(t.value(), seen);
      }
      db.put(
          ImageRow.of(t.value(), IMAGE, SnapshotStatus.READY)
              .tree(r.commit().root().name(), r.commit().commit().name())
              .size(Files.size(images.path(t)), (int) r.objects())
              .build());
    } else {
      db.put(Catalog.row(t.value(), IMAGE, SnapshotStatus.FAILED, null, null, damage(r)));
    }
  }

  /**
   * Why a ready tag is not usable, or null when it verifies. Files unchanged since they last
   * verified (or were written by this node) are not read again ({@link FileFingerprint}); files
   * that verify now are recorded so.
   */
  private String check(ImageInfo i) throws IOException {
    Tag t = Tag.of(i.tag());
    String seen = fingerprint(i.kind(), t);
    if (seen != null && db.verifiedFingerprint(i.tag()).filter(seen::equals).isPresent()) {
      return null;
    }
    String damage = verify(i, t);
    if (damage == null && seen != null) {
      db.verified(i.tag(), seen);
    }
    return damage;
  }

  /** The fingerprint of the tag's files, taken before they are read; null when one is missing. */
  private String fingerprint(String kind, Tag t) {
    try {
      return FileFingerprint.ofArtifact(images, snapshots, kind, t);
    } catch (IOException | RuntimeException e) {
      return null; // the verification names what is missing
    }
  }

  private String verify(ImageInfo i, Tag t) throws IOException {
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
}
