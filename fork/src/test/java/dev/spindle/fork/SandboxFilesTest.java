package dev.spindle.fork;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

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
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import java.util.zip.DeflaterOutputStream;
import org.eclipse.jgit.lib.Constants;
import org.eclipse.jgit.lib.ObjectId;
import org.eclipse.jgit.lib.ObjectInserter;
import org.eclipse.jgit.lib.ObjectLoader;
import org.eclipse.jgit.lib.ObjectReader;
import org.eclipse.jgit.lib.Repository;
import org.eclipse.jgit.revwalk.ObjectWalk;
import org.eclipse.jgit.revwalk.RevObject;
import org.eclipse.jgit.treewalk.TreeWalk;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Private directories as overlays over snapshots' Git trees: what a snapshot records (only the
 * changed files), what branches see (the snapshot's instant, never a sibling's or the parent's
 * later writes), across a restart, a crash mid-snapshot, and damaged objects.
 */
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

  private static List<String> names(Path dir) throws IOException {
    try (Stream<Path> s = Files.list(dir)) {
      return s.map(p -> p.getFileName().toString()).sorted().toList();
    }
  }

  @Test
  void writesReadsAndDeletesAcrossSnapshotBranchAndRestart() throws Exception {
    SpindleHome home = new SpindleHome(tmp.resolve("home"));
    Path live = home.root().resolve("files/live");
    try (Forks forks = new Forks(home)) {
      Path root = forks.privateRoot(List.of("d", "e"));
      Files.writeString(root.resolve("d/keep.txt"), "keep");
      Files.writeString(root.resolve("d/gone.txt"), "gone");
      Files.writeString(root.resolve("e/x"), "x");
      Guest parent = forks.startWithDirs(sandbox(Map.of("/", root)), Map.of());
      SandboxSnapshot s1 = forks.snapshot(parent, Tag.of("s1"), SnapshotMode.FULL);
      assertThat(home.root().resolve("files/frozen")).as("nothing copied").doesNotExist();
      Files.writeString(root.resolve("d/keep.txt"), "parent later");
      Files.writeString(root.resolve("parent-only"), "p");

      List<Guest> kids = forks.branch(s1, 2);
      Path a = kids.get(0).privateDirs().get("/");
      Path b = kids.get(1).privateDirs().get("/");
      assertThat(kids.get(0).privateFileBytes()).as("a branch has written nothing").isZero();
      assertThat(kids.get(0).sharedFileBytes()).as("keep + gone + x").isEqualTo(9);
      assertThat(a.resolve("d/keep.txt")).as("the snapshot's instant").hasContent("keep");
      assertThat(names(a)).containsExactly("d", "e");
      Files.writeString(a.resolve("d/keep.txt"), "a wrote");
      Files.delete(a.resolve("d/gone.txt"));
      Files.delete(a.resolve("e/x"));
      Files.delete(a.resolve("e"));
      Files.writeString(a.resolve("new.txt"), "new");
      assertThat(names(a.resolve("d"))).containsExactly("keep.txt");
      assertThat(b.resolve("d/keep.txt")).as("siblings never see each other").hasContent("keep");
      assertThat(names(b.resolve("d"))).containsExactly("gone.txt", "keep.txt");
      assertThat(names(b)).containsExactly("d", "e");
      assertThat(root.resolve("d/keep.txt")).as("nor the parent").hasContent("parent later");
      assertThat(kids.get(0).privateFileBytes())
          .as("'a wrote' and 'new' in a's upper (whiteouts are empty)")
          .isEqualTo(10);

      // A snapshot of a branch: base tree + upper, whiteouts applied; a branch of that sees it.
      forks.snapshot(kids.get(0), Tag.of("s2"), SnapshotMode.LIVE).persisted().get();
      Files.writeString(a.resolve("after-s2"), "later");
      Guest c = forks.branch(forks.open(Tag.of("s2")), 1).getFirst();
      Path cr = c.privateDirs().get("/");
      assertThat(names(cr)).containsExactly("d", "new.txt");
      assertThat(names(cr.resolve("d"))).containsExactly("keep.txt");
      assertThat(cr.resolve("d/keep.txt")).hasContent("a wrote");
      // A live snapshot's sandbox goes on from the same base: its next snapshot has both.
      forks.snapshot(kids.get(0), Tag.of("s3"), SnapshotMode.FULL);
      Guest d = forks.branch(forks.open(Tag.of("s3")), 1).getFirst();
      assertThat(names(d.privateDirs().get("/"))).containsExactly("after-s2", "d", "new.txt");
      try (Stream<Path> s = Files.list(live)) {
        assertThat(s.count()).as("one upper directory per running sandbox").isEqualTo(5);
      }
      for (Guest g : List.of(parent, kids.get(0), kids.get(1), c, d)) {
        g.close();
      }
      assertThat(names(live)).as("closed sandboxes leave no directory").isEmpty();
    }
    // A new process (a node restart): the trees are in files.git.
    new SnapshotStore(home).recover();
    try (Forks forks = new Forks(home)) {
      Guest g = forks.branch(forks.open(Tag.of("s2")), 1).getFirst();
      Path r = g.privateDirs().get("/");
      assertThat(r.resolve("d/keep.txt")).hasContent("a wrote");
      assertThat(r.resolve("d/gone.txt")).as("a deletion stays deleted").doesNotExist();
      assertThat(r.resolve("e")).doesNotExist();
      Guest g1 = forks.branch(forks.open(Tag.of("s1")), 1).getFirst();
      assertThat(g1.privateDirs().get("/").resolve("d/gone.txt")).hasContent("gone");
      g.close();
      g1.close();
    }
  }

  @Test
  void aCrashBetweenObjectsAndRefLeavesNothingNamed() throws Exception {
    SpindleHome home = new SpindleHome(tmp.resolve("home"));
    Path upper;
    try (Forks forks = new Forks(home)) {
      Path root = forks.privateRoot(List.of("d"));
      Files.writeString(root.resolve("d/f.txt"), "kept");
      Guest g = forks.startWithDirs(sandbox(Map.of("/", root)), Map.of());
      forks.snapshot(g, Tag.of("done"), SnapshotMode.FULL);
      Files.writeString(root.resolve("d/f.txt"), "changed");
      assertThatThrownBy(() -> forks.snapshot(g, Tag.of("done"), SnapshotMode.FULL))
          .isInstanceOf(FileAlreadyExistsException.class);
      upper = forks.files().hostDirOf(root);
      // What a kill -9 in the middle of a later snapshot leaves: its objects, even its ref, but
      // no snapshot state naming them.
      forks
          .files()
          .repo()
          .commit(Tag.of("half"), Map.of("/", new FilesRepo.Change(null, upper, false)), null);
      // The process dies here (no close of the guest).
    }
    SnapshotStore store = new SnapshotStore(home);
    store.recover();
    assertThat(upper).as("the dead process's upper directories").doesNotExist();
    assertThat(store.files().repo().commitOf(Tag.of("half"))).isEmpty();
    assertThat(store.list()).containsExactly(Tag.of("done"));
    store.files().repo().close();
    git(home.root().resolve("files.git"), "fsck", "--strict");

    try (Forks forks = new Forks(home)) {
      Guest child = forks.branch(forks.open(Tag.of("done")), 1).getFirst();
      assertThat(child.privateDirs().get("/").resolve("d/f.txt"))
          .as("a refused tag keeps the snapshot's files")
          .hasContent("kept");
      child.close();
    }
  }

  @Test
  void aDamagedOrMissingObjectIsNamedByPathAndIdOnRead() throws Exception {
    SpindleHome home = new SpindleHome(tmp.resolve("home"));
    Path git = home.root().resolve("files.git");
    try (Forks forks = new Forks(home)) {
      Path root = forks.privateRoot(List.of("d"));
      Files.writeString(root.resolve("d/missing.txt"), "will be missing");
      Files.writeString(root.resolve("d/damaged.txt"), "will be damaged");
      Files.writeString(root.resolve("fine.txt"), "fine");
      try (Guest g = forks.startWithDirs(sandbox(Map.of("/", root)), Map.of())) {
        forks.snapshot(g, Tag.of("s"), SnapshotMode.FULL);
      }
    }
    // Every object made loose (the pack removed), then one blob removed and one altered.
    ObjectId missing;
    ObjectId damaged;
    FilesRepo repo = new FilesRepo(git);
    Repository r = repo.repo();
    ObjectId commit = repo.commitOf(Tag.of("s")).orElseThrow();
    Map<ObjectId, byte[]> objects = new LinkedHashMap<>();
    Map<ObjectId, Integer> types = new LinkedHashMap<>();
    try (ObjectReader reader = r.newObjectReader();
        ObjectWalk walk = new ObjectWalk(reader)) {
      walk.markStart(walk.parseAny(commit));
      while (walk.next() != null) {}
      objects.put(commit, reader.open(commit).getCachedBytes());
      types.put(commit, Constants.OBJ_COMMIT);
      RevObject o;
      while ((o = walk.nextObject()) != null) {
        ObjectLoader l = reader.open(o);
        objects.put(o.copy(), l.getCachedBytes());
        types.put(o.copy(), l.getType());
      }
      missing =
          TreeWalk.forPath(reader, "d/missing.txt", walk.parseCommit(commit).getTree())
              .getObjectId(0);
      damaged =
          TreeWalk.forPath(reader, "d/damaged.txt", walk.parseCommit(commit).getTree())
              .getObjectId(0);
    }
    repo.close();
    try (Stream<Path> packs = Files.list(git.resolve("objects/pack"))) {
      for (Path p : packs.toList()) {
        Files.delete(p);
      }
    }
    r = new FilesRepo(git).repo();
    try (ObjectInserter ins = r.newObjectInserter()) {
      for (var e : objects.entrySet()) {
        if (!e.getKey().equals(missing)) {
          ins.insert(types.get(e.getKey()), e.getValue());
        }
      }
      ins.flush();
    }
    r.close();
    Path loose =
        git.resolve("objects")
            .resolve(damaged.name().substring(0, 2))
            .resolve(damaged.name().substring(2));
    loose.toFile().setWritable(true);
    byte[] other = "was damaged!!!!".getBytes(StandardCharsets.UTF_8);
    try (OutputStream out = new DeflaterOutputStream(Files.newOutputStream(loose))) {
      out.write(("blob " + other.length + "\0").getBytes(StandardCharsets.US_ASCII));
      out.write(other);
    }

    try (Forks forks = new Forks(home)) {
      Guest child = forks.branch(forks.open(Tag.of("s")), 1).getFirst();
      Path c = child.privateDirs().get("/");
      assertThat(c.resolve("fine.txt")).hasContent("fine");
      assertThatThrownBy(() -> Files.readString(c.resolve("d/damaged.txt")))
          .isInstanceOf(IOException.class)
          .hasMessageContaining("/d/damaged.txt")
          .hasMessageContaining(damaged.name());
      assertThatThrownBy(() -> Files.readString(c.resolve("d/missing.txt")))
          .isInstanceOf(IOException.class)
          .hasMessageContaining("d/missing.txt")
          .hasMessageContaining(missing.name());
      child.close();
    }
  }

  @Test
  void manyFilesSnapshotAndBranchInTimeOfWhatChanged() throws Exception {
    int n = Integer.getInteger("spindle.files.n", 1000);
    SpindleHome home = new SpindleHome(tmp.resolve("home"));
    try (Forks forks = new Forks(home)) {
      Path root = forks.privateRoot(List.of());
      long bytes = 0;
      for (int i = 0; i < n; i++) {
        Path d = Files.createDirectories(root.resolve("d" + (i % 100)));
        String s = "file " + i + "\n";
        Files.writeString(d.resolve("f" + i), s);
        bytes += s.length();
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
        Files.writeString(child.privateDirs().get("/").resolve("d3/one-more"), "x");
        long t5 = System.nanoTime();
        forks.snapshot(child, Tag.of("child"), SnapshotMode.FULL);
        long t6 = System.nanoTime();
        System.out.printf(
            "files: %d files; snapshot %.1f ms without files, %.1f ms with; branch %.1f ms without, "
                + "%.1f ms with; snapshot of the branch after 1 write %.1f ms%n",
            n, (t1 - t0) / 1e6, (t2 - t1) / 1e6, (t3 - t2) / 1e6, (t4 - t3) / 1e6, (t6 - t5) / 1e6);
        Path c = child.privateDirs().get("/");
        assertThat(c.resolve("d7/f" + (n - 93))).hasContent("file " + (n - 93) + "\n");
        assertThat(child.privateFileBytes()).isEqualTo(1);
        assertThat(child.sharedFileBytes()).isEqualTo(bytes);
        Guest grandchild = forks.branch(forks.open(Tag.of("child")), 1).getFirst();
        assertThat(grandchild.privateDirs().get("/").resolve("d3/one-more")).hasContent("x");
        assertThat(grandchild.sharedFileBytes()).isEqualTo(bytes + 1);
        grandchild.close();
        child.close();
      }
    }
  }

  private static String git(Path repo, String... args) throws Exception {
    return GitCli.run(repo, args);
  }
}
