package dev.spindle.image.lazy;

import dev.spindle.image.ImageHeader;
import dev.spindle.image.make.ImageWriter;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Optional;
import java.util.zip.DataFormatException;
import java.util.zip.Inflater;
import org.eclipse.jgit.internal.storage.file.PackIndex;
import org.eclipse.jgit.internal.storage.pack.BinaryDelta;
import org.eclipse.jgit.lib.Constants;
import org.eclipse.jgit.lib.ObjectId;

/**
 * The blobs of a lazily pulled image whose whole file sits somewhere only byte ranges of it can be
 * read ({@link RemoteRanges}: an OCI registry blob). The pull kept the remote file's header and IDX
 * ({@link #sidecar}); a blob is the PACK entry at the offset the IDX gives, up to the next entry's
 * offset, inflated, its delta bases read the same way. Nothing here is trusted: a bad offset or
 * entry gives bytes that the object cache refuses, as they do not hash to the id asked.
 */
public final class PackRangeOrigin implements ImageOrigin {
  /** Deeper chains than the writer makes ({@link ImageWriter.PackSettings}) are refused. */
  private static final int MAX_DEPTH = 64;

  private final RemoteRanges ranges;
  private final ImageHeader header;
  private final PackIndex index;
  private final long[] offsets; // sorted: an entry ends where the next starts
  private final String where;

  private PackRangeOrigin(RemoteRanges ranges, ImageHeader header, PackIndex index, String where) {
    this.ranges = ranges;
    this.header = header;
    this.index = index;
    this.where = where;
    long[] o = new long[(int) index.getObjectCount()];
    int i = 0;
    for (PackIndex.MutableEntry e : index) {
      o[i++] = e.getOffset();
    }
    Arrays.sort(o);
    this.offsets = o;
  }

  /** Beside a lazily pulled image: the remote file's header and IDX, what locates its blobs. */
  public static Path sidecar(Path image) {
    return image.resolveSibling(image.getFileName() + ".remote-idx");
  }

  /** Checks the header and IDX a puller fetched ({@code headerAndIdx}); returns the header. */
  static ImageHeader check(byte[] headerAndIdx, long fileSize, String where) throws IOException {
    ImageHeader h = ImageHeader.decode(where, headerAndIdx, fileSize);
    if (headerAndIdx.length != ImageHeader.SIZE + h.idxLength()) {
      throw new IOException(
          where
              + ": "
              + (headerAndIdx.length - ImageHeader.SIZE)
              + " bytes of IDX, the header says "
              + h.idxLength());
    }
    PackIndex.read(new ByteArrayInputStream(headerAndIdx, ImageHeader.SIZE, (int) h.idxLength()));
    return h;
  }

  static PackRangeOrigin open(RemoteImage remote, Path image) throws IOException {
    String where = remote.node().toString();
    byte[] b = Files.readAllBytes(sidecar(image));
    return over(RemoteRanges.open(where, remote.token()), b, where);
  }

  /** Blobs of the remote file {@code ranges} reads, located by its {@code headerAndIdx}. */
  static PackRangeOrigin over(RemoteRanges ranges, byte[] headerAndIdx, String where)
      throws IOException {
    ImageHeader h = ImageHeader.decode(where, headerAndIdx, Long.MAX_VALUE);
    PackIndex idx =
        PackIndex.read(
            new ByteArrayInputStream(
                headerAndIdx, ImageHeader.SIZE, headerAndIdx.length - ImageHeader.SIZE));
    return new PackRangeOrigin(ranges, h, idx, where);
  }

  @Override
  public byte[] blob(ObjectId id, long size) throws IOException {
    long off = index.findOffset(id);
    if (off < 0) {
      throw new IOException(
          "object " + id.name() + ": the image at " + where + " does not hold it");
    }
    Entry e = entry(off, size < 0 ? MAX_BLOB : size, 0);
    if (e.type != Constants.OBJ_BLOB) {
      throw new IOException("object " + id.name() + " at " + where + " is not a blob");
    }
    return e.data;
  }

  private record Entry(int type, byte[] data) {}

  /** The object at PACK offset {@code off}, at most {@code limit} bytes, its deltas applied. */
  private Entry entry(long off, long limit, int depth) throws IOException {
    if (depth > MAX_DEPTH) {
      throw new IOException(
          where + ": a delta chain deeper than " + MAX_DEPTH + " at PACK offset " + off);
    }
    int at = Arrays.binarySearch(offsets, off);
    long end =
        at + 1 < offsets.length
            ? offsets[at + 1]
            : header.packLength() - Constants.OBJECT_ID_LENGTH;
    if (at < 0 || end <= off || end - off > MAX_BLOB) {
      throw new IOException(where + ": no PACK entry at offset " + off);
    }
    byte[] raw = ranges.read(header.packOffset() + off, (int) (end - off));
    int p = 0;
    int c = raw[p++] & 0xff;
    int type = (c >> 4) & 7;
    long inflated = c & 15;
    for (int shift = 4; (c & 0x80) != 0; shift += 7) {
      if (p >= raw.length || shift > 56) {
        throw new IOException(where + ": a damaged PACK entry header at offset " + off);
      }
      c = raw[p++] & 0xff;
      inflated |= (long) (c & 0x7f) << shift;
    }
    switch (type) {
      case Constants.OBJ_BLOB, Constants.OBJ_TREE, Constants.OBJ_COMMIT, Constants.OBJ_TAG -> {
        if (inflated > limit) {
          throw new IOException(
              where
                  + ": the PACK entry at offset "
                  + off
                  + " is "
                  + inflated
                  + " bytes, more than the "
                  + limit
                  + " expected");
        }
        return new Entry(type, inflate(raw, p, (int) inflated, off));
      }
      case Constants.OBJ_OFS_DELTA -> {
        c = raw[p++] & 0xff;
        long back = c & 0x7f;
        while ((c & 0x80) != 0) {
          if (p >= raw.length || back > (1L << 48)) {
            throw new IOException(where + ": a damaged delta offset at PACK offset " + off);
          }
          c = raw[p++] & 0xff;
          back = ((back + 1) << 7) | (c & 0x7f);
        }
        return delta(raw, p, inflated, off, off - back, limit, depth);
      }
      case Constants.OBJ_REF_DELTA -> {
        ObjectId base = ObjectId.fromRaw(raw, p);
        long baseOff = index.findOffset(base);
        return delta(raw, p + Constants.OBJECT_ID_LENGTH, inflated, off, baseOff, limit, depth);
      }
      default ->
          throw new IOException(
              where + ": a PACK entry of unknown type " + type + " at offset " + off);
    }
  }

  private Entry delta(
      byte[] raw, int p, long inflated, long off, long baseOff, long limit, int depth)
      throws IOException {
    if (inflated > MAX_BLOB || baseOff < 0 || baseOff >= off) {
      throw new IOException(where + ": a damaged delta at PACK offset " + off);
    }
    byte[] d = inflate(raw, p, (int) inflated, off);
    long result = BinaryDelta.getResultSize(d);
    if (result > limit) {
      throw new IOException(
          where
              + ": the PACK entry at offset "
              + off
              + " is "
              + result
              + " bytes, more than the "
              + limit
              + " expected");
    }
    Entry base = entry(baseOff, MAX_BLOB, depth + 1);
    if (BinaryDelta.getBaseSize(d) != base.data.length) {
      throw new IOException(where + ": the delta at PACK offset " + off + " does not fit its base");
    }
    return new Entry(base.type, BinaryDelta.apply(base.data, d));
  }

  private byte[] inflate(byte[] raw, int p, int size, long off) throws IOException {
    Inflater inf = new Inflater();
    try {
      inf.setInput(raw, p, raw.length - p);
      byte[] out = new byte[size];
      int n = 0;
      while (n < size) {
        int k = inf.inflate(out, n, size - n);
        if (k == 0 && (inf.finished() || inf.needsInput() || inf.needsDictionary())) {
          break;
        }
        n += k;
      }
      if (n != size) {
        throw new IOException(
            where + ": the PACK entry at offset " + off + " inflates to fewer bytes than it says");
      }
      return out;
    } catch (DataFormatException e) {
      throw new IOException(
          where
              + ": the PACK entry at offset "
              + off
              + " does not inflate (damaged or tampered on the way; nothing stored)",
          e);
    } finally {
      inf.end();
    }
  }

  // Pulls from a registry go through the container module; a lazy reader only reads blobs.
  @Override
  public InputStream file() throws IOException {
    throw new IOException(where + ": read by byte ranges only");
  }

  @Override
  public InputStream metadata() throws IOException {
    throw new IOException(where + ": read by byte ranges only");
  }

  @Override
  public Optional<byte[]> signature() {
    return Optional.empty();
  }
}
