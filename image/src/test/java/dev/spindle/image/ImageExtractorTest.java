package dev.spindle.image;

import static dev.spindle.image.CraftedTrees.entry;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.spindle.testing.GitCli;
import java.io.IOException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.stream.Stream;
import org.eclipse.jgit.lib.FileMode;
import org.eclipse.jgit.lib.ObjectId;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Extraction never follows a symlink below its target and never overwrites: not one from the image
 * (an unverified image may name a symlink and a directory alike), nor one already there.
 */
class ImageExtractorTest {
  @TempDir Path tmp;
  Path outside;
  Path target;

  @BeforeEach
  void dirs() throws IOException {
    outside = Files.createDirectory(tmp.resolve("outside-dir"));
    target = tmp.resolve("target");
  }

  private void extract(Path image, String path, Path to) throws IOException {
    try (Image img = Image.open(image, AccessMode.LAZY)) {
      new ImageExtractor(img, Progress.NONE).extract(img.require(path), to);
    }
  }

  private static long count(Path dir) throws IOException {
    try (Stream<Path> s = Files.walk(dir)) {
      return s.count() - 1;
    }
  }

  /** An image whose root holds {@code first} then {@code second}, both named x; not verified. */
  private Path duplicate(boolean linkFirst) throws Exception {
    try (CraftedTrees git = CraftedTrees.create(tmp.resolve("crafted.git"))) {
      ObjectId link = git.blob(outside.toString());
      ObjectId sub = git.tree(entry("pwned", FileMode.REGULAR_FILE, git.blob("pwned\n")));
      CraftedTrees.Entry l = entry("x", FileMode.SYMLINK, link);
      CraftedTrees.Entry d = entry("x", FileMode.TREE, sub);
      ObjectId root = linkFirst ? git.tree(l, d) : git.tree(d, l);
      Path image = git.image(git.commit(root), root, tmp.resolve("dup.img"));
      assertThat(new ImageVerifier(Progress.NONE).verify(image).ok()).isFalse();
      return image;
    }
  }

  @Test
  void symlinkThenDirectoryOfTheSameNameWritesNothingOutside() throws Exception {
    Path image = duplicate(true);
    assertThatThrownBy(() -> extract(image, "/", target))
        .isInstanceOf(FileSystemException.class)
        .hasMessageContaining(target.resolve("x").toString())
        .hasMessageContaining("symbolic link");
    assertThat(count(outside)).isZero();
    assertThat(Files.readSymbolicLink(target.resolve("x"))).isEqualTo(outside);
  }

  @Test
  void directoryThenSymlinkOfTheSameNameIsNotReplaced() throws Exception {
    Path image = duplicate(false);
    assertThatThrownBy(() -> extract(image, "/", target))
        .isInstanceOf(FileAlreadyExistsException.class)
        .hasMessageContaining(target.resolve("x").toString());
    assertThat(count(outside)).isZero();
    assertThat(target.resolve("x/pwned")).hasContent("pwned");
    assertThat(Files.isSymbolicLink(target.resolve("x"))).isFalse();
  }

  @Test
  void symlinkAlreadyInTheTargetIsNotFollowed() throws Exception {
    Path src = Files.createDirectory(tmp.resolve("src"));
    TestTrees.write(src.resolve("sub/deeper/file"), "data\n");
    Path image = TestTrees.makeImage(src, tmp.resolve("img"));
    Files.createDirectories(target);
    Files.createSymbolicLink(target.resolve("sub"), outside);
    assertThatThrownBy(() -> extract(image, "/", target))
        .isInstanceOf(FileSystemException.class)
        .hasMessageContaining(target.resolve("sub").toString())
        .hasMessageContaining("/sub");
    assertThat(count(outside)).isZero();

    // A dangling link where a file goes: creating the file must not create the link's target.
    Files.delete(target.resolve("sub"));
    Files.createDirectories(target.resolve("sub/deeper"));
    Files.createSymbolicLink(target.resolve("sub/deeper/file"), outside.resolve("created"));
    assertThatThrownBy(() -> extract(image, "/", target))
        .isInstanceOf(FileAlreadyExistsException.class)
        .hasMessageContaining(target.resolve("sub/deeper/file").toString());
    assertThat(outside.resolve("created")).doesNotExist();
  }

  @Test
  void existingFilesAreNotOverwritten() throws Exception {
    Path src = TestTrees.fixed(Files.createDirectory(tmp.resolve("src")));
    Path image = TestTrees.makeImage(src, tmp.resolve("img"));
    TestTrees.write(target.resolve("a/x.txt"), "mine\n");
    assertThatThrownBy(() -> extract(image, "/", target))
        .isInstanceOf(FileAlreadyExistsException.class)
        .hasMessageContaining(target.resolve("a/x.txt").toString());
    assertThat(target.resolve("a/x.txt")).hasContent("mine");

    Path single = TestTrees.write(tmp.resolve("single"), "mine\n");
    assertThatThrownBy(() -> extract(image, "README.md", single))
        .isInstanceOf(FileAlreadyExistsException.class)
        .hasMessageContaining(single.toString());
    assertThat(single).hasContent("mine");
  }

  @Test
  void existingRealDirectoriesAreFilledIn() throws Exception {
    Path src = TestTrees.fixed(Files.createDirectory(tmp.resolve("src")));
    Path image = TestTrees.makeImage(src, tmp.resolve("img"));
    Files.createDirectories(target.resolve("a/b"));
    TestTrees.write(target.resolve("unrelated"), "kept\n");
    extract(image, "/", target);
    Files.delete(target.resolve("unrelated"));
    assertThat(GitCli.writeTree(target)).isEqualTo(GitCli.writeTree(src));
  }

  @Test
  void symlinksAreExtractedAsLinksAndNotFollowed() throws Exception {
    Path src = Files.createDirectory(tmp.resolve("src"));
    TestTrees.write(src.resolve("dir/file"), "content\n");
    Path exe = TestTrees.write(src.resolve("dir/tool"), "#!/bin/sh\n");
    Files.setPosixFilePermissions(exe, PosixFilePermissions.fromString("rwxr-xr-x"));
    Files.createSymbolicLink(src.resolve("relative"), Path.of("dir/file"));
    Files.createSymbolicLink(src.resolve("dir/up"), Path.of("../relative"));
    Files.createSymbolicLink(src.resolve("absolute-dir"), outside);
    Files.createSymbolicLink(src.resolve("absolute-file"), outside.resolve("no-such-file"));
    Files.createSymbolicLink(src.resolve("dangling"), Path.of("nowhere/at/all"));
    Path image = TestTrees.makeImage(src, tmp.resolve("img"));
    assertThat(new ImageVerifier(Progress.NONE).verify(image).problems()).isEmpty();

    extract(image, "/", target);
    String[] links = {"relative", "dir/up", "absolute-dir", "absolute-file", "dangling"};
    for (String link : links) {
      Path t = target.resolve(link);
      assertThat(Files.isSymbolicLink(t)).as(link).isTrue();
      assertThat(Files.readSymbolicLink(t))
          .as(link)
          .isEqualTo(Files.readSymbolicLink(src.resolve(link)));
    }
    assertThat(target.resolve("dir/file")).hasContent("content");
    assertThat(Files.getPosixFilePermissions(target.resolve("dir/tool"), LinkOption.NOFOLLOW_LINKS))
        .isEqualTo(PosixFilePermissions.fromString("rwxr-xr-x"));
    assertThat(Files.getPosixFilePermissions(target.resolve("dir/file"), LinkOption.NOFOLLOW_LINKS))
        .isEqualTo(PosixFilePermissions.fromString("rw-r--r--"));
    assertThat(count(outside)).isZero();
    assertThat(GitCli.writeTree(target)).isEqualTo(GitCli.writeTree(src));
  }
}
