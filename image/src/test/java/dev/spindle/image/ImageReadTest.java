package dev.spindle.image;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.spindle.testing.GitCli;
import java.io.InputStream;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/** Both access modes read back exactly what the source directory holds. */
class ImageReadTest {
  @TempDir static Path tmp;
  static Path src;
  static Path image;

  @BeforeAll
  static void make() throws Exception {
    src = TestTrees.fixed(Files.createDirectory(tmp.resolve("src")));
    TestTrees.random(Files.createDirectory(src.resolve("random")), 9, 50);
    image = TestTrees.makeImage(src, tmp.resolve("a.img"));
  }

  static List<Path> sourcePaths() throws Exception {
    try (Stream<Path> s = Files.walk(src)) {
      return s.filter(p -> !p.equals(src)).toList();
    }
  }

  @ParameterizedTest
  @EnumSource(AccessMode.class)
  void everySourcePathHasItsKindContentAndMode(AccessMode mode) throws Exception {
    try (Image img = Image.open(image, mode)) {
      for (Path p : sourcePaths()) {
        String rel = src.relativize(p).toString();
        boolean emptyDir = Files.isDirectory(p, LinkOption.NOFOLLOW_LINKS) && isEmptyTree(p);
        var e = img.lookup(rel);
        if (emptyDir) { // not in the Git tree; the metadata section keeps it
          assertThat(e).as(rel).isPresent();
          assertThat(e.get().isDirectory()).as(rel).isTrue();
          try (Stream<Path> children = Files.list(p)) { // only empty directories below it
            assertThat(img.list(e.get()))
                .as(rel)
                .extracting(ImageEntry::name)
                .containsExactlyInAnyOrderElementsOf(
                    children.map(c -> c.getFileName().toString()).toList());
          }
          assertThat(img.metadata(e.get()).emptyDirectory()).as(rel).isTrue();
          continue;
        }
        assertThat(e).as(rel).isPresent();
        ImageEntry entry = e.get();
        if (Files.isSymbolicLink(p)) {
          assertThat(entry.isSymlink()).isTrue();
          assertThat(img.readLink(entry)).isEqualTo(Files.readSymbolicLink(p).toString());
        } else if (Files.isDirectory(p)) {
          assertThat(entry.isDirectory()).as(rel).isTrue();
        } else {
          assertThat(entry.isRegularFile()).isTrue();
          assertThat(entry.isExecutable())
              .isEqualTo(
                  Files.isExecutable(p)
                      && Files.getPosixFilePermissions(p)
                          .contains(java.nio.file.attribute.PosixFilePermission.OWNER_EXECUTE));
          assertThat(entry.size()).isEqualTo(Files.size(p));
          assertThat(img.read(entry)).isEqualTo(Files.readAllBytes(p));
          try (InputStream in = img.open(entry)) {
            assertThat(in.readAllBytes()).isEqualTo(Files.readAllBytes(p));
          }
        }
      }
      assertThat(img.lookup("no/such/path")).isEmpty();
      assertThat(img.lookup("README.md/child")).isEmpty();
      assertThat(img.lookup("/")).contains(img.rootEntry());
    }
  }

  private static boolean isEmptyTree(Path dir) throws Exception {
    try (Stream<Path> s = Files.walk(dir)) {
      return s.noneMatch(q -> !Files.isDirectory(q, LinkOption.NOFOLLOW_LINKS));
    }
  }

  @ParameterizedTest
  @EnumSource(AccessMode.class)
  void listingsMatchTheSourceDirectory(AccessMode mode) throws Exception {
    try (Image img = Image.open(image, mode)) {
      List<String> names = new ArrayList<>();
      for (ImageEntry e : img.list(img.require("a"))) {
        names.add(e.name());
      }
      assertThat(names).containsExactlyInAnyOrder("b", "x.txt", "up");
      assertThatThrownBy(() -> img.list(img.require("README.md")))
          .hasMessageContaining("not a directory");
    }
  }

  @ParameterizedTest
  @EnumSource(AccessMode.class)
  void resolverFollowsSymlinksLikeTheKernel(AccessMode mode) throws Exception {
    try (Image img = Image.open(image, mode)) {
      PathResolver r = new PathResolver(img);
      assertThat(r.resolve("link-to-a/x.txt", true).path()).isEqualTo("a/x.txt");
      assertThat(r.resolve("a/up", true).path()).isEqualTo("README.md");
      assertThat(r.resolve("a/up", false).isSymlink()).isTrue();
      assertThat(r.resolve("a/b/../x.txt", true).path()).isEqualTo("a/x.txt");
      assertThat(r.resolve("../../a/./x.txt", true).path()).isEqualTo("a/x.txt");
      assertThat(r.resolve("link-to-a/b/c/../../up", true).path()).isEqualTo("README.md");
      assertThatThrownBy(() -> r.resolve("dangling", true)).isInstanceOf(NoSuchFileException.class);
      assertThat(r.resolve("dangling", false).isSymlink()).isTrue();
      assertThatThrownBy(() -> r.resolve("README.md/x", true))
          .isInstanceOf(FileSystemException.class);
      assertThatThrownBy(() -> r.resolve("README.md/..", true))
          .isInstanceOf(java.nio.file.NotDirectoryException.class);
      assertThatThrownBy(() -> r.resolve("a/x.txt/.", true))
          .isInstanceOf(java.nio.file.NotDirectoryException.class);
    }
  }

  @Test
  void symlinkLoopStopsWithAnError() throws Exception {
    Path loopSrc = Files.createDirectory(tmp.resolve("loop"));
    Files.createSymbolicLink(loopSrc.resolve("a"), Path.of("b"));
    Files.createSymbolicLink(loopSrc.resolve("b"), Path.of("a"));
    Path img = TestTrees.makeImage(loopSrc, tmp.resolve("loop.img"));
    try (Image i = Image.open(img, AccessMode.LAZY)) {
      assertThatThrownBy(() -> new PathResolver(i).resolve("a/x", true))
          .isInstanceOf(FileSystemException.class)
          .hasMessageContaining("too many levels of symbolic links");
    }
  }

  @Test
  void extractGivesBackTheSameTree() throws Exception {
    Path out = tmp.resolve("out");
    try (Image img = Image.open(image, AccessMode.INDEXED)) {
      new ImageExtractor(img, Progress.NONE).extract(img.rootEntry(), out);
    }
    assertThat(GitCli.writeTree(out)).isEqualTo(GitCli.writeTree(src));
  }
}
