package dev.spindle.fork;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.spindle.memory.PageCounts;
import dev.spindle.memory.PagedMemory;
import dev.spindle.sandbox.Engine;
import dev.spindle.sandbox.Sandbox;
import dev.spindle.store.SpindleHome;
import dev.spindle.store.Tag;
import dev.spindle.testing.Guests;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Random;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/** Snapshot and branch of the real C reactor guest {@code warm.c}. */
class BranchTest {
  static final int ENTRIES = 3000;
  static final int PAGE = dev.spindle.memory.PageTable.PAGE_SIZE;
  @TempDir Path tmp;

  static Sandbox sandbox(Engine engine) {
    return Sandbox.builder(Guests.bytes(Guests.reactor("warm")))
        .engine(engine)
        .memoryFactory(PagedMemory::new)
        .build();
  }

  static long one(Guest g, String export, long... args) {
    return g.call(export, args)[0];
  }

  /** The bytes of the guest's cells region (made by {@code touch}). */
  static byte[] cells(Guest g, int cells) {
    int base = (int) one(g, "cells_base");
    return g.reactor().memory().readBytes(base, cells * 8);
  }

  @ParameterizedTest
  @EnumSource(Engine.class)
  void childrenResumeTheWarmStateSharingEveryPageUntilTheyWriteIt(Engine engine) throws Exception {
    try (Forks forks = new Forks(new SpindleHome(tmp));
        Guest parent = forks.start(sandbox(engine))) {
      long sum = one(parent, "warm", ENTRIES);
      assertThat(one(parent, "touch", 1)).isEqualTo(1 << 17);
      assertThat(one(parent, "tick")).isEqualTo(1);
      assertThat(one(parent, "tick")).isEqualTo(2);
      long[] expected = new long[ENTRIES];
      for (int i = 0; i < ENTRIES; i += 97) {
        expected[i] = one(parent, "lookup", i);
        assertThat(expected[i]).isNotEqualTo(-1);
      }

      SandboxSnapshot snap = forks.snapshot(parent, Tag.of("warm"), SnapshotMode.FULL);
      PageCounts table = snap.table().counts();
      List<Guest> children = forks.branch(snap, 3);

      for (Guest c : children) {
        PageCounts counts = c.counts();
        assertThat(counts.privateBytes()).as("private bytes before any write").isZero();
        assertThat(counts.sharedPages()).isEqualTo(table.sharedPages());
        assertThat(counts.zeroPages()).isEqualTo(table.zeroPages());
        assertThat(c.parent()).contains(Tag.of("warm"));
      }
      // A small write makes exactly one page private (poke is a leaf: no shadow-stack frame).
      children.get(0).call("poke", 5, 77);
      assertThat(children.get(0).counts().privatePages()).isEqualTo(1);
      assertThat(children.get(1).counts().privatePages()).isZero();

      for (int k = 0; k < children.size(); k++) {
        Guest c = children.get(k);
        assertThat(one(c, "size")).isEqualTo(ENTRIES);
        assertThat(one(c, "inits")).as("_initialize ran once, in the parent").isEqualTo(1);
        assertThat(one(c, "checksum")).isEqualTo(sum);
        for (int i = k; i < ENTRIES; i += 97 * 3) {
          assertThat(one(c, "lookup", i - i % 97)).isEqualTo(expected[i - i % 97]);
        }
        assertThat(one(c, "tick"))
            .as("the Wasm global resumes at the snapshot's value")
            .isEqualTo(3);
        // Indirect calls go through the restored table into this child's own instance.
        assertThat(one(c, "apply", 2, 40 + k)).isEqualTo(41 + k);
        assertThat(one(c, "last")).isEqualTo(40 + k);
        assertThat(one(c, "apply", 1, 9)).isEqualTo(81);
      }
      assertThat(one(parent, "last")).as("children's writes never reach the parent").isZero();
      assertThat(one(parent, "tick")).isEqualTo(3);
      assertThat(one(children.get(0), "peek", 5)).isEqualTo(77);
      assertThat(one(children.get(1), "peek", 5)).isEqualTo(one(parent, "peek", 5));
      children.forEach(Guest::close);
    }
  }

  @Test
  void writesNeverLeakBetweenParentSnapshotAndChildren() throws Exception {
    int cells = 1 << 17; // 1 MiB: 16 pages
    try (Forks forks = new Forks(new SpindleHome(tmp));
        Guest parent = forks.start(sandbox(Engine.COMPILED))) {
      one(parent, "touch", 1);
      Random r = new Random(42);
      long[] parentModel = new long[cells];
      for (int i = 0; i < 200; i++) {
        int at = r.nextInt(cells);
        long v = r.nextLong();
        parent.call("poke", at, v);
        parentModel[at] = v;
      }
      // touch wrote one byte per 4 KiB: read the starting cells back as the model's base.
      long[] base = longs(cells(parent, cells));
      System.arraycopy(base, 0, parentModel, 0, cells);
      SandboxSnapshot snap = forks.snapshot(parent, Tag.of("diff"), SnapshotMode.LIVE);
      long[] snapModel = parentModel.clone();
      List<Guest> actors = new ArrayList<>(List.of(parent));
      actors.addAll(forks.branch(snap, 3));
      List<long[]> models = new ArrayList<>(List.of(parentModel));
      for (int i = 0; i < 3; i++) {
        models.add(snapModel.clone());
      }
      for (int op = 0; op < 400; op++) {
        int who = r.nextInt(actors.size());
        // Writes cluster on a few pages now and then, so pages are written by several actors.
        int at = r.nextBoolean() ? r.nextInt(cells) : r.nextInt(1024);
        if (r.nextInt(3) == 0) {
          assertThat(one(actors.get(who), "peek", at)).isEqualTo(models.get(who)[at]);
        } else {
          long v = r.nextLong();
          actors.get(who).call("poke", at, v);
          models.get(who)[at] = v;
        }
      }
      for (int i = 0; i < actors.size(); i++) {
        assertThat(longs(cells(actors.get(i), cells))).as("actor %d", i).isEqualTo(models.get(i));
      }
      snap.persisted().get();
      try (Guest late = forks.branch(snap, 1).getFirst()) {
        assertThat(longs(cells(late, cells))).as("the snapshot itself").isEqualTo(snapModel);
      }
      try (Forks restarted = new Forks(new SpindleHome(tmp));
          Guest fromDisk = restarted.branch(restarted.open(Tag.of("diff")), 1).getFirst()) {
        assertThat(longs(cells(fromDisk, cells))).as("the persisted snapshot").isEqualTo(snapModel);
      }
      actors.subList(1, actors.size()).forEach(Guest::close);
    }
  }

  static long[] longs(byte[] b) {
    long[] out = new long[b.length / 8];
    java.nio.ByteBuffer.wrap(b).order(java.nio.ByteOrder.LITTLE_ENDIAN).asLongBuffer().get(out);
    return out;
  }

  @Test
  void liveSnapshotKeepsItsInstantWhileTheParentRewritesEveryCell() throws Exception {
    int cells = 4 << 17; // 4 MiB
    try (Forks forks = new Forks(new SpindleHome(tmp));
        Guest parent = forks.start(sandbox(Engine.COMPILED))) {
      one(parent, "touch", 4);
      parent.call("fill_cells", 1000);
      byte[] atSnapshot = cells(parent, cells);
      SandboxSnapshot snap = forks.snapshot(parent, Tag.of("live"), SnapshotMode.LIVE);
      int rounds = 0;
      do {
        parent.call("fill_cells", 5000 + rounds);
        rounds++;
      } while (!snap.persisted().isDone() && rounds < 200);
      snap.persisted().get();
      assertThat(longs(cells(parent, cells))[7]).isEqualTo(5000 + rounds - 1 + 7);

      try (Forks restarted = new Forks(new SpindleHome(tmp))) {
        SandboxSnapshot onDisk = restarted.open(Tag.of("live"));
        assertThat(onDisk.mode()).isEqualTo(SnapshotMode.LIVE);
        assertThat(restarted.store().open(Tag.of("live")).verify()).isNull();
        try (Guest child = restarted.branch(onDisk, 1).getFirst()) {
          assertThat(child.counts().unloadedPages())
              .as("pages come from the file on first touch")
              .isPositive();
          assertThat(cells(child, cells)).isEqualTo(atSnapshot);
        }
      }
    }
  }

  @Test
  void aSnapshotJustTakenBranchesFromMemoryEvenWithItsFilesGone() throws Exception {
    String root = "4b825dc642cb6eb9a060e54bf8d69288fbee4904";
    try (Forks forks = new Forks(new SpindleHome(tmp));
        Guest parent = forks.start(sandbox(Engine.COMPILED), root)) {
      long sum = one(parent, "warm", ENTRIES);
      SandboxSnapshot s = forks.snapshot(parent, Tag.of("mem"), SnapshotMode.LIVE);
      s.persisted().get();
      assertThat(forks.store().delete(Tag.of("mem"))).isTrue();
      assertThat(forks.open(Tag.of("mem"))).isSameAs(s);
      try (Guest c = forks.branch(s, 1).getFirst()) {
        assertThat(c.counts().unloadedPages()).as("no page comes from disk").isZero();
        assertThat(one(c, "checksum")).isEqualTo(sum);
      }
      forks.release(Tag.of("mem"));
      assertThatThrownBy(() -> forks.open(Tag.of("mem")))
          .isInstanceOf(java.nio.file.NoSuchFileException.class);
    }
  }

  /** A module with no memory at all: {@code (func (export "answer") (result i32) i32.const 42)}. */
  private static final byte[] NO_MEMORY = {
    0, 'a', 's', 'm', 1, 0, 0, 0, 1, 5, 1, 0x60, 0, 1, 0x7f, // type: () -> i32
    3, 2, 1, 0, // one function of that type
    7, 10, 1, 6, 'a', 'n', 's', 'w', 'e', 'r', 0, 0, // export "answer"
    10, 6, 1, 4, 0, 0x41, 42, 0x0b
  }; // i32.const 42

  @Test
  void aModuleWithoutMemoryRunsSnapshotsAndBranches() throws Exception {
    try (Forks forks = new Forks(new SpindleHome(tmp));
        Guest parent = forks.start(Sandbox.builder(NO_MEMORY).build())) {
      assertThat(one(parent, "answer")).isEqualTo(42);
      SandboxSnapshot s = forks.snapshot(parent, Tag.of("bare"), SnapshotMode.FULL);
      try (Guest c = forks.branch(s, 1).getFirst()) {
        assertThat(one(c, "answer")).isEqualTo(42);
        assertThat(c.counts().privatePages()).isZero();
      }
    }
  }

  @Test
  void persistedSnapshotBranchesAfterARestartWithTheWarmState() throws Exception {
    long sum;
    long entry;
    try (Forks forks = new Forks(new SpindleHome(tmp));
        Guest parent = forks.start(sandbox(Engine.COMPILED))) {
      sum = one(parent, "warm", ENTRIES);
      entry = one(parent, "lookup", 1234);
      one(parent, "tick");
      forks.snapshot(parent, Tag.of("disk"), SnapshotMode.FULL);
    }
    String root = "4b825dc642cb6eb9a060e54bf8d69288fbee4904";
    try (Forks forks = new Forks(new SpindleHome(tmp));
        Guest withImage = forks.start(sandbox(Engine.COMPILED), root)) {
      forks.snapshot(withImage, Tag.of("img"), SnapshotMode.FULL);
    }
    try (Forks restarted = new Forks(new SpindleHome(tmp))) {
      SandboxSnapshot s = restarted.open(Tag.of("disk"));
      assertThat(s.parent()).isEmpty();
      assertThat(s.imageRoot()).isEmpty();
      assertThat(restarted.open(Tag.of("img")).imageRoot()).contains(root);
      assertThat(s.moduleSha256()).isEqualTo(restarted.open(Tag.of("img")).moduleSha256());
      List<Guest> children = restarted.branch(s, 2);
      for (Guest c : children) {
        assertThat(c.counts().privatePages()).isZero();
        assertThat(one(c, "checksum")).isEqualTo(sum);
        assertThat(one(c, "lookup", 1234)).isEqualTo(entry);
        assertThat(one(c, "tick")).isEqualTo(2);
        c.close();
      }
    }
  }

  @Test
  void everyChildDrawsItsOwnRandomBytesAndItsMonotonicClockGoesOn() throws Exception {
    try (Forks forks = new Forks(new SpindleHome(tmp));
        Guest parent =
            forks.start(
                Sandbox.builder(Guests.bytes(Guests.reactor("warm")))
                    .memoryFactory(PagedMemory::new)
                    .randomSeed(7)
                    .build())) {
      one(parent, "warm", 10);
      long clock = one(parent, "monotonic");
      SandboxSnapshot snap = forks.snapshot(parent, Tag.of("rand"), SnapshotMode.FULL);
      Set<Long> draws = new HashSet<>();
      draws.add(one(parent, "rand64"));
      List<Guest> all = new ArrayList<>(forks.branch(snap, 4));
      // A second branch of the same snapshot must not repeat the first one's bytes (forkd's bug).
      all.addAll(forks.branch(snap, 4));
      for (Guest c : all) {
        assertThat(one(c, "monotonic")).isGreaterThanOrEqualTo(clock);
        draws.add(one(c, "rand64"));
        draws.add(one(c, "rand64"));
        c.close();
      }
      assertThat(draws).hasSize(1 + 2 * all.size());
    }
  }

  @Test
  void snapshotOfABranchKeepsItsLineageAndItsOwnWrites() throws Exception {
    try (Forks forks = new Forks(new SpindleHome(tmp));
        Guest root = forks.start(sandbox(Engine.COMPILED))) {
      one(root, "touch", 1);
      root.call("poke", 1, 111);
      SandboxSnapshot a = forks.snapshot(root, Tag.of("a"), SnapshotMode.FULL);
      try (Guest child = forks.branch(a, 1).getFirst()) {
        child.call("poke", 2, 222);
        SandboxSnapshot b = forks.snapshot(child, Tag.of("b"), SnapshotMode.LIVE);
        child.call("poke", 2, 333);
        root.call("poke", 1, 999);
        assertThat(b.parent()).contains(Tag.of("a"));
        b.persisted().get();
        // Written incrementally: only what the child changed, the rest read through "a".
        try (Snapshot files = forks.store().open(Tag.of("b"))) {
          assertThat(files.base()).contains("a");
          assertThat(files.chainDepth()).isEqualTo(1);
          assertThat(files.inheritedPages()).isPositive();
          assertThat(
                  files.pages() - files.inheritedPages() - files.state().get("zero_pages").asInt())
              .isBetween(1, 4);
        }
        // A later snapshot of the root reads through the root's first one, so "a" stays.
        forks.snapshot(root, Tag.of("a2"), SnapshotMode.FULL);
        try (Snapshot files = forks.store().open(Tag.of("a2"))) {
          assertThat(files.base()).contains("a");
        }
        assertThatThrownBy(() -> forks.store().delete(Tag.of("a")))
            .isInstanceOf(SnapshotInUseException.class)
            .hasMessageContaining("a2")
            .hasMessageContaining("b");
        try (Guest grandchild = forks.branch(b, 1).getFirst()) {
          assertThat(one(grandchild, "peek", 1)).isEqualTo(111);
          assertThat(one(grandchild, "peek", 2)).isEqualTo(222);
        }
        try (Forks restarted = new Forks(new SpindleHome(tmp))) {
          SandboxSnapshot bOnDisk = restarted.open(Tag.of("b"));
          assertThat(bOnDisk.parent()).contains(Tag.of("a"));
          assertThat(restarted.store().open(Tag.of("b")).state().get("parent").asText())
              .isEqualTo("a");
          try (Guest g = restarted.branch(bOnDisk, 1).getFirst()) {
            assertThat(one(g, "peek", 2)).isEqualTo(222);
            // A snapshot of a branch from disk: its unloaded pages persist through the file.
            SandboxSnapshot c = restarted.snapshot(g, Tag.of("c"), SnapshotMode.FULL);
            assertThat(c.parent()).contains(Tag.of("b"));
            try (Snapshot files = restarted.store().open(Tag.of("c"))) {
              assertThat(files.base()).contains("b"); // its unloaded pages were never read
              assertThat(files.chainDepth()).isEqualTo(2);
            }
          }
        }
      }
      try (Forks again = new Forks(new SpindleHome(tmp));
          Guest g = again.branch(again.open(Tag.of("c")), 1).getFirst()) {
        assertThat(one(g, "peek", 1)).isEqualTo(111);
        assertThat(one(g, "peek", 2)).isEqualTo(222);
      }
    }
  }
}
