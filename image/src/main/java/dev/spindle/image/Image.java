package dev.spindle.image;

import dev.spindle.image.lazy.RemoteBlobs;
import java.io.Closeable;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.OffsetDateTime;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.eclipse.jgit.errors.MissingObjectException;
import org.eclipse.jgit.lib.Constants;
import org.eclipse.jgit.lib.FileMode;
import org.eclipse.jgit.lib.ObjectId;
import org.eclipse.jgit.lib.ObjectLoader;
import org.eclipse.jgit.lib.ObjectReader;
import org.eclipse.jgit.lib.PersonIdent;
import org.eclipse.jgit.revwalk.RevCommit;
import org.eclipse.jgit.revwalk.RevWalk;
import org.eclipse.jgit.treewalk.CanonicalTreeParser;

/**
 * An open, read-only image: an image file, or (see {@link #ofTree}) a Git tree in a repository with
 * no image file, read the lazy way. Thread-safe: every call takes its own JGit reader (over the
 * shared file channel, or from the tree's {@link ObjectSource}), and the path index is an immutable
 * memory mapping.
 */
public final class Image implements Closeable {
  private final Path file;
  private final FileChannel channel; // null for a tree image
  private final ImageHeader header; // null for a tree image
  private final ImageRepository repo; // null for a tree image
  private final ObjectSource objects;
  private final ObjectId root;
  private final ObjectId commitId;
  private final boolean checkBlobs;
  private final AccessMode mode;
  private final PathIndex index; // null in lazy mode
  private final ImageEntry rootEntry;
  private final TreeCache trees = new TreeCache(TREE_CACHE_BYTES);
  private final MetadataTable metadata; // null: the image records none (format version 1)

  /** Trees kept inflated for lazy lookups; a whole /usr/share/doc fits in a few MB. */
  private static final long TREE_CACHE_BYTES = 32L << 20;

  private Image(
      Path file, FileChannel channel, ImageHeader header, AccessMode mode, boolean checkMetadata)
      throws IOException {
    this.file = file;
    this.channel = channel;
    this.header = header;
    this.mode = mode;
    this.repo = ImageRepository.open(channel, header, RemoteBlobs.of(file, header, channel));
    this.objects = repo::newObjectReader;
    this.root = header.root();
    this.commitId = header.commit();
    this.checkBlobs = false;
    this.rootEntry = new ImageEntry("", ImageEntry.TREE, header.root(), 0);
    if (mode == AccessMode.INDEXED) {
      ByteBuffer map =
          channel.map(
              FileChannel.MapMode.READ_ONLY, header.pathIndexOffset(), header.pathIndexLength());
      this.index = PathIndex.read(file.toString(), header.pathIndexOffset(), map);
    } else {
      this.index = null;
    }
    this.metadata = checkMetadata ? loadMetadata() : null;
  }

  private Image(Path source, ObjectSource objects, ObjectId commit, ObjectId tree) {
    this.file = source;
    this.channel = null;
    this.header = null;
    this.repo = null;
    this.objects = objects;
    this.root = tree.copy();
    this.commitId = commit.copy();
    this.checkBlobs = true;
    this.mode = AccessMode.LAZY;
    this.index = null;
    this.metadata = null;
    this.rootEntry = new ImageEntry("", ImageEntry.TREE, root, 0);
  }

  /**
   * Tree {@code tree} of a Git repository as a read-only image with no image file: trees are read
   * lazily from {@code objects} (as a {@link AccessMode#LAZY} image's are), and every blob read is
   * checked against its id, so a damaged object is an error naming the path and the id rather than
   * wrong bytes. {@code commit} (holding the tree, or any commit) dates the files; {@code source}
   * names the repository in errors. Closing the image leaves the repository open: its owner closes
   * it.
   */
  public static Image ofTree(Path source, ObjectSource objects, ObjectId commit, ObjectId tree) {
    java.util.Objects.requireNonNull(commit, "commit");
    return new Image(source, objects, commit, tree);
  }

  /**
   * Reads and checks the metadata section on every open, as its SHA-256 must be the one the commit
   * names: what FUSE, NIO and extract show of owners and modes is then what was signed. A version 1
   * image whose commit names a section has lost it (or had it cut off): refused.
   */
  private MetadataTable loadMetadata() throws IOException {
    String named;
    try (ObjectReader r = objects.newReader();
        RevWalk rw = new RevWalk(r)) {
      named = MetadataTable.namedBy(rw.parseCommit(header.commit()).getFullMessage());
    } catch (IOException | RuntimeException e) {
      throw damaged("reading the commit", e);
    }
    byte[] section = metadataSection();
    String problem = MetadataTable.sectionProblem(header, named, section);
    if (problem != null) {
      throw new ImageFormatException(
          file.toString(), header.hasMetadata() ? header.metadataOffset() : 16, problem);
    }
    return section == null
        ? null
        : MetadataTable.read(file.toString(), header.metadataOffset(), section);
  }

  /** The metadata section, byte for byte, or null when the image has none. */
  public byte[] metadataSection() throws IOException {
    if (!header.hasMetadata()) {
      return null;
    }
    ByteBuffer b = ByteBuffer.allocate(Math.toIntExact(header.metadataLength()));
    while (b.hasRemaining() && channel.read(b, header.metadataOffset() + b.position()) > 0) {}
    return b.array();
  }

  /** The image's metadata table, if it records one (images made before it was kept do not). */
  public Optional<MetadataTable> metadata() {
    return Optional.ofNullable(metadata);
  }

  /** The metadata of {@code e}: as recorded, else {@link EntryMetadata#defaults}. */
  public EntryMetadata metadata(ImageEntry e) {
    if (metadata != null) {
      Optional<EntryMetadata> m = metadata.get(e.path());
      if (m.isPresent()) {
        return m.get();
      }
    }
    return EntryMetadata.defaults(e);
  }

  /**
   * {@code st_nlink} of {@code e}: how many entries are its file (hard links), for a directory 2
   * plus its subdirectories, as Linux counts. An image without metadata says 1 throughout ("not
   * counted", as btrfs does for directories), as it always did.
   */
  public int linkCount(ImageEntry e) throws IOException {
    if (metadata == null) {
      return 1;
    }
    if (e.isDirectory()) {
      int n = 2;
      for (ImageEntry c : list(e)) {
        n += c.isDirectory() ? 1 : 0;
      }
      return n;
    }
    return metadata.linkCount(metadata(e));
  }

  /** Opens an image file; checks its header (magic, version, checksum, section bounds). */
  public static Image open(Path file, AccessMode mode) throws IOException {
    FileChannel ch = FileChannel.open(file, StandardOpenOption.READ);
    try {
      ImageHeader h = readHeader(file, ch);
      checkIdxLayout(file, ch, h);
      return new Image(file, ch, h, mode, true);
    } catch (IOException | RuntimeException e) {
      ch.close();
      throw e;
    }
  }

  /**
   * Opens without reading the metadata section: the verifier checks it and reports every problem.
   */
  static Image openForVerify(Path file) throws IOException {
    FileChannel ch = FileChannel.open(file, StandardOpenOption.READ);
    try {
      ImageHeader h = readHeader(file, ch);
      checkIdxLayout(file, ch, h);
      return new Image(file, ch, h, AccessMode.LAZY, false);
    } catch (IOException | RuntimeException e) {
      ch.close();
      throw e;
    }
  }

  /**
   * JGit sizes its tables from the IDX's fan-out table when it first reads it; a damaged one made
   * opening (not only verifying) an unverified file allocate gigabytes. One read of the IDX (28
   * bytes an object) checks its layout first.
   */
  private static void checkIdxLayout(Path file, FileChannel ch, ImageHeader h) throws IOException {
    ByteBuffer idx = ByteBuffer.allocate(Math.toIntExact(h.idxLength()));
    while (idx.hasRemaining() && ch.read(idx, h.idxOffset() + idx.position()) > 0) {}
    String problem = ImageVerifier.idxLayoutProblem(idx.array());
    if (problem != null) {
      throw new ImageFormatException(file.toString(), h.idxOffset(), problem);
    }
  }

  public static ImageHeader readHeader(Path file, FileChannel ch) throws IOException {
    ByteBuffer b = ByteBuffer.allocate(ImageHeader.SIZE);
    while (b.hasRemaining() && ch.read(b, b.position()) > 0) {}
    return ImageHeader.decode(file.toString(), b.array(), ch.size());
  }

  public Path file() {
    return file;
  }

  /** The image file's header; a tree image ({@link #ofTree}) has none. */
  public ImageHeader header() {
    if (header == null) {
      throw new IllegalStateException(file + ": a tree image has no image file header");
    }
    return header;
  }

  public AccessMode mode() {
    return mode;
  }

  public ObjectId root() {
    return root;
  }

  public ImageEntry rootEntry() {
    return rootEntry;
  }

  public ImageRepository repository() {
    if (repo == null) {
      throw new IllegalStateException(file + ": a tree image has no image repository");
    }
    return repo;
  }

  FileChannel channel() {
    return channel;
  }

  /** The path index section, byte for byte (an image of the same tree carries the same one). */
  public byte[] pathIndexSection() throws IOException {
    ByteBuffer b = ByteBuffer.allocate(Math.toIntExact(header.pathIndexLength()));
    while (b.hasRemaining() && channel.read(b, header.pathIndexOffset() + b.position()) > 0) {}
    return b.array();
  }

  /** The commit the image was made from. */
  public CommitInfo commit() throws IOException {
    try (ObjectReader r = objects.newReader();
        RevWalk rw = new RevWalk(r)) {
      return commitUnchecked(rw);
    } catch (RuntimeException e) {
      throw damaged("reading the commit", e);
    }
  }

  private CommitInfo commitUnchecked(RevWalk rw) throws IOException {
    RevCommit c = rw.parseCommit(commitId);
    PersonIdent a = c.getAuthorIdent();
    return new CommitInfo(
        c.copy(),
        c.getTree().copy(),
        a.getName(),
        a.getEmailAddress(),
        OffsetDateTime.ofInstant(a.getWhenAsInstant(), a.getZoneId()),
        c.getFullMessage());
  }

  /**
   * The entry at {@code path} ("" or "/" for the root; leading '/' optional), without following
   * symlinks. Use {@link PathResolver} for resolution through symlinks.
   */
  public Optional<ImageEntry> lookup(String path) throws IOException {
    try {
      return lookupUnchecked(path);
    } catch (RuntimeException e) {
      throw damaged("looking up " + path, e);
    }
  }

  private Optional<ImageEntry> lookupUnchecked(String path) throws IOException {
    String p = trim(path);
    if (p.isEmpty()) {
      return Optional.of(rootEntry);
    }
    if (index != null) {
      Optional<ImageEntry> e = index.find(p);
      return e.isPresent() ? e : emptyDirectory(p);
    }
    try (ObjectReader reader = objects.newReader()) {
      TreeCache.Hit h = trees.walk(reader, root, p);
      if (h == null) {
        return emptyDirectory(p);
      }
      return Optional.of(entry(reader, p, FileMode.fromBits(h.mode()), h.id()));
    }
  }

  /** An empty directory at {@code p}, which only the metadata knows (a tree cannot hold one). */
  private Optional<ImageEntry> emptyDirectory(String p) {
    if (metadata == null) {
      return Optional.empty();
    }
    return metadata
        .get(p)
        .filter(EntryMetadata::emptyDirectory)
        .map(m -> new ImageEntry(p, ImageEntry.TREE, Constants.EMPTY_TREE_ID, 0));
  }

  /** The entries of directory {@code dir}, in Git's order. */
  public List<ImageEntry> list(ImageEntry dir) throws IOException {
    if (!dir.isDirectory()) {
      throw new IOException(dir.path() + ": not a directory");
    }
    try {
      return listUnchecked(dir);
    } catch (RuntimeException e) {
      throw damaged("listing /" + dir.path(), e);
    }
  }

  private List<ImageEntry> listUnchecked(ImageEntry dir) throws IOException {
    List<ImageEntry> out = new ArrayList<>();
    String prefixed = dir.path().isEmpty() ? "" : dir.path() + "/";
    List<String> empty = metadata == null ? List.of() : metadata.emptyDirectoriesIn(dir.path());
    for (String name : empty) {
      out.add(new ImageEntry(prefixed + name, ImageEntry.TREE, Constants.EMPTY_TREE_ID, 0));
    }
    if (dir.id().equals(Constants.EMPTY_TREE_ID)) {
      return out; // not in the pack when it is an empty directory's
    }
    try (ObjectReader reader = objects.newReader()) {
      CanonicalTreeParser p = new CanonicalTreeParser();
      p.reset(reader.open(dir.id(), Constants.OBJ_TREE).getCachedBytes());
      String prefix = dir.path().isEmpty() ? "" : dir.path() + "/";
      for (; !p.eof(); p.next()) {
        String child = prefix + p.getEntryPathString();
        out.add(entry(reader, child, p.getEntryFileMode(), p.getEntryObjectId()));
      }
    }
    if (!empty.isEmpty()) {
      out.sort(Image::gitOrder);
    }
    return out;
  }

  /** All bytes of a blob (file content or symlink target). */
  public byte[] read(ImageEntry e) throws IOException {
    try (ObjectReader reader = objects.newReader()) {
      ObjectLoader l = reader.open(e.id(), Constants.OBJ_BLOB);
      byte[] bytes = l.getCachedBytes(Integer.MAX_VALUE - 8);
      if (checkBlobs) {
        BlobCheck.require(source(), e.path(), e.id(), bytes);
      }
      return bytes;
    } catch (MissingObjectException ex) {
      throw missing(e, ex);
    } catch (RuntimeException ex) {
      throw damaged("reading /" + e.path(), ex);
    }
  }

  /** A stream over a blob; for large files it inflates as it goes instead of all at once. */
  public InputStream open(ImageEntry e) throws IOException {
    ObjectReader reader = objects.newReader();
    try {
      ObjectLoader l = reader.open(e.id(), Constants.OBJ_BLOB);
      InputStream in =
          checkBlobs
              ? BlobCheck.stream(source(), e.path(), e.id(), l.getSize(), l.openStream())
              : l.openStream();
      return new java.io.FilterInputStream(in) {
        @Override
        public void close() throws IOException {
          try {
            super.close();
          } finally {
            reader.close();
          }
        }
      };
    } catch (MissingObjectException ex) {
      reader.close();
      throw missing(e, ex);
    } catch (IOException ex) {
      reader.close();
      throw ex;
    } catch (RuntimeException ex) {
      reader.close();
      throw damaged("reading /" + e.path(), ex);
    }
  }

  /** What errors name as the image: its file, or a tree image's repository and tree. */
  private String source() {
    return header == null ? file + " (tree " + root.name() + ")" : file.toString();
  }

  private IOException missing(ImageEntry e, MissingObjectException ex) {
    return new IOException(
        source() + ": /" + e.path() + " names missing object " + e.id().name(), ex);
  }

  /** A symlink's target, as stored. */
  public String readLink(ImageEntry e) throws IOException {
    if (!e.isSymlink()) {
      throw new IOException(e.path() + ": not a symbolic link");
    }
    return new String(read(e), StandardCharsets.UTF_8);
  }

  /** The entry at {@code path}, or a {@link NoSuchFileException} naming it. */
  public ImageEntry require(String path) throws IOException {
    return lookup(path)
        .orElseThrow(() -> new NoSuchFileException(path, null, "not in image " + file));
  }

  private static ImageEntry entry(ObjectReader reader, String path, FileMode m, ObjectId id)
      throws IOException {
    long size = 0;
    if (m.getObjectType() == Constants.OBJ_BLOB) {
      try {
        size = reader.getObjectSize(id, Constants.OBJ_BLOB);
      } catch (MissingObjectException e) {
        throw new IOException("image damaged: " + path + " names missing object " + id.name(), e);
      }
    }
    return new ImageEntry(path, m.getBits(), id.copy(), size);
  }

  /**
   * JGit and the path index signal some damage with unchecked exceptions (an index past the end of
   * an array, a malformed tree); callers of an image get an IOException naming the file.
   */
  private ImageFormatException damaged(String what, Exception e) {
    ImageFormatException x =
        new ImageFormatException(source(), -1, "image damaged while " + what + ": " + e);
    x.initCause(e);
    return x;
  }

  /** Git's order of tree entries: unsigned bytes, a directory's name compared as name + "/". */
  private static int gitOrder(ImageEntry a, ImageEntry b) {
    return java.util.Arrays.compareUnsigned(sortKey(a), sortKey(b));
  }

  private static byte[] sortKey(ImageEntry e) {
    return (e.name() + (e.isDirectory() ? "/" : "")).getBytes(StandardCharsets.UTF_8);
  }

  static String trim(String path) {
    int start = 0;
    int end = path.length();
    while (start < end && path.charAt(start) == '/') {
      start++;
    }
    while (end > start && path.charAt(end - 1) == '/') {
      end--;
    }
    return path.substring(start, end);
  }

  @Override
  public void close() throws IOException {
    if (repo == null) {
      return; // a tree image borrows its objects' repository
    }
    try {
      repo.close();
    } finally {
      channel.close();
    }
  }
}
