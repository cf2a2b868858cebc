package dev.spindle.cli;

import dev.spindle.image.Image;
import java.io.IOException;

/**
 * What a command runs over an image (a container, a FUSE mount) and the image, closed by whoever
 * comes first: the command when it is done, or a shutdown hook on SIGTERM or Ctrl-C, so that
 * neither outlives the process that serves it (no stale mount, no orphaned container).
 */
final class ShutdownCloser {
  /** What is closed before the image: it reads from it. */
  interface Resource {
    void close() throws IOException;
  }

  private final Resource resource;
  private final Image image;
  private final Thread hook;

  /** Registers the hook (a thread named {@code hookName}) at once. */
  ShutdownCloser(Resource resource, Image image, String hookName) {
    this.resource = resource;
    this.image = image;
    this.hook = new Thread(this::closeQuietly, hookName);
    Runtime.getRuntime().addShutdownHook(hook);
  }

  /** Closes the resource, then the image, and drops the hook. */
  void close() throws IOException {
    closeBoth();
    try {
      Runtime.getRuntime().removeShutdownHook(hook);
    } catch (IllegalStateException shuttingDown) {
      // the hook is running or ran; it found everything closed
    }
  }

  private synchronized void closeBoth() throws IOException {
    try (Image i = image) {
      resource.close();
    }
  }

  private void closeQuietly() {
    try {
      closeBoth();
    } catch (IOException | RuntimeException e) {
      System.err.println("spindle: " + e.getMessage());
    }
  }
}
