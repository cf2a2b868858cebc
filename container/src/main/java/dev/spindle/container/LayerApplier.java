package dev.spindle.container;

import java.io.BufferedInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.DigestInputStream;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashSet;
import java.util.HexFormat;
import java.util.List;
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
 * are refused, and nothing on the way to an entry is followed through a symlink (a symlink or
 * file where a later layer needs a directory is replaced by a directory). What an image cannot
 * hold is skipped and counted: devices, FIFOs, owners, times, modes beyond the execute bit.
 */
final class LayerApplier {
  private static final String WHITEOUT = ".wh.";
  private static final String OPAQUE = ".wh..wh..opq";

  private final Path root;
  private int skipped;

  LayerApplier(Path root) throws IOException {
    this.root = root.toRealPath();
  }

  /** Entries skipped because an image cannot hold them (devices, FIFOs). */
  int skipped() {
    return skipped;
  }

  /**
   * Applies one layer (plain or gzip tar); returns {@code sha256:<hex>} of the uncompressed tar,
   * the layer's diff id, which the caller checks against the image config.
   */
  String apply(InputStream layer, String name) throws IOException {
    BufferedInputStream buffered = new BufferedInputStream(layer);
    DigestInputStream uncompressed = new DigestInputStream(decompress(buffered, name), sha256());
    Set<String> mine = new HashSet<>(); // paths this layer wrote: whiteouts only hide lower ones
    TarArchiveInputStream tar = new TarArchiveInputStream(uncompressed);
    try {
      for (TarArchiveEntry e = tar.getNextEntry(); e != null; e = tar.getNextEntry()) {
        applyEntry(tar, e, name, mine);
      }
    } catch (IllegalArgumentException malformed) {
      throw new IOException("layer " + name + " is not a valid tar: " + malformed.getMessage(), malformed);
    }
    uncompressed.transferTo(OutputStream.nullOutputStream()); // the tar's padding counts in the diff id
    return "sha256:" + HexFormat.of().formatHex(uncompressed.getMessageDigest().digest());
  }

  private static InputStream decompress(BufferedInputStream in, String name) throws IOException {
    in.mark(4);
    byte[] magic = in.readNBytes(4);
    in.reset();
    if (magic.length >= 2 && (magic[0] & 0xff) == 0x1f && (magic[1] & 0xff) == 0x8b) {
      return GzipCompressorInputStream.builder().setInputStream(in).setDecompressConcatenated(true).get();
    }
    if (magic.length == 4 && (magic[0] & 0xff) == 0x28 && (magic[1] & 0xff) == 0xb5
        && (magic[2] & 0xff) == 0x2f && (magic[3] & 0xff) == 0xfd) {
      throw new IOException("layer " + name + " is zstd-compressed: only plain and gzip layers are supported");
    }
    return in;
  }

  private void applyEntry(TarArchiveInputStream tar, TarArchiveEntry e, String layer, Set<String> mine)
      throws IOException {
    String rel = normalize(e.getName(), layer);
    if (rel.isEmpty()) {
      return; // "./" itself
    }
    int slash = rel.lastIndexOf('/');
    String dir = slash < 0 ? "" : rel.substring(0, slash);
    String base = rel.substring(slash + 1);
    if (base.equals(OPAQUE)) {
      Path d = directory(dir);
      clearLower(d, dir, mine);
      return;
    }
    if (base.startsWith(WHITEOUT)) {
      String hidden = (dir.isEmpty() ? "" : dir + "/") + base.substring(WHITEOUT.length());
      if (!mine.contains(hidden)) {
        deleteTree(directory(dir).resolve(base.substring(WHITEOUT.length())));
      }
      return;
    }
    if (e.isCharacterDevice() || e.isBlockDevice() || e.isFIFO()) {
      skipped++; // no such thing in a Git tree (and commons-compress calls a FIFO a file)
      return;
    }
    Path parent = directory(dir);
    Path p = parent.resolve(base);
    if (e.isDirectory()) {
      if (!Files.isDirectory(p, LinkOption.NOFOLLOW_LINKS)) {
        deleteTree(p);
        Files.createDirectory(p);
      }
    } else if (e.isSymbolicLink()) {
      deleteTree(p);
      Files.createSymbolicLink(p, Path.of(e.getLinkName()));
    } else if (e.isLink()) {
      Path target = resolveExisting(normalize(e.getLinkName(), layer), layer, rel);
      deleteTree(p);
      Files.copy(target, p, LinkOption.NOFOLLOW_LINKS, java.nio.file.StandardCopyOption.COPY_ATTRIBUTES);
    } else if (e.isFile()) {
      deleteTree(p);
      Files.copy(tar, p);
      boolean exec = (e.getMode() & 0100) != 0;
      Files.setPosixFilePermissions(p, PosixFilePermissions.fromString(exec ? "rwxr-xr-x" : "rw-r--r--"));
    } else {
      throw new IOException("layer " + layer + ": entry " + rel + " has a tar type spindle does not know: '"
          + (char) e.getLinkFlag() + "'");
    }
    mine.add(rel);
  }

  /** A tar name as a clean relative path; {@code ..} anywhere is refused. */
  private static String normalize(String name, String layer) throws IOException {
    List<String> parts = new ArrayList<>();
    for (String s : name.split("/")) {
      if (s.isEmpty() || s.equals(".")) {
        continue;
      }
      if (s.equals("..")) {
        throw new IOException("layer " + layer + " has an entry that climbs out of the root: " + name);
      }
      parts.add(s);
    }
    return String.join("/", parts);
  }

  /** The directory {@code rel} under the root, made where missing; never through a symlink. */
  private Path directory(String rel) throws IOException {
    Path p = root;
    if (rel.isEmpty()) {
      return p;
    }
    for (String s : rel.split("/")) {
      p = p.resolve(s);
      if (!Files.isDirectory(p, LinkOption.NOFOLLOW_LINKS)) {
        deleteTree(p);
        Files.createDirectory(p);
      }
    }
    return p;
  }

  /** A regular file an earlier entry made (the target of a hard link), without following links. */
  private Path resolveExisting(String rel, String layer, String link) throws IOException {
    Path p = root;
    for (String s : rel.split("/")) {
      if (Files.isSymbolicLink(p)) {
        break;
      }
      p = p.resolve(s);
    }
    if (!Files.isRegularFile(p, LinkOption.NOFOLLOW_LINKS) || !p.equals(root.resolve(rel))) {
      throw new IOException("layer " + layer + ": hard link " + link + " points at " + rel
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
        deleteTree(c);
      }
    }
  }

  /** Deletes a file, symlink (not its target) or directory tree, if there. */
  static void deleteTree(Path p) throws IOException {
    if (!Files.exists(p, LinkOption.NOFOLLOW_LINKS)) {
      return;
    }
    if (!Files.isDirectory(p, LinkOption.NOFOLLOW_LINKS)) {
      Files.delete(p);
      return;
    }
    try (Stream<Path> s = Files.walk(p)) { // walk does not follow symlinks
      for (Path q : s.sorted(Comparator.reverseOrder()).toList()) {
        Files.delete(q);
      }
    }
  }

  static MessageDigest sha256() {
    try {
      return MessageDigest.getInstance("SHA-256");
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("the JDK always has SHA-256", e);
    }
  }
}
