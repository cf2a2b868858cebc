package dev.spindle.store;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

/**
 * The store directory: {@code $SPINDLE_HOME}, else {@code ~/.spindle}. Everything Spindle keeps
 * lives below it; each kind of thing in its own subdirectory.
 */
public record SpindleHome(Path root) {
  public SpindleHome {
    root = root.toAbsolutePath().normalize();
  }

  /** The home named by the environment: {@code SPINDLE_HOME}, else {@code ~/.spindle}. */
  public static SpindleHome fromEnvironment() {
    return fromEnvironment(System.getenv(), System.getProperty("user.home"));
  }

  static SpindleHome fromEnvironment(Map<String, String> env, String userHome) {
    String home = env.get("SPINDLE_HOME");
    if (home != null && !home.isBlank()) {
      return new SpindleHome(Path.of(home));
    }
    return new SpindleHome(Path.of(userHome, ".spindle"));
  }

  public Path images() {
    return root.resolve("images");
  }

  /** Creates the directory tree if it is missing, and says clearly when it cannot. */
  public SpindleHome create() throws IOException {
    try {
      Files.createDirectories(images());
    } catch (IOException e) {
      throw new IOException("cannot create the Spindle home " + root + ": " + e, e);
    }
    return this;
  }
}
