package dev.spindle.fork;

import java.io.IOException;
import java.nio.file.Path;

/**
 * Opens the root directory of an image, read-only, for a sandbox's directory: the fork module
 * records image directories by tag and root tree id (never a host path) and asks the node to open
 * them again when it branches a snapshot. The node checks its own policy (signatures) there.
 */
@FunctionalInterface
public interface ImageDirs {
  /**
   * The image {@code tag}'s root directory on a read-only file system.
   *
   * @param root the root tree id (40 hex) the directory had when it was recorded, or null for
   *     whatever the tag holds now
   * @throws IOException if there is no such image, or the tag now holds another root
   */
  Path open(String tag, String root) throws IOException;
}
