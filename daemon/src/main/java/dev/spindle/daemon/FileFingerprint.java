package dev.spindle.daemon;

import dev.spindle.fork.SnapshotStore;
import dev.spindle.image.ImageStore;
import dev.spindle.store.Hashes;
import dev.spindle.store.Tag;
import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * What the files of an artifact looked like when they were last verified: for each file (an image's
 * {@code .img}, or every file of a snapshot's directory and of the directories it reads through)
 * its name, size, inode, modification and status-change times, hashed into one value.
 *
 * <p>A node verified every ready image and snapshot in full at every start, reading all their
 * bytes: seconds per gigabyte before it could answer. A file whose inode, size and change time
 * (which no write leaves as it was, and which user space cannot set back) are those seen when it
 * verified has not been written since, so it is not read again at start. docs/SECURITY.md says what
 * that leaves: damage beneath the file system is found when a snapshot's page is read, or by {@code
 * image verify}.
 */
final class FileFingerprint {
  /** Links followed from a snapshot to its whole base, at most (a cycle ends the walk too). */
  private static final int MAX_CHAIN = 1_000;

  private FileFingerprint() {}

  /**
   * The fingerprint of artifact {@code tag} of {@code kind} ({@link Catalog#IMAGE} or {@link
   * Catalog#SNAPSHOT}): an image's file; a snapshot's directory and those of the snapshots it reads
   * pages through, since verifying it reads those too. Throws when a file is missing.
   */
  static String ofArtifact(ImageStore images, SnapshotStore snapshots, String kind, Tag tag)
      throws IOException {
    if (Catalog.IMAGE.equals(kind)) {
      return of(List.of(images.path(tag)));
    }
    List<Path> dirs = new ArrayList<>();
    java.util.Set<Tag> seen = new java.util.HashSet<>();
    Tag t = tag;
    while (t != null && seen.add(t) && dirs.size() < MAX_CHAIN) {
      dirs.add(snapshots.directory(t));
      t = snapshots.baseOf(t).orElse(null);
    }
    return of(dirs);
  }

  /** The fingerprint of {@code paths}, in order: a file, or a directory's files (not recursive). */
  static String of(List<Path> paths) throws IOException {
    StringBuilder s = new StringBuilder();
    for (Path p : paths) {
      if (Files.isDirectory(p, LinkOption.NOFOLLOW_LINKS)) {
        List<Path> files = new ArrayList<>();
        try (DirectoryStream<Path> ds = Files.newDirectoryStream(p)) {
          ds.forEach(files::add);
        }
        files.sort(null);
        s.append("dir ").append(p).append('\n');
        for (Path f : files) {
          line(s, f);
        }
      } else {
        line(s, p);
      }
    }
    return Hashes.sha256Hex(s.toString().getBytes(java.nio.charset.StandardCharsets.UTF_8));
  }

  private static void line(StringBuilder s, Path f) throws IOException {
    Map<String, Object> a =
        Files.readAttributes(f, "unix:size,ino,lastModifiedTime,ctime", LinkOption.NOFOLLOW_LINKS);
    s.append(f.getFileName())
        .append(' ')
        .append(a.get("size"))
        .append(' ')
        .append(a.get("ino"))
        .append(' ')
        .append(nanos(a.get("lastModifiedTime")))
        .append(' ')
        .append(nanos(a.get("ctime")))
        .append('\n');
  }

  private static long nanos(Object time) {
    FileTime t = (FileTime) time;
    return t.to(java.util.concurrent.TimeUnit.NANOSECONDS);
  }
}
