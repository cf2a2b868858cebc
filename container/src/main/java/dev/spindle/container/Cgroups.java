package dev.spindle.container;

import java.io.IOException;
import java.nio.file.DirectoryNotEmptyException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

/**
 * The cgroup directories of a container. The machine has hybrid cgroups (v1 hierarchies under
 * /sys/fs/cgroup/NAME plus a v2 one at /sys/fs/cgroup/unified), and runc makes {@code
 * HIERARCHY/<cgroupsPath>} in each; this finds and removes them all.
 */
final class Cgroups {
  static final Path ROOT = Path.of("/sys/fs/cgroup");

  /** Every container's cgroupsPath is {@code /spindle/<id>}. */
  static final String PARENT = "spindle";

  private Cgroups() {}

  static String pathOf(String id) {
    return "/" + PARENT + "/" + id;
  }

  /** The cgroup directories of {@code id} that exist now, one per hierarchy. */
  static List<Path> existing(String id) throws IOException {
    List<Path> out = new ArrayList<>();
    for (Path h : hierarchies()) {
      Path d = h.resolve(PARENT).resolve(id);
      if (Files.isDirectory(d, LinkOption.NOFOLLOW_LINKS)) {
        out.add(d);
      }
    }
    return out;
  }

  /**
   * Removes {@code id}'s directories (runc delete normally has, this catches a killed runc), then
   * the shared parent where no other container uses it.
   */
  static void remove(String id) throws IOException {
    for (Path d : existing(id)) {
      Files.deleteIfExists(d); // rmdir: a cgroup directory goes with its control files
    }
    for (Path h : hierarchies()) {
      try {
        Files.deleteIfExists(h.resolve(PARENT));
      } catch (DirectoryNotEmptyException | NoSuchFileException othersStillThere) {
        // another container's cgroup lives there
      } catch (IOException e) {
        if (!"Device or resource busy".equals(reason(e))) {
          throw e;
        }
      }
    }
  }

  private static String reason(IOException e) {
    return e instanceof java.nio.file.FileSystemException f ? f.getReason() : e.getMessage();
  }

  /** Mounted hierarchies (cpu, memory, pids, unified ...); the "cpu,cpuacct" symlinks skipped. */
  private static List<Path> hierarchies() throws IOException {
    if (!Files.isDirectory(ROOT)) {
      return List.of();
    }
    if (Files.exists(ROOT.resolve("cgroup.controllers"))) {
      return List.of(ROOT); // a pure cgroup v2 machine: one hierarchy
    }
    List<Path> out = new ArrayList<>();
    try (Stream<Path> s = Files.list(ROOT)) {
      s.filter(p -> Files.isDirectory(p, LinkOption.NOFOLLOW_LINKS)).sorted().forEach(out::add);
    }
    return out;
  }
}
