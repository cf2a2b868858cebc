package dev.spindle.container;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;

/**
 * A running container. {@link #close()} stops it if it still runs and removes everything its start
 * made: the runc container, its cgroups, the overlay, the FUSE mount, the state directory (the
 * upper directory too unless the spec named one).
 */
public final class Container implements AutoCloseable {
  private final String id;
  private final Path rootfs;
  private final Path upper;
  private final Process runc;
  private final Runc runtime;
  private final UndoStack undo;
  private final dev.spindle.fuse.ImageMount image;
  private final Path stateDir;
  private final UserNamespace userns;
  private boolean closed;

  Container(
      String id,
      Path rootfs,
      Path upper,
      Process runc,
      Runc runtime,
      UndoStack undo,
      dev.spindle.fuse.ImageMount image,
      Path stateDir,
      UserNamespace userns) {
    this.stateDir = stateDir;
    this.userns = userns;
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

  /**
   * The host uid and gid of the container's root (its user namespace's first ids), or host root's
   * (0, 0) for a privileged-root container: whoever writes into {@link #rootfs()} from the host
   * gives files to these, so that they are the container root's inside.
   */
  public int[] rootOwner() {
    return userns == null ? new int[] {0, 0} : new int[] {userns.hostUid(), userns.hostGid()};
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

  /**
   * Waits for the container's command to end; returns its exit code (128 + n: killed by signal n).
   */
  public int waitFor() throws InterruptedException {
    return runc.waitFor();
  }

  /**
   * Starts one more process in the running container ({@code runc exec}), confined as the container
   * is; {@code env} is added to the container's environment, {@code cwd} is absolute. Its stdio are
   * pipes; {@link Exec#close()} kills it (and what it started) if it still runs.
   */
  public Exec exec(List<String> args, List<String> env, String cwd) throws IOException {
    if (args.isEmpty()) {
      throw new IllegalArgumentException("no command to run in the container");
    }
    if (!cwd.startsWith("/")) {
      throw new IllegalArgumentException("working directory must be absolute, got: " + cwd);
    }
    synchronized (this) {
      if (closed) {
        throw new IOException("container " + id + " is closed");
      }
    }
    Path pidFile = Files.createTempFile(stateDir, "exec-", ".pid");
    Files.delete(pidFile); // runc writes it (and refuses an existing one on some versions)
    return new Exec(runtime.exec(id, args, env, cwd, pidFile), pidFile);
  }

  /**
   * A process started by {@link #exec}: the {@code runc exec} that waits for it, and its host pid.
   */
  public static final class Exec implements AutoCloseable {
    private final Process runc;
    private final Path pidFile;

    Exec(Process runc, Path pidFile) {
      this.runc = runc;
      this.pidFile = pidFile;
    }

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

    /** Its exit code (128 + n: killed by signal n). */
    public int waitFor() throws InterruptedException {
      return runc.waitFor();
    }

    /**
     * Signals the process and every process it started, as seen from the host: SIGKILL when {@code
     * force}, else SIGTERM. Before runc has started it, runc itself is stopped.
     */
    public void signal(boolean force) {
      Optional<ProcessHandle> p = hostProcessOnceWritten();
      if (p.isEmpty()) {
        if (force) {
          runc.destroyForcibly();
        } else {
          runc.destroy();
        }
        return;
      }
      List<ProcessHandle> all = new ArrayList<>(p.get().descendants().toList());
      all.addFirst(p.get());
      for (ProcessHandle h : all) {
        if (force) {
          h.destroyForcibly();
        } else {
          h.destroy();
        }
      }
    }

    /**
     * The host process, waiting (up to 5 s, while runc runs) for runc to write its pid: runc writes
     * it only after the process has started, so a process that already printed may not be named
     * yet, and stopping runc instead would leave it and its children running in the container.
     */
    private Optional<ProcessHandle> hostProcessOnceWritten() {
      long deadline = System.nanoTime() + java.util.concurrent.TimeUnit.SECONDS.toNanos(5);
      while (!pidWritten() && runc.isAlive() && System.nanoTime() < deadline) {
        try {
          Thread.sleep(10);
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
          break;
        }
      }
      return hostProcess();
    }

    private boolean pidWritten() {
      try {
        return Files.size(pidFile) > 0;
      } catch (IOException e) {
        return false;
      }
    }

    private Optional<ProcessHandle> hostProcess() {
      try {
        String s = Files.readString(pidFile).strip();
        return s.isEmpty()
            ? Optional.empty()
            : ProcessHandle.of(Long.parseLong(s)).filter(ProcessHandle::isAlive);
      } catch (IOException | NumberFormatException e) {
        return Optional.empty();
      }
    }

    /** Kills the process if it still runs, waits for runc to end, removes the pid file. */
    @Override
    public void close() throws IOException {
      if (runc.isAlive()) {
        signal(true);
        try {
          runc.waitFor();
        } catch (InterruptedException e) {
          runc.destroyForcibly();
          Thread.currentThread().interrupt();
        }
      }
      Files.deleteIfExists(pidFile);
    }
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
