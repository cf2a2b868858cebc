package dev.spindle.image;

import dev.spindle.image.lazy.RemoteImage;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.zip.CRC32;
import java.util.zip.CRC32C;
import org.eclipse.jgit.internal.storage.file.PackIndex;
import org.eclipse.jgit.lib.Constants;
import org.eclipse.jgit.lib.FileMode;
import org.eclipse.jgit.lib.ObjectId;
import org.eclipse.jgit.lib.ObjectLoader;
import org.eclipse.jgit.lib.ObjectReader;
import org.eclipse.jgit.treewalk.TreeWalk;

/**
 * One run of {@link ImageVerifier} over one file: the problems found so far, and what one check
 * hands the next (the IDX and its CRCs, a lazy image's blob sizes, the bytes inflated). A run is
 * made for each {@link ImageVerifier#verify} and dropped after, so no state outlives a call and one
 * verifier may check several images, at once too.
 */
final class VerifyRun {
  private static final int CHUNK = 1 << 16;

  private final Path file;
  private final Progress progress;
  private final boolean metadataOnly;
  private final List<VerifyReport.Problem> problems = new ArrayList<>();
  private long unpacked;
  private PathIndex remoteSizes; // set while verifying a lazily pulled image: its blobs are remote
  private PackIndex packIndex; // the image's IDX, to give a malformed tree's offset
  private long[] crcs; // each object's CRC32 as the IDX gives it, by pack offset

  VerifyRun(Path file, Progress progress, boolean metadataOnly) {
    this.file = file;
    this.progress = progress;
    this.metadataOnly = metadataOnly;
  }

  VerifyReport verify() throws IOException {
    try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
      ImageHeader h;
      try {
        h = Image.readHeader(file, ch);
      } catch (ImageFormatException e) {
        problem(e.offset(), null, stripFile(e.getMessage(), file));
        return new VerifyReport(null, 0, 0, List.copyOf(problems));
      }
      List<PackIndex.MutableEntry> entries = checkSections(ch, h);
      if (entries == null) {
        return new VerifyReport(null, 0, 0, List.copyOf(problems));
      }
      boolean[] crcOk = checkCrcs(ch, h, entries);
      if (metadataOnly || RemoteImage.isLazy(file)) {
        try {
          remoteSizes =
              PathIndex.read(
                  file.toString(),
                  h.pathIndexOffset(),
                  ch.map(FileChannel.MapMode.READ_ONLY, h.pathIndexOffset(), h.pathIndexLength()));
        } catch (IOException | RuntimeException e) {
          problem(h.pathIndexOffset(), null, "path index unreadable: " + e.getMessage());
          return new VerifyReport(null, entries.size(), 0, List.copyOf(problems));
        }
      }
      CommitInfo info = null;
      try (Image img = Image.openForVerify(file)) {
        rehash(img, h, entries, crcOk);
        info = checkTrees(img, h, ch);
      } catch (IOException | RuntimeException e) {
        problem(-1, null, "cannot read the image: " + e.getMessage());
      }
      List<VerifyReport.Problem> sorted = new ArrayList<>(problems);
      sorted.sort(Comparator.comparingLong(VerifyReport.Problem::offset));
      return new VerifyReport(info, entries.size(), unpacked, List.copyOf(sorted));
    }
  }

  private static String stripFile(String msg, Path file) {
    String prefix = file + ": ";
    return msg.startsWith(prefix) ? msg.substring(prefix.length()) : msg;
  }

  private void problem(long offset, ObjectId id, String message) {
    synchronized (problems) {
      problems.add(new VerifyReport.Problem(offset, id == null ? null : id.name(), message));
    }
  }

  /** PACK header and trailer, IDX checksum and agreement; returns IDX entries by offset. */
  private List<PackIndex.MutableEntry> checkSections(FileChannel ch, ImageHeader h)
      throws IOException {
    byte[] ph = read(ch, h.packOffset(), (int) Math.min(12, h.packLength()));
    if (ph.length < 12 || !new String(ph, 0, 4, StandardCharsets.US_ASCII).equals("PACK")) {
      problem(h.packOffset(), null, "PACK section does not start with 'PACK'");
      return null;
    }
    int version = ByteBuffer.wrap(ph).getInt(4);
    int count = ByteBuffer.wrap(ph).getInt(8);
    if (version != 2 && version != 3) {
      problem(h.packOffset() + 4, null, "unsupported PACK version " + version);
    }
    if (count != h.objectCount()) {
      problem(
          h.packOffset() + 8,
          null,
          "PACK holds " + count + " objects but the header says " + h.objectCount());
    }
    byte[] packSum = read(ch, h.packOffset() + h.packLength() - 20, 20);
    byte[] idx = read(ch, h.idxOffset(), Math.toIntExact(h.idxLength()));
    if (idx.length < 40) {
      problem(h.idxOffset(), null, "IDX section too short");
      return null;
    }
    byte[] idxSum = sha1(idx, 0, idx.length - 20);
    if (!Arrays.equals(idxSum, 0, 20, idx, idx.length - 20, idx.length)) {
      problem(h.idxOffset() + idx.length - 20, null, "IDX checksum mismatch: IDX damaged");
    }
    if (!Arrays.equals(packSum, 0, 20, idx, idx.length - 40, idx.length - 20)) {
      problem(
          h.idxOffset() + idx.length - 40,
          null,
          "IDX/PACK mismatch: the IDX was written for another PACK (or the PACK trailer is damaged)");
    }
    String layout = ImageVerifier.idxLayoutProblem(idx);
    if (layout != null) {
      problem(h.idxOffset(), null, layout);
      return null;
    }
    PackIndex pi;
    try {
      pi = PackIndex.read(new ByteArrayInputStream(idx));
    } catch (IOException | RuntimeException e) {
      problem(h.idxOffset(), null, "IDX unreadable: " + e.getMessage());
      return null;
    }
    packIndex = pi;
    List<PackIndex.MutableEntry> list = new ArrayList<>();
    for (PackIndex.MutableEntry e : pi) {
      list.add(e.cloneEntry());
    }
    if (list.size() != count) {
      problem(h.idxOffset(), null, "IDX lists " + list.size() + " objects, PACK holds " + count);
    }
    list.sort(Comparator.comparingLong(PackIndex.MutableEntry::getOffset));
    this.crcs = new long[list.size()];
    for (int i = 0; i < list.size(); i++) {
      try {
        crcs[i] = pi.findCRC32(list.get(i).toObjectId());
      } catch (org.eclipse.jgit.errors.MissingObjectException e) {
        // The fan-out table disagrees with the names: the IDX cannot find what it lists.
        problem(
            h.idxOffset(),
            list.get(i).toObjectId(),
            "IDX cannot find an object it lists (fan-out table damaged)");
        return null;
      }
    }
    return list;
  }

  /**
   * One pass over the PACK: its trailer SHA-1 and every object's CRC32 from the IDX. A flipped byte
   * shows up as exactly one object whose CRC differs, so the report names it.
   */
  private boolean[] checkCrcs(FileChannel ch, ImageHeader h, List<PackIndex.MutableEntry> entries)
      throws IOException {
    boolean[] ok = new boolean[entries.size()];
    long dataEnd = h.packLength() - 20;
    MessageDigest sha = sha1();
    progress.begin("Checking PACK", h.packLength());
    // Header bytes before the first object.
    long first = entries.isEmpty() ? dataEnd : entries.getFirst().getOffset();
    if (first < 12 || first > dataEnd) {
      problem(h.packOffset(), null, "IDX offsets do not fit the PACK");
      first = Math.min(Math.max(first, 12), dataEnd);
    }
    sha.update(read(ch, h.packOffset(), (int) first));
    ByteBuffer buf = ByteBuffer.allocate(CHUNK);
    for (int i = 0; i < entries.size(); i++) {
      long start = entries.get(i).getOffset();
      long end = i + 1 < entries.size() ? entries.get(i + 1).getOffset() : dataEnd;
      if (start < 12 || end > dataEnd || end <= start) {
        problem(
            h.packOffset() + start,
            entries.get(i).toObjectId(),
            "IDX gives an offset outside the PACK");
        continue;
      }
      CRC32 crc = new CRC32();
      for (long pos = start; pos < end; ) {
        buf.clear().limit((int) Math.min(CHUNK, end - pos));
        int n = ch.read(buf, h.packOffset() + pos);
        if (n <= 0) {
          throw new IOException("short read at " + (h.packOffset() + pos));
        }
        buf.flip();
        crc.update(buf.duplicate());
        sha.update(buf);
        pos += n;
      }
      progress.advance(end - start);
      ok[i] = crc.getValue() == crcs[i];
      if (!ok[i]) {
        problem(
            h.packOffset() + start,
            entries.get(i).toObjectId(),
            "CRC mismatch: its packed bytes "
                + (h.packOffset() + start)
                + ".."
                + (h.packOffset() + end - 1)
                + " are damaged");
      }
    }
    byte[] trailer = read(ch, h.packOffset() + dataEnd, 20);
    if (!Arrays.equals(sha.digest(), trailer)) {
      problem(h.packOffset() + dataEnd, null, "PACK checksum mismatch: PACK damaged");
    }
    progress.end();
    return ok;
  }

  /**
   * Inflates every object (deltas resolved) and checks its content hashes to its id. Inflating is
   * most of verify's time (zlib, measured with JFR), so the objects are split into contiguous runs
   * by pack offset, one per core, each with its own reader and delta-base cache.
   */
  private void rehash(
      Image img, ImageHeader h, List<PackIndex.MutableEntry> entries, boolean[] crcOk)
      throws IOException {
    progress.begin("Rehashing objects", entries.size());
    int threads =
        Math.max(1, Math.min(Runtime.getRuntime().availableProcessors(), entries.size() / 64));
    int per = (entries.size() + threads - 1) / Math.max(threads, 1);
    List<java.util.concurrent.Callable<Long>> runs = new ArrayList<>();
    for (int t = 0; t < threads; t++) {
      int from = t * per;
      int to = Math.min(entries.size(), from + per);
      runs.add(() -> rehashRun(img, h, entries, crcOk, from, to));
    }
    java.util.concurrent.ExecutorService pool =
        java.util.concurrent.Executors.newFixedThreadPool(threads);
    try {
      for (java.util.concurrent.Future<Long> f : pool.invokeAll(runs)) {
        unpacked += f.get();
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new java.io.InterruptedIOException("verify interrupted");
    } catch (java.util.concurrent.ExecutionException e) {
      throw new IOException(e.getCause());
    } finally {
      pool.shutdownNow();
    }
    progress.end();
  }

  private long rehashRun(
      Image img,
      ImageHeader h,
      List<PackIndex.MutableEntry> entries,
      boolean[] crcOk,
      int from,
      int to)
      throws IOException {
    long bytes = 0;
    try (ObjectReader reader = img.repository().newObjectReader()) {
      byte[] buf = new byte[CHUNK];
      for (int i = from; i < to; i++) {
        synchronized (progress) {
          progress.advance(1);
        }
        if (!crcOk[i]) {
          continue;
        }
        ObjectId id = entries.get(i).toObjectId();
        long at = h.packOffset() + entries.get(i).getOffset();
        try {
          ObjectLoader l = reader.open(id);
          MessageDigest md = sha1();
          md.update(Constants.encodedTypeString(l.getType()));
          md.update((byte) ' ');
          md.update(Constants.encodeASCII(l.getSize()));
          md.update((byte) 0);
          if (l.isLarge()) {
            try (InputStream in = l.openStream()) {
              for (int n; (n = in.read(buf)) > 0; ) {
                md.update(buf, 0, n);
              }
            }
          } else {
            md.update(l.getCachedBytes());
          }
          bytes += l.getSize();
          ObjectId actual = ObjectId.fromRaw(md.digest());
          if (!actual.equals(id)) {
            problem(at, id, "content hashes to " + actual.name());
          }
        } catch (IOException | RuntimeException e) {
          problem(at, id, "cannot be inflated: " + e.getMessage());
        }
      }
    }
    return bytes;
  }

  /**
   * The commit and its root; every tree is well formed and every tree entry resolves; the path
   * index matches the trees. A metadata-only image holds every tree, so a lazy pull checks them all
   * too.
   */
  private CommitInfo checkTrees(Image img, ImageHeader h, FileChannel ch) throws IOException {
    CommitInfo info;
    try {
      info = img.commit();
    } catch (IOException | RuntimeException e) {
      problem(-1, h.commit(), "the image's commit cannot be read: " + e.getMessage());
      return null;
    }
    if (!info.root().equals(h.root())) {
      problem(36, h.root(), "header root differs from the commit's tree " + info.root().name());
    }
    List<ImageEntry> walked = new ArrayList<>();
    try (ObjectReader reader = img.repository().newObjectReader();
        TreeWalk tw = new TreeWalk(reader)) {
      for (TreeChecks.Problem p : TreeChecks.checkAll(reader, h.root())) {
        long at = packIndex.findOffset(p.tree());
        problem(at < 0 ? -1 : h.packOffset() + at, p.tree(), p.message());
      }
      tw.addTree(h.root());
      tw.setRecursive(true);
      tw.setPostOrderTraversal(true);
      while (tw.next()) {
        if (tw.isSubtree() && !tw.isPostChildren()) {
          continue;
        }
        FileMode m = tw.getFileMode(0);
        ObjectId id = tw.getObjectId(0);
        long size = 0;
        if (m != FileMode.GITLINK) {
          if (remoteSizes != null && m.getObjectType() == Constants.OBJ_BLOB) {
            size = remoteSizes.find(tw.getPathString()).map(ImageEntry::size).orElse(-1L);
          } else if (!reader.has(id)) {
            problem(-1, id, "missing: named by " + tw.getPathString() + " but not in the PACK");
            continue;
          } else if (m.getObjectType() == Constants.OBJ_BLOB) {
            size = reader.getObjectSize(id, Constants.OBJ_BLOB);
          }
        }
        walked.add(new ImageEntry(tw.getPathString(), m.getBits(), id.copy(), size));
      }
    } catch (IOException | RuntimeException e) {
      problem(-1, null, "trees cannot be walked: " + e.getMessage());
      return info;
    }
    checkPathIndex(h, ch, walked);
    checkMetadata(h, ch, info, walked);
    return info;
  }

  /**
   * The metadata section: its CRC, the SHA-256 the commit names, every field in bounds, and one
   * entry for the root, for each path of the trees and for each empty directory (of the type the
   * tree says, the executable bit as Git's mode says), nothing else.
   */
  private void checkMetadata(
      ImageHeader h, FileChannel ch, CommitInfo info, List<ImageEntry> walked) throws IOException {
    byte[] section =
        h.hasMetadata() ? read(ch, h.metadataOffset(), Math.toIntExact(h.metadataLength())) : null;
    String sectionProblem =
        MetadataTable.sectionProblem(h, MetadataTable.namedBy(info.message()), section);
    if (sectionProblem != null) {
      problem(h.hasMetadata() ? h.metadataOffset() : 16, null, sectionProblem);
      return;
    }
    if (section == null) {
      return;
    }
    MetadataTable t;
    try {
      t = MetadataTable.read("", h.metadataOffset(), section);
    } catch (ImageFormatException e) {
      problem(e.offset(), null, e.getMessage().replaceFirst("^: at byte \\d+: ", ""));
      return;
    }
    long at = h.metadataOffset();
    java.util.Set<String> inTree = new java.util.HashSet<>();
    inTree.add("");
    for (ImageEntry e : walked) {
      inTree.add(e.path());
      EntryMetadata m = t.get(e.path()).orElse(null);
      if (m == null) {
        problem(at, e.id(), "metadata section has no entry for " + MetadataTable.quote(e.path()));
        continue;
      }
      EntryMetadata d = EntryMetadata.defaults(e);
      boolean typeOk =
          m.type() == d.type()
              && !m.emptyDirectory()
              && (!e.isRegularFile() || ((m.mode() & 0100) != 0) == e.isExecutable());
      if (!typeOk) {
        problem(
            at,
            e.id(),
            "metadata of "
                + MetadataTable.quote(e.path())
                + " (mode "
                + Integer.toOctalString(m.mode())
                + ") does not match the tree's mode "
                + e.modeString());
      }
    }
    for (EntryMetadata m : t.entries()) {
      if (!inTree.contains(m.path()) && !m.emptyDirectory()) {
        problem(
            at,
            null,
            "metadata section names "
                + MetadataTable.quote(m.path())
                + ", which the trees do not hold");
      }
      if (m.emptyDirectory() && inTree.contains(m.path())) {
        problem(
            at,
            null,
            "metadata section calls "
                + MetadataTable.quote(m.path())
                + " an empty directory, but the trees hold it");
      }
    }
    if (!t.get("").map(EntryMetadata::isDirectory).orElse(false)) {
      problem(at, null, "metadata section's root is not a directory");
    }
  }

  private void checkPathIndex(ImageHeader h, FileChannel ch, List<ImageEntry> walked)
      throws IOException {
    byte[] section = read(ch, h.pathIndexOffset(), Math.toIntExact(h.pathIndexLength()));
    CRC32C crc = new CRC32C();
    crc.update(section);
    if ((int) crc.getValue() != h.pathIndexCrc()) {
      problem(h.pathIndexOffset(), null, "path index checksum mismatch: path index damaged");
      return;
    }
    byte[] expected = PathIndex.write(walked);
    if (!Arrays.equals(expected, section)) {
      problem(h.pathIndexOffset(), null, "path index does not match the image's trees");
    }
  }

  private static byte[] read(FileChannel ch, long pos, int len) throws IOException {
    ByteBuffer b = ByteBuffer.allocate(Math.max(len, 0));
    while (b.hasRemaining()) {
      int n = ch.read(b, pos + b.position());
      if (n < 0) {
        break;
      }
    }
    return Arrays.copyOf(b.array(), b.position());
  }

  private static MessageDigest sha1() {
    try {
      return MessageDigest.getInstance("SHA-1");
    } catch (java.security.NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }

  private static byte[] sha1(byte[] b, int off, int len) {
    MessageDigest md = sha1();
    md.update(b, off, len);
    return md.digest();
  }
}
