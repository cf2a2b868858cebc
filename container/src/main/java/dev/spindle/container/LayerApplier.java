package dev.spindle.container;

import dev.spindle.store.Hashes;
import dev.spindle.store.Trees;
import io.airlift.compress.zstd.ZstdInputStream;
import java.io.BufferedInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.DigestInputStream;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
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
 * are refused, and symlinks on the way to an entry resolve inside the root as in a chroot (see
 * {@link #directory}); the entry itself replaces whatever is at its path, never writing through
 * it. What an image cannot hold is skipped and counted: devices, FIFOs; owners, times and modes
 * beyond the execute bit are dropped.
 */
final class LayerApplier {
  private static final String WHITEOUT = ".wh.";
  private static final String OPAQUE = ".wh..wh..opq";
  /** Linux's limit of symlinks per lookup (ELOOP). */
  private static final int MAX_HOPS = 40;

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
   * Applies one layer (plain, gzip or zstd tar, told apart by their magic numbers); returns {@code sha256:<hex>} of the uncompressed tar,
   * the layer's diff id, which the caller checks against the image config.
   */
  String apply(InputStream layer, String name) throws IOException {
    BufferedInputStream buffered = new BufferedInputStream(layer);
    DigestInputStream uncompressed = new DigestInputStream(decompress(buffered), Hashes.sha256());
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

  private static InputStream decompress(BufferedInputStream in) throws IOException {
    in.mark(4);
    byte[] magic = in.readNBytes(4);
    in.reset();
    if (magic.length >= 2 && (magic[0] & 0xff) == 0x1f && (magic[1] & 0xff) == 0x8b) {
      return GzipCompressorInputStream.builder().setInputStream(in).setDecompressConcatenated(true).get();
    }
    if (magic.length == 4 && (magic[0] & 0xff) == 0x28 && (magic[1] & 0xff) == 0xb5
        && (magic[2] & 0xff) == 0x2f && (magic[3] & 0xff) == 0xfd) {
      return new ZstdInputStream(in);
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
      Path d = directory(dir, layer);
      clearLower(d, dir, mine);
      return;
    }
    if (base.startsWith(WHITEOUT)) {
      String hidden = (dir.isEmpty() ? "" : dir + "/") + base.substring(WHITEOUT.length());
      if (!mine.contains(hidden)) {
        Trees.delete(directory(dir, layer).resolve(base.substring(WHITEOUT.length())));
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
      Files.copy(target, p, LinkOption.NOFOLLOW_LINKS, java.nio.file.StandardCopyOption.COPY_ATTRIBUTES);
    } else if (e.isFile()) {
      Trees.delete(p);
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

  /**
   * The directory {@code rel} names, resolved as the kernel would inside a chroot at the root:
   * symlinks on the way are followed (an absolute target starts again at the root, {@code ..}
   * stops at the root, at most {@value #MAX_HOPS} hops), missing directories are made, and a
   * file where a directory must be is replaced. So a layer writes through a lower layer's
   * {@code /bin -> usr/bin} as Docker does, and nothing it names can leave the root.
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
          throw new IOException("layer " + layer + ": more than " + MAX_HOPS + " symlinks on the way to " + rel);
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
    Path p = directory(slash < 0 ? "" : rel.substring(0, slash), layer).resolve(rel.substring(slash + 1));
    if (!Files.isRegularFile(p, LinkOption.NOFOLLOW_LINKS)) {
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
        Trees.delete(c);
      }
    }
  }
}
