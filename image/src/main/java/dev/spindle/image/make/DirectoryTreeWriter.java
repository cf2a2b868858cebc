package dev.spindle.image.make;

import dev.spindle.image.EntryMetadata;
import dev.spindle.image.MetadataTable;
import dev.spindle.image.Progress;
import dev.spindle.image.Xattrs;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.AccessDeniedException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFileAttributes;
import java.nio.file.attribute.PosixFilePermission;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.eclipse.jgit.lib.Constants;
import org.eclipse.jgit.lib.FileMode;
import org.eclipse.jgit.lib.ObjectId;
import org.eclipse.jgit.lib.ObjectInserter;
import org.eclipse.jgit.lib.TreeFormatter;

/**
 * Turns a directory into Git trees and blobs, exactly as {@code git add -A -f && git write-tree}
 * would: entries in Git's order (unsigned bytes, a directory compared as {@code name + "/"}), empty
 * directories left out, a file executable when its owner may execute it, symlinks stored as their
 * target, {@code .git} left out. Device files, sockets, pipes and unreadable files are refused with
 * the path named, since an image that silently lacks them would lie.
 *
 * <p>Beside the tree it gathers what the tree cannot hold ({@link #metadata}): every entry's mode
 * bits, owner (as {@link Owners} says), extended attributes and hard-link identity, and the empty
 * directories the tree leaves out.
 */
final class DirectoryTreeWriter {
  private final ObjectInserter inserter;
  private final Progress progress;

  private final Owners owners;
  private final Map<String, EntryMetadata> override;
  private final List<EntryMetadata> gathered = new ArrayList<>();
  private final Map<Object, List<String>> byFile = new HashMap<>(); // (dev, ino) -> paths
  private final Map<String, Object> fileOf = new HashMap<>();

  DirectoryTreeWriter(ObjectInserter inserter, Progress progress) {
    this(inserter, progress, Owners.NONE, null);
  }

  DirectoryTreeWriter(
      ObjectInserter inserter,
      Progress progress,
      Owners owners,
      Map<String, EntryMetadata> override) {
    this.inserter = inserter;
    this.progress = progress;
    this.owners = owners;
    this.override = override == null ? Map.of() : override;
  }

  /** Writes the tree of {@code dir}; returns its id (the empty tree's id for an empty dir). */
  ObjectId write(Path dir) throws IOException {
    gather(dir, "", false);
    ObjectId id = writeTree(dir, "");
    return id == null ? inserter.insert(new TreeFormatter()) : id;
  }

  /**
   * The metadata of what {@link #write} wrote. Hard links are numbered in path order, so the same
   * directory gives the same table; a file linked only from outside the directory has none.
   */
  MetadataTable metadata() {
    MetadataTable sorted = MetadataTable.of(owners.recorded() || !override.isEmpty(), gathered);
    Map<Object, Integer> numbers = new HashMap<>();
    List<EntryMetadata> out = new ArrayList<>();
    for (EntryMetadata m : sorted.entries()) {
      Object file = fileOf.get(m.path());
      int link = 0;
      if (file != null && byFile.get(file).size() > 1) {
        link = numbers.computeIfAbsent(file, f -> numbers.size() + 1);
      }
      out.add(
          new EntryMetadata(
              m.path(), m.mode(), m.uid(), m.gid(), link, m.emptyDirectory(), m.xattrs()));
    }
    return MetadataTable.of(sorted.ownersRecorded(), out);
  }

  /** Records {@code p}'s metadata ({@code rel}: its path in the image). */
  private void gather(Path p, String rel, boolean emptyDirectory) throws IOException {
    Map<String, Object> a =
        Files.readAttributes(p, "unix:mode,uid,gid,ino,dev,nlink", LinkOption.NOFOLLOW_LINKS);
    int mode = (Integer) a.get("mode");
    int uid =
        switch (owners.kind()) {
          case FROM_FILES -> (Integer) a.get("uid");
          case FIXED -> owners.uid();
          case NONE -> 0;
        };
    int gid =
        switch (owners.kind()) {
          case FROM_FILES -> (Integer) a.get("gid");
          case FIXED -> owners.gid();
          case NONE -> 0;
        };
    List<EntryMetadata.Xattr> xattrs = Xattrs.read(p);
    EntryMetadata o = override.get(rel);
    if (o != null) {
      mode = (mode & EntryMetadata.S_IFMT) | o.permissions();
      uid = o.uid();
      gid = o.gid();
      xattrs = o.xattrs();
    }
    if ((mode & EntryMetadata.S_IFMT) != EntryMetadata.S_IFDIR && (Integer) a.get("nlink") > 1) {
      Object file = List.of(a.get("dev"), a.get("ino"));
      byFile.computeIfAbsent(file, f -> new ArrayList<>()).add(rel);
      fileOf.put(rel, file);
    }
    gathered.add(new EntryMetadata(rel, mode, uid, gid, 0, emptyDirectory, xattrs));
  }

  private record Child(byte[] sortKey, byte[] name, FileMode mode, ObjectId id) {}

  /** Returns null for a directory with nothing to store (git does not store empty trees). */
  private ObjectId writeTree(Path dir, String rel) throws IOException {
    List<Child> children = new ArrayList<>();
    try (DirectoryStream<Path> ds = Files.newDirectoryStream(dir)) {
      for (Path p : ds) {
        String name = p.getFileName().toString();
        if (name.equals(".git")) {
          continue;
        }
        Child c = child(p, name, rel.isEmpty() ? name : rel + "/" + name);
        if (c != null) {
          children.add(c);
        }
      }
    } catch (AccessDeniedException e) {
      throw new IOException("cannot read directory " + dir + ": permission denied", e);
    }
    if (children.isEmpty()) {
      return null;
    }
    children.sort((a, b) -> Arrays.compareUnsigned(a.sortKey, b.sortKey));
    TreeFormatter tree = new TreeFormatter();
    for (Child c : children) {
      tree.append(c.name, 0, c.name.length, c.mode, c.id);
    }
    return inserter.insert(tree);
  }

  private Child child(Path p, String name, String rel) throws IOException {
    byte[] raw = name.getBytes(StandardCharsets.UTF_8);
    PosixFileAttributes a =
        Files.readAttributes(p, PosixFileAttributes.class, LinkOption.NOFOLLOW_LINKS);
    if (a.isSymbolicLink()) {
      byte[] target = Files.readSymbolicLink(p).toString().getBytes(StandardCharsets.UTF_8);
      ObjectId id = inserter.insert(Constants.OBJ_BLOB, target);
      gather(p, rel, false);
      return new Child(raw, raw, FileMode.SYMLINK, id);
    }
    if (a.isDirectory()) {
      ObjectId id = writeTree(p, rel);
      gather(p, rel, id == null);
      if (id == null) {
        return null;
      }
      byte[] key = Arrays.copyOf(raw, raw.length + 1);
      key[raw.length] = '/';
      return new Child(key, raw, FileMode.TREE, id);
    }
    if (!a.isRegularFile()) {
      throw new IOException(
          "cannot put " + p + " in an image: it is a device, socket or pipe, not a file");
    }
    FileMode mode =
        a.permissions().contains(PosixFilePermission.OWNER_EXECUTE)
            ? FileMode.EXECUTABLE_FILE
            : FileMode.REGULAR_FILE;
    ObjectId id;
    try (InputStream in = Files.newInputStream(p)) {
      id = inserter.insert(Constants.OBJ_BLOB, a.size(), in);
    } catch (AccessDeniedException e) {
      throw new IOException("cannot read " + p + ": permission denied", e);
    }
    gather(p, rel, false);
    progress.advance(1);
    return new Child(raw, raw, mode, id);
  }
}
