package dev.spindle.store;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.stream.Stream;

/** Directory trees on disk. */
public final class Trees {
  private Trees() {}

  /**
   * Deletes {@code p} and, if it is a directory, everything below it, children first. Symbolic
   * links are never followed: a link (also {@code p} itself) is removed, not its target. Nothing
   * there is not an error, nor is an entry that disappears while the tree is deleted.
   */
  public static void delete(Path p) throws IOException {
    if (!Files.exists(p, LinkOption.NOFOLLOW_LINKS)) {
      return;
    }
    try (Stream<Path> s = Files.walk(p)) { // walk does not follow symlinks
      for (Path x : s.sorted(Comparator.reverseOrder()).toList()) {
        Files.deleteIfExists(x);
      }
    }
  }
}
