package dev.spindle.image;

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
import java.util.List;
import org.eclipse.jgit.lib.Constants;
import org.eclipse.jgit.lib.FileMode;
import org.eclipse.jgit.lib.ObjectId;
import org.eclipse.jgit.lib.ObjectInserter;
import org.eclipse.jgit.lib.TreeFormatter;

/**
 * Turns a directory into Git trees and blobs, exactly as {@code git add -A -f && git write-tree}
 * would: entries in Git's order (unsigned bytes, a directory compared as {@code name + "/"}),
 * empty directories left out, a file executable when its owner may execute it, symlinks stored as
 * their target, {@code .git} left out. Device files, sockets, pipes and unreadable files are
 * refused with the path named, since an image that silently lacks them would lie.
 */
final class DirectoryTreeWriter {
  private final ObjectInserter inserter;
  private final Progress progress;

  DirectoryTreeWriter(ObjectInserter inserter, Progress progress) {
    this.inserter = inserter;
    this.progress = progress;
  }

  /** Writes the tree of {@code dir}; returns its id (the empty tree's id for an empty dir). */
  ObjectId write(Path dir) throws IOException {
    ObjectId id = writeTree(dir);
    return id == null ? inserter.insert(new TreeFormatter()) : id;
  }

  private record Child(byte[] sortKey, byte[] name, FileMode mode, ObjectId id) {}

  /** Returns null for a directory with nothing to store (git does not store empty trees). */
  private ObjectId writeTree(Path dir) throws IOException {
    List<Child> children = new ArrayList<>();
    try (DirectoryStream<Path> ds = Files.newDirectoryStream(dir)) {
      for (Path p : ds) {
        String name = p.getFileName().toString();
        if (name.equals(".git")) {
          continue;
        }
        Child c = child(p, name);
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

  private Child child(Path p, String name) throws IOException {
    byte[] raw = name.getBytes(StandardCharsets.UTF_8);
    PosixFileAttributes a =
        Files.readAttributes(p, PosixFileAttributes.class, LinkOption.NOFOLLOW_LINKS);
    if (a.isSymbolicLink()) {
      byte[] target = Files.readSymbolicLink(p).toString().getBytes(StandardCharsets.UTF_8);
      ObjectId id = inserter.insert(Constants.OBJ_BLOB, target);
      return new Child(raw, raw, FileMode.SYMLINK, id);
    }
    if (a.isDirectory()) {
      ObjectId id = writeTree(p);
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
    progress.advance(1);
    return new Child(raw, raw, mode, id);
  }
}
