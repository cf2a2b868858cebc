package dev.spindle.fuse;

import dev.spindle.image.Image;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeoutException;
import org.cryptomator.jfuse.api.Fuse;
import org.cryptomator.jfuse.api.FuseBuilder;
import org.cryptomator.jfuse.api.FuseMountFailedException;

/**
 * An image mounted read-only with FUSE at a directory, served by this JVM until {@link #close()}.
 * The caller keeps ownership of the {@link Image} and closes it after the mount.
 *
 * <pre>{@code
 * try (Image img = Image.open(file, AccessMode.INDEXED);
 *     ImageMount m = ImageMount.mount(img, dir, MountOptions.defaults())) {
 *   // any process reads dir
 * }
 * }</pre>
 */
public final class ImageMount implements AutoCloseable {
  /**
   * The image never changes under a mount, so the kernel may cache everything for long: page cache
   * kept across opens (kernel_cache), names, attributes and misses for a day.
   */
  private static final String CACHE_OPTIONS =
      "kernel_cache,entry_timeout=86400,attr_timeout=86400,negative_timeout=86400";

  private final Path dir;
  private final Fuse fuse;
  private final ImageFuseOperations ops;
  private final AccessTrace trace;
  private boolean closed;

  private ImageMount(Path dir, Fuse fuse, ImageFuseOperations ops, AccessTrace trace) {
    this.dir = dir;
    this.fuse = fuse;
    this.ops = ops;
    this.trace = trace;
  }

  /** Mounts {@code image} at the existing, empty directory {@code dir}; returns once it serves. */
  public static ImageMount mount(Image image, Path dir, MountOptions options) throws IOException {
    LibFuse.requireAvailable();
    Path abs = dir.toAbsolutePath().normalize();
    // Checked first: the mount a killed process left cannot even be stat'ed ("Transport
    // endpoint is not connected"), and "not a directory" would send the user the wrong way.
    refuseMountPoint(abs);
    if (!Files.isDirectory(abs)) {
      throw new IOException("cannot mount at " + dir + ": not a directory");
    }
    Path at = abs.toRealPath();
    refuseMountPoint(at);
    AccessTrace trace = AccessTrace.of(options);
    Fuse fuse = null;
    try {
      FuseBuilder builder = Fuse.builder();
      builder.setLibraryPath(LibFuse.LIBRARY);
      ImageFuseOperations ops =
          new ImageFuseOperations(image, builder.errno(), trace, options.uid(), options.gid());
      fuse = builder.build(ops);
      fuse.mount("spindle", at, "-o", mountOptions(image));
      return new ImageMount(at, fuse, ops, trace);
    } catch (FuseMountFailedException | RuntimeException | IOException e) {
      try (AccessTrace t = trace) {
        if (fuse != null) {
          fuse.close();
        }
      } catch (TimeoutException | IOException suppressed) {
        e.addSuppressed(suppressed);
      }
      throw new IOException(
          "cannot mount image " + image.file() + " at " + at + ": " + e.getMessage(), e);
    }
  }

  private static void refuseMountPoint(Path dir) throws IOException {
    if (MountPoints.isMounted(dir)) {
      throw new IOException(
          "cannot mount at "
              + dir
              + ": already a mount point"
              + " (if the process serving it was killed: spindle umount "
              + dir
              + ")");
    }
  }

  private static String mountOptions(Image image) throws IOException {
    List<String> o = new ArrayList<>();
    o.add("ro");
    o.add("default_permissions"); // the kernel checks modes; the image's 0644/0755 are what count
    o.add("fsname=spindle-" + image.root().name().substring(0, 12));
    o.add("subtype=spindle");
    if (isRoot()) {
      // Containers may run as other users; only root may say this without /etc/fuse.conf.
      o.add("allow_other");
    }
    o.add(CACHE_OPTIONS);
    return String.join(",", o);
  }

  private static boolean isRoot() throws IOException {
    return ((Integer) Files.getAttribute(Path.of("/proc/self"), "unix:uid")) == 0;
  }

  /** Files opened through this mount at least once. */
  public long firstOpens() {
    return trace.firstOpens();
  }

  /**
   * Files outside the hot set ({@link MountOptions#hot}) opened at least once: what a debloated
   * image's run needed from its cold part (0 without a hot set).
   */
  public long coldOpens() {
    return trace.coldOpens();
  }

  public Path mountPoint() {
    return dir;
  }

  /**
   * Blocks until something else unmounts the directory ({@code spindle umount}, {@code fusermount3
   * -u}, {@code umount}). jfuse does not expose the end of its FUSE loop, so this looks at the
   * mount table twice a second.
   */
  public void awaitUnmounted() throws IOException, InterruptedException {
    while (MountPoints.isMounted(dir)) {
      Thread.sleep(500);
    }
  }

  /**
   * Unmounts (unless already unmounted), stops the FUSE loop and releases what it held. Idempotent.
   * A process still using files makes the unmount lazy: the directory is detached at once, the loop
   * ends when the last file closes (jfuse waits 10 s for that).
   */
  @Override
  public synchronized void close() throws IOException {
    if (closed) {
      return;
    }
    closed = true;
    try (AccessTrace t = trace) {
      fuse.close();
    } catch (TimeoutException e) {
      throw new IOException(
          "FUSE loop of " + dir + " still running 10 s after unmount (a file still open?)", e);
    } finally {
      ops.handles().closeAll();
    }
    if (MountPoints.isMounted(dir)) {
      throw new IOException(
          "fusermount3 failed to unmount " + dir + ": still in /proc/self/mountinfo");
    }
  }
}
