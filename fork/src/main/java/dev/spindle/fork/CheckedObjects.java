package dev.spindle.fork;

import java.io.IOException;
import java.io.InputStream;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.eclipse.jgit.errors.LargeObjectException;
import org.eclipse.jgit.lib.AnyObjectId;
import org.eclipse.jgit.lib.Constants;
import org.eclipse.jgit.lib.ObjectId;
import org.eclipse.jgit.lib.ObjectInserter;
import org.eclipse.jgit.lib.ObjectLoader;
import org.eclipse.jgit.lib.ObjectReader;
import org.eclipse.jgit.lib.TreeFormatter;

/**
 * The Git objects an export reads, from several repositories ({@code files.git}, image files), each
 * checked against its id as it is read or copied: a damaged object is named by id and by the
 * repository that holds it, a missing one by id. Trees the export makes itself ({@link #put}) are
 * written to the output at once and read back from memory.
 */
final class CheckedObjects implements AutoCloseable {
  /** Bounds a tree or commit read whole (a snapshot's tree of 100,000 entries is ~4 MB). */
  static final int MAX_TREE_BYTES = 16 << 20;

  private final List<ObjectReader> readers = new ArrayList<>();
  private final List<String> names = new ArrayList<>();
  private final Map<ObjectId, byte[]> made = new HashMap<>();
  private final ObjectInserter out;
  private final ObjectInserter.Formatter hasher = new ObjectInserter.Formatter();

  /** Objects copied or made into {@code out}, which the caller flushes and closes. */
  CheckedObjects(ObjectInserter out) {
    this.out = out;
  }

  /** A repository to read from, after those added before; closed with this. */
  void add(String name, ObjectReader reader) {
    readers.add(reader);
    names.add(name);
  }

  /** Whether the export made tree {@code id} (it is in the output already). */
  boolean made(AnyObjectId id) {
    return made.containsKey(id);
  }

  /** Writes the tree of {@code entries} into the output; its id. */
  ObjectId put(java.util.Collection<FilesRepo.Entry> entries) throws IOException {
    TreeFormatter f = FilesRepo.formatter(entries);
    byte[] bytes = f.toByteArray();
    ObjectId id = hasher.idFor(Constants.OBJ_TREE, bytes);
    if (made.putIfAbsent(id, bytes) == null) {
      out.insert(Constants.OBJ_TREE, bytes);
    }
    return id;
  }

  /** The content of tree or commit {@code id} (of {@code type}), checked against its id. */
  byte[] bytes(AnyObjectId id, int type) throws IOException {
    byte[] m = made.get(id);
    if (m != null) {
      return m;
    }
    int i = find(id);
    byte[] b;
    try {
      b = readers.get(i).open(id, type).getCachedBytes(MAX_TREE_BYTES);
    } catch (LargeObjectException e) {
      throw new IOException(
          "object " + id.name() + " in " + names.get(i) + " is larger than " + MAX_TREE_BYTES, e);
    } catch (org.eclipse.jgit.errors.IncorrectObjectTypeException e) {
      throw new IOException(
          "object " + id.name() + " in " + names.get(i) + " is not a " + typeName(type), e);
    }
    ObjectId actual = hasher.idFor(type, b);
    if (!actual.equals(id)) {
      throw damaged(id, i, actual);
    }
    return b;
  }

  /**
   * Copies object {@code id} into the output, checked: a tree or commit whole, a blob streamed. Its
   * content if it is a tree or commit (null for a blob).
   */
  byte[] copy(AnyObjectId id, int type) throws IOException {
    if (type != Constants.OBJ_BLOB) {
      byte[] b = bytes(id, type);
      if (!made(id)) {
        out.insert(type, b);
      }
      return b;
    }
    int i = find(id);
    ObjectLoader l;
    try {
      l = readers.get(i).open(id, type);
    } catch (org.eclipse.jgit.errors.IncorrectObjectTypeException e) {
      throw new IOException("object " + id.name() + " in " + names.get(i) + " is not a blob", e);
    }
    ObjectId written;
    try (InputStream in = l.openStream()) {
      written = out.insert(type, l.getSize(), in);
    }
    if (!written.equals(id)) {
      // Written under its true id, which nothing names: the export fails here anyway.
      throw damaged(id, i, written);
    }
    return null;
  }

  private int find(AnyObjectId id) throws IOException {
    for (int i = 0; i < readers.size(); i++) {
      if (readers.get(i).has(id)) {
        return i;
      }
    }
    throw new org.eclipse.jgit.errors.MissingObjectException(id.copy(), "object");
  }

  private IOException damaged(AnyObjectId id, int i, ObjectId actual) {
    return new IOException(
        "object "
            + id.name()
            + " in "
            + names.get(i)
            + " is damaged: its content hashes to "
            + actual.name());
  }

  private static String typeName(int type) {
    return new String(
        Constants.encodedTypeString(type), java.nio.charset.StandardCharsets.US_ASCII);
  }

  @Override
  public void close() {
    for (ObjectReader r : readers) {
      r.close();
    }
  }
}
