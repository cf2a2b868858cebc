package dev.spindle.fork;

import dev.spindle.store.SpindleHome;
import dev.spindle.store.Tag;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.eclipse.jgit.lib.Constants;
import org.eclipse.jgit.lib.ObjectId;
import org.eclipse.jgit.lib.ObjectInserter;
import org.eclipse.jgit.lib.ObjectLoader;
import org.eclipse.jgit.lib.ObjectReader;
import org.eclipse.jgit.lib.RefUpdate;
import org.eclipse.jgit.lib.Repository;
import org.eclipse.jgit.revwalk.ObjectWalk;
import org.eclipse.jgit.revwalk.RevCommit;
import org.eclipse.jgit.revwalk.RevObject;
import org.eclipse.jgit.storage.file.FileRepositoryBuilder;

/**
 * A snapshot's files as plain Git history: {@link #export} writes a bare repository whose branch
 * named by the tag holds the snapshot's commit and its ancestors (the snapshots its sandbox was
 * branched from), so {@code git log TAG}, {@code git show TAG:home/f.txt} and {@code git diff}
 * between snapshots work with plain git. Bare, so that nothing a guest named (a link, a {@code
 * .git}) is ever checked out on the host by the export; {@code git clone} it to look at files.
 */
public final class FilesHistory {
  private FilesHistory() {}

  /** What was written: the commit the branch points at and the objects copied. */
  public record Exported(String commit, int commits, int objects) {}

  /**
   * Writes snapshot {@code tag}'s file history into a new bare repository at {@code out} (which
   * must not exist, or be an empty directory).
   *
   * @throws IOException if the snapshot has no files, or an object is missing or damaged (named by
   *     id)
   */
  public static Exported export(SpindleHome home, Tag tag, Path out) throws IOException {
    if (Files.exists(out)) {
      try (var s = Files.list(out)) {
        if (s.findAny().isPresent()) {
          throw new IOException(out + " exists and is not empty");
        }
      }
    }
    FilesRepo files = new FilesRepo(home.filesRepo());
    try {
      ObjectId head =
          files
              .commitOf(tag)
              .orElseThrow(
                  () ->
                      new IOException(
                          "snapshot '"
                              + tag
                              + "' has no files recorded (it had no private directory, or was made before files were recorded)"));
      Repository src = files.repo();
      try (Repository dst = new FileRepositoryBuilder().setGitDir(out.toFile()).setBare().build()) {
        dst.create(true);
        int commits = 0;
        int objects = 0;
        try (ObjectReader reader = src.newObjectReader();
            ObjectWalk walk = new ObjectWalk(reader);
            ObjectInserter ins = dst.newObjectInserter()) {
          walk.markStart(walk.parseAny(head));
          RevCommit c;
          while ((c = walk.next()) != null) {
            copy(reader, ins, c, Constants.OBJ_COMMIT);
            commits++;
            objects++;
          }
          RevObject o;
          while ((o = walk.nextObject()) != null) {
            copy(reader, ins, o, o.getType());
            objects++;
          }
          ins.flush();
        } catch (org.eclipse.jgit.errors.MissingObjectException e) {
          throw new IOException(
              "the files of snapshot '"
                  + tag
                  + "' lack object "
                  + e.getObjectId().name()
                  + " ("
                  + e.getMessage()
                  + ")",
              e);
        }
        RefUpdate u = dst.updateRef(Constants.R_HEADS + tag.value());
        u.setNewObjectId(head);
        u.update();
        dst.updateRef(Constants.HEAD).link(Constants.R_HEADS + tag.value());
        return new Exported(head.name(), commits, objects);
      }
    } finally {
      files.close();
    }
  }

  private static void copy(ObjectReader reader, ObjectInserter ins, ObjectId id, int type)
      throws IOException {
    ObjectLoader l = reader.open(id, type);
    byte[] bytes = l.getCachedBytes(Integer.MAX_VALUE);
    ObjectId written = ins.insert(type, bytes);
    if (!written.equals(id)) {
      // The store's object is damaged: its bytes no longer hash to its name.
      throw new IOException(
          "object "
              + id.name()
              + " in "
              + reader
              + " is damaged: its content hashes to "
              + written.name());
    }
  }
}
