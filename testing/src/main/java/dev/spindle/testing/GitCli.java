package dev.spindle.testing;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Runs the real {@code git}: the oracle for tree hashes, commits, packs and the files history, with
 * no user or system configuration. Fails (IOException, with git's output) unless git exits 0.
 */
public final class GitCli {
  private GitCli() {}

  public static String run(Path dir, String... args) throws IOException, InterruptedException {
    List<String> cmd = new ArrayList<>();
    cmd.add("git");
    cmd.add("-c");
    cmd.add("core.excludesFile=/dev/null");
    cmd.add("-c");
    cmd.add("user.name=Test");
    cmd.add("-c");
    cmd.add("user.email=test@example.org");
    cmd.add("-c");
    cmd.add("init.defaultBranch=main");
    cmd.addAll(List.of(args));
    ProcessBuilder pb = new ProcessBuilder(cmd).directory(dir.toFile()).redirectErrorStream(true);
    pb.environment().put("GIT_CONFIG_NOSYSTEM", "1");
    pb.environment().put("HOME", dir.toString());
    Process p = pb.start();
    byte[] out = p.getInputStream().readAllBytes();
    if (!p.waitFor(120, TimeUnit.SECONDS)) {
      p.destroyForcibly();
      throw new IOException("git " + String.join(" ", args) + " timed out");
    }
    String s = new String(out, StandardCharsets.UTF_8);
    if (p.exitValue() != 0) {
      throw new IOException(
          "git " + String.join(" ", args) + " failed (" + p.exitValue() + "): " + s);
    }
    return s.strip();
  }

  /** {@code git add -A -f && git write-tree} of a directory, in a throwaway repository. */
  public static String writeTree(Path dir) throws IOException, InterruptedException {
    Path gitDir = java.nio.file.Files.createTempDirectory("oracle-git-");
    try {
      String[] base = {"--git-dir=" + gitDir, "--work-tree=" + dir};
      run(dir, concat(base, "init", "-q"));
      run(dir, concat(base, "add", "-A", "-f"));
      return run(dir, concat(base, "write-tree"));
    } finally {
      dev.spindle.store.Trees.delete(gitDir);
    }
  }

  private static String[] concat(String[] a, String... b) {
    String[] r = java.util.Arrays.copyOf(a, a.length + b.length);
    System.arraycopy(b, 0, r, a.length, b.length);
    return r;
  }
}
