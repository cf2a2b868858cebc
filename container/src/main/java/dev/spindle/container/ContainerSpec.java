package dev.spindle.container;

import java.nio.file.Path;
import java.util.List;
import java.util.Locale;

/**
 * What to run in a container: the command ({@code args}), its environment and working directory,
 * limits (0: none) and where the writable layer goes ({@code upperDir}, null: a temporary one
 * removed with the container; a given one is kept, so its changes can be read). {@code inheritIo}:
 * the container's stdin/stdout/stderr are this process's (the CLI) instead of pipes ({@link
 * Container#stdout()} ...). {@code uid}/{@code gid}: who the command runs as, in the container's
 * user namespace ({@link UserNamespace}: its root is an unprivileged host user). {@code
 * privilegedRoot}: no user namespace, the container's root is host root (see {@link
 * #withPrivilegedRoot}).
 */
public record ContainerSpec(
    List<String> args,
    List<String> env,
    String cwd,
    String hostname,
    long memoryBytes,
    long pids,
    Path upperDir,
    boolean inheritIo,
    int uid,
    int gid,
    boolean privilegedRoot) {
  public static final List<String> DEFAULT_ENV =
      List.of("PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin");

  public ContainerSpec {
    args = List.copyOf(args);
    env = List.copyOf(env);
    if (args.isEmpty()) {
      throw new IllegalArgumentException("no command to run in the container");
    }
    if (!cwd.startsWith("/")) {
      throw new IllegalArgumentException("working directory must be absolute, got: " + cwd);
    }
    if (memoryBytes < 0 || pids < 0 || uid < 0 || gid < 0) {
      throw new IllegalArgumentException("limits and ids must not be negative");
    }
  }

  public static ContainerSpec of(List<String> args) {
    return new ContainerSpec(args, DEFAULT_ENV, "/", "spindle", 0, 0, null, false, 0, 0, false);
  }

  public static ContainerSpec of(String... args) {
    return of(List.of(args));
  }

  public ContainerSpec withEnv(List<String> e) {
    return new ContainerSpec(
        args, e, cwd, hostname, memoryBytes, pids, upperDir, inheritIo, uid, gid, privilegedRoot);
  }

  public ContainerSpec withCwd(String dir) {
    return new ContainerSpec(
        args, env, dir, hostname, memoryBytes, pids, upperDir, inheritIo, uid, gid, privilegedRoot);
  }

  public ContainerSpec withMemory(long bytes) {
    return new ContainerSpec(
        args, env, cwd, hostname, bytes, pids, upperDir, inheritIo, uid, gid, privilegedRoot);
  }

  public ContainerSpec withPids(long max) {
    return new ContainerSpec(
        args, env, cwd, hostname, memoryBytes, max, upperDir, inheritIo, uid, gid, privilegedRoot);
  }

  public ContainerSpec withUpperDir(Path dir) {
    return new ContainerSpec(
        args, env, cwd, hostname, memoryBytes, pids, dir, inheritIo, uid, gid, privilegedRoot);
  }

  public ContainerSpec withInheritedIo(boolean b) {
    return new ContainerSpec(
        args, env, cwd, hostname, memoryBytes, pids, upperDir, b, uid, gid, privilegedRoot);
  }

  /** Runs the command as {@code uid:gid} (default root, 0:0). */
  public ContainerSpec withUser(int u, int g) {
    return new ContainerSpec(
        args, env, cwd, hostname, memoryBytes, pids, upperDir, inheritIo, u, g, privilegedRoot);
  }

  /**
   * Runs the container without a user namespace: its root is host root, with Docker's default
   * capabilities (CHOWN, DAC_OVERRIDE, FOWNER, SETUID, MKNOD ...) over host ids. What it writes to
   * a kept upper directory is host root's, setuid binaries and device nodes included, and an escape
   * through a kernel bug is an escape as host root. Seccomp, no-new-privileges and the masked /proc
   * paths stay. For images that need real root (device nodes, host-owned files).
   */
  public ContainerSpec withPrivilegedRoot(boolean b) {
    return new ContainerSpec(
        args, env, cwd, hostname, memoryBytes, pids, upperDir, inheritIo, uid, gid, b);
  }

  /** Parses a size as {@code docker run --memory} does: bytes, or with k, m, g (powers of 1024). */
  public static long parseSize(String s) {
    String t = s.strip().toLowerCase(Locale.ROOT);
    long unit = 1;
    if (t.endsWith("b")) {
      t = t.substring(0, t.length() - 1);
    }
    if (!t.isEmpty()) {
      switch (t.charAt(t.length() - 1)) {
        case 'k' -> unit = 1L << 10;
        case 'm' -> unit = 1L << 20;
        case 'g' -> unit = 1L << 30;
        default -> {}
      }
    }
    if (unit != 1) {
      t = t.substring(0, t.length() - 1);
    }
    try {
      long n = Long.parseLong(t);
      if (n <= 0) {
        throw new NumberFormatException();
      }
      return Math.multiplyExact(n, unit);
    } catch (NumberFormatException | ArithmeticException e) {
      throw new IllegalArgumentException(
          "size must be a positive number with an optional k, m or g, got: " + s);
    }
  }
}
