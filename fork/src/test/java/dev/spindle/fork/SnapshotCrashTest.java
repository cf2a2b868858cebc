package dev.spindle.fork;

import static org.assertj.core.api.Assertions.assertThat;

import com.dylibso.chicory.wasm.types.MemoryLimits;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.spindle.memory.PageTable;
import dev.spindle.memory.PagedMemory;
import dev.spindle.store.SpindleHome;
import dev.spindle.store.Tag;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A real crash: a JVM writes a chain of incremental snapshots (and compacts some) and is killed
 * with SIGKILL at a random moment, several times. After recovery every tag left opens, verifies and
 * reads exactly the memory its generation had; no half-written snapshot is ever listed.
 */
class SnapshotCrashTest {
  private static final int PAGE = PageTable.PAGE_SIZE;
  private static final int PAGES = 256; // 16 MiB: long enough per snapshot to be cut mid-write

  @TempDir Path tmp;

  /**
   * Generation {@code g}'s memory: generation 0 random, each next one with a few pages rewritten.
   */
  static PagedMemory generation(int g) {
    PagedMemory m = new PagedMemory(new MemoryLimits(PAGES, PAGES));
    Random r = new Random(42);
    for (int i = 0; i < PAGES; i++) {
      byte[] b = new byte[PAGE];
      r.nextBytes(b);
      m.write(i * PAGE, b, 0, PAGE);
    }
    for (int k = 1; k <= g; k++) {
      Random w = new Random(k);
      for (int n = 0; n < 1 + k % 7; n++) {
        m.writeLong(w.nextInt(PAGES) * PAGE + w.nextInt(PAGE / 8) * 8, k * 1000L + n);
      }
    }
    return m;
  }

  /** The writer: snapshots generation after generation onto the previous one until killed. */
  public static void main(String[] args) throws Exception {
    SnapshotStore store = new SnapshotStore(new SpindleHome(Path.of(args[0])));
    int from = Integer.parseInt(args[1]);
    ObjectNode state = new ObjectMapper().createObjectNode();
    state.put("mode", "full");
    SnapshotBase base = null;
    if (from > 0) {
      try (Snapshot prev = store.open(Tag.of("g" + (from - 1)))) {
        base =
            new SnapshotBase(
                Tag.of("g" + (from - 1)),
                CompletableFuture.completedFuture(prev.pageHashesSha256()));
      }
    }
    for (int g = from; ; g++) {
      PagedMemory m = generation(g);
      Tag tag = Tag.of("g" + g);
      // The memory is built afresh, so no page is unloaded: every page's hash is compared.
      SnapshotWriter.Written w = store.persist(tag, m.snapshot(), state, base);
      base = new SnapshotBase(tag, CompletableFuture.completedFuture(w.pageHashesSha256()));
      if (g % 5 == 4) {
        store.compact(tag);
      }
      System.out.println("written g" + g);
      System.out.flush();
    }
  }

  @Test
  void killedWritersLeaveOnlyWholeSnapshotsAndChains() throws Exception {
    Path home = tmp.resolve("home");
    Random r = new Random(7);
    int next = 0;
    int deepest = 0;
    for (int round = 0; round < 4; round++) {
      Process p =
          new ProcessBuilder(
                  Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                  "--enable-native-access=ALL-UNNAMED",
                  "-Xmx512m",
                  "-cp",
                  System.getProperty("java.class.path"),
                  SnapshotCrashTest.class.getName(),
                  home.toString(),
                  Integer.toString(next))
              .redirectErrorStream(true)
              .start();
      try {
        BufferedReader out =
            new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8));
        int written = 0;
        String line;
        while (written < 2 + r.nextInt(3) && (line = out.readLine()) != null) {
          if (line.startsWith("SLF4J(")) {
            continue; // JGit's logging API, when the test class path has no provider
          }
          assertThat(line).startsWith("written ");
          written++;
        }
        Thread.sleep(r.nextInt(60)); // somewhere inside the next write (or compaction)
      } finally {
        p.destroyForcibly(); // SIGKILL: no finally block, no shutdown hook runs in the writer
        p.waitFor();
      }
      SnapshotStore store = new SnapshotStore(new SpindleHome(home));
      store.recover();
      List<Tag> tags = store.list();
      List<Integer> gens = new ArrayList<>();
      for (Tag t : tags) {
        int g = Integer.parseInt(t.value().substring(1));
        gens.add(g);
        try (Snapshot s = store.open(t)) {
          assertThat(s.verify()).as("%s after round %d", t, round).isNull();
          deepest = Math.max(deepest, s.chainDepth());
          PagedMemory want = generation(g);
          PagedMemory got = PagedMemory.branch(new MemoryLimits(PAGES, PAGES), s.table());
          assertThat(got.readBytes(0, PAGES * PAGE))
              .as("%s", t)
              .isEqualTo(want.readBytes(0, PAGES * PAGE));
        }
      }
      // Generations are consecutive from 0: the writer resumes after the last whole one.
      for (int i = 0; i < gens.size(); i++) {
        assertThat(gens).contains(i);
      }
      assertThat(gens.size()).isGreaterThan(next);
      next = gens.size();
    }
    assertThat(deepest).as("the chains really were incremental").isPositive();
  }
}
