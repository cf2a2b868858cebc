package dev.spindle.container;

import dev.spindle.fuse.SystemCommand;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * The OCI runtime: {@code runc} (1.1.5 here). Not crun: crun 1.8.1 refuses this machine's hybrid
 * cgroups (docs/PLATFORM-FACTS.md). State stays in runc's default root, so {@code runc list} shows
 * Spindle's containers next to any others.
 */
final class Runc {
  private static final String MISSING = "runc not found: apt-get install runc";

  private final String binary;

  private Runc(String binary) {
    this.binary = binary;
  }

  /** Finds runc on PATH or in the sbin directories a non-login PATH often lacks. */
  static Runc locate() throws IOException {
    List<String> dirs = new ArrayList<>();
    String path = System.getenv("PATH");
    if (path != null) {
      dirs.addAll(Arrays.asList(path.split(":")));
    }
    dirs.addAll(List.of("/usr/local/sbin", "/usr/sbin", "/sbin", "/usr/bin"));
    for (String d : dirs) {
      Path p = Path.of(d.isEmpty() ? "." : d, "runc");
      if (Files.isExecutable(p)) {
        return new Runc(p.toString());
      }
    }
    throw new IOException(MISSING);
  }

  /**
   * {@code runc run} in the foreground: it creates the container, starts it, passes the stdio
   * through, and exits with the container's exit code after deleting the container.
   */
  Process run(Path bundle, String id, boolean inheritIo) throws IOException {
    ProcessBuilder pb = new ProcessBuilder(binary, "run", "--bundle", bundle.toString(), id);
    if (inheritIo) {
      pb.inheritIO();
    }
    try {
      return pb.start();
    } catch (IOException e) {
      throw new IOException(MISSING, e);
    }
  }

  /**
   * {@code runc exec} in the foreground: one more process in a running container, with the
   * container's confinement (user namespace, capabilities, seccomp, no-new-privileges, cgroup), its
   * stdio pipes to the caller; it exits with the process's exit code. The host pid of the process
   * is written to {@code pidFile}.
   */
  Process exec(String id, List<String> args, List<String> env, String cwd, Path pidFile)
      throws IOException {
    List<String> cmd =
        new ArrayList<>(List.of(binary, "exec", "--cwd", cwd, "--pid-file", pidFile.toString()));
    for (String e : env) {
      cmd.add("--env");
      cmd.add(e);
    }
    cmd.add(id);
    cmd.addAll(args);
    try {
      return new ProcessBuilder(cmd).start();
    } catch (IOException e) {
      throw new IOException(MISSING, e);
    }
  }

  boolean exists(String id) throws IOException {
    return SystemCommand.succeeds(List.of(binary, "state", id));
  }

  /** Kills every process of the container (SIGKILL) and deletes it, when it exists. */
  void deleteForce(String id) throws IOException {
    if (exists(id)) {
      SystemCommand.run(
          List.of(binary, "delete", "-f", id), "runc delete -f " + id + " failed", MISSING);
    }
  }

  /** The ids of the containers runc knows. */
  List<String> list() throws IOException {
    String out = SystemCommand.run(List.of(binary, "list", "-q"), "runc list failed", MISSING);
    return out.isEmpty() ? List.of() : List.of(out.split("\n"));
  }
}
