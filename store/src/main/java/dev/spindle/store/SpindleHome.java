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

  // Every path under the home is named here, so what lives where is read in one place.

  /** Images by tag: {@code images/<tag>.img} ({@code ImageStore}). */
  public Path images() {
    return root.resolve("images");
  }

  /** Snapshots by tag: {@code snapshots/<tag>/} ({@code SnapshotStore}). */
  public Path snapshots() {
    return root.resolve("snapshots");
  }

  /** Wasm modules by SHA-256, named by snapshots: {@code modules/<sha256>.wasm}. */
  public Path modules() {
    return root.resolve("modules");
  }

  /** The directories sandboxes own ({@code live/}, {@code frozen/}, {@code images/}). */
  public Path files() {
    return root.resolve("files");
  }

  /** The bare Git repository that holds the sandboxes' files by snapshot. */
  public Path filesRepo() {
    return root.resolve("files.git");
  }

  /** The object cache shared by all lazily pulled images. */
  public Path objects() {
    return root.resolve("objects");
  }

  /** The public keys whose image signatures this home trusts. */
  public Path trustedKeys() {
    return root.resolve("trusted-keys");
  }

  /** Container state (bundles, overlays), shared by the CLI and the node. */
  public Path containers() {
    return root.resolve("containers");
  }

  /** Where registry pulls stage their blobs, resumable across attempts. */
  public Path registryStaging() {
    return root.resolve("registry-staging");
  }

  /** The node's fallback page store for remote fork, when no other is configured. */
  public Path pages() {
    return root.resolve("pages");
  }

  /** The node's state database (SQLite). */
  public Path stateDb() {
    return root.resolve("state.db");
  }

  /**
   * The node's bearer token (mode 0600). The client SDK, which does not depend on the store, names
   * the same file as {@code Api.TOKEN_FILE}.
   */
  public Path token() {
    return root.resolve("daemon.token");
  }

  /** The node's private signing key (Ed25519, PKCS#8, base64; mode 0600). */
  public Path nodeKey() {
    return root.resolve("node-key");
  }

  /** The public half of {@link #nodeKey()} (X.509, base64). */
  public Path nodePublicKey() {
    return root.resolve("node-key.pub");
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
