package dev.spindle.fork;

import static org.assertj.core.api.Assertions.assertThat;

import dev.spindle.store.Tag;
import dev.spindle.testing.GitCli;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Later snapshots of one upper directory re-read only what changed, and never miss a change: plain
 * git reads each snapshot's tree back.
 */
class UpperStatsTest {
  @TempDir Path tmp;

  @Test
  void aLaterSnapshotReusesUnchangedFilesAndSeesEveryChangeEvenWithAForgedModificationTime()
      throws Exception {
    Path upper = Files.createDirectories(tmp.resolve("upper/d"));
    for (int i = 0; i < 20; i++) {
      Files.writeString(upper.resolve("f" + i), "content " + i);
    }
    // Past the racy window: files changed just before a pass are never kept by stat.
    Thread.sleep(UpperStats.RACY.toMillis() * 3);
    FilesRepo repo = new FilesRepo(tmp.resolve("files.git"));
    try {
      Map<String, FilesRepo.Change> dirs =
          Map.of("/data", new FilesRepo.Change(null, upper.getParent(), false));
      FilesRepo.Committed one = repo.commit(Tag.of("one"), dirs, null);
      assertThat(repo.filesReused()).isZero();

      // Same size, same modification time (a guest may set it through WASI): only the change
      // time, which no guest sets, tells.
      Path forged = upper.resolve("f3");
      FileTime mtime = Files.getLastModifiedTime(forged);
      Files.writeString(forged, "CONTENT 3");
      Files.setLastModifiedTime(forged, mtime);
      Files.writeString(upper.resolve("f7"), "changed, longer than before");
      Files.delete(upper.resolve("f9"));
      FilesRepo.Committed two = repo.commit(Tag.of("two"), dirs, Tag.of("one"));

      assertThat(repo.filesReused()).as("the 17 files nobody touched").isEqualTo(17);
      Path git = tmp.resolve("files.git");
      assertThat(git(git, "show", two.commit().name() + ":data/d/f3")).isEqualTo("CONTENT 3");
      assertThat(git(git, "show", two.commit().name() + ":data/d/f7"))
          .isEqualTo("changed, longer than before");
      assertThat(git(git, "show", two.commit().name() + ":data/d/f5")).isEqualTo("content 5");
      assertThat(git(git, "ls-tree", "--name-only", two.commit().name() + ":data/d"))
          .doesNotContain("f9");
      assertThat(git(git, "show", one.commit().name() + ":data/d/f3")).isEqualTo("content 3");
      git(git, "fsck", "--strict");
    } finally {
      repo.close();
    }
  }

  private static String git(Path repo, String... args) throws Exception {
    return GitCli.run(repo, args);
  }
}
