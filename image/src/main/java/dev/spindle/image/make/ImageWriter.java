package dev.spindle.image.make;

import dev.spindle.image.ImageEntry;
import dev.spindle.image.ImageHeader;
import dev.spindle.image.PathIndex;
import dev.spindle.image.Progress;
import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.channels.Channels;
import java.nio.channels.FileChannel;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.zip.CRC32C;
import org.eclipse.jgit.internal.storage.pack.PackWriter;
import org.eclipse.jgit.lib.Constants;
import org.eclipse.jgit.lib.FileMode;
import org.eclipse.jgit.lib.ObjectId;
import org.eclipse.jgit.lib.ObjectReader;
import org.eclipse.jgit.lib.Repository;
import org.eclipse.jgit.revwalk.ObjectWalk;
import org.eclipse.jgit.revwalk.RevCommit;
import org.eclipse.jgit.revwalk.RevObject;
import org.eclipse.jgit.revwalk.RevWalk;
import org.eclipse.jgit.storage.pack.PackConfig;
import org.eclipse.jgit.treewalk.TreeWalk;

/**
 * Writes one commit and its whole tree (not its history) from a repository into an image file:
 * header, PACK, IDX, path index. The pack is shallow, so a commit taken from a repository keeps its
 * own id, author and message while its parents stay out.
 */
public final class ImageWriter {
  private final PackSettings settings;
  private final Progress progress;

  public ImageWriter(PackSettings settings, Progress progress) {
    this.settings = settings;
    this.progress = progress;
  }

  /**
   * Pack tuning, as git names it. The default window is git's own (10): on /usr/lib/python3.11 a
   * window of 250 (git gc --aggressive) made the image 0.5% smaller and took 2-3x longer, JGit's
   * delta search being most of the time (bench/image, 2026-11-24).
   */
  public record PackSettings(int window, int depth, int compressionLevel) {
    public static final PackSettings DEFAULT =
        new PackSettings(
            Integer.getInteger("spindle.pack.window", 10),
            Integer.getInteger("spindle.pack.depth", 50),
            Integer.getInteger("spindle.pack.level", 9));
  }

  ImageHeader write(Repository repo, ObjectId commitId, FileChannel out) throws IOException {
    return write(repo, commitId, null, out);
  }

  /** {@code metadata}: the metadata section (null: none, a version 1 image). */
  ImageHeader write(Repository repo, ObjectId commitId, byte[] metadata, FileChannel out)
      throws IOException {
    try (ObjectReader reader = repo.newObjectReader();
        RevWalk rw = new RevWalk(reader)) {
      RevCommit commit = rw.parseCommit(commitId);
      ObjectId root = commit.getTree().getId();
      byte[] pathIndex = PathIndex.write(entries(reader, root));

      try (PackWriter pw = new PackWriter(packConfig(repo), reader)) {
        pw.setShallowPack(1, Set.of());
        JGitProgress pm = new JGitProgress(progress);
        pw.preparePack(pm, Set.of(commit), PackWriter.NONE, PackWriter.NONE);
        return writeSections(pw, pm, commit, root, pathIndex, metadata, out);
      }
    }
  }

  /**
   * Writes the metadata of an image: its commit and every tree, but no blob, beside the given path
   * index (the source image's, byte for byte). A lazily pulled image is this file; its blobs are
   * fetched by id when first read.
   */
  public ImageHeader writeMetadata(
      Repository repo, ObjectId commitId, byte[] pathIndex, byte[] metadata, FileChannel out)
      throws IOException {
    return writeSelected(repo, commitId, pathIndex, metadata, List.of(), out);
  }

  /**
   * Writes the commit, every tree, then exactly {@code blobs} in that order (JGit keeps the order
   * within a type; a reused delta's base is written just before it), beside the given path index.
   */
  public ImageHeader writeSelected(
      Repository repo,
      ObjectId commitId,
      byte[] pathIndex,
      byte[] metadata,
      List<ObjectId> blobs,
      FileChannel out)
      throws IOException {
    try (ObjectReader reader = repo.newObjectReader();
        ObjectWalk ow = new ObjectWalk(reader)) {
      RevCommit commit = ow.parseCommit(commitId);
      List<RevObject> objects = new ArrayList<>();
      objects.add(commit);
      // Walk from the tree, not the commit: a commit from a repository keeps parents the image
      // does not hold.
      ow.markStart(ow.parseTree(commit.getTree()));
      for (RevObject o; (o = ow.nextObject()) != null; ) {
        if (o.getType() != Constants.OBJ_BLOB) {
          objects.add(o);
        }
      }
      for (ObjectId b : blobs) {
        objects.add(ow.lookupBlob(b));
      }
      try (PackWriter pw = new PackWriter(packConfig(repo), reader)) {
        pw.preparePack(objects.iterator());
        JGitProgress pm = new JGitProgress(progress);
        return writeSections(pw, pm, commit, commit.getTree().copy(), pathIndex, metadata, out);
      }
    }
  }

  private PackConfig packConfig(Repository repo) {
    PackConfig cfg = new PackConfig(repo);
    cfg.setDeltaCompress(true);
    cfg.setDeltaSearchWindowSize(settings.window());
    cfg.setMaxDeltaDepth(settings.depth());
    cfg.setCompressionLevel(settings.compressionLevel());
    // One delta-search thread: JGit's threads steal work from each other, which would make
    // the pack (and so the image) differ from run to run; images must be reproducible.
    cfg.setThreads(1);
    cfg.setReuseDeltas(true);
    cfg.setReuseObjects(true);
    cfg.setDeltaBaseAsOffset(true);
    cfg.setIndexVersion(2);
    return cfg;
  }

  private static ImageHeader writeSections(
      PackWriter pw,
      JGitProgress pm,
      RevCommit commit,
      ObjectId root,
      byte[] pathIndex,
      byte[] metadata,
      FileChannel out)
      throws IOException {
    long packOffset = ImageHeader.SIZE;
    out.position(packOffset);
    writeStream(out, s -> pw.writePack(pm, pm, s));
    long idxOffset = out.position();
    writeStream(out, pw::writeIndex);
    long pathOffset = out.position();
    writeFully(out, ByteBuffer.wrap(pathIndex));
    int metadataCrc = 0;
    if (metadata != null) {
      writeFully(out, ByteBuffer.wrap(metadata));
      CRC32C m = new CRC32C();
      m.update(metadata);
      metadataCrc = (int) m.getValue();
    }
    long end = out.position();

    CRC32C crc = new CRC32C();
    crc.update(pathIndex);
    ImageHeader header =
        new ImageHeader(
            metadata == null ? ImageHeader.VERSION : ImageHeader.VERSION_METADATA,
            commit.copy(),
            root.copy(),
            packOffset,
            idxOffset - packOffset,
            idxOffset,
            pathOffset - idxOffset,
            pathOffset,
            pathIndex.length,
            Math.toIntExact(pw.getObjectCount()),
            (int) crc.getValue(),
            metadata == null ? 0 : metadata.length,
            metadataCrc);
    out.position(0);
    writeFully(out, ByteBuffer.wrap(header.encode()));
    out.truncate(end);
    return header;
  }

  /** Every path below {@code root}, trees included, with blob sizes. */
  public static List<ImageEntry> entries(ObjectReader reader, ObjectId root) throws IOException {
    List<ImageEntry> list = new ArrayList<>();
    try (TreeWalk tw = new TreeWalk(reader)) {
      tw.addTree(root);
      tw.setRecursive(true);
      tw.setPostOrderTraversal(true);
      while (tw.next()) {
        if (tw.isSubtree() && !tw.isPostChildren()) {
          continue;
        }
        FileMode mode = tw.getFileMode(0);
        ObjectId id = tw.getObjectId(0);
        long size = 0;
        if (mode.getObjectType() == Constants.OBJ_BLOB) {
          size = reader.getObjectSize(id, Constants.OBJ_BLOB);
        }
        list.add(new ImageEntry(tw.getPathString(), mode.getBits(), id, size));
      }
    }
    return list;
  }

  private interface StreamWriter {
    void write(OutputStream out) throws IOException;
  }

  private static void writeStream(FileChannel ch, StreamWriter w) throws IOException {
    OutputStream raw = Channels.newOutputStream(ch);
    BufferedOutputStream buf = new BufferedOutputStream(raw, 1 << 16);
    w.write(buf);
    buf.flush();
  }

  private static void writeFully(FileChannel ch, ByteBuffer b) throws IOException {
    while (b.hasRemaining()) {
      ch.write(b);
    }
  }
}
