package dev.spindle.image.nio;

import java.nio.file.LinkOption;
import java.nio.file.OpenOption;
import java.nio.file.ReadOnlyFileSystemException;
import java.nio.file.StandardOpenOption;
import java.util.Set;

/**
 * The one place that rejects writing through open options (zipfs checks read-only at ten call
 * sites; this is the only one here). {@code CREATE}, {@code CREATE_NEW} and {@code
 * TRUNCATE_EXISTING} are ignored without {@code WRITE}, as {@code Files.newByteChannel} specifies;
 * {@code SPARSE}, {@code SYNC} and {@code DSYNC} are hints. {@code DELETE_ON_CLOSE} is refused: it
 * asks for a deletion, even on a channel opened for reading.
 */
final class ReadOnlyOptions {
  private static final Set<StandardOpenOption> WRITING =
      Set.of(
          StandardOpenOption.WRITE, StandardOpenOption.APPEND, StandardOpenOption.DELETE_ON_CLOSE);

  private ReadOnlyOptions() {}

  /** Returns whether to follow a final symlink; throws if the options would write. */
  static boolean check(Set<? extends OpenOption> options) {
    boolean follow = true;
    for (OpenOption o : options) {
      switch (o) {
        case StandardOpenOption s when WRITING.contains(s) ->
            throw new ReadOnlyFileSystemException();
        case StandardOpenOption s -> {}
        case LinkOption l -> follow = false;
        default -> throw new UnsupportedOperationException("unsupported open option " + o);
      }
    }
    return follow;
  }

  static boolean follow(LinkOption... options) {
    for (LinkOption o : options) {
      if (o == LinkOption.NOFOLLOW_LINKS) {
        return false;
      }
    }
    return true;
  }
}
