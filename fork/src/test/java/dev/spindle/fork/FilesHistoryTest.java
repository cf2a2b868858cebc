package dev.spindle.fork;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.spindle.memory.PagedMemory;
import dev.spindle.sandbox.Engine;
import dev.spindle.sandbox.Sandbox;
import dev.spindle.store.SpindleHome;
import dev.spindle.store.Tag;
import dev.spindle.testing.Guests;
import dev.spindle.testing.Requires;
import dev.spindle.testing.Tool;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A chain of snapshots' private files as Git commits (parent = the snapshot the sandbox was
 * branched from), exported as a bare repository and read back with plain git as the oracle.
 */
@Requires(Tool.CLANG)
class FilesHistoryTest {
  @TempDir Path tmp;

  private static Sandbox sandbox(Map<String, Path> dirs) {
    return Sandbox.builder(Guests.bytes(Guests.reactor("warm")))
        .engine(Engine.COMPILED)
        .memoryFactory(PagedMemory::new)
        .build()
        .withPreopens(dirs);
  }

  private static String git(Path repo, String... args) throws Exception {
    List<String> cmd = new ArrayList<>(List.of("git", "-C", repo.toString()));
    cmd.addAll(List.of(args));
    Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
    assertThat(p.exitValue()).as("git %s: %s", String.join(" ", args), out).isZero();
    return out.strip();
  }

  @Test
  void snapshotsOfABranchChainExportAsGitHistory() throws Exception {
    SpindleHome home = new SpindleHome(tmp.resolve("home"));
    try (Forks forks = new Forks(home)) {
      Path root = forks.privateRoot(List.of("home/user", "tmp"));
      Path scratch = forks.privateRoot(List.of());
      Files.writeString(root.resolve("home/user/notes.txt"), "one\n");
      Files.writeString(scratch.resolve("a.txt"), "a\n");
      Files.createSymbolicLink(root.resolve("home/user/link"), Path.of("notes.txt"));
      Guest parent = forks.startWithDirs(sandbox(Map.of("/", root, "/scratch", scratch)), Map.of());
      SandboxSnapshot s1 = forks.snapshot(parent, Tag.of("s1"), SnapshotMode.FULL);
      Files.writeString(root.resolve("home/user/notes.txt"), "parent later\n");

      Guest child = forks.branch(s1, 1).getFirst();
      Path childRoot = child.privateDirs().get("/");
      assertThat(Files.readString(childRoot.resolve("home/user/notes.txt"))).isEqualTo("one\n");
      Files.writeString(childRoot.resolve("home/user/notes.txt"), "two\n");
      Files.delete(child.privateDirs().get("/scratch").resolve("a.txt"));
      Files.writeString(childRoot.resolve("tmp/new.txt"), "new\n");
      forks.snapshot(child, Tag.of("s2"), SnapshotMode.LIVE).persisted().get();
      child.close();
      parent.close();
    }

    Path out = tmp.resolve("history.git");
    FilesHistory.Exported e = FilesHistory.export(home, Tag.of("s2"), out);
    assertThat(e.commits()).isEqualTo(2);
    git(out, "fsck", "--strict", "--no-dangling");
    assertThat(git(out, "log", "--format=%s", "s2")).isEqualTo("snapshot s2\nsnapshot s1");
    assertThat(git(out, "show", "s2:home/user/notes.txt")).isEqualTo("two");
    assertThat(git(out, "show", "s2~1:home/user/notes.txt"))
        .as("s1's instant, not the parent's later write")
        .isEqualTo("one");
    assertThat(git(out, "show", "s2~1:scratch/a.txt")).isEqualTo("a");
    assertThat(git(out, "ls-tree", "s2", "home/user/link")).startsWith("120000 blob");
    assertThat(git(out, "diff", "--name-status", "s2~1", "s2"))
        .isEqualTo("M\thome/user/notes.txt\nD\tscratch/a.txt\nA\ttmp/new.txt");
    assertThat(git(out, "rev-parse", "s2")).isEqualTo(e.commit());

    // Snapshot s1's files are referenced as long as s1 exists; deleting it drops its ref. (s2, a
    // snapshot of s1's branch, reads its pages through s1: compacted first, it stands alone.)
    try (Forks forks = new Forks(home)) {
      forks.store().compact(Tag.of("s2"));
      forks.store().delete(Tag.of("s1"));
    }
    assertThatThrownBy(() -> FilesHistory.export(home, Tag.of("s1"), tmp.resolve("gone.git")))
        .isInstanceOf(IOException.class)
        .hasMessageContaining("has no files");
  }

  @Test
  void aMissingObjectIsNamedById() throws Exception {
    SpindleHome home = new SpindleHome(tmp.resolve("home"));
    try (Forks forks = new Forks(home)) {
      Path root = forks.privateRoot(List.of());
      Files.writeString(root.resolve("f.txt"), "content\n");
      try (Guest g = forks.startWithDirs(sandbox(Map.of("/", root)), Map.of())) {
        forks.snapshot(g, Tag.of("s"), SnapshotMode.FULL);
      }
    }
    // The store's packs removed: the first object the export needs is the snapshot's commit.
    FilesRepo repo = new FilesRepo(home.filesRepo());
    String commit = repo.commitOf(Tag.of("s")).orElseThrow().name();
    repo.close();
    try (var packs = Files.list(home.filesRepo().resolve("objects/pack"))) {
      for (Path p : packs.toList()) {
        Files.delete(p);
      }
    }
    assertThatThrownBy(() -> FilesHistory.export(home, Tag.of("s"), tmp.resolve("out.git")))
        .isInstanceOf(IOException.class)
        .hasMessageContaining(commit);
  }
}
