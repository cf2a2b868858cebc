package dev.spindle.image;

import static dev.spindle.image.CraftedTrees.entry;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.spindle.image.lazy.LazyImages;
import dev.spindle.testing.GitCli;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.stream.Stream;
import org.eclipse.jgit.lib.FileMode;
import org.eclipse.jgit.lib.ObjectId;
import org.eclipse.jgit.lib.ObjectReader;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Malformed trees (as git fsck --strict calls them) are refused by verify, by the lazy pull's
 * metadata-only verify and by make, with the tree and the entry named; well-formed trees with
 * symlinks still pass. The real git is the oracle for what is malformed.
 */
class ImageVerifierTreesTest {
  @TempDir Path tmp;
  CraftedTrees git;

  @BeforeEach
  void repository() throws Exception {
    git = CraftedTrees.create(tmp.resolve("crafted.git"));
  }

  @AfterEach
  void close() {
    git.close();
  }

  private static VerifyReport verify(Path image, boolean metadataOnly) throws IOException {
    return new ImageVerifier(Progress.NONE, metadataOnly).verify(image);
  }

  /** Every way the crafted commit comes in names {@code expected}. */
  private void refusedEverywhere(ObjectId commit, ObjectId root, ObjectId badTree, String expected)
      throws Exception {
    Path image = git.image(commit, root, tmp.resolve("crafted.img"));
    VerifyReport whole = verify(image, false);
    assertThat(whole.ok()).isFalse();
    assertThat(whole.problems())
        .anySatisfy(
            p -> {
              assertThat(p.object()).isEqualTo(badTree.name());
              assertThat(p.message()).contains(expected);
              assertThat(p.offset()).isGreaterThanOrEqualTo(ImageHeader.SIZE);
            });

    Path metadata = tmp.resolve("crafted-metadata.img");
    try {
      LazyImages.writeMetadata(image, metadata);
    } catch (IOException | RuntimeException e) {
      // JGit's walk stops at some malformed trees; the whole image above was refused anyway.
      metadata = null;
    }
    if (metadata != null) {
      assertThat(verify(metadata, true).problems())
          .anySatisfy(p -> assertThat(p.message()).contains(expected));
    }

    Path made = tmp.resolve("made.img");
    assertThatThrownBy(() -> TestTrees.makeImage(git.gitDir, made))
        .isInstanceOf(IOException.class)
        .hasMessageContaining("cannot make an image of")
        .hasMessageContaining(expected);
    assertThat(made).doesNotExist();
  }

  @Test
  void symlinkThenDirectoryOfTheSameNameIsRefused() throws Exception {
    Path outside = Files.createDirectory(tmp.resolve("outside-dir"));
    ObjectId link = git.blob(outside.toString());
    ObjectId sub = git.tree(entry("pwned", FileMode.REGULAR_FILE, git.blob("pwned\n")));
    ObjectId root = git.tree(entry("x", FileMode.SYMLINK, link), entry("x", FileMode.TREE, sub));
    ObjectId commit = git.commit(root);
    String expected = "tree " + root.name() + ": duplicate entry name 'x'";
    refusedEverywhere(commit, root, root, expected);
    // What a lazy pull verifies: this metadata image is written, and refused.
    Path metadata = tmp.resolve("dup-metadata.img");
    LazyImages.writeMetadata(git.image(commit, root, tmp.resolve("dup.img")), metadata);
    assertThat(verify(metadata, true).problems())
        .anySatisfy(p -> assertThat(p.message()).isEqualTo(expected));
    assertThatThrownBy(() -> GitCli.run(git.gitDir, "fsck", "--strict"))
        .hasMessageContaining("duplicateEntries");
  }

  @Test
  void twoFilesOfTheSameNameAreRefused() throws Exception {
    ObjectId root =
        git.tree(
            entry("a", FileMode.REGULAR_FILE, git.blob("1\n")),
            entry("a", FileMode.EXECUTABLE_FILE, git.blob("2\n")));
    refusedEverywhere(git.commit(root), root, root, "duplicate entry name 'a'");
    assertThatThrownBy(() -> GitCli.run(git.gitDir, "fsck", "--strict"))
        .hasMessageContaining("duplicateEntries");
  }

  @Test
  void unsortedEntriesAreRefused() throws Exception {
    ObjectId blob = git.blob("x\n");
    ObjectId root =
        git.tree(entry("b", FileMode.REGULAR_FILE, blob), entry("a", FileMode.REGULAR_FILE, blob));
    refusedEverywhere(
        git.commit(root), root, root, "tree " + root.name() + ": entries out of order at 'a'");
    assertThatThrownBy(() -> GitCli.run(git.gitDir, "fsck", "--strict"))
        .hasMessageContaining("treeNotSorted");
  }

  static Stream<Arguments> forbiddenNames() {
    return Stream.of(
        Arguments.of("..", FileMode.REGULAR_FILE, "forbidden entry name '..'"),
        Arguments.of(".", FileMode.REGULAR_FILE, "forbidden entry name '.'"),
        Arguments.of(".git", FileMode.REGULAR_FILE, "forbidden entry name '.git'"),
        Arguments.of(".git", FileMode.TREE, "forbidden entry name '.git'"),
        Arguments.of(".GIT", FileMode.TREE, "forbidden entry name '.GIT'"),
        Arguments.of(".gIt", FileMode.REGULAR_FILE, "forbidden entry name '.gIt'"),
        Arguments.of("a/b", FileMode.REGULAR_FILE, "'/' in entry name 'a/b'"),
        Arguments.of("", FileMode.REGULAR_FILE, "empty entry name ''"));
  }

  @ParameterizedTest(name = "{0} {1}")
  @MethodSource("forbiddenNames")
  void forbiddenNameIsRefused(String name, FileMode mode, String expected) throws Exception {
    ObjectId hooks =
        git.tree(
            entry("post-checkout", FileMode.EXECUTABLE_FILE, git.blob("#!/bin/sh\necho pwned\n")));
    ObjectId content =
        mode == FileMode.TREE
            ? git.tree(entry("hooks", FileMode.TREE, hooks))
            : git.blob("content\n");
    // Nested, so that the message names a tree other than the root and the path to it.
    ObjectId bad = git.tree(entry(name, mode, content));
    ObjectId root = git.tree(entry("dir", FileMode.TREE, bad));
    refusedEverywhere(git.commit(root), root, bad, "tree " + bad.name() + ": " + expected);
    try (ObjectReader reader = git.reader()) {
      assertThat(TreeChecks.checkAll(reader, root))
          .singleElement()
          .satisfies(p -> assertThat(p.message()).endsWith(expected + " (in /dir)"));
    }
    assertThatThrownBy(() -> GitCli.run(git.gitDir, "fsck", "--strict"))
        .isInstanceOf(IOException.class);
  }

  @Test
  void nulInANameIsRefused() throws Exception {
    ObjectId blob = git.blob("x\n");
    byte[] name = "a\0b".getBytes(StandardCharsets.UTF_8);
    ObjectId root = git.tree(entry(name, FileMode.REGULAR_FILE, blob));
    String expected = "tree " + root.name() + ": malformed";
    ObjectId commit = git.commit(root);
    assertThatThrownBy(() -> TestTrees.makeImage(git.gitDir, tmp.resolve("made.img")))
        .hasMessageContaining(expected);
    Path image = git.image(commit, root, tmp.resolve("crafted.img"));
    assertThat(verify(image, false).problems())
        .anySatisfy(
            p -> {
              assertThat(p.object()).isEqualTo(root.name());
              assertThat(p.message()).contains(expected);
            });
    assertThatThrownBy(() -> GitCli.run(git.gitDir, "fsck", "--strict"))
        .isInstanceOf(IOException.class);
  }

  @Test
  void badModeIsRefused() throws Exception {
    ObjectId root = git.tree(entry("dev", FileMode.fromBits(0060644), git.blob("x\n")));
    ObjectId commit = git.commit(root);
    String expected = "tree " + root.name() + ": bad mode 60644 of entry 'dev'";
    assertThatThrownBy(() -> TestTrees.makeImage(git.gitDir, tmp.resolve("made.img")))
        .hasMessageContaining(expected);
    Path image = git.image(commit, root, tmp.resolve("crafted.img"));
    assertThat(verify(image, false).problems())
        .anySatisfy(p -> assertThat(p.message()).contains(expected));
    // git fsck only warns about a bad mode, even with --strict; it does see it.
    assertThat(GitCli.run(git.gitDir, "fsck", "--strict")).contains("badFilemode");
  }

  @Test
  void directoryWithAnUpperCaseDotGitIsRefusedByMake() throws Exception {
    Path src = Files.createDirectory(tmp.resolve("src"));
    TestTrees.write(src.resolve("ok.txt"), "fine\n");
    TestTrees.write(src.resolve("sub/.GIT/hooks/post-checkout"), "#!/bin/sh\n");
    assertThatThrownBy(() -> TestTrees.makeImage(src, tmp.resolve("made.img")))
        .hasMessageContaining("forbidden entry name '.GIT' (in /sub)");
    // git add refuses the same path.
    assertThatThrownBy(() -> GitCli.writeTree(src)).hasMessageContaining(".GIT");
  }

  @Test
  void wellFormedTreesWithSymlinksStillPass() throws Exception {
    Path outside = Files.createDirectory(tmp.resolve("outside-dir"));
    Path src = TestTrees.fixed(Files.createDirectory(tmp.resolve("src")));
    Files.createSymbolicLink(src.resolve("absolute"), outside);
    Files.createSymbolicLink(src.resolve("a/b/abs-file"), Path.of("/etc/hostname"));
    Path image = TestTrees.makeImage(src, tmp.resolve("good.img"));
    assertThat(verify(image, false).problems()).isEmpty();
    Path metadata = tmp.resolve("good-metadata.img");
    LazyImages.writeMetadata(image, metadata);
    assertThat(verify(metadata, true).problems()).isEmpty();

    // The same tree committed by the real git: git fsck --strict and make agree it is fine.
    Path work = Files.createDirectory(tmp.resolve("work"));
    GitCli.run(work, "init", "-q");
    GitCli.run(src, "--git-dir=" + work.resolve(".git"), "--work-tree=" + src, "add", "-A", "-f");
    GitCli.run(src, "--git-dir=" + work.resolve(".git"), "commit", "-q", "-m", "links");
    GitCli.run(work, "fsck", "--strict");
    Path fromGit = TestTrees.makeImage(work, tmp.resolve("from-git.img"));
    VerifyReport r = verify(fromGit, false);
    assertThat(r.problems()).isEmpty();
    assertThat(r.commit().root().name()).isEqualTo(GitCli.writeTree(src));
  }
}
