package dev.spindle.bench;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;

/** Runs baseline tools (git, tar, mksquashfs) the way a user would, and times them. */
final class Cmd {
  private Cmd() {}

  /** Runs {@code cmd} in {@code dir}; returns stdout; throws with stderr on failure. */
  static String run(Path dir, List<String> cmd) throws IOException, InterruptedException {
    ProcessBuilder pb = new ProcessBuilder(cmd).directory(dir.toFile());
    pb.environment().put("GIT_CONFIG_NOSYSTEM", "1");
    pb.redirectError(ProcessBuilder.Redirect.PIPE);
    Process p = pb.start();
    byte[] out = p.getInputStream().readAllBytes();
    byte[] err = p.getErrorStream().readAllBytes();
    if (p.waitFor() != 0) {
      throw new IOException(
          String.join(" ", cmd) + " failed: " + new String(err, StandardCharsets.UTF_8));
    }
    return new String(out, StandardCharsets.UTF_8).strip();
  }

  static String git(Path dir, String... args) throws IOException, InterruptedException {
    List<String> cmd =
        new java.util.ArrayList<>(
            List.of(
                "git",
                "-c",
                "user.name=Bench",
                "-c",
                "user.email=bench@localhost",
                "-c",
                "core.excludesFile=/dev/null",
                "-c",
                "gc.auto=0",
                "-c",
                "init.defaultBranch=main"));
    cmd.addAll(List.of(args));
    return run(dir, cmd);
  }

  static boolean available(String tool) {
    try {
      return new ProcessBuilder("sh", "-c", "command -v " + tool).start().waitFor() == 0;
    } catch (IOException | InterruptedException e) {
      return false;
    }
  }
}
