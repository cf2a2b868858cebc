package dev.spindle.image;

import org.eclipse.jgit.lib.FileMode;
import org.eclipse.jgit.lib.ObjectId;

/**
 * One file, directory or symlink of an image: its path from the root (no leading '/', "" for the
 * root itself), its Git mode, its object id and, for blobs, its size in bytes.
 */
public record ImageEntry(String path, int mode, ObjectId id, long size) {
  public static final int TREE = FileMode.TREE.getBits();
  public static final int REGULAR = FileMode.REGULAR_FILE.getBits();
  public static final int EXECUTABLE = FileMode.EXECUTABLE_FILE.getBits();
  public static final int SYMLINK = FileMode.SYMLINK.getBits();
  public static final int GITLINK = FileMode.GITLINK.getBits();

  public boolean isDirectory() {
    return mode == TREE;
  }

  public boolean isSymlink() {
    return mode == SYMLINK;
  }

  public boolean isRegularFile() {
    return mode == REGULAR || mode == EXECUTABLE;
  }

  public boolean isExecutable() {
    return mode == EXECUTABLE;
  }

  /** The last path element ("" for the root). */
  public String name() {
    int slash = path.lastIndexOf('/');
    return slash < 0 ? path : path.substring(slash + 1);
  }

  /** The mode as git prints it: 100644, 100755, 120000, 040000, 160000. */
  public String modeString() {
    return String.format("%06o", mode);
  }

  /** The object type as git prints it. */
  public String type() {
    if (mode == TREE) {
      return "tree";
    }
    return mode == GITLINK ? "commit" : "blob";
  }
}
