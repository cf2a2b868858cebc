package dev.spindle.store;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class TreesTest {
  @TempDir Path tmp;

  @Test
  void deletesATreeButNotWhatItsLinksPointAt() throws IOException {
    Path outside = Files.createDirectories(tmp.resolve("outside"));
    Files.writeString(outside.resolve("keep"), "kept");
    Path root = Files.createDirectories(tmp.resolve("root/a/b"));
    Files.writeString(root.resolve("f"), "x");
    Files.createSymbolicLink(tmp.resolve("root/a/link"), outside);

    Trees.delete(tmp.resolve("root"));

    assertThat(tmp.resolve("root")).doesNotExist();
    assertThat(outside.resolve("keep")).hasContent("kept");
  }

  @Test
  void aLinkItselfIsRemovedNotItsTarget() throws IOException {
    Path target = Files.createDirectories(tmp.resolve("target"));
    Files.writeString(target.resolve("keep"), "kept");
    Path link = Files.createSymbolicLink(tmp.resolve("link"), target);
    Path dangling = Files.createSymbolicLink(tmp.resolve("dangling"), tmp.resolve("nowhere"));

    Trees.delete(link);
    Trees.delete(dangling);

    assertThat(Files.exists(link, LinkOption.NOFOLLOW_LINKS)).isFalse();
    assertThat(Files.exists(dangling, LinkOption.NOFOLLOW_LINKS)).isFalse();
    assertThat(target.resolve("keep")).hasContent("kept");
  }

  @Test
  void aFileOrNothingIsFine() throws IOException {
    Path f = Files.writeString(tmp.resolve("f"), "x");
    Trees.delete(f);
    Trees.delete(tmp.resolve("missing"));
    assertThat(f).doesNotExist();
  }
}
