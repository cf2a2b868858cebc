package dev.spindle.image;

import dev.spindle.image.make.ImageWriter;
import dev.spindle.testing.GitCli;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.zip.CRC32C;
import org.eclipse.jgit.internal.storage.pack.PackWriter;
import org.eclipse.jgit.lib.CommitBuilder;
import org.eclipse.jgit.lib.Constants;
import org.eclipse.jgit.lib.FileMode;
import org.eclipse.jgit.lib.ObjectId;
import org.eclipse.jgit.lib.ObjectInserter;
import org.eclipse.jgit.lib.ObjectReader;
import org.eclipse.jgit.lib.PersonIdent;
import org.eclipse.jgit.lib.RefUpdate;
import org.eclipse.jgit.lib.Repository;
import org.eclipse.jgit.lib.TreeFormatter;
import org.eclipse.jgit.revwalk.RevObject;
import org.eclipse.jgit.revwalk.RevWalk;
import org.eclipse.jgit.storage.file.FileRepositoryBuilder;
import org.eclipse.jgit.storage.pack.PackConfig;

/**
 * A bare repository (made by the real git, so that git fsck can judge it) holding trees written
 * entry by entry with JGit's {@link TreeFormatter}, which writes whatever it is given: duplicate,
 * unsorted or forbidden names, bad modes. {@link #image} packs them into an image without any of
 * Spindle's checks, as a hostile node or a hand-made file would.
 */
final class CraftedTrees implements AutoCloseable {
  record Entry(byte[] name, FileMode mode, ObjectId id) {}

  final Path gitDir;
  private final Repository repo;
  private final ObjectInserter ins;
  private final Set<ObjectId> blobs = new LinkedHashSet<>();
  private final Set<ObjectId> trees = new LinkedHashSet<>();

  private CraftedTrees(Path gitDir) throws IOException {
    this.gitDir = gitDir;
    this.repo = new FileRepositoryBuilder().setGitDir(gitDir.toFile()).setMustExist(true).build();
    this.ins = repo.newObjectInserter();
  }

  /** A new bare repository at {@code gitDir}; HEAD names refs/heads/main. */
  static CraftedTrees create(Path gitDir) throws IOException, InterruptedException {
    Files.createDirectories(gitDir);
    GitCli.run(gitDir, "init", "-q", "--bare", gitDir.toString());
    return new CraftedTrees(gitDir);
  }

  static Entry entry(String name, FileMode mode, ObjectId id) {
    return new Entry(name.getBytes(StandardCharsets.UTF_8), mode, id);
  }

  static Entry entry(byte[] name, FileMode mode, ObjectId id) {
    return new Entry(name, mode, id);
  }

  ObjectReader reader() {
    return repo.newObjectReader();
  }

  ObjectId blob(String content) throws IOException {
    ObjectId id = ins.insert(Constants.OBJ_BLOB, content.getBytes(StandardCharsets.UTF_8));
    blobs.add(id);
    return id;
  }

  /** A tree of exactly these entries, in this order. */
  ObjectId tree(Entry... entries) throws IOException {
    ByteArrayOutputStream raw = new ByteArrayOutputStream();
    for (Entry e : entries) {
      if (e.name().length == 0) {
        // The one thing TreeFormatter refuses to write: the same bytes by hand.
        e.mode().copyTo(raw);
        raw.write(' ');
        raw.write(0);
        e.id().copyRawTo(raw);
      } else {
        TreeFormatter t = new TreeFormatter();
        t.append(e.name(), 0, e.name().length, e.mode(), e.id());
        raw.write(t.toByteArray());
      }
    }
    ObjectId id = ins.insert(Constants.OBJ_TREE, raw.toByteArray());
    trees.add(id);
    return id;
  }

  /** A commit of {@code tree}, which refs/heads/main (so HEAD) then names. */
  ObjectId commit(ObjectId tree) throws IOException {
    CommitBuilder c = new CommitBuilder();
    c.setTreeId(tree);
    PersonIdent who =
        new PersonIdent(
            "T", "t@example.org", TestTrees.DATE.toInstant(), TestTrees.DATE.getOffset());
    c.setAuthor(who);
    c.setCommitter(who);
    c.setMessage("crafted\n");
    ObjectId id = ins.insert(c);
    ins.flush();
    RefUpdate u = repo.updateRef("refs/heads/main");
    u.setNewObjectId(id);
    u.forceUpdate();
    return id;
  }

  /**
   * An image of {@code commit} holding every object made here, written as {@link ImageWriter} lays
   * it out but with the objects listed rather than walked (a walk may stop at a malformed tree).
   */
  Path image(ObjectId commit, ObjectId root, Path file) throws IOException {
    List<ImageEntry> entries;
    try (ObjectReader reader = repo.newObjectReader()) {
      entries = ImageWriter.entries(reader, root);
    } catch (IOException | RuntimeException e) {
      entries = List.of(); // a tree too broken to walk: the path index cannot match it anyway
    }
    ByteArrayOutputStream pack = new ByteArrayOutputStream();
    ByteArrayOutputStream idx = new ByteArrayOutputStream();
    int count;
    try (ObjectReader reader = repo.newObjectReader();
        RevWalk rw = new RevWalk(reader);
        PackWriter pw = new PackWriter(new PackConfig(repo), reader)) {
      List<RevObject> objs = new ArrayList<>();
      objs.add(rw.parseCommit(commit));
      for (ObjectId t : trees) {
        objs.add(rw.lookupTree(t));
      }
      for (ObjectId b : blobs) {
        objs.add(rw.lookupBlob(b));
      }
      pw.preparePack(objs.iterator());
      pw.writePack(null, null, pack);
      pw.writeIndex(idx);
      count = (int) pw.getObjectCount();
    }
    byte[] pi = PathIndex.write(entries);
    CRC32C crc = new CRC32C();
    crc.update(pi);
    long po = ImageHeader.SIZE;
    long io = po + pack.size();
    long xo = io + idx.size();
    ImageHeader h =
        new ImageHeader(
            ImageHeader.VERSION,
            commit,
            root,
            po,
            pack.size(),
            io,
            idx.size(),
            xo,
            pi.length,
            count,
            (int) crc.getValue());
    ByteArrayOutputStream img = new ByteArrayOutputStream();
    img.write(h.encode());
    img.write(pack.toByteArray());
    img.write(idx.toByteArray());
    img.write(pi);
    return Files.write(file, img.toByteArray());
  }

  @Override
  public void close() {
    ins.close();
    repo.close();
  }
}
