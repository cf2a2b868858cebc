package dev.spindle.remote;

import java.io.IOException;
import java.io.InputStream;

/**
 * The Git objects a descriptor's capability may read, on the parent's node: the sandbox's files
 * commit and what its tree reaches (not the commit's ancestors). The page service answers only
 * these (GET_OBJECTS), so a child reads its parent's files and nothing else of the node's {@code
 * files.git}. The remote module knows objects by id only; the fork module, which owns the
 * repository, implements it.
 */
public interface GitObjects {
  /** Git's object types, as the protocol carries them. */
  int COMMIT = 1;

  int TREE = 2;
  int BLOB = 3;

  /** An object's type, size, and its content from the first byte (the caller closes it). */
  record Opened(int type, long size, InputStream content) {}

  /**
   * Object {@code id} (20 bytes), or null when this export does not hold it (not reachable from the
   * files commit the descriptor names, or not in the repository at all).
   */
  Opened open(byte[] id) throws IOException;
}
