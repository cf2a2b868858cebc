package dev.spindle.image;

import java.io.ByteArrayOutputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The metadata section of an image (format version 2): for every entry of the tree, and for the
 * empty directories the tree cannot hold, what {@link EntryMetadata} keeps. Sorted by the unsigned
 * bytes of the path, unique, the root ("") first:
 *
 * <pre>
 *   u32 magic "SPMD"  u16 table version (1)  u16 flags (bit 0: owners recorded)  u32 entry count N
 *   entry: u16 path length, path (UTF-8), u8 flags (bit 0: empty directory), u32 st_mode,
 *          u32 uid, u32 gid, u32 hard-link number (0: none), u16 attribute count,
 *          attribute: u8 name length (1..255), name (UTF-8), u32 value length (at most 65536), value
 * </pre>
 *
 * Reading is strict, as the bytes may come from anyone: every field is bounded before it is used
 * and a bad one is named with its file offset. The section's SHA-256 is named by the image's commit
 * ({@link #COMMIT_TRAILER}), so the commit id, and with it the signature, covers it.
 */
public final class MetadataTable {
  static final int MAGIC = 0x53504d44; // "SPMD"
  static final int TABLE_VERSION = 1;
  static final int OWNERS = 1;
  private static final int EMPTY_DIRECTORY = 1;
  static final int MAX_XATTR_VALUE = 65536; // Linux's XATTR_SIZE_MAX

  /** Large enough for any root file system; bounds what an image can make a reader allocate. */
  static final long MAX_SECTION = 256L << 20;

  private static final int HEADER = 12;
  private static final int ENTRY_FIXED = 2 + 1 + 4 * 4 + 2;

  /**
   * The line of the commit message that names the section: {@code Spindle-Metadata: sha256:HEX}.
   */
  public static final String COMMIT_TRAILER = "Spindle-Metadata: sha256:";

  private final boolean ownersRecorded;
  private final Map<String, EntryMetadata> byPath;
  private final List<EntryMetadata> sorted;
  private final Map<Integer, Integer> linkCounts;
  private final Map<String, List<String>> emptyChildren; // parent path -> names of empty dirs in it

  private MetadataTable(boolean ownersRecorded, List<EntryMetadata> sorted) {
    this.ownersRecorded = ownersRecorded;
    this.sorted = List.copyOf(sorted);
    this.byPath = new HashMap<>();
    this.linkCounts = new HashMap<>();
    this.emptyChildren = new HashMap<>();
    for (EntryMetadata m : sorted) {
      byPath.put(m.path(), m);
      if (m.link() != 0) {
        linkCounts.merge(m.link(), 1, Integer::sum);
      }
      if (m.emptyDirectory()) {
        int slash = m.path().lastIndexOf('/');
        emptyChildren
            .computeIfAbsent(slash < 0 ? "" : m.path().substring(0, slash), k -> new ArrayList<>())
            .add(m.path().substring(slash + 1));
      }
    }
  }

  /** A table of {@code entries} (any order). */
  public static MetadataTable of(boolean ownersRecorded, List<EntryMetadata> entries) {
    List<EntryMetadata> s = new ArrayList<>(entries);
    s.sort(
        Comparator.comparing(
            e -> e.path().getBytes(StandardCharsets.UTF_8), Arrays::compareUnsigned));
    return new MetadataTable(ownersRecorded, s);
  }

  /** Whether owners were recorded; if not, every uid and gid is 0 and readers use their default. */
  public boolean ownersRecorded() {
    return ownersRecorded;
  }

  public List<EntryMetadata> entries() {
    return sorted;
  }

  public Optional<EntryMetadata> get(String path) {
    return Optional.ofNullable(byPath.get(path));
  }

  /** How many entries share {@code m}'s file (1 when it has no hard link). */
  public int linkCount(EntryMetadata m) {
    return m.link() == 0 ? 1 : linkCounts.getOrDefault(m.link(), 1);
  }

  /** The names of the empty directories directly in {@code dir} (which the tree leaves out). */
  public List<String> emptyDirectoriesIn(String dir) {
    return emptyChildren.getOrDefault(dir, List.of());
  }

  public byte[] write() throws IOException {
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    DataOutputStream out = new DataOutputStream(bytes);
    out.writeInt(MAGIC);
    out.writeShort(TABLE_VERSION);
    out.writeShort(ownersRecorded ? OWNERS : 0);
    out.writeInt(sorted.size());
    for (EntryMetadata m : sorted) {
      byte[] p = m.path().getBytes(StandardCharsets.UTF_8);
      if (p.length > 0xffff) {
        throw new IOException("path longer than 65535 bytes: " + m.path());
      }
      out.writeShort(p.length);
      out.write(p);
      out.writeByte(m.emptyDirectory() ? EMPTY_DIRECTORY : 0);
      out.writeInt(m.mode());
      out.writeInt(m.uid());
      out.writeInt(m.gid());
      out.writeInt(m.link());
      if (m.xattrs().size() > 0xffff) {
        throw new IOException(m.path() + ": more than 65535 extended attributes");
      }
      List<EntryMetadata.Xattr> xs = new ArrayList<>(m.xattrs());
      xs.sort(
          Comparator.comparing(
              x -> x.name().getBytes(StandardCharsets.UTF_8), Arrays::compareUnsigned));
      out.writeShort(xs.size());
      for (EntryMetadata.Xattr x : xs) {
        byte[] n = x.name().getBytes(StandardCharsets.UTF_8);
        if (n.length == 0 || n.length > 255 || x.value().length > MAX_XATTR_VALUE) {
          throw new IOException(m.path() + ": extended attribute " + x.name() + " is too long");
        }
        out.writeByte(n.length);
        out.write(n);
        out.writeInt(x.value().length);
        out.write(x.value());
      }
    }
    out.flush();
    if (bytes.size() > MAX_SECTION) {
      throw new IOException(
          "metadata of " + sorted.size() + " entries exceeds " + (MAX_SECTION >> 20) + " MiB");
    }
    return bytes.toByteArray();
  }

  /**
   * Parses a section read from {@code file} at {@code sectionOffset}; every problem names its
   * absolute offset and field.
   */
  public static MetadataTable read(String file, long sectionOffset, byte[] section)
      throws ImageFormatException {
    return new Reader(file, sectionOffset, section).table();
  }

  private static final class Reader {
    private final String file;
    private final long base;
    private final ByteBuffer b;

    Reader(String file, long base, byte[] section) {
      this.file = file;
      this.base = base;
      this.b = ByteBuffer.wrap(section).order(ByteOrder.BIG_ENDIAN);
    }

    private ImageFormatException bad(int at, String what) {
      return new ImageFormatException(file, base + at, "metadata section: " + what);
    }

    private void need(int n, String field) throws ImageFormatException {
      if (b.remaining() < n) {
        throw bad(b.position(), field + " runs past the end of the section");
      }
    }

    MetadataTable table() throws ImageFormatException {
      need(HEADER, "header");
      if (b.getInt() != MAGIC) {
        throw bad(0, "wrong magic");
      }
      int version = Short.toUnsignedInt(b.getShort());
      if (version != TABLE_VERSION) {
        throw bad(4, "table version " + version + ", this Spindle reads " + TABLE_VERSION);
      }
      int flags = Short.toUnsignedInt(b.getShort());
      if ((flags & ~OWNERS) != 0) {
        throw bad(6, "unknown flags " + Integer.toHexString(flags));
      }
      long n = Integer.toUnsignedLong(b.getInt());
      if (n == 0 || n > (b.capacity() - HEADER) / ENTRY_FIXED) {
        throw bad(
            8, "entry count " + n + " does not fit the section of " + b.capacity() + " bytes");
      }
      List<EntryMetadata> entries = new ArrayList<>((int) n);
      byte[] previous = null;
      for (int i = 0; i < n; i++) {
        int at = b.position();
        need(2, "entry " + i + " path length");
        byte[] path = new byte[Short.toUnsignedInt(b.getShort())];
        need(path.length, "entry " + i + " path");
        b.get(path);
        String p = utf8(path, at + 2, "entry " + i + " path");
        if (previous == null ? path.length != 0 : Arrays.compareUnsigned(previous, path) >= 0) {
          throw bad(
              at,
              "entry "
                  + i
                  + " ("
                  + quote(p)
                  + ") is out of order or repeated"
                  + (previous == null ? ": the root must come first" : ""));
        }
        checkPath(p, at + 2, i);
        previous = path;
        need(ENTRY_FIXED - 2, "entry " + i + " fields");
        int flags1 = Byte.toUnsignedInt(b.get());
        int modeAt = b.position();
        int mode = b.getInt();
        int uid = b.getInt();
        int gid = b.getInt();
        int linkAt = b.position();
        long link = Integer.toUnsignedLong(b.getInt());
        int count = Short.toUnsignedInt(b.getShort());
        if ((flags1 & ~EMPTY_DIRECTORY) != 0) {
          throw bad(modeAt - 1, "entry " + i + " (" + quote(p) + "): unknown flags " + flags1);
        }
        int type = mode & EntryMetadata.S_IFMT;
        if ((mode & ~(EntryMetadata.S_IFMT | EntryMetadata.PERMISSIONS)) != 0
            || (type != EntryMetadata.S_IFDIR
                && type != EntryMetadata.S_IFREG
                && type != EntryMetadata.S_IFLNK)) {
          throw bad(
              modeAt,
              "entry "
                  + i
                  + " ("
                  + quote(p)
                  + "): mode "
                  + Integer.toOctalString(mode)
                  + " is not a directory, regular file or symlink");
        }
        boolean empty = (flags1 & EMPTY_DIRECTORY) != 0;
        if (empty && (type != EntryMetadata.S_IFDIR || p.isEmpty())) {
          throw bad(
              modeAt - 1,
              "entry "
                  + i
                  + " ("
                  + quote(p)
                  + "): only a directory below the root can be an empty directory");
        }
        if (link > n || (link != 0 && type == EntryMetadata.S_IFDIR)) {
          throw bad(
              linkAt,
              "entry "
                  + i
                  + " ("
                  + quote(p)
                  + "): hard-link number "
                  + link
                  + (link > n ? " exceeds the entry count" : " on a directory"));
        }
        List<EntryMetadata.Xattr> xattrs = new ArrayList<>(Math.min(count, 64));
        byte[] previousName = null;
        for (int j = 0; j < count; j++) {
          int xat = b.position();
          String field = "entry " + i + " (" + quote(p) + ") attribute " + j;
          need(1, field + " name length");
          int nameLen = Byte.toUnsignedInt(b.get());
          if (nameLen == 0) {
            throw bad(xat, field + ": empty name");
          }
          need(nameLen, field + " name");
          byte[] name = new byte[nameLen];
          b.get(name);
          String nm = utf8(name, xat + 1, field + " name");
          if (nm.indexOf('\0') >= 0 || nm.indexOf('.') <= 0) {
            throw bad(xat + 1, field + ": name is not NAMESPACE.NAME");
          }
          if (previousName != null && Arrays.compareUnsigned(previousName, name) >= 0) {
            throw bad(xat, field + ": names out of order or repeated");
          }
          previousName = name;
          need(4, field + " value length");
          long len = Integer.toUnsignedLong(b.getInt());
          if (len > MAX_XATTR_VALUE) {
            throw bad(
                xat + 1 + nameLen, field + ": value length " + len + " exceeds " + MAX_XATTR_VALUE);
          }
          need((int) len, field + " value");
          byte[] value = new byte[(int) len];
          b.get(value);
          xattrs.add(new EntryMetadata.Xattr(nm, value));
        }
        entries.add(new EntryMetadata(p, mode, uid, gid, (int) link, empty, xattrs));
      }
      if (b.hasRemaining()) {
        throw bad(b.position(), b.remaining() + " bytes after the last entry");
      }
      MetadataTable t = new MetadataTable((flags & OWNERS) != 0, entries);
      for (EntryMetadata m : entries) {
        if (m.emptyDirectory()) {
          int slash = m.path().lastIndexOf('/');
          EntryMetadata parent = t.byPath.get(slash < 0 ? "" : m.path().substring(0, slash));
          if (parent == null || !parent.isDirectory()) {
            throw bad(0, "empty directory " + quote(m.path()) + " has no directory above it");
          }
        }
      }
      return t;
    }

    private void checkPath(String p, int at, int i) throws ImageFormatException {
      if (p.isEmpty()) {
        return;
      }
      for (String c : p.split("/", -1)) {
        if (c.isEmpty() || c.equals(".") || c.equals("..") || c.indexOf('\0') >= 0) {
          throw bad(
              at, "entry " + i + " path " + quote(p) + " has an empty, '.', '..' or NUL component");
        }
      }
    }

    private String utf8(byte[] bytes, int at, String field) throws ImageFormatException {
      try {
        return StandardCharsets.UTF_8
            .newDecoder()
            .onMalformedInput(CodingErrorAction.REPORT)
            .onUnmappableCharacter(CodingErrorAction.REPORT)
            .decode(ByteBuffer.wrap(bytes))
            .toString();
      } catch (CharacterCodingException e) {
        throw bad(at, field + " is not UTF-8");
      }
    }
  }

  /** A path for a message: bounded, control characters escaped (the bytes are the image's). */
  static String quote(String s) {
    StringBuilder out = new StringBuilder("'");
    for (int i = 0; i < s.length() && i < 200; i++) {
      char c = s.charAt(i);
      out.append(c < 0x20 || c == 0x7f ? String.format("\\x%02x", (int) c) : String.valueOf(c));
    }
    return out.append(s.length() > 200 ? "...'" : "'").toString();
  }

  /** The SHA-256 (hex) a commit message names for the metadata section, or null. */
  static String namedBy(String commitMessage) {
    for (String line : commitMessage.split("\n")) {
      if (line.startsWith(COMMIT_TRAILER)) {
        return line.substring(COMMIT_TRAILER.length()).strip();
      }
    }
    return null;
  }

  /**
   * What is wrong between the header, the section and the commit, or null: the CRC the header
   * carries, the SHA-256 the commit names, a section without a name or a name without a section.
   */
  static String sectionProblem(ImageHeader h, String named, byte[] section) {
    if (section == null) {
      return named == null
          ? null
          : "the commit names a metadata section but the image has none (cut off or downgraded)";
    }
    java.util.zip.CRC32C crc = new java.util.zip.CRC32C();
    crc.update(section);
    if ((int) crc.getValue() != h.metadataCrc()) {
      return "metadata section checksum mismatch: metadata section damaged";
    }
    if (named == null) {
      return "the image has a metadata section its commit does not name";
    }
    if (!named.equals(dev.spindle.store.Hashes.sha256Hex(section))) {
      return "metadata section's SHA-256 is not the one the commit names: metadata altered";
    }
    return null;
  }
}
