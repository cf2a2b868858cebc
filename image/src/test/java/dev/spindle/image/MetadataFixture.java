package dev.spindle.image;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * A directory tree with everything a Git tree cannot hold, built with the real tools (chown, chmod,
 * setfattr, ln, mkdir; as root), and its listings by the real tools as the oracle: {@code find
 * -printf '%m %U %G %n %s %y %P'} and {@code getfattr -d -m -}. Shared with the fuse and container
 * tests (test-jar).
 */
public final class MetadataFixture {
  /**
   * v2 file capability cap_net_raw+ep, as setcap writes it (magic 0x02000001, permitted bit 13).
   */
  public static final String CAP_NET_RAW = "0x0100000200200000000000000000000000000000";

  private MetadataFixture() {}

  /** Builds the tree at {@code dir} (which must not exist); needs root, setfattr. */
  public static Path build(Path dir) throws IOException, InterruptedException {
    Files.createDirectories(dir);
    sh(
        dir,
        """
        set -e
        mkdir -p bin tmp var/empty/a/b etc home/user srv/shared usr/bin proc
        printf 'ping' > bin/ping; chmod 4755 bin/ping
        setfattr -n security.capability -v %s bin/ping
        chmod 1777 tmp
        chmod 0700 var/empty; chmod 0555 var/empty/a
        printf 'root:*:1:0:99999:7:::\\n' > etc/shadow; chown 0:42 etc/shadow; chmod 0640 etc/shadow
        printf 'key' > home/user/key; chmod 0600 home/user/key
        setfattr -n user.comment -v hello home/user/key
        chown -R 1000:1000 home/user; chmod 0750 home/user
        chown 0:50 srv/shared; chmod 2775 srv/shared
        setfattr -n trusted.note -v 0x00ff01 srv/shared
        printf 'tool' > usr/bin/a; chmod 0755 usr/bin/a
        ln usr/bin/a usr/bin/b; ln usr/bin/a usr/bin/c
        printf 'solo' > usr/bin/d; ln usr/bin/d usr/bin/e
        printf 'none' > usr/bin/zero; chmod 0000 usr/bin/zero
        ln -s ../usr/bin/a bin/a-link; chown -h 1000:1000 bin/a-link
        chmod 0555 proc
        """
            .formatted(CAP_NET_RAW));
    return dir;
  }

  /**
   * {@code find -printf '%m %U %G %n %s %y %P'}, sorted; a directory's size ('-') is left out, as
   * it is the file system's own (4096 on ext4, entries on tmpfs).
   */
  public static String listing(Path dir) throws IOException, InterruptedException {
    String out =
        run(
            dir,
            "find",
            ".",
            "(",
            "-type",
            "d",
            "-printf",
            "%m %U %G %n - %y %P\\n",
            ")",
            "-o",
            "-printf",
            "%m %U %G %n %s %y %P\\n");
    String[] lines = out.split("\n");
    Arrays.sort(lines);
    return String.join("\n", lines);
  }

  /** {@code getfattr -h -R -d -m - -e hex .}, blocks sorted by file name. */
  public static String xattrs(Path dir) throws IOException, InterruptedException {
    String out = run(dir, "getfattr", "-h", "-R", "-d", "-m", "-", "-e", "hex", ".");
    Map<String, List<String>> blocks = new TreeMap<>();
    List<String> current = null;
    for (String line : out.split("\n")) {
      if (line.startsWith("# file: ")) {
        current = new ArrayList<>();
        blocks.put(line, current);
      } else if (!line.isBlank() && current != null) {
        current.add(line);
      }
    }
    StringBuilder b = new StringBuilder();
    blocks.forEach(
        (file, attrs) -> b.append(file).append('\n').append(String.join("\n", attrs)).append('\n'));
    return b.toString();
  }

  public static String sh(Path cwd, String script) throws IOException, InterruptedException {
    return run(cwd, "bash", "-c", script);
  }

  public static String run(Path cwd, String... command) throws IOException, InterruptedException {
    Process p =
        new ProcessBuilder(command).directory(cwd.toFile()).redirectErrorStream(true).start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    if (p.waitFor() != 0) {
      throw new IOException(String.join(" ", command) + " failed: " + out);
    }
    return out;
  }
}
