package dev.spindle.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.spindle.fork.Forks;
import dev.spindle.fork.Guest;
import dev.spindle.fork.SnapshotMode;
import dev.spindle.memory.PagedMemory;
import dev.spindle.sandbox.Sandbox;
import dev.spindle.store.SpindleHome;
import dev.spindle.store.Tag;
import dev.spindle.testing.Guests;
import dev.spindle.testing.Requires;
import dev.spindle.testing.Tool;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code spindle snapshot history TAG -o DIR}, read back with plain git. */
@Requires(Tool.CLANG)
class SnapshotHistoryCliTest {
  @TempDir Path tmp;

  @Test
  void writesTheSnapshotsFilesAsABranchOfABareRepository() throws Exception {
    Path home = tmp.resolve("home");
    try (Forks forks = new Forks(new SpindleHome(home).create())) {
      Path root = forks.privateRoot(List.of("home/user"));
      Files.writeString(root.resolve("home/user/f.txt"), "hello\n");
      Sandbox s =
          Sandbox.builder(Guests.bytes(Guests.reactor("warm")))
              .memoryFactory(PagedMemory::new)
              .build();
      try (Guest g = forks.startWithDirs(s.withPreopens(Map.of("/", root)), Map.of())) {
        forks.snapshot(g, Tag.of("h1"), SnapshotMode.FULL);
      }
    }
    Path out = tmp.resolve("out.git");
    CliRunner.Result r = new CliRunner(home).run("snapshot", "history", "h1", "-o", out.toString());
    assertThat(r.code()).as(r.err()).isZero();
    assertThat(r.out()).contains("branch h1 at ").contains("1 commits");
    Process p =
        new ProcessBuilder("git", "-C", out.toString(), "show", "h1:home/user/f.txt").start();
    assertThat(new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8))
        .isEqualTo("hello\n");
    assertThat(p.waitFor()).isZero();

    CliRunner.Result none =
        new CliRunner(home).run("snapshot", "history", "nope", "-o", tmp.resolve("x").toString());
    assertThat(none.code()).isNotZero();
    assertThat(none.err()).contains("'nope' has no files");
  }
}
