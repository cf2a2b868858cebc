package dev.spindle.fork;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.dylibso.chicory.runtime.ByteArrayMemory;
import com.dylibso.chicory.wasm.types.MemoryLimits;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.spindle.memory.PageTable;
import dev.spindle.memory.PagedMemory;
import dev.spindle.store.SpindleHome;
import dev.spindle.store.Tag;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SnapshotStoreTest {
  private static final int PAGE = PageTable.PAGE_SIZE;
  @TempDir Path tmp;

  private static ObjectNode state() {
    ObjectNode s = new ObjectMapper().createObjectNode();
    s.put("mode", "full");
    s.putObject("sandbox").put("module_sha256", "abc");
    return s;
  }

  /** A memory of {@code pages} pages, some written with random bytes, some left zero. */
  private static PagedMemory memory(long seed, int pages) {
    PagedMemory m = new PagedMemory(new MemoryLimits(pages, pages));
    Random r = new Random(seed);
    for (int i = 0; i < pages; i++) {
      if (r.nextInt(3) == 0) {
        continue; // zero page
      }
      byte[] b = new byte[1 + r.nextInt(PAGE)];
      r.nextBytes(b);
      m.write(i * PAGE + r.nextInt(PAGE - b.length + 1), b, 0, b.length);
    }
    return m;
  }

  private static byte[] bytes(PagedMemory m) {
    return m.readBytes(0, m.pages() * PAGE);
  }

  private static byte[] bytes(PageTable t) {
    PagedMemory m = PagedMemory.branch(new MemoryLimits(t.pages(), t.pages()), t);
    return bytes(m);
  }

  @Test
  void persistedSnapshotRestoresAfterARestartWithDenseMemoryFile() throws Exception {
    PagedMemory m = memory(1, 40);
    byte[] expected = bytes(m);
    SnapshotStore store = new SnapshotStore(new SpindleHome(tmp));
    SnapshotWriter.Written w = store.persist(Tag.of("s1"), m.snapshot(), state());
    assertThat(w.zeroPages()).isPositive();
    assertThat(store.status(Tag.of("s1"))).contains(SnapshotStatus.READY);
    Path mem = store.directory(Tag.of("s1")).resolve("memory.bin");
    assertThat(Files.size(mem)).isEqualTo(40L * PAGE);
    assertThat(Files.readAllBytes(mem)).isEqualTo(expected);

    SnapshotStore afterRestart = new SnapshotStore(new SpindleHome(tmp));
    try (Snapshot s = afterRestart.open(Tag.of("s1"))) {
      assertThat(s.verify()).isNull();
      assertThat(s.state().get("sandbox").get("module_sha256").asText()).isEqualTo("abc");
      assertThat(s.state().get("format_version").asInt()).isEqualTo(1);
      assertThat(bytes(s.table())).isEqualTo(expected);
      assertThat(s.table().counts().zeroPages()).isEqualTo(w.zeroPages());
    }
  }

  @Test
  void liveSnapshotHoldsTheMemoryOfItsInstantWhileTheParentKeepsWriting() throws Exception {
    PagedMemory m = memory(2, 64);
    byte[] atInstant = bytes(m);
    SnapshotStore store = new SnapshotStore(new SpindleHome(tmp));
    PageTable t = m.snapshot();
    CompletableFuture<SnapshotWriter.Written> f = store.persistAsync(Tag.of("live"), t, state());
    Random r = new Random(3);
    while (!f.isDone()) {
      m.writeI32(r.nextInt(64 * PAGE - 4), r.nextInt());
    }
    for (int i = 0; i < 1000; i++) {
      m.writeI32(r.nextInt(64 * PAGE - 4), r.nextInt());
    }
    f.get();
    byte[] live = Files.readAllBytes(store.directory(Tag.of("live")).resolve("memory.bin"));
    assertThat(live).isEqualTo(atInstant);
    // Same table through the full path: byte-identical memory.bin.
    store.persist(Tag.of("full"), t, state());
    assertThat(
            Files.mismatch(
                store.directory(Tag.of("live")).resolve("memory.bin"),
                store.directory(Tag.of("full")).resolve("memory.bin")))
        .isEqualTo(-1);
    assertThat(bytes(m)).isNotEqualTo(atInstant);
  }

  @Test
  void hashingOnTheWritersThreadWritesWhatThePoolWrites() throws Exception {
    // Enough pages to hash that two cores use the pool; one core hashes inline. Two memories
    // from one seed: a table hashed once has its hashes known, and the second write hashes none.
    int pages = SnapshotWriter.INLINE_HASH_PAGES * 3;
    PageTable pooled = memory(11, pages).snapshot();
    PageTable inline = memory(11, pages).snapshot();
    assertThat(pooled.knownSha256s(new byte[pages * 32]).cardinality())
        .isGreaterThan(SnapshotWriter.INLINE_HASH_PAGES);
    SnapshotWriter.Written a = SnapshotWriter.write(tmp.resolve("pool"), pooled, state(), 2);
    SnapshotWriter.Written b = SnapshotWriter.write(tmp.resolve("inline"), inline, state(), 1);
    assertThat(b).isEqualTo(a);
    assertThat(a.zeroPages()).isPositive();
    for (String f : new String[] {SnapshotFormat.MEMORY, SnapshotFormat.HASHES}) {
      assertThat(Files.readAllBytes(tmp.resolve("inline").resolve(f)))
          .as(f)
          .isEqualTo(Files.readAllBytes(tmp.resolve("pool").resolve(f)));
    }
  }

  @Test
  void tagsAreClaimedOnce() throws Exception {
    SnapshotStore store = new SnapshotStore(new SpindleHome(tmp));
    store.persist(Tag.of("t"), PageTable.zero(2), state());
    assertThatThrownBy(() -> store.persist(Tag.of("t"), PageTable.zero(2), state()))
        .isInstanceOf(FileAlreadyExistsException.class)
        .hasMessageContaining("exists");
  }

  @Test
  void damagedPageIsNamedWhenTouchedAndByVerify() throws Exception {
    PagedMemory m = new PagedMemory(new MemoryLimits(4, 4));
    for (int p = 0; p < 4; p++) {
      m.writeI32(p * PAGE + 8, 0x1234 + p);
    }
    SnapshotStore store = new SnapshotStore(new SpindleHome(tmp));
    store.persist(Tag.of("d"), m.snapshot(), state());
    Path mem = store.directory(Tag.of("d")).resolve("memory.bin");
    byte[] b = Files.readAllBytes(mem);
    b[2 * PAGE + 100] ^= 1;
    Files.write(mem, b);
    try (Snapshot s = store.open(Tag.of("d"))) {
      assertThat(s.verify()).contains("page 2");
      PagedMemory child = PagedMemory.branch(new MemoryLimits(4, 4), s.table());
      assertThat(child.readInt(PAGE + 8)).isEqualTo(0x1235); // page 1 is fine
      assertThatThrownBy(() -> child.readInt(2 * PAGE + 8))
          .isInstanceOf(SnapshotDamagedException.class)
          .hasMessageContaining("page 2")
          .hasMessageContaining("SHA-256");
    }
  }

  @Test
  void damagedFilesAreRefusedAtOpenNamingTheFieldOrFile() throws Exception {
    SnapshotStore store = new SnapshotStore(new SpindleHome(tmp));
    store.persist(Tag.of("x"), memory(4, 8).snapshot(), state());
    Path dir = store.directory(Tag.of("x"));
    Path st = dir.resolve("state.json");
    String good = Files.readString(st);

    Files.writeString(st, good.replace("\"format_version\" : 1", "\"format_version\" : 9"));
    assertThatThrownBy(() -> Snapshot.open(dir)).hasMessageContaining("format_version");
    Files.writeString(st, good.replace("\"pages\" : 8", "\"pages\" : 7"));
    assertThatThrownBy(() -> Snapshot.open(dir)).hasMessageContaining("pages.sha256");
    Files.writeString(st, "{not json");
    assertThatThrownBy(() -> Snapshot.open(dir)).hasMessageContaining("not valid JSON");
    Files.writeString(st, good);
    byte[] hashes = Files.readAllBytes(dir.resolve("pages.sha256"));
    hashes[5] ^= 1;
    Files.write(dir.resolve("pages.sha256"), hashes);
    assertThatThrownBy(() -> Snapshot.open(dir)).hasMessageContaining("page_hashes_sha256");
    hashes[5] ^= 1;
    Files.write(dir.resolve("pages.sha256"), hashes);
    try (var ch =
        java.nio.channels.FileChannel.open(
            dir.resolve("memory.bin"), java.nio.file.StandardOpenOption.WRITE)) {
      ch.truncate(3 * PAGE);
    }
    assertThatThrownBy(() -> Snapshot.open(dir))
        .hasMessageContaining("memory.bin")
        .hasMessageContaining("expected");
  }

  @Test
  void interruptedWritesAreRecoveredAsFailedWithNothingLeft() throws Exception {
    SnapshotStore store = new SnapshotStore(new SpindleHome(tmp));
    Path partial = Files.createDirectories(tmp.resolve("snapshots/.writing-half-done-12345"));
    Files.write(partial.resolve("memory.bin"), new byte[100]);
    SnapshotStore restarted = new SnapshotStore(new SpindleHome(tmp));
    assertThat(restarted.recover()).containsExactly("half-done");
    assertThat(partial).doesNotExist();
    assertThat(restarted.status(Tag.of("half-done"))).contains(SnapshotStatus.FAILED);
    assertThat(restarted.list()).isEmpty();
    assertThat(store.status(Tag.of("other"))).isEmpty();
  }

  @Test
  void branchesShareUnwrittenPagesWithTheSnapshotAndEachOther() throws Exception {
    PagedMemory parent = memory(5, 16);
    PageTable t = parent.snapshot();
    PagedMemory a = PagedMemory.branch(new MemoryLimits(16, 16), t);
    PagedMemory b = PagedMemory.branch(new MemoryLimits(16, 16), t);
    ByteArrayMemory model = new ByteArrayMemory(new MemoryLimits(16, 16));
    model.write(0, bytes(parent));
    a.writeI32(100, 7);
    assertThat(b.readInt(100)).isEqualTo(model.readInt(100));
    assertThat(a.counts().privatePages()).isEqualTo(1);
    assertThat(b.counts().privatePages()).isZero();
  }
}
