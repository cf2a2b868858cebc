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

  private static final java.util.regex.Pattern SIZE =
      java.util.regex.Pattern.compile("(\\d{1,19})\\s*(?:([kmg])(?:i?b)?|b)?");

  /**
   * Parses a size, Spindle's one way of reading sizes on the command line: bytes, or a number with
   * k, m or g, optionally followed by {@code b} or {@code ib} ({@code 512k}, {@code 64MiB}, {@code
   * 2GB}), all powers of 1024 as {@code docker run --memory} reads them; positive, at most {@code
   * Long.MAX_VALUE}.
   */
  public static long parseSize(String s) {
    java.util.regex.Matcher m = SIZE.matcher(s.strip().toLowerCase(Locale.ROOT));
    try {
      if (!m.matches()) {
        throw new NumberFormatException();
      }
      long n = Long.parseLong(m.group(1));
      if (n <= 0) {
        throw new NumberFormatException();
      }
      int shift =
          m.group(2) == null
              ? 0
              : switch (m.group(2).charAt(0)) {
                case 'k' -> 10;
                case 'm' -> 20;
                default -> 30;
              };
      return Math.multiplyExact(n, 1L << shift);
    } catch (NumberFormatException | ArithmeticException e) {
      throw new IllegalArgumentException(
          "size must be a positive number with an optional k, m or g (e.g. 512k, 64MiB), got: "
              + s);
    }
  }
}
