package dev.spindle.fork;

import java.nio.file.Path;

/**
 * The host directories a node's operator lends sandboxes by name (volumes): shared, never copied. A
 * snapshot records a volume preopen by name (the host path {@code HOME/files/volumes/NAME} in its
 * state, which no sandbox opens) and each branch opens the directory the node names so now; a node
 * without that volume refuses the branch rather than open a path the snapshot recorded.
 */
public interface VolumeDirs {
  /** The host directory of volume {@code name} on this node, or null when it has none. */
  Path path(String name);

  /** The name of the volume whose host directory is {@code host}, or null if none is. */
  String nameOf(Path host);
}
