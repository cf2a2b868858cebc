package dev.spindle.container;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

/**
 * A running container. {@link #close()} stops it if it still runs and removes everything its
 * start made: the runc container, its cgroups, the overlay, the FUSE mount, the state directory
 * (the upper directory too unless the spec named one).
 */
public final class Container implements AutoCloseable {
  private final String id;
  private final Path rootfs;
  private final Path upper;
  private final Process runc;
  private final Runc runtime;
  private final UndoStack undo;
  private final dev.spindle.fuse.ImageMount image;
  private boolean closed;

  Container(String id, Path rootfs, Path upper, Process runc, Runc runtime, UndoStack undo,
      dev.spindle.fuse.ImageMount image) {
    this.image = image;
    this.id = id;
    this.rootfs = rootfs;
    this.upper = upper;
    this.runc = runc;
    this.runtime = runtime;
    this.undo = undo;
  }

  /** The runc container id ({@code spindle-} and 12 hex digits). */
  public String id() {
    return id;
  }

  /** The OCI {@code cgroupsPath}: in each hierarchy, the container's cgroup is this directory. */
  public String cgroupsPath() {
    return Cgroups.pathOf(id);
  }

  /** The overlay mount the container sees as {@code /}. */
  public Path rootfs() {
    return rootfs;
  }

  /** Where the container's writes land. */
  public Path upperDir() {
    return upper;
  }

  /** The container's stdin (a pipe unless the spec inherits this process's I/O). */
  public OutputStream stdin() {
    return runc.getOutputStream();
  }

  public InputStream stdout() {
    return runc.getInputStream();
  }

  public InputStream stderr() {
    return runc.getErrorStream();
  }

  public boolean isRunning() {
    return runc.isAlive();
  }

  /** Waits for the container's command to end; returns its exit code (128 + n: killed by signal n). */
  public int waitFor() throws InterruptedException {
    return runc.waitFor();
  }

  /** Stops the container (SIGKILL to all its processes) if it runs, then cleans everything up. */
  @Override
  public synchronized void close() throws IOException {
    if (closed) {
      return;
    }
    closed = true;
    try {
      if (runc.isAlive()) {
        runtime.deleteForce(id);
        if (!runc.waitFor(30, TimeUnit.SECONDS)) {
          runc.destroyForcibly();
        }
      }
    } catch (InterruptedException e) {
      runc.destroyForcibly();
      Thread.currentThread().interrupt();
    } finally {
      undo.runAll();
    }
  }

  /** Image files the container opened (first opens through the FUSE lower layer). */
  public long firstOpens() {
    return image.firstOpens();
  }

  /** Of those, files outside the mount's hot set: its run needed them from the cold part. */
  public long coldOpens() {
    return image.coldOpens();
  }
}
