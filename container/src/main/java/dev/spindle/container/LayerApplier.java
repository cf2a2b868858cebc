package dev.spindle.container;

import dev.spindle.image.EntryMetadata;
import dev.spindle.store.Hashes;
import dev.spindle.store.Trees;
import dev.spindle.store.Whiteouts;
import io.airlift.compress.zstd.ZstdInputStream;
import java.io.BufferedInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.DigestInputStream;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.HashMap;
import java.util.HashSet;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Stream;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveInputStream;
import org.apache.commons.compress.compressors.gzip.GzipCompressorInputStream;

/**
 * Applies OCI/Docker layer tars, in order, onto one directory tree (the image-spec's "applying
 * changesets"): entries replace what lower layers had at their path; {@code .wh.NAME} deletes NAME
 * of lower layers; {@code .wh..wh..opq} in a directory hides everything lower layers put there.
 *
 * <p>Runs as root over untrusted archives, so no path ever leaves the root: names with {@code ..}
 * are refused, and symlinks on the way to an entry resolve inside the root as in a chroot (see
 * {@link #directory}); the entry itself replaces whatever is at its path, never writing through it.
 * What an image cannot hold is skipped and counted: devices, FIFOs; times are dropped.
 *
 * <p>The tree on disk is the contents (files keep only their execute bit, as a Git tree does; hard
 * links are hard links); what the tars say of each entry's mode bits, owner and extended attributes
 * ({@code SCHILY.xattr.*}, {@code LIBARCHIVE.xattr.*} PAX records) is kept apart in {@link
 * #metadata}, by final path, for the image's metadata section: applying layers as an unprivileged
 * user could not set it on disk.
 */
final class LayerApplier {

  /** Linux's limit of symlinks per lookup (ELOOP). */
  private static final int MAX_HOPS = 40;

  private final Path root;
  private int skipped;
  private final Map<String, EntryMetadata> metadata = new HashMap<>();
  private Map<String, byte[]> xattrs = Map.of(); // the current entry's, read exactly (PaxXattrs)

  LayerApplier(Path root) throws IOException {
    this.root = root.toRealPath();
  }

  /** What the layers said of each entry still in the tree, by its path from the root. */
  Map<String, EntryMetadata> metadata() {
    return Map.copyOf(metadata);
  }

  /** Entries skipped because an image cannot hold them (devices, FIFOs). */
  int skipped() {
    return skipped;
  }

  /**
   * Applies one layer (plain, gzip or zstd tar, told apart by their magic numbers); returns {@code
   * sha256:<hex>} of the uncompressed tar, the layer's diff id, which the caller checks against the
   * image config.
   */
  String apply(InputStream layer, String name) throws IOException {
    BufferedInputStream buffered = new BufferedInputStream(layer);
    DigestInputStream uncompressed = new DigestInputStream(decompress(buffered), Hashes.sha256());
    Set<String> mine = new HashSet<>(); // paths this layer wrote: whiteouts only hide lower ones
    PaxXattrs raw = new PaxXattrs(uncompressed);
    TarArchiveInputStream tar = new TarArchiveInputStream(raw);
    try {
      for (TarArchiveEntry e = tar.getNextEntry(); e != null; e = tar.getNextEntry()) {
        PaxXattrs.Found x = raw.next();
        if (x.size() != e.getSize() && !(e.isDirectory() || e.isSymbolicLink() || e.isLink())) {
          throw new IOException(
              "layer "
                  + name
                  + ": entry "
                  + bounded(e.getName())
                  + ": its size differs between the tar reader and the attribute reader");
        }
        if (x.problem() != null) {
          throw new IOException(
              "layer " + name + ": entry " + bounded(e.getName()) + " has " + x.problem());
        }
        xattrs = x.xattrs();
        applyEntry(tar, e, name, mine);
      }
    } catch (IllegalArgumentException malformed) {
      throw new IOException(
          "layer " + name + " is not a valid tar: " + malformed.getMessage(), malformed);
    }
    uncompressed.transferTo(
        OutputStream.nullOutputStream()); // the tar's padding counts in the diff id
    return "sha256:" + HexFormat.of().formatHex(uncompressed.getMessageDigest().digest());
  }

  private static InputStream decompress(BufferedInputStream in) throws IOException {
    in.mark(4);
    byte[] magic = in.readNBytes(4);
    in.reset();
    if (magic.length >= 2 && (magic[0] & 0xff) == 0x1f && (magic[1] & 0xff) == 0x8b) {
      return GzipCompressorInputStream.builder()
          .setInputStream(in)
          .setDecompressConcatenated(true)
          .get();
    }
    if (magic.length == 4
        && (magic[0] & 0xff) == 0x28
        && (magic[1] & 0xff) == 0xb5
        && (magic[2] & 0xff) == 0x2f
        && (magic[3] & 0xff) == 0xfd) {
      return new ZstdInputStream(in);
    }
    return in;
  }

  private void applyEntry(
      TarArchiveInputStream tar, TarArchiveEntry e, String layer, Set<String> mine)
      throws IOException {
    String rel = normalize(e.getName(), layer);
    if (rel.isEmpty()) {
      if (e.isDirectory()) {
        metadata.put("", entryMetadata("", e, layer)); // "./" itself: the root's mode and owner
      }
      return;
    }
    int slash = rel.lastIndexOf('/');
    String dir = slash < 0 ? "" : rel.substring(0, slash);
    String base = rel.substring(slash + 1);
    if (base.equals(Whiteouts.OPAQUE)) {
      Path d = directory(dir, layer);
      clearLower(d, dir, mine);
      return;
    }
    if (Whiteouts.is(base)) {
      String hidden = (dir.isEmpty() ? "" : dir + "/") + Whiteouts.hidden(base);
      if (!mine.contains(hidden)) {
        Trees.delete(directory(dir, layer).resolve(Whiteouts.hidden(base)));
      }
      return;
    }
    if (e.isCharacterDevice() || e.isBlockDevice() || e.isFIFO()) {
      skipped++; // no such thing in a Git tree (and commons-compress calls a FIFO a file)
      return;
    }
    Path parent = directory(dir, layer);
    Path p = parent.resolve(base);
    if (e.isDirectory()) {
      if (!Files.isDirectory(p, LinkOption.NOFOLLOW_LINKS)) {
        Trees.delete(p);
        Files.createDirectory(p);
      }
    } else if (e.isSymbolicLink()) {
      Trees.delete(p);
      Files.createSymbolicLink(p, Path.of(e.getLinkName()));
    } else if (e.isLink()) {
      Path target = linkTarget(normalize(e.getLinkName(), layer), layer, rel);
      Trees.delete(p);
      Files.createLink(p, target); // one file, two names: the image keeps the link
      EntryMetadata t = metadata.get(key(target));
      if (t != null) { // a hard link's header carries no mode of its own: the file's
        metadata.put(
            key(p), new EntryMetadata(key(p), t.mode(), t.uid(), t.gid(), 0, false, t.xattrs()));
      }
      mine.add(rel);
      return;
    } else if (e.isFile()) {
      Trees.delete(p);
      Files.copy(tar, p);
      boolean exec = (e.getMode() & 0100) != 0;
      Files.setPosixFilePermissions(
          p, PosixFilePermissions.fromString(exec ? "rwxr-xr-x" : "rw-r--r--"));
    } else {
      throw new IOException(
          "layer "
              + layer
              + ": entry "
              + rel
              + " has a tar type spindle does not know: '"
              + (char) e.getLinkFlag()
              + "'");
    }
    metadata.put(key(p), entryMetadata(key(p), e, layer));
    mine.add(rel);
  }

  /** A name from a layer, for a message: bounded, control characters escaped. */
  private static String bounded(String s) {
    StringBuilder b = new StringBuilder();
    for (int i = 0; i < s.length() && i < 100; i++) {
      char c = s.charAt(i);
      b.append(c < 0x20 || c == 0x7f ? '?' : c);
    }
    return b.append(s.length() > 100 ? "..." : "").toString();
  }

  private String key(Path p) {
    return root.relativize(p).toString();
  }

  /** Mode bits, owner and extended attributes of a tar entry, bounded as an image holds them. */
  private EntryMetadata entryMetadata(String path, TarArchiveEntry e, String layer)
      throws IOException {
    long uid = e.getLongUserId();
    long gid = e.getLongGroupId();
    if (uid < 0 || gid < 0 || uid >= 0xffffffffL || gid >= 0xffffffffL) {
      throw new IOException("layer " + layer + ": entry " + path + " has an owner id out of range");
    }
    List<EntryMetadata.Xattr> list = new ArrayList<>();
    for (Map.Entry<String, byte[]> x : xattrs.entrySet()) {
      int n = x.getKey().getBytes(StandardCharsets.UTF_8).length;
      if (n == 0 || n > 255 || x.getKey().indexOf('.') <= 0 || x.getValue().length > 65536) {
        throw new IOException(
            "layer "
                + layer
                + ": entry "
                + path
                + ": extended attribute "
                + bounded(x.getKey())
                + " has a bad name or a value over 64 KiB");
      }
      list.add(new EntryMetadata.Xattr(x.getKey(), x.getValue()));
    }
    return new EntryMetadata(
        path, e.getMode() & EntryMetadata.PERMISSIONS, (int) uid, (int) gid, 0, false, list);
  }

  /** A tar name as a clean relative path; {@code ..} anywhere is refused. */
  private static String normalize(String name, String layer) throws IOException {
    List<String> parts = new ArrayList<>();
    for (String s : name.split("/")) {
      if (s.isEmpty() || s.equals(".")) {
        continue;
      }
      if (s.equals("..")) {
        throw new IOException(
            "layer " + layer + " has an entry that climbs out of the root: " + name);
      }
      parts.add(s);
    }
    return String.join("/", parts);
  }

  /**
   * The directory {@code rel} names, resolved as the kernel would inside a chroot at the root:
   * symlinks on the way are followed (an absolute target starts again at the root, {@code ..} stops
   * at the root, at most {@value #MAX_HOPS} hops), missing directories are made, and a file where a
   * directory must be is replaced. So a layer writes through a lower layer's {@code /bin ->
   * usr/bin} as Docker does, and nothing it names can leave the root.
   */
  private Path directory(String rel, String layer) throws IOException {
    Deque<String> todo = new ArrayDeque<>(components(rel));
    List<String> done = new ArrayList<>(); // below the root, each a real directory
    int hops = 0;
    while (!todo.isEmpty()) {
      String s = todo.pop();
      if (s.equals("..")) {
        if (!done.isEmpty()) {
          done.removeLast();
        }
        continue;
      }
      Path p = under(done).resolve(s);
      if (Files.isSymbolicLink(p)) {
        if (++hops > MAX_HOPS) {
          throw new IOException(
              "layer " + layer + ": more than " + MAX_HOPS + " symlinks on the way to " + rel);
        }
        String target = Files.readSymbolicLink(p).toString();
        List<String> t = components(target);
        for (int i = t.size() - 1; i >= 0; i--) {
          todo.push(t.get(i));
        }
        if (target.startsWith("/")) {
          done.clear();
        }
        continue;
      }
      if (!Files.isDirectory(p, LinkOption.NOFOLLOW_LINKS)) {
        Trees.delete(p);
        Files.createDirectory(p);
        metadata.remove(key(p)); // made here, not by an entry: what a deleted entry said is gone
      }
      done.add(s);
    }
    return under(done);
  }

  private Path under(List<String> parts) {
    Path p = root;
    for (String s : parts) {
      p = p.resolve(s);
    }
    return p;
  }

  /** Path components without empty ones and ".". */
  private static List<String> components(String path) {
    List<String> out = new ArrayList<>();
    for (String s : path.split("/")) {
      if (!s.isEmpty() && !s.equals(".")) {
        out.add(s);
      }
    }
    return out;
  }

  /** The regular file a hard link names (an earlier entry of the image), resolved like any path. */
  private Path linkTarget(String rel, String layer, String link) throws IOException {
    int slash = rel.lastIndexOf('/');
    Path p =
        directory(slash < 0 ? "" : rel.substring(0, slash), layer)
            .resolve(rel.substring(slash + 1));
    if (!Files.isRegularFile(p, LinkOption.NOFOLLOW_LINKS)) {
      throw new IOException(
          "layer "
              + layer
              + ": hard link "
              + link
              + " points at "
              + rel
              + ", which is not a file of the image");
    }
    return p;
  }

  /** An opaque directory: removes what lower layers put in it, keeps what this layer did. */
  private static void clearLower(Path d, String dir, Set<String> mine) throws IOException {
    String prefix = dir.isEmpty() ? "" : dir + "/";
    List<Path> children;
    try (Stream<Path> s = Files.list(d)) {
      children = s.toList();
    }
    for (Path c : children) {
      String rel = prefix + c.getFileName();
      boolean written = mine.contains(rel) || mine.stream().anyMatch(m -> m.startsWith(rel + "/"));
      if (!written) {
        Trees.delete(c);
      }
    }
  }
}
