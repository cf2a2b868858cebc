package dev.spindle.testing;

import java.nio.file.Files;
import java.nio.file.Path;

/** Finding test inputs that live outside the module under test. */
public final class TestFiles {
  private TestFiles() {}

  /** {@code relative} below the first ancestor of the working directory that has it, or null. */
  public static Path findUpward(String relative) {
    for (Path p = Path.of("").toAbsolutePath(); p != null; p = p.getParent()) {
      Path candidate = p.resolve(relative);
      if (Files.exists(candidate)) {
        return candidate;
      }
    }
    return null;
  }
}
