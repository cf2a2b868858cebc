package dev.spindle.image.make;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.spindle.image.AccessMode;
import dev.spindle.image.Image;
import dev.spindle.image.ImageHeader;
import dev.spindle.image.ImageVerifier;
import dev.spindle.image.Progress;
import dev.spindle.image.TestTrees;
import dev.spindle.image.VerifyReport;
import dev.spindle.testing.GitCli;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.List;
import java.util.concurrent.TimeUnit;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class DirectoryImageTest {
  @TempDir Path tmp;

  @Test
  void rootEqualsGitWriteTreeForEveryKindOfEntry() throws Exception {
    Path src = TestTrees.fixed(Files.createDirectory(tmp.resolve("src")));
    ImageHeader h =
        new ImageMaker(MakeOptions.defaults().withDate(TestTrees.DATE), Progress.NONE)
            .make(src.toString(), tmp.resolve("a.img"));
    assertThat(h.root().name()).isEqualTo(GitCli.writeTree(src));
  }

  @Property(tries = 12)
  void rootEqualsGitWriteTreeForRandomTrees(
      @ForAll long seed, @ForAll @IntRange(min = 0, max = 60) int files) throws Exception {
    Path dir = Files.createTempDirectory("random-tree-");
    try {
      Path src = TestTrees.random(Files.createDirectory(dir.resolve("src")), seed, files);
      Path img = TestTrees.makeImage(src, dir.resolve("r.img"));
      VerifyReport r = new ImageVerifier(Progress.NONE).verify(img);
      assertThat(r.problems()).isEmpty();
      assertThat(r.commit().root().name()).isEqualTo(GitCli.writeTree(src));
    } finally {
      TestTrees.delete(dir);
    }
  }

  @Test
  void sameInputAndDateGiveByteIdenticalImages() throws Exception {
    Path src = TestTrees.random(Files.createDirectory(tmp.resolve("src")), 42, 80);
    Path a = TestTrees.makeImage(src, tmp.resolve("a.img"));
    Path b = TestTrees.makeImage(src, tmp.resolve("b.img"));
    assertThat(Files.mismatch(a, b)).isEqualTo(-1);
    Path c = tmp.resolve("c.img");
    new ImageMaker(MakeOptions.defaults().withDate(TestTrees.DATE.plusSeconds(1)), Progress.NONE)
        .make(src.toString(), c);
    assertThat(Files.mismatch(a, c)).isNotEqualTo(-1);
  }

  @Test
  void gitVerifyPackAndIndexPackAcceptThePackSection() throws Exception {
    Path src = TestTrees.fixed(Files.createDirectory(tmp.resolve("src")));
    TestTrees.random(Files.createDirectory(src.resolve("similar")), 3, 60);
    Path img = TestTrees.makeImage(src, tmp.resolve("a.img"));
    ImageHeader h;
    try (Image i = Image.open(img, AccessMode.LAZY)) {
      h = i.header();
    }
    byte[] all = Files.readAllBytes(img);
    Path packDir = Files.createDirectories(tmp.resolve("packs"));
    byte[] pack =
        java.util.Arrays.copyOfRange(
            all, (int) h.packOffset(), (int) (h.packOffset() + h.packLength()));
    byte[] idx =
        java.util.Arrays.copyOfRange(
            all, (int) h.idxOffset(), (int) (h.idxOffset() + h.idxLength()));
    Path p = Files.write(packDir.resolve("pack-x.pack"), pack);
    Files.write(packDir.resolve("pack-x.idx"), idx);
    String out = GitCli.run(packDir, "verify-pack", "-v", p.toString());
    assertThat(out).contains("pack-x.pack: ok");
    assertThat(out).contains("chain length"); // deltas were found
    Path reindexed = packDir.resolve("re.pack");
    Files.copy(p, reindexed, StandardCopyOption.REPLACE_EXISTING);
    GitCli.run(packDir, "index-pack", reindexed.toString());
    // git's own index of our pack lists the same objects as ours.
    assertThat(objectsOf(packDir, packDir.resolve("re.idx")))
        .isEqualTo(objectsOf(packDir, packDir.resolve("pack-x.idx")));
    assertThat(out).contains(h.commit().name()).contains(h.root().name());
  }

  private static List<String> objectsOf(Path dir, Path idx) throws Exception {
    Process p =
        new ProcessBuilder("git", "show-index")
            .directory(dir.toFile())
            .redirectInput(idx.toFile())
            .start();
    String s = new String(p.getInputStream().readAllBytes());
    p.waitFor(30, TimeUnit.SECONDS);
    return s.lines().map(l -> l.split(" ")[1]).sorted().toList();
  }

  @Test
  void fifoIsRefusedWithItsPath() throws Exception {
    Path src = Files.createDirectory(tmp.resolve("src"));
    TestTrees.write(src.resolve("ok.txt"), "fine");
    Path fifo = src.resolve("pipe");
    Process p = new ProcessBuilder("mkfifo", fifo.toString()).start();
    assumeTrue(p.waitFor() == 0, "mkfifo not available");
    assertThatThrownBy(() -> TestTrees.makeImage(src, tmp.resolve("x.img")))
        .isInstanceOf(IOException.class)
        .hasMessageContaining(fifo.toString())
        .hasMessageContaining("not a file");
    assertThat(tmp.resolve("x.img")).doesNotExist();
  }

  @Test
  void unreadableFileIsRefusedWithItsPath() throws Exception {
    assumeTrue(!"root".equals(System.getProperty("user.name")), "root reads everything");
    Path src = Files.createDirectory(tmp.resolve("src"));
    Path f = TestTrees.write(src.resolve("secret"), "x");
    Files.setPosixFilePermissions(
        f, java.nio.file.attribute.PosixFilePermissions.fromString("---------"));
    assertThatThrownBy(() -> TestTrees.makeImage(src, tmp.resolve("x.img")))
        .hasMessageContaining(f.toString());
  }

  @Test
  void missingSourceIsNamed() {
    assertThatThrownBy(() -> TestTrees.makeImage(tmp.resolve("nope"), tmp.resolve("x.img")))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("nope");
  }
}
