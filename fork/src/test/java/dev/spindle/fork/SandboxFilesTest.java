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
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Private directories across a crash: what recovery removes and what it keeps. */
@Requires(Tool.CLANG)
class SandboxFilesTest {
  @TempDir Path tmp;

  private static Sandbox sandbox(Map<String, Path> dirs) {
    return Sandbox.builder(Guests.bytes(Guests.reactor("warm")))
        .engine(Engine.COMPILED)
        .memoryFactory(PagedMemory::new)
        .build()
        .withPreopens(dirs);
  }

  @Test
  void aCrashMidSnapshotLeavesNoHalfWrittenFilesAndAFinishedSnapshotKeepsItsOwn() throws Exception {
    SpindleHome home = new SpindleHome(tmp.resolve("home"));
    Path files = home.files();
    Path live;
    try (Forks forks = new Forks(home)) {
      live = forks.privateRoot(List.of("d"));
      Files.writeString(live.resolve("d/f.txt"), "kept");
      Guest g = forks.startWithDirs(sandbox(Map.of("/", live)), Map.of());
      forks.snapshot(g, Tag.of("done"), SnapshotMode.FULL);
      Files.writeString(live.resolve("d/f.txt"), "changed");
      assertThatThrownBy(() -> forks.snapshot(g, Tag.of("done"), SnapshotMode.FULL))
          .isInstanceOf(FileAlreadyExistsException.class);
      assertThat(files.resolve("frozen/done/0/d/f.txt"))
          .as("a refused tag leaves the snapshot's files")
          .hasContent("kept");
      // What a kill -9 in the middle of a later snapshot leaves: a temporary copy, and a files
      // commit whose snapshot never got written.
      Files.createDirectories(files.resolve("frozen/.tmp-half-123/0"));
      Files.writeString(files.resolve("frozen/.tmp-half-123/0/part"), "half");
      forks.files().repo().commit(Tag.of("half"), Map.of("/", live), null);
      // The process dies here (no close of the guest).
    }
    SnapshotStore store = new SnapshotStore(home);
    store.recover();
    assertThat(live).as("the dead process's sandbox directories").doesNotExist();
    assertThat(files.resolve("frozen/.tmp-half-123")).doesNotExist();
    assertThat(store.files().repo().commitOf(Tag.of("half"))).isEmpty();
    assertThat(store.files().repo().commitOf(Tag.of("done"))).isPresent();
    assertThat(files.resolve("frozen/done/0/d/f.txt")).hasContent("kept");
    store.files().repo().close();

    try (Forks forks = new Forks(home)) {
      Guest child = forks.branch(forks.open(Tag.of("done")), 1).getFirst();
      assertThat(child.privateDirs().get("/").resolve("d/f.txt")).hasContent("kept");
      child.close();
      // Damage: the snapshot's copy is gone; a branch names the directory and the path.
      dev.spindle.store.Trees.delete(files.resolve("frozen/done/0"));
      assertThatThrownBy(() -> forks.branch(forks.open(Tag.of("done")), 1))
          .hasMessageContaining("preopen '/'")
          .hasMessageContaining("frozen/done/0");
    }
  }

  @Test
  void manyFilesSnapshotAndBranchWhole() throws Exception {
    int n = Integer.getInteger("spindle.files.n", 1000);
    SpindleHome home = new SpindleHome(tmp.resolve("home"));
    try (Forks forks = new Forks(home)) {
      Path root = forks.privateRoot(List.of());
      for (int i = 0; i < n; i++) {
        Path d = Files.createDirectories(root.resolve("d" + (i % 100)));
        Files.writeString(d.resolve("f" + i), "file " + i + "\n");
      }
      try (Guest bare = forks.start(sandbox(Map.of()));
          Guest g = forks.startWithDirs(sandbox(Map.of("/", root)), Map.of())) {
        long t0 = System.nanoTime();
        SandboxSnapshot none = forks.snapshot(bare, Tag.of("none"), SnapshotMode.FULL);
        long t1 = System.nanoTime();
        SandboxSnapshot with = forks.snapshot(g, Tag.of("with"), SnapshotMode.FULL);
        long t2 = System.nanoTime();
        forks.branch(none, 1).getFirst().close();
        long t3 = System.nanoTime();
        Guest child = forks.branch(with, 1).getFirst();
        long t4 = System.nanoTime();
        System.out.printf(
            "files: %d files; snapshot %.1f ms without files, %.1f ms with; branch %.1f ms without, "
                + "%.1f ms with%n",
            n, (t1 - t0) / 1e6, (t2 - t1) / 1e6, (t3 - t2) / 1e6, (t4 - t3) / 1e6);
        Path c = child.privateDirs().get("/");
        assertThat(c.resolve("d7/f" + (n - 93))).hasContent("file " + (n - 93) + "\n");
        assertThat(child.privateFileBytes()).isEqualTo(SandboxFiles.bytesBelow(root));
        child.close();
      }
    }
  }
}
