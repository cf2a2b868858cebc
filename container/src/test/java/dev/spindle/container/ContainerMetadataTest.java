package dev.spindle.container;

import static org.assertj.core.api.Assertions.assertThat;

import dev.spindle.fuse.MountOptions;
import dev.spindle.fuse.MountPoints;
import dev.spindle.image.AccessMode;
import dev.spindle.image.Image;
import dev.spindle.image.MetadataFixture;
import dev.spindle.image.Progress;
import dev.spindle.image.make.ImageMaker;
import dev.spindle.image.make.MakeOptions;
import dev.spindle.image.make.Owners;
import dev.spindle.testing.BusyboxRoot;
import dev.spindle.testing.Requires;
import dev.spindle.testing.Tool;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.OffsetDateTime;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A container (runc, user namespace, overlay over the FUSE mount) sees the image's owners, mode
 * bits and hard links as the original tree has them: busybox's {@code stat} inside gives what GNU
 * {@code stat} gives on the tree, entry by entry (a directory's link count left out: overlay counts
 * a merged directory as 1).
 */
@Requires({Tool.FUSE, Tool.BUSYBOX, Tool.RUNC, Tool.ROOT, Tool.ATTR})
class ContainerMetadataTest {
  private static final String FILE_FORMAT = "%a %u %g %h %s %F %n";
  private static final String DIR_FORMAT = "%a %u %g %F %n";

  @TempDir Path tmp;

  @Test
  void statInsideTheContainerMatchesTheOriginalTree() throws Exception {
    Path src = MetadataFixture.build(tmp.resolve("src"));
    Files.copy(BusyboxRoot.BUSYBOX, src.resolve("busybox"));
    List<String> dirs = paths(src, "d");
    List<String> others = paths(src, "f,l");
    Path file = tmp.resolve("meta.img");
    new ImageMaker(
            MakeOptions.defaults()
                .withOwners(Owners.FROM_FILES)
                .withDate(OffsetDateTime.parse("2026-01-02T03:04:05Z")),
            Progress.NONE)
        .make(src.toString(), file);

    String expected = hostStat(src, FILE_FORMAT, others) + hostStat(src, DIR_FORMAT, dirs);
    String script =
        "/busybox stat -c '"
            + FILE_FORMAT
            + "' "
            + String.join(" ", absolute(others))
            + " && /busybox stat -c '"
            + DIR_FORMAT
            + "' "
            + String.join(" ", absolute(dirs));
    Path state = tmp.resolve("state");
    String out;
    try (Image image = Image.open(file, AccessMode.INDEXED);
        Container c =
            new ContainerRuntime(state)
                .start(
                    image,
                    ContainerSpec.of("/busybox", "sh", "-c", script),
                    MountOptions.defaults())) {
      out = new String(c.stdout().readAllBytes(), StandardCharsets.UTF_8);
      String err = new String(c.stderr().readAllBytes(), StandardCharsets.UTF_8);
      assertThat(c.waitFor()).as("exit code; stderr: " + err).isZero();
    }
    assertThat(out.replace(" /", " "))
        .isEqualTo(expected)
        .contains(
            "4755 0 0 1 4 regular file bin/ping",
            "1777 0 0 directory tmp",
            "600 1000 1000 1 3 regular file home/user/key",
            "755 0 0 3 4 regular file usr/bin/c");
    Path root = tmp.toRealPath();
    assertThat(MountPoints.list()).as("mounts left").noneMatch(m -> m.startsWith(root));
  }

  /**
   * Paths below {@code src} of the given find types, sorted; left out: the busybox binary, and
   * /proc, where runc mounts procfs over the image's empty directory.
   */
  private static List<String> paths(Path src, String types) throws Exception {
    String out =
        MetadataFixture.run(
            src,
            "find",
            ".",
            "-mindepth",
            "1",
            "-type",
            types,
            "!",
            "-name",
            "busybox",
            "!",
            "-name",
            "proc",
            "-printf",
            "%P\\n");
    List<String> l = new ArrayList<>(Arrays.asList(out.split("\n")));
    l.removeIf(String::isEmpty);
    l.sort(null);
    return l;
  }

  private static String hostStat(Path src, String format, List<String> paths) throws Exception {
    List<String> cmd = new ArrayList<>(List.of("stat", "-c", format));
    cmd.addAll(paths);
    return MetadataFixture.run(src, cmd.toArray(String[]::new));
  }

  private static List<String> absolute(List<String> paths) {
    return paths.stream().map(p -> "/" + p).toList();
  }
}
