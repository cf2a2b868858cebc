package dev.spindle.fork;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.spindle.image.AccessMode;
import dev.spindle.image.Image;
import dev.spindle.image.ImageStore;
import dev.spindle.image.Progress;
import dev.spindle.image.make.MakeOptions;
import dev.spindle.memory.PagedMemory;
import dev.spindle.sandbox.Engine;
import dev.spindle.sandbox.Sandbox;
import dev.spindle.store.SpindleHome;
import dev.spindle.store.Tag;
import dev.spindle.testing.GitCli;
import dev.spindle.testing.Guests;
import dev.spindle.testing.Requires;
import dev.spindle.testing.Tool;
import java.io.IOException;
import java.nio.file.FileSystem;
import java.nio.file.FileSystems;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
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
    return GitCli.run(repo, args);
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
  void imageDirectoriesExportAsTheImageWithTheLayerApplied() throws Exception {
    SpindleHome home = new SpindleHome(tmp.resolve("home"));
    Path src = Files.createDirectories(tmp.resolve("image-src"));
    Files.writeString(src.resolve("keep.txt"), "keep\n");
    Files.writeString(src.resolve("change.txt"), "old\n");
    Files.writeString(src.resolve("gone.txt"), "gone\n");
    Files.createDirectories(src.resolve("sub"));
    Files.writeString(src.resolve("sub/deep.txt"), "deep\n");
    ImageStore images = new ImageStore(home);
    images.make(src.toString(), Tag.of("img"), MakeOptions.defaults(), Progress.NONE);
    String root;
    try (Image img = images.open(Tag.of("img"), AccessMode.INDEXED)) {
      root = img.root().name();
    }
    List<FileSystem> opened = new ArrayList<>();
    try (Forks forks = new Forks(home)) {
      forks.imageDirs(
          (tag, r) -> {
            // One file system per image, shared by every directory that names it (as the node's).
            if (opened.isEmpty()) {
              opened.add(FileSystems.newFileSystem(images.usable(tag), Map.of("mode", "indexed")));
            }
            return opened.getFirst().getPath("/");
          });
      Path data = forks.imageDir("img", root);
      Path app = forks.writableImageDir("img", root);
      Path scratch = forks.privateRoot(List.of());
      Files.delete(app.resolve("gone.txt"));
      Files.writeString(app.resolve("change.txt"), "new\n");
      Files.writeString(app.resolve("added.txt"), "added\n");
      Files.writeString(scratch.resolve("h.txt"), "h\n");
      Guest g =
          forks.startWithDirs(
              sandbox(Map.of("/data", data, "/app", app, "/home", scratch)), Map.of());
      SandboxSnapshot v1 = forks.snapshot(g, Tag.of("v1"), SnapshotMode.FULL);
      Guest child = forks.branch(v1, 1).getFirst();
      Files.writeString(child.privateDirs().get("/app").resolve("added.txt"), "again\n");
      forks.snapshot(child, Tag.of("v2"), SnapshotMode.FULL);
      child.close();
      g.close();
    } finally {
      for (FileSystem fs : opened) {
        fs.close();
      }
    }

    Path out = tmp.resolve("view.git");
    FilesHistory.Exported e = FilesHistory.export(home, Tag.of("v2"), out);
    assertThat(e.commits()).isEqualTo(2);
    git(out, "fsck", "--strict", "--no-dangling");
    assertThat(git(out, "log", "--format=%s", "v2")).isEqualTo("snapshot v2\nsnapshot v1");
    assertThat(git(out, "show", "v2:app/change.txt")).isEqualTo("new");
    assertThat(git(out, "show", "v2:app/keep.txt")).as("untouched image file").isEqualTo("keep");
    assertThat(git(out, "show", "v2:app/added.txt")).isEqualTo("again");
    assertThat(git(out, "show", "v2~1:app/added.txt")).isEqualTo("added");
    assertThat(git(out, "ls-tree", "v2", "app/gone.txt")).as("deleted by the guest").isEmpty();
    assertThat(git(out, "show", "v2:data/gone.txt")).as("the read-only image").isEqualTo("gone");
    assertThat(git(out, "show", "v2:home/h.txt")).isEqualTo("h");
    assertThat(git(out, "ls-tree", "-r", "--name-only", "v2"))
        .isEqualTo(
            String.join(
                "\n",
                "app/added.txt",
                "app/change.txt",
                "app/keep.txt",
                "app/sub/deep.txt",
                "data/change.txt",
                "data/gone.txt",
                "data/keep.txt",
                "data/sub/deep.txt",
                "home/h.txt"))
        .doesNotContain(".wh.");
    assertThat(git(out, "rev-parse", "v2:data")).as("the image's own root").isEqualTo(root);
    assertThat(git(out, "rev-parse", "v2:app/sub"))
        .as("an untouched image subtree keeps its id")
        .isEqualTo(git(out, "rev-parse", "v2:data/sub"));
    assertThat(git(out, "diff", "--name-status", "v2~1", "v2")).isEqualTo("M\tapp/added.txt");
    assertThat(git(out, "diff", "--name-status", "v2~1:data", "v2~1:app"))
        .isEqualTo("A\tadded.txt\nM\tchange.txt\nD\tgone.txt");
    assertThat(git(out, "log", "-1", "--format=%an <%ae> %at %cn <%ce> %ct", "v2"))
        .as("author, committer and times as files.git has them")
        .isEqualTo(
            git(
                home.filesRepo(),
                "log",
                "-1",
                "--format=%an <%ae> %at %cn <%ce> %ct",
                FilesRepo.REF_PREFIX + "v2"));
    assertThat(git(home.filesRepo(), "ls-tree", "-r", "--name-only", FilesRepo.REF_PREFIX + "v2"))
        .as("files.git keeps the layer as a layer")
        .contains("app/.wh.gone.txt")
        .doesNotContain("data/");

    // v1 deleted: its commit has v2's directories (a branch has those of its snapshot), so the
    // export is the same, commit for commit.
    try (Forks forks = new Forks(home)) {
      forks.store().compact(Tag.of("v2"));
      forks.store().delete(Tag.of("v1"));
    }
    Path again = tmp.resolve("again.git");
    FilesHistory.export(home, Tag.of("v2"), again);
    assertThat(git(again, "rev-parse", "v2", "v2~1"))
        .isEqualTo(git(out, "rev-parse", "v2", "v2~1"));
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
