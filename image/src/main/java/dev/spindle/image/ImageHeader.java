package dev.spindle.image;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.zip.CRC32C;
import org.eclipse.jgit.lib.ObjectId;

/**
 * The fixed 128-byte header at the start of every image file (format version 1 or 2, big-endian):
 *
 * <pre>
 *   0  8  magic "SPNDLIMG"
 *   8  2  format version (1; 2: with a metadata section)
 *  10  2  header size (128)
 *  12  4  flags (0)
 *  16 20  commit id
 *  36 20  root tree id
 *  56  8  PACK offset      64  8  PACK length
 *  72  8  IDX offset       80  8  IDX length
 *  88  8  path index offset 96 8  path index length
 * 104  4  object count
 * 108  4  CRC32C of the path index
 * 112  8  version 2: metadata section length (the section follows the path index); 1: zero
 * 120  4  version 2: CRC32C of the metadata section; 1: zero
 * 124  4  CRC32C of bytes 0..123
 * </pre>
 *
 * Version 2 adds the metadata section ({@link MetadataTable}); an image without one is written as
 * version 1, byte for byte what Spindle wrote before, and version 1 images read as they did.
 *
 * <p>The PACK and IDX are byte-for-byte what git writes ({@code git verify-pack} accepts them once
 * cut out); the path index is Spindle's (see {@link PathIndex}).
 */
public record ImageHeader(
    int version,
    ObjectId commit,
    ObjectId root,
    long packOffset,
    long packLength,
    long idxOffset,
    long idxLength,
    long pathIndexOffset,
    long pathIndexLength,
    int objectCount,
    int pathIndexCrc,
    long metadataLength,
    int metadataCrc) {

  /** A header without a metadata section (format version 1). */
  public ImageHeader(
      int version,
      ObjectId commit,
      ObjectId root,
      long packOffset,
      long packLength,
      long idxOffset,
      long idxLength,
      long pathIndexOffset,
      long pathIndexLength,
      int objectCount,
      int pathIndexCrc) {
    this(
        version,
        commit,
        root,
        packOffset,
        packLength,
        idxOffset,
        idxLength,
        pathIndexOffset,
        pathIndexLength,
        objectCount,
        pathIndexCrc,
        0,
        0);
  }

  public static final byte[] MAGIC = "SPNDLIMG".getBytes(StandardCharsets.US_ASCII);
  public static final int VERSION = 1;
  public static final int VERSION_METADATA = 2;
  public static final int SIZE = 128;
  static final int CRC_OFFSET = 124;

  public byte[] encode() {
    ByteBuffer b = ByteBuffer.allocate(SIZE).order(ByteOrder.BIG_ENDIAN);
    b.put(MAGIC).putShort((short) version).putShort((short) SIZE).putInt(0);
    byte[] id = new byte[20];
    commit.copyRawTo(id, 0);
    b.put(id);
    root.copyRawTo(id, 0);
    b.put(id);
    b.putLong(packOffset).putLong(packLength);
    b.putLong(idxOffset).putLong(idxLength);
    b.putLong(pathIndexOffset).putLong(pathIndexLength);
    b.putInt(objectCount).putInt(pathIndexCrc);
    b.putLong(metadataLength).putInt(metadataCrc);
    b.position(CRC_OFFSET);
    b.putInt(crc(b.array()));
    return b.array();
  }

  static int crc(byte[] header) {
    CRC32C c = new CRC32C();
    c.update(header, 0, CRC_OFFSET);
    return (int) c.getValue();
  }

  /**
   * Parses and checks a header read from {@code file}, whose total size is {@code fileSize}: every
   * section must lie inside the file, after the header and without overlapping.
   */
  public static ImageHeader decode(String file, byte[] h, long fileSize)
      throws ImageFormatException {
    if (h.length < SIZE || fileSize < SIZE) {
      throw new ImageFormatException(
          file, Math.min(h.length, fileSize), "truncated: an image starts with a 128-byte header");
    }
    for (int i = 0; i < MAGIC.length; i++) {
      if (h[i] != MAGIC[i]) {
        throw new ImageFormatException(file, i, "wrong magic: not a Spindle image");
      }
    }
    ByteBuffer b = ByteBuffer.wrap(h).order(ByteOrder.BIG_ENDIAN);
    int version = Short.toUnsignedInt(b.getShort(8));
    if (version != VERSION && version != VERSION_METADATA) {
      throw new ImageFormatException(
          file,
          8,
          "unsupported format version "
              + version
              + " (this Spindle reads "
              + VERSION
              + " and "
              + VERSION_METADATA
              + ")");
    }
    int size = Short.toUnsignedInt(b.getShort(10));
    if (size != SIZE) {
      throw new ImageFormatException(file, 10, "header size " + size + ", expected " + SIZE);
    }
    int stored = b.getInt(CRC_OFFSET);
    if (stored != crc(h)) {
      throw new ImageFormatException(file, CRC_OFFSET, "header checksum mismatch: header damaged");
    }
    ImageHeader hdr =
        new ImageHeader(
            version,
            ObjectId.fromRaw(h, 16),
            ObjectId.fromRaw(h, 36),
            b.getLong(56),
            b.getLong(64),
            b.getLong(72),
            b.getLong(80),
            b.getLong(88),
            b.getLong(96),
            b.getInt(104),
            b.getInt(108),
            b.getLong(112),
            b.getInt(120));
    if (version == VERSION && (hdr.metadataLength != 0 || hdr.metadataCrc != 0)) {
      throw new ImageFormatException(file, 112, "reserved bytes not zero in a version 1 header");
    }
    if (version == VERSION_METADATA
        && (hdr.metadataLength < 12 || hdr.metadataLength > MetadataTable.MAX_SECTION)) {
      throw new ImageFormatException(
          file,
          112,
          "metadata section length "
              + hdr.metadataLength
              + " is not between 12 and "
              + MetadataTable.MAX_SECTION);
    }
    hdr.checkSection(file, "PACK", 56, hdr.packOffset, hdr.packLength, SIZE, fileSize);
    hdr.checkSection(
        file, "IDX", 72, hdr.idxOffset, hdr.idxLength, hdr.packOffset + hdr.packLength, fileSize);
    hdr.checkSection(
        file,
        "path index",
        88,
        hdr.pathIndexOffset,
        hdr.pathIndexLength,
        hdr.idxOffset + hdr.idxLength,
        fileSize);
    if (version == VERSION_METADATA) {
      hdr.checkSection(
          file,
          "metadata",
          112,
          hdr.metadataOffset(),
          hdr.metadataLength,
          hdr.pathIndexOffset + hdr.pathIndexLength,
          fileSize);
    }
    return hdr;
  }

  /** Whether the image has a metadata section (format version 2). */
  public boolean hasMetadata() {
    return version == VERSION_METADATA;
  }

  /** Where the metadata section starts: right after the path index. */
  public long metadataOffset() {
    return pathIndexOffset + pathIndexLength;
  }

  private void checkSection(
      String file, String name, int field, long off, long len, long min, long fileSize)
      throws ImageFormatException {
    if (off < min || len < 0 || off > Long.MAX_VALUE - len) {
      throw new ImageFormatException(
          file, field, name + " section at " + off + "+" + len + " overlaps what precedes it");
    }
    if (off + len > fileSize) {
      throw new ImageFormatException(
          file,
          fileSize,
          "truncated: the "
              + name
              + " section ends at byte "
              + (off + len)
              + " but the file has "
              + fileSize
              + " bytes");
    }
  }
}
