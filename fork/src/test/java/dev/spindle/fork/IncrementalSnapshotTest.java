package dev.spindle.fork;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.dylibso.chicory.wasm.types.MemoryLimits;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.spindle.memory.PageTable;
import dev.spindle.memory.PagedMemory;
import dev.spindle.store.SpindleHome;
import dev.spindle.store.Tag;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Arrays;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Incremental snapshots (format version 2) against whole snapshots of the same tables and a
 * byte-array model: random writes across parents, children and grandchildren, from memory and from
 * disk; damaged and missing links; deletion of a base; compaction.
 */
class IncrementalSnapshotTest {
  private static final int PAGE = PageTable.PAGE_SIZE;
  private static final int PAGES = 48;
  @TempDir Path tmp;

  private static ObjectNode state() {
    ObjectNode s = new ObjectMapper().createObjectNode();
    s.put("mode", "full");
    s.putObject("sandbox").put("module_sha256", "abc");
    return s;
  }

  private static MemoryLimits limits(int pages) {
    return new MemoryLimits(pages, PAGES * 2);
  }

  /** A memory and its model: every write goes to both. */
  private static final class Modelled {
    final PagedMemory memory;
    byte[] model;

    Modelled(PagedMemory memory, byte[] model) {
      this.memory = memory;
      this.model = model;
    }

    void write(int addr, byte[] b) {
      memory.write(addr, b, 0, b.length);
      System.arraycopy(b, 0, model, addr, b.length);
    }

    /** Random writes to a few pages: new bytes, bytes equal to what is there, zeros over a page. */
    void scribble(Random r, int pagesTouched) {
      for (int k = 0; k < pagesTouched; k++) {
        int page = r.nextInt(memory.pages());
        switch (r.nextInt(4)) {
          case 0 -> write(page * PAGE, new byte[PAGE]); // the page becomes all zeros
          case 1 ->
              write(
                  page * PAGE + 16,
                  Arrays.copyOfRange(model, page * PAGE + 16, page * PAGE + 80)); // same bytes
          default -> {
            byte[] b = new byte[1 + r.nextInt(4096)];
            r.nextBytes(b);
            write(page * PAGE + r.nextInt(PAGE - b.length + 1), b);
          }
        }
      }
    }

    Modelled branch(PageTable t) {
      return new Modelled(PagedMemory.branch(limits(t.pages()), t), model.clone());
    }

    void grow(int pages) {
      memory.grow(pages);
      model = Arrays.copyOf(model, model.length + pages * PAGE);
    }
  }

  private static Modelled random(long seed) {
    Modelled m = new Modelled(new PagedMemory(limits(PAGES)), new byte[PAGES * PAGE]);
    Random r = new Random(seed);
    for (int i = 0; i < PAGES; i++) {
      if (r.nextInt(3) != 0) {
        byte[] b = new byte[1 + r.nextInt(PAGE)];
        r.nextBytes(b);
        m.write(i * PAGE + r.nextInt(PAGE - b.length + 1), b);
      }
    }
    return m;
  }

  private static byte[] bytes(PageTable t) {
    PagedMemory m = PagedMemory.branch(limits(t.pages()), t);
    return m.readBytes(0, t.pages() * PAGE);
  }

  private static SnapshotBase base(Tag tag, SnapshotWriter.Written w) {
    return new SnapshotBase(tag, CompletableFuture.completedFuture(w.pageHashesSha256()));
  }

  private static byte[] read(SnapshotStore store, Tag tag) throws Exception {
    try (Snapshot s = store.open(tag)) {
      assertThat(s.verify()).isNull();
      return bytes(s.table());
    }
  }

  @Test
  void chainsOfIncrementalSnapshotsReadLikeWholeOnesAndTheModel() throws Exception {
    for (long seed = 1; seed <= 6; seed++) {
      Path home = tmp.resolve("h" + seed);
      SnapshotStore store = new SnapshotStore(new SpindleHome(home));
      Random r = new Random(seed * 31);
      Modelled root = random(seed);
      Tag a = Tag.of("a");
      SnapshotWriter.Written wa = store.persist(a, root.memory.snapshot(), state());
      SnapshotBase base = base(a, wa);
      // Children, grandchildren: some from memory, some from the snapshot read back from disk.
      Modelled current = root.branch(bytesTable(store, a, r.nextBoolean(), root));
      for (int gen = 1; gen <= 4; gen++) {
        current.scribble(r, 1 + r.nextInt(6));
        if (r.nextInt(3) == 0) {
          current.grow(1 + r.nextInt(2));
        }
        PageTable t = current.memory.snapshot();
        Tag inc = Tag.of("inc" + gen);
        Tag whole = Tag.of("whole" + gen);
        SnapshotWriter.Written wi = store.persist(inc, t, state(), base);
        SnapshotWriter.Written ww = store.persist(whole, t, state());
        assertThat(wi.base()).isEqualTo(base.tag().value());
        assertThat(wi.inheritedPages()).as("seed %d gen %d", seed, gen).isPositive();
        assertThat(wi.pageHashesSha256()).isEqualTo(ww.pageHashesSha256());
        assertThat(
                Files.mismatch(
                    store.directory(inc).resolve("pages.sha256"),
                    store.directory(whole).resolve("pages.sha256")))
            .isEqualTo(-1);
        assertThat(read(store, inc)).isEqualTo(current.model).isEqualTo(read(store, whole));
        try (Snapshot s = store.open(inc)) {
          assertThat(s.chainDepth()).isEqualTo(gen);
          assertThat(s.state().get("format_version").asInt()).isEqualTo(2);
          assertThat(s.inheritedPages()).isEqualTo(wi.inheritedPages());
        }
        // Only the pages that differ from the base hold bytes in memory.bin.
        assertThat(allocatedPages(store.directory(inc).resolve("memory.bin"), wi))
            .isEqualTo(wi.writtenPages());
        base = base(inc, wi);
        current = current.branch(bytesTable(store, inc, r.nextBoolean(), current));
      }
    }
  }

  /** The snapshot's table, from memory ({@code m}'s own) or read back from the store. */
  private PageTable bytesTable(SnapshotStore store, Tag tag, boolean fromDisk, Modelled m)
      throws Exception {
    if (!fromDisk) {
      return m.memory.snapshot();
    }
    Snapshot s = store.open(tag); // left open: the branch reads pages from it (the temp dir goes)
    return s.table();
  }

  /** Pages of memory.bin that are not holes, where the file system reports holes. */
  private static long allocatedPages(Path mem, SnapshotWriter.Written w) throws Exception {
    long written = 0;
    byte[] zero = new byte[PAGE];
    try (FileChannel ch = FileChannel.open(mem, StandardOpenOption.READ)) {
      for (int i = 0; i < w.pages(); i++) {
        java.nio.ByteBuffer b = java.nio.ByteBuffer.allocate(PAGE);
        ch.read(b, (long) i * PAGE);
        if (!Arrays.equals(b.array(), zero)) {
          written++;
        }
      }
    }
    return written;
  }

  @Test
  void aSnapshotUnchangedFromItsBaseWritesNoPage() throws Exception {
    SnapshotStore store = new SnapshotStore(new SpindleHome(tmp));
    Modelled root = random(9);
    PageTable t = root.memory.snapshot();
    SnapshotWriter.Written wa = store.persist(Tag.of("a"), t, state());
    SnapshotWriter.Written wb =
        store.persist(
            Tag.of("b"),
            PagedMemory.branch(limits(PAGES), t).snapshot(),
            state(),
            base(Tag.of("a"), wa));
    assertThat(wb.writtenPages()).isZero();
    assertThat(wb.inheritedPages()).isEqualTo(PAGES - wa.zeroPages());
    assertThat(read(store, Tag.of("b"))).isEqualTo(root.model);
  }

  @Test
  void aBaseThatIsNotWrittenOrWasReplacedGivesAWholeSnapshot() throws Exception {
    SnapshotStore store = new SnapshotStore(new SpindleHome(tmp));
    Modelled root = random(10);
    PageTable t = root.memory.snapshot();
    SnapshotWriter.Written wa = store.persist(Tag.of("a"), t, state());
    // Still being written: whole.
    SnapshotWriter.Written w1 =
        store.persist(
            Tag.of("b1"), t, state(), new SnapshotBase(Tag.of("a"), new CompletableFuture<>()));
    assertThat(w1.base()).isNull();
    // The tag now holds other memory: whole, never read through the wrong base.
    SnapshotWriter.Written w2 =
        store.persist(
            Tag.of("b2"),
            t,
            state(),
            new SnapshotBase(
                Tag.of("a"),
                CompletableFuture.completedFuture("00" + wa.pageHashesSha256().substring(2))));
    assertThat(w2.base()).isNull();
    try (Snapshot s = store.open(Tag.of("b2"))) {
      assertThat(s.state().get("format_version").asInt()).isEqualTo(1);
    }
  }

  /** a (whole) ← b ← c: three links, page 3 written in a only, page 5 in b. */
  private SnapshotStore chain() throws Exception {
    SnapshotStore store = new SnapshotStore(new SpindleHome(tmp));
    PagedMemory m = new PagedMemory(limits(8));
    for (int p = 0; p < 8; p++) {
      m.writeI32(p * PAGE + 8, 0x100 + p);
    }
    SnapshotWriter.Written wa = store.persist(Tag.of("a"), m.snapshot(), state());
    m.writeI32(5 * PAGE + 8, 0x555);
    SnapshotWriter.Written wb =
        store.persist(Tag.of("b"), m.snapshot(), state(), base(Tag.of("a"), wa));
    m.writeI32(6 * PAGE + 8, 0x666);
    SnapshotWriter.Written wc =
        store.persist(Tag.of("c"), m.snapshot(), state(), base(Tag.of("b"), wb));
    assertThat(wb.writtenPages()).isEqualTo(1);
    assertThat(wc.writtenPages()).isEqualTo(1);
    return store;
  }

  @Test
  void aDamagedPageDeepInTheChainIsNamedByLinkAndPage() throws Exception {
    SnapshotStore store = chain();
    Path aMem = store.directory(Tag.of("a")).resolve("memory.bin");
    byte[] b = Files.readAllBytes(aMem);
    b[3 * PAGE + 100] ^= 1;
    Files.write(aMem, b);
    try (Snapshot c = store.open(Tag.of("c"))) {
      assertThat(c.verify())
          .contains("'c' page 3 is inherited from 'b'")
          .contains("'b' page 3 is inherited from 'a'")
          .contains("'a' page 3")
          .contains("SHA-256");
      PagedMemory child = PagedMemory.branch(limits(8), c.table());
      assertThat(child.readInt(5 * PAGE + 8)).isEqualTo(0x555);
      assertThat(child.readInt(6 * PAGE + 8)).isEqualTo(0x666);
      assertThat(child.readInt(4 * PAGE + 8)).isEqualTo(0x104);
      assertThatThrownBy(() -> child.readInt(3 * PAGE + 8))
          .isInstanceOf(SnapshotDamagedException.class)
          .hasMessageContaining("'a' page 3")
          .hasMessageContaining("a/memory.bin");
    }
  }

  @Test
  void missingReplacedOrDamagedLinksAreRefusedAtOpenNamingTheLink() throws Exception {
    SnapshotStore store = chain();
    Path b = store.directory(Tag.of("b"));
    Path a = store.directory(Tag.of("a"));
    // The inherited bits truncated.
    Path bits = b.resolve("inherited.bits");
    byte[] good = Files.readAllBytes(bits);
    Files.write(bits, new byte[0]);
    assertThatThrownBy(() -> store.open(Tag.of("c")))
        .isInstanceOf(SnapshotDamagedException.class)
        .hasMessageContaining("link 'c' reads through base 'b', which is damaged")
        .hasMessageContaining("inherited.bits");
    // A bit flipped: a page claimed inherited whose hash differs from the base's.
    byte[] flipped = good.clone();
    flipped[0] ^= 1 << 5;
    Files.write(bits, flipped);
    assertThatThrownBy(() -> store.open(Tag.of("b"))).hasMessageContaining("inherited_bits_sha256");
    Files.write(bits, good);
    // The base replaced by other memory under the same tag.
    Path moved = tmp.resolve("a-moved");
    Files.move(a, moved);
    PagedMemory other = new PagedMemory(limits(8));
    other.writeI32(8, 1);
    store.persist(Tag.of("a"), other.snapshot(), state());
    assertThatThrownBy(() -> store.open(Tag.of("c")))
        .hasMessageContaining("link 'b' reads through base 'a'")
        .hasMessageContaining("holds other memory");
    dev.spindle.store.Trees.delete(a);
    // The base gone.
    assertThatThrownBy(() -> store.open(Tag.of("b")))
        .hasMessageContaining("link 'b' reads through base 'a'")
        .hasMessageContaining("missing");
    Files.move(moved, a);
    assertThat(store.open(Tag.of("c")).verify()).isNull();
    // A truncated memory.bin in the middle link.
    try (FileChannel ch = FileChannel.open(b.resolve("memory.bin"), StandardOpenOption.WRITE)) {
      ch.truncate(2 * PAGE);
    }
    assertThatThrownBy(() -> store.open(Tag.of("c")))
        .hasMessageContaining("'b'")
        .hasMessageContaining("memory.bin")
        .hasMessageContaining("expected");
  }

  @Test
  void deletingABaseIsRefusedUntilItsDependentsAreCompacted() throws Exception {
    SnapshotStore store = chain();
    byte[] c = read(store, Tag.of("c"));
    byte[] b = read(store, Tag.of("b"));
    assertThat(store.dependents(Tag.of("a"))).containsExactly(Tag.of("b"));
    assertThatThrownBy(() -> store.delete(Tag.of("a")))
        .isInstanceOf(SnapshotInUseException.class)
        .hasMessageContaining("'a' cannot be deleted")
        .hasMessageContaining("b (compact them first)");
    assertThat(store.exists(Tag.of("a"))).isTrue();
    assertThatThrownBy(() -> store.delete(Tag.of("b"))).hasMessageContaining(": c ");
    // Compacting b makes it whole with the same root hash: c still reads through it.
    String rootB;
    try (Snapshot s = store.open(Tag.of("b"))) {
      rootB = s.pageHashesSha256();
    }
    assertThat(store.compact(Tag.of("b"))).isTrue();
    assertThat(store.compact(Tag.of("b"))).isFalse();
    try (Snapshot s = store.open(Tag.of("b"))) {
      assertThat(s.chainDepth()).isZero();
      assertThat(s.pageHashesSha256()).isEqualTo(rootB);
      assertThat(s.state().get("format_version").asInt()).isEqualTo(1);
      assertThat(s.state().has("base")).isFalse();
    }
    assertThat(store.delete(Tag.of("a"))).isTrue();
    assertThat(read(store, Tag.of("b"))).isEqualTo(b);
    assertThat(read(store, Tag.of("c"))).isEqualTo(c);
    try (Snapshot s = store.open(Tag.of("c"))) {
      assertThat(s.chainDepth()).isEqualTo(1);
    }
  }

  @Test
  void aBaseDeletedDespiteItsDependentsLeavesThemNamingTheMissingLink() throws Exception {
    SnapshotStore store = chain();
    assertThat(store.delete(Tag.of("b"), true)).isTrue();
    assertThatThrownBy(() -> store.open(Tag.of("c")))
        .isInstanceOf(SnapshotDamagedException.class)
        .hasMessageContaining("link 'c' reads through base 'b', which is missing");
    assertThat(read(store, Tag.of("a"))).hasSize(8 * PAGE);
  }

  @Test
  void aCompactionStoppedBetweenItsRenamesIsPutBackByRecovery() throws Exception {
    SnapshotStore store = chain();
    byte[] c = read(store, Tag.of("c"));
    // The state after the first rename of the swap: the old files aside, the tag missing.
    Files.move(store.directory(Tag.of("b")), tmp.resolve("snapshots/.compacting-b-12345"));
    Files.createDirectories(tmp.resolve("snapshots/.flattening-b-777"));
    SnapshotStore restarted = new SnapshotStore(new SpindleHome(tmp));
    assertThat(restarted.recover()).isEmpty();
    assertThat(restarted.list()).containsExactly(Tag.of("a"), Tag.of("b"), Tag.of("c"));
    assertThat(read(restarted, Tag.of("c"))).isEqualTo(c);
    try (var ds = Files.newDirectoryStream(tmp.resolve("snapshots"), ".*")) {
      assertThat(ds.iterator().hasNext()).isFalse();
    }
  }

  @Test
  void anInterruptedIncrementalWriteLeavesNothingThatReadsAsWhole() throws Exception {
    SnapshotStore store = chain();
    Path c = store.directory(Tag.of("c"));
    // Every prefix of the writer's work, as a crash would leave it in the hidden directory.
    String[][] prefixes = {
      {},
      {"memory.bin"},
      {"memory.bin", "pages.sha256"},
      {"memory.bin", "pages.sha256", "inherited.bits"},
      {"memory.bin", "pages.sha256", "inherited.bits", "state.json"}
    };
    int k = 0;
    for (String[] files : prefixes) {
      Path partial = Files.createDirectories(tmp.resolve("snapshots/.writing-d" + k + "-" + k));
      for (String f : files) {
        byte[] bytes = Files.readAllBytes(c.resolve(f));
        // The last file of the prefix is cut short, as a crash mid-write would leave it.
        Files.write(
            partial.resolve(f),
            f.equals(files[files.length - 1]) ? Arrays.copyOf(bytes, bytes.length / 2) : bytes);
      }
      k++;
    }
    SnapshotStore restarted = new SnapshotStore(new SpindleHome(tmp));
    assertThat(restarted.recover()).containsExactlyInAnyOrder("d0", "d1", "d2", "d3", "d4");
    assertThat(restarted.list()).containsExactly(Tag.of("a"), Tag.of("b"), Tag.of("c"));
    for (int i = 0; i < prefixes.length; i++) {
      assertThat(restarted.status(Tag.of("d" + i))).contains(SnapshotStatus.FAILED);
      assertThat(restarted.exists(Tag.of("d" + i))).isFalse();
    }
  }
}
