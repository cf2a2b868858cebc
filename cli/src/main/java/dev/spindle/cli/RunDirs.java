package dev.spindle.cli;

import dev.spindle.sandbox.SandboxBuilder;
import dev.spindle.sandbox.overlay.OverlayFileSystems;
import dev.spindle.store.Trees;
import java.io.IOException;
import java.nio.file.FileSystem;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * The preopened directories of {@code spindle run} ({@code --dir GUEST=HOSTDIR|GUEST=image:PATH}):
 * host directories as they are, image directories under a writable layer in {@code upper} (else in
 * a temporary directory). Closing it closes the layers and removes a temporary upper.
 */
final class RunDirs implements AutoCloseable {
  private final FileSystem imageFs;
  private final Path upper;
  private final List<FileSystem> overlays = new ArrayList<>();
  private Path tempUpper;

  /** {@code imageFs}: the {@code --image}, or null; {@code upper}: {@code --upper}, or null. */
  RunDirs(FileSystem imageFs, Path upper) {
    this.imageFs = imageFs;
    this.upper = upper;
  }

  /** Preopens the directory {@code spec} ({@code GUEST=SOURCE}) names in {@code b}. */
  void add(SandboxBuilder b, String spec) throws IOException {
    int eq = spec.indexOf('=');
    if (eq <= 0) {
      throw new IllegalArgumentException(
          "--dir: expected GUEST=HOSTDIR or GUEST=image:PATH: " + spec);
    }
    String guest = spec.substring(0, eq);
    String source = spec.substring(eq + 1);
    if (source.startsWith("image:")) {
      if (imageFs == null) {
        throw new IllegalArgumentException("--dir " + spec + ": needs --image");
      }
      Path lower = imageFs.getPath("/").resolve(source.substring("image:".length()));
      if (!Files.isDirectory(lower)) {
        throw new IllegalArgumentException(
            "--dir " + spec + ": not a directory in the image: " + lower);
      }
      if (upper == null && tempUpper == null) {
        tempUpper = Files.createTempDirectory("spindle-upper-");
      }
      Path layer =
          Files.createDirectories((upper != null ? upper : tempUpper).resolve(layerName(guest)));
      FileSystem overlay = OverlayFileSystems.newFileSystem(lower, layer);
      overlays.add(overlay);
      b.preopen(guest, overlay.getPath("/"));
    } else {
      Path host = Path.of(source);
      if (!Files.isDirectory(host)) {
        throw new IllegalArgumentException("--dir " + spec + ": not a directory: " + source);
      }
      b.preopen(guest, host);
    }
  }

  /** "/data/x" → "data_x": one layer directory per guest path. */
  private static String layerName(String guest) {
    String name = guest.replaceAll("^/+|/+$", "").replaceAll("[^A-Za-z0-9._-]", "_");
    return name.isEmpty() ? "root" : name;
  }

  @Override
  public void close() throws IOException {
    for (FileSystem f : overlays.reversed()) {
      f.close();
    }
    if (tempUpper != null) {
      Trees.delete(tempUpper);
    }
  }
}
