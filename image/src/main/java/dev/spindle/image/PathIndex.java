package dev.spindle.image;

import java.io.ByteArrayOutputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.nio.BufferUnderflowException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import org.eclipse.jgit.lib.ObjectId;

/**
 * Spindle's path index: every path of the image, sorted by its UTF-8 bytes, so that a lookup is a
 * binary search over a memory-mapped section and opening an image scans nothing.
 *
 * <pre>
 *   u32 magic "SPIX"   u32 entry count N   u32 offset[N] (from the section start)
 *   entry: u16 path length, path bytes, u32 Git mode, 20-byte object id, u64 size
 * </pre>
 */
public final class PathIndex {
  static final int MAGIC = 0x53504958; // "SPIX"
  private static final int ENTRY_FIXED = 2 + 4 + 20 + 8;

  private final ByteBuffer buf;
  private final int count;

  private PathIndex(ByteBuffer buf, int count) {
    this.buf = buf;
    this.count = count;
  }

  /** Reads an index from its section's bytes; checks only the magic and the offset table. */
  public static PathIndex read(String file, long sectionOffset, ByteBuffer section)
      throws ImageFormatException {
    ByteBuffer b = section.duplicate().order(ByteOrder.BIG_ENDIAN);
    if (b.remaining() < 8 || b.getInt(0) != MAGIC) {
      throw new ImageFormatException(file, sectionOffset, "path index: wrong magic");
    }
    int n = b.getInt(4);
    if (n < 0 || 8L + 4L * n > b.remaining()) {
      throw new ImageFormatException(
          file, sectionOffset + 4, "path index: entry count " + n + " does not fit its section");
    }
    return new PathIndex(b, n);
  }

  public int size() {
    return count;
  }

  /** The entry for {@code path} (no leading '/'), if the image has it. */
  public Optional<ImageEntry> find(String path) {
    byte[] key = path.getBytes(StandardCharsets.UTF_8);
    int lo = 0;
    int hi = count - 1;
    while (lo <= hi) {
      int mid = (lo + hi) >>> 1;
      int c = compareAt(entryOffset(mid), key);
      if (c < 0) {
        lo = mid + 1;
      } else if (c > 0) {
        hi = mid - 1;
      } else {
        return Optional.of(entry(mid));
      }
    }
    return Optional.empty();
  }

  /** Entry number {@code i}, in path order. */
  public ImageEntry entry(int i) {
    int off = entryOffset(i);
    int len = Short.toUnsignedInt(buf.getShort(off));
    byte[] p = new byte[len];
    buf.get(off + 2, p);
    int at = off + 2 + len;
    int mode = buf.getInt(at);
    byte[] id = new byte[20];
    buf.get(at + 4, id);
    long size = buf.getLong(at + 24);
    return new ImageEntry(new String(p, StandardCharsets.UTF_8), mode, ObjectId.fromRaw(id), size);
  }

  private int entryOffset(int i) {
    int off = buf.getInt(8 + 4 * i);
    if (off < 8 || off > buf.limit() - ENTRY_FIXED) {
      throw new BufferUnderflowException();
    }
    return off;
  }

  private int compareAt(int off, byte[] key) {
    int len = Short.toUnsignedInt(buf.getShort(off));
    int n = Math.min(len, key.length);
    for (int i = 0; i < n; i++) {
      int a = buf.get(off + 2 + i) & 0xff;
      int b = key[i] & 0xff;
      if (a != b) {
        return a - b;
      }
    }
    return len - key.length;
  }

  /** Serialises entries (any order; the root entry "" is skipped) into the index format. */
  public static byte[] write(List<ImageEntry> entries) throws IOException {
    List<byte[]> paths = new ArrayList<>(entries.size());
    List<ImageEntry> sorted = new ArrayList<>();
    for (ImageEntry e : entries) {
      if (!e.path().isEmpty()) {
        sorted.add(e);
      }
    }
    sorted.sort(
        Comparator.comparing(
            e -> e.path().getBytes(StandardCharsets.UTF_8), Arrays::compareUnsigned));
    for (ImageEntry e : sorted) {
      byte[] p = e.path().getBytes(StandardCharsets.UTF_8);
      if (p.length > 0xffff) {
        throw new IOException("path longer than 65535 bytes: " + e.path());
      }
      paths.add(p);
    }
    int n = sorted.size();
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    DataOutputStream out = new DataOutputStream(bytes);
    out.writeInt(MAGIC);
    out.writeInt(n);
    int off = 8 + 4 * n;
    for (byte[] p : paths) {
      out.writeInt(off);
      off += ENTRY_FIXED + p.length;
    }
    byte[] id = new byte[20];
    for (int i = 0; i < n; i++) {
      ImageEntry e = sorted.get(i);
      out.writeShort(paths.get(i).length);
      out.write(paths.get(i));
      out.writeInt(e.mode());
      e.id().copyRawTo(id, 0);
      out.write(id);
      out.writeLong(e.size());
    }
    out.flush();
    return bytes.toByteArray();
  }
}
